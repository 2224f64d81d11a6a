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
use crate::exit::{EnvironmentFailure, VerificationFailed};

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
    pub fn send_capture(&self, upload: &CaptureUpload) -> Result<ArchiveReport> {
        let body = serde_json::to_vec(upload)?;
        let answer = self.post("/api/v1/captures", &body)?;
        serde_json::from_str(&answer).map_err(|e| {
            EnvironmentFailure(format!(
                "the server at {} answered something other than a capture report: {e}",
                self.base
            ))
            .into()
        })
    }

    fn post(&self, path: &str, body: &[u8]) -> Result<String> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .post(&url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Content-Type", "application/json")
            .send_bytes(body);
        match response {
            Ok(response) => Ok(response
                .into_string()
                .map_err(|e| EnvironmentFailure(format!("reading the answer of {url}: {e}")))?),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let reason = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| text.trim().chars().take(200).collect());
                match status {
                    401 | 403 => bail!(
                        "the server at {} refused the token (HTTP {status}): {reason}",
                        self.base
                    ),
                    422 => Err(VerificationFailed(format!(
                        "the server refused the capture: {reason}"
                    ))
                    .into()),
                    400..=499 => bail!("the server refused the capture (HTTP {status}): {reason}"),
                    _ => Err(EnvironmentFailure(format!(
                        "the server at {} failed (HTTP {status}): {reason}",
                        self.base
                    ))
                    .into()),
                }
            }
            Err(ureq::Error::Transport(err)) => Err(EnvironmentFailure(format!(
                "cannot reach the server at {}: {err}",
                self.base
            ))
            .into()),
        }
    }
}
