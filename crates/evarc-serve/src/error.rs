//! Errors of the server: starting it, and what a request can run into.

use std::net::SocketAddr;

use axum::http::StatusCode;
use evarc_provenance::ProvenanceError;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Archive(#[from] ProvenanceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// What a request ran into: an HTTP status and one line saying why.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<ProvenanceError> for Failure {
    fn from(err: ProvenanceError) -> Self {
        let status = match &err {
            ProvenanceError::UnknownRecord { .. }
            | ProvenanceError::ForeignPrefix { .. }
            | ProvenanceError::NoCaptures { .. }
            | ProvenanceError::CaptureNotFound { .. }
            | ProvenanceError::NotLogged { .. }
            | ProvenanceError::UnknownCheckpoint { .. }
            | ProvenanceError::Id(_) => StatusCode::NOT_FOUND,
            ProvenanceError::InvalidInput(_) | ProvenanceError::NotInCheckpoint { .. } => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if err.is_integrity_failure() {
            // Damaged stored bytes (a capture's, or a version text's) are never passed off as
            // an ordinary failure: the reader is told the evidence does not verify.
            return Self::new(status, format!("✗ Hash not verified: {err}"));
        }
        Self::new(status, err.to_string())
    }
}

impl From<evarc_provenance::id::IdError> for Failure {
    fn from(err: evarc_provenance::id::IdError) -> Self {
        Self::not_found(err.to_string())
    }
}
