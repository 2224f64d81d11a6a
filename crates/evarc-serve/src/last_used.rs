//! Tokens' "last used" times (issue 12): a use is recorded by provenance
//! (`Archive::record_token_use`) at most once per [`LAST_USED_RESOLUTION`] per token, so a busy
//! client does not turn every read into a write.
//!
//! The request that authenticated never waits for it: the write runs on a blocking thread after
//! the answer is under way, one at a time with the server's other writes, and only when no other
//! process holds the archive's writer lock (a CLI import is not made to wait, and the use is
//! recorded by a later request instead). The time recorded is the request's, read by the handler.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use evarc_provenance::tokens::{use_worth_recording, LAST_USED_RESOLUTION};
use evarc_provenance::{Archive, OpenMode};

use crate::state::AppState;

/// When this server last tried to record each token's use.
#[derive(Default)]
pub struct Attempts(Mutex<HashMap<String, DateTime<Utc>>>);

impl AppState {
    /// Notes that the token named `name` authenticated a request at `at`; `recorded` is the use
    /// the archive holds. Records it in the background when it is worth it.
    pub fn note_token_use(&self, name: &str, at: DateTime<Utc>, recorded: Option<DateTime<Utc>>) {
        if !use_worth_recording(recorded, at) {
            return;
        }
        {
            let mut attempts = self
                .attempts()
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(last) = attempts.get(name) {
                if at - *last < LAST_USED_RESOLUTION {
                    return;
                }
            }
            attempts.insert(name.to_owned(), at);
        }
        let state = self.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let written = state.one_write(|path| {
                let archive = Archive::open(path, OpenMode::ReadWrite).ok()?;
                archive.record_token_use(&name, at).ok()
            });
            if written.is_none() {
                // Busy or failed: let the next request try again.
                state
                    .attempts()
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&name);
            }
        });
    }
}
