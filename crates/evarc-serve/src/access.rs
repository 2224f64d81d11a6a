//! Who is asking (bearer tokens) and the write API (`POST /api/v1/captures`, `/provisions`).
//!
//! The rules are provenance's: tokens are checked by `Archive::authenticate` (hash lookup,
//! constant-time comparison), what a reader may see by `evarc_provenance::privacy`, and a
//! capture sent here is archived by the same `Archive::capture` as `evarc archive`. This module
//! only maps them to HTTP: 401 (with `WWW-Authenticate: Bearer`) for a missing, unknown or
//! revoked token where one is needed, 403 for a token without the scope, 413 for a body over
//! [`WRITE_BODY_LIMIT`].

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use evarc_provenance::{
    ArchiveReport, Audience, CaptureUpload, CheckpointReport, ProvenanceError, ProvisionUpload,
    Scope, StoreError, Token,
};
use serde_json::json;

use crate::error::Failure;
use crate::state::AppState;

/// Largest body of a write request (a capture's bytes travel base64 in JSON: about 48 MiB of
/// bytes). Larger bodies are answered 413 before they are read.
pub const WRITE_BODY_LIMIT: usize = 64 << 20;

/// The write routes, with their own body limit.
pub fn write_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/captures", post(post_capture))
        .route("/api/v1/provisions", post(post_provision))
        .route("/api/v1/checkpoints", post(post_checkpoint))
        // axum's own 2 MB default for body extractors would refuse captures far below ours.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            WRITE_BODY_LIMIT,
        ))
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn unauthorized(message: &str) -> Response {
    let mut response = json_error(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"evarc\""),
    );
    response
}

/// The token presented (`Authorization: Bearer …`), checked; `None` when none was sent.
async fn presented(parts: &Parts, state: &AppState) -> Result<Option<Token>, Response> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let Some(secret) = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            "expected Authorization: Bearer <token> (an evarc token)",
        ));
    };
    let secret = secret.trim().to_owned();
    // The time of this authenticated request: the token's "last used" (last_used.rs).
    let now = Utc::now();
    let answer = state
        .with(move |archive| {
            Ok(match archive.authenticate(&secret)? {
                Ok(token) => {
                    let recorded = archive.token_last_used(&token.name)?;
                    Ok((token, recorded))
                }
                Err(refusal) => Err(refusal),
            })
        })
        .await;
    match answer {
        Ok(Ok((token, recorded))) => {
            state.note_token_use(&token.name, now, recorded);
            Ok(Some(token))
        }
        Ok(Err(refusal)) => Err(unauthorized(&refusal.to_string())),
        Err(failure) => Err(json_error(failure.status, &failure.message)),
    }
}

/// Who is reading: anonymous (or a token without `read-private`) sees no private record. A
/// token that is sent must be valid, else 401.
#[derive(Clone, Copy, Debug)]
pub struct Reader(pub Audience);

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        Ok(Reader(match presented(parts, state).await? {
            Some(token) if token.allows(Scope::ReadPrivate) => Audience::Everything,
            _ => Audience::Public,
        }))
    }
}

/// A caller holding a live token with the `write` scope.
pub struct Writer;

impl FromRequestParts<AppState> for Writer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match presented(parts, state).await? {
            None => Err(unauthorized(
                "writing needs a token with the write scope: Authorization: Bearer <token>",
            )),
            Some(token) if token.allows(Scope::Write) => Ok(Writer),
            Some(token) => Err(json_error(
                StatusCode::FORBIDDEN,
                &format!("token {:?} does not have the write scope", token.name),
            )),
        }
    }
}

