//! `--remote URL --token T`: captures sent to a running `evarc serve` (`POST /api/v1/captures`)
//! instead of a local archive, over the HTTP client the CLI already uses for captures (ureq).
//!
//! Exit codes as for a local archive: the server's refusal of the input is 2 (its one-line
//! reason is printed), bytes that do not hash to the promised SHA-256 are 1, and a server that
//! cannot be reached or fails is 3.

use std::time::Duration;

use anyhow::{bail, Result};
use evarc_provenance::{ArchiveReport, CaptureUpload};

use crate::cli::RemoteArgs;

/// A server to send captures to.
#[derive(Clone, Debug)]
pub struct Remote {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Remote {
    /// The remote the arguments name, if any (checked before anything is read).
    pub fn from_args(args: &RemoteArgs) -> Result<Option<Remote>> {
        let Some(url) = &args.remote else {
            return Ok(None);
        };
        let url = url.as_str();
        let Some(token) = args
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            bail!("--remote needs --token (or $EVARC_TOKEN): a token with the write scope");
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .redirects(0)
            .build();
        Ok(Some(Remote {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
        }))
    }

    /// Archives one capture on the server; its answer is what `archive --json` prints.
    pub fn send_capture(&self, upload: &CaptureUpload) -> Result<ArchiveReport, RemoteError> {
        let body = serde_json::to_vec(upload).map_err(RemoteError::Encode)?;
        let answer = self.post("/api/v1/captures", &body)?;
        serde_json::from_str(&answer).map_err(|source| RemoteError::NotAReport {
            base: self.base.clone(),
            source,
        })
    }

    fn post(&self, path: &str, body: &[u8]) -> Result<String, RemoteError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .post(&url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Content-Type", "application/json")
            .send_bytes(body);
        match response {
            Ok(response) => response
                .into_string()
                .map_err(|source| RemoteError::Unreadable { url, source }),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let reason = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| text.trim().chars().take(200).collect());
                let base = self.base.clone();
                Err(match status {
                    401 | 403 => RemoteError::TokenRefused {
                        base,
                        status,
                        reason,
                    },
                    422 => RemoteError::HashMismatch { reason },
                    400..=499 => RemoteError::Refused { status, reason },
                    _ => RemoteError::ServerFailed {
                        base,
                        status,
                        reason,
                    },
                })
            }
            Err(ureq::Error::Transport(source)) => Err(RemoteError::Unreachable {
                base: self.base.clone(),
                source: Box::new(source),
            }),
        }
    }
}

/// Why a capture sent to a server was not archived there. `exit::code_for` maps each: the
/// server's refusal of the input 2, bytes that do not hash as promised 1, a server that cannot
/// be reached, fails or answers nonsense 3.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot encode the capture: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("the server at {base} refused the token (HTTP {status}): {reason}")]
    TokenRefused {
        base: String,
        status: u16,
        reason: String,
    },
    /// HTTP 422: the bytes do not hash to the SHA-256 the request promised.
    #[error("the server refused the capture: {reason}")]
    HashMismatch { reason: String },
    #[error("the server refused the capture (HTTP {status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("the server at {base} failed (HTTP {status}): {reason}")]
    ServerFailed {
        base: String,
        status: u16,
        reason: String,
    },
    #[error("cannot reach the server at {base}: {source}")]
    Unreachable {
        base: String,
        #[source]
        source: Box<ureq::Transport>,
    },
    #[error("reading the answer of {url}: {source}")]
    Unreadable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server at {base} answered something other than a capture report: {source}")]
    NotAReport {
        base: String,
        #[source]
        source: serde_json::Error,
    },
}
