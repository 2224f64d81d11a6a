//! Which two captures of a document a comparison (`diff`) is between, when only one or none is
//! named.

use crate::archive::Archive;
use crate::error::{ProvenanceError, Result};
use crate::id::DocumentId;
use crate::model::Capture;
use evarc_store::Sha256;

impl Archive {
    /// The older and newer capture to compare. `from` and `to` are SHA-256s of captures of the
    /// document; a missing side defaults: `to` to the latest capture, `from` to the capture just
    /// before `to` (so neither given means the two latest captures).
    pub fn capture_pair(
        &self,
        id: &DocumentId,
        from: Option<Sha256>,
        to: Option<Sha256>,
    ) -> Result<(Capture, Capture)> {
        let captures = self.captures(id)?;
        let newer = match to {
            Some(sha) => self.capture_by_sha(id, sha)?,
            None => captures
                .last()
                .cloned()
                .ok_or_else(|| ProvenanceError::NoCaptures {
                    document: id.to_string(),
                })?,
        };
        let older = match from {
            Some(sha) => self.capture_by_sha(id, sha)?,
            None => captures
                .iter()
                .rev()
                .find(|c| c.captured_at < newer.captured_at)
                .cloned()
                .ok_or_else(|| {
                    ProvenanceError::InvalidInput(format!(
                        "{id} has no capture before sha256:{} ({}): nothing to compare it with",
                        newer.sha256,
                        crate::cite::text_time(newer.captured_at)
                    ))
                })?,
        };
        Ok((older, newer))
    }
}