/// A refused write: 422 when the bytes do not hash to the promised SHA-256 (or stored bytes
/// fail verification), 500/503 for storage, else 400 (the input).
fn write_failure(err: ProvenanceError) -> Failure {
    let status = match err.store_error() {
        Some(StoreError::InputMismatch { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(store) if store.is_integrity_failure() => StatusCode::UNPROCESSABLE_ENTITY,
        Some(StoreError::InUse { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        Some(StoreError::Db { .. } | StoreError::Io { .. }) => StatusCode::INTERNAL_SERVER_ERROR,
        _ if err.is_integrity_failure() => StatusCode::UNPROCESSABLE_ENTITY,
        // A document or capture named that does not exist (or could not: a malformed ID, or
        // one of another archive's prefix; a title that names no document of the entity).
        _ if matches!(
            err,
            ProvenanceError::UnknownRecord { .. }
                | ProvenanceError::CaptureNotFound { .. }
                | ProvenanceError::NoCaptures { .. }
                | ProvenanceError::Id(_)
                | ProvenanceError::ForeignPrefix { .. }
        ) =>
        {
            StatusCode::NOT_FOUND
        }
        _ if matches!(&err, ProvenanceError::DocumentNeedsSourceUrl { candidates, .. } if candidates.is_empty()) => {
            StatusCode::NOT_FOUND
        }
        // The ID asked for is taken; the title names several documents.
        _ if matches!(
            err,
            ProvenanceError::IdTaken { .. } | ProvenanceError::DocumentNeedsSourceUrl { .. }
        ) =>
        {
            StatusCode::CONFLICT
        }
        _ => StatusCode::BAD_REQUEST,
    };
    Failure::new(status, evarc_provenance::error_chain(&err))
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    evarc_provenance::upload::from_json(body)
        .map_err(|e| Failure::bad_request(format!("the body is not the expected JSON object: {e}")))
}

/// `POST /api/v1/captures`: archive the bytes as `evarc archive` would; the answer is the
/// object `evarc archive --json` prints (201 when a new capture was recorded, else 200).
pub async fn post_capture(State(state): State<AppState>, _writer: Writer, body: Bytes) -> Response {
    let upload: CaptureUpload = match parse_body(&body) {
        Ok(u) => u,
        Err(f) => return json_error(f.status, &f.message),
    };
    drop(body);
    // The clock is read here and handed in.
    let now = Utc::now();
    let answer = state
        .write(move |archive| {
            let (request, bytes) = upload.into_request(now).map_err(write_failure)?;
            let outcome = archive
                .capture(std::io::Cursor::new(bytes), request, now)
                .map_err(write_failure)?;
            Ok(ArchiveReport::of(&outcome))
        })
        .await;
    match answer {
        Ok(report) => {
            let status = if report.capture_new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(report)).into_response()
        }
        Err(f) => json_error(f.status, &f.message),
    }
}

/// `POST /api/v1/provisions`: register a provision as `evarc provision add` would; the answer
/// is the object `provision add --json` prints.
pub async fn post_provision(
    State(state): State<AppState>,
    _writer: Writer,
    body: Bytes,
) -> Response {
    let upload: ProvisionUpload = match parse_body(&body) {
        Ok(u) => u,
        Err(f) => return json_error(f.status, &f.message),
    };
    let now = Utc::now();
    let answer = state
        .write(move |archive| {
            let (request, occurrence) = upload.into_request().map_err(write_failure)?;
            archive
                .add_provision_at(request, occurrence, now)
                .map_err(write_failure)
        })
        .await;
    match answer {
        Ok((provision, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                axum::Json(json!({ "provision": provision, "new": created })),
            )
                .into_response()
        }
        Err(f) => json_error(f.status, &f.message),
    }
}

/// `POST /api/v1/checkpoints`: signs and keeps a checkpoint of the log as it is now, as `evarc
/// checkpoint` does (the same provenance call; an archive without a signing key gets one, its
/// seed drawn here from the operating system's random source); the answer is the object
/// `evarc checkpoint --json` prints. 201 when a new checkpoint was signed, 200 when the log has
/// not grown since the last one (that one is answered again). No body is read.
pub async fn post_checkpoint(State(state): State<AppState>, _writer: Writer) -> Response {
    let answer = state
        .write(move |archive| {
            let before = archive.log_size().map_err(write_failure)?;
            let existed = archive
                .checkpoint_text(before)
                .map_err(write_failure)?
                .is_some();
            let note = archive
                .publish_checkpoint(|| {
                    let mut seed = [0u8; 32];
                    getrandom::getrandom(&mut seed).ok().map(|()| seed)
                })
                .map_err(write_failure)?;
            let report = CheckpointReport::of(&note, false).map_err(write_failure)?;
            // Answered again only when the log did not grow (unlogged records adopted) meanwhile.
            let existed = existed && report.size == before;
            Ok((report, existed))
        })
        .await;
    match answer {
        Ok((report, existed)) => {
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, axum::Json(report)).into_response()
        }
        Err(f) => json_error(f.status, &f.message),
    }
}
