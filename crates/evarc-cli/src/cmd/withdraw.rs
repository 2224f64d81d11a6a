//! `evarc withdraw`: an append-only withdrawal record of a mistaken capture (logged).

use anyhow::Result;
use evarc_provenance::cite;
use evarc_provenance::OpenMode;
use evarc_provenance::WithdrawTarget;
use serde_json::json;

use super::now;
use crate::cli::{GlobalArgs, WithdrawArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;
use crate::values::WithdrawTarget as Target;

pub fn run(global: &GlobalArgs, args: WithdrawArgs, out: &mut Output) -> Result<Outcome> {
    let target = match args.target {
        Target::Sha256(sha) => {
            if args.capture.is_some() {
                anyhow::bail!("--capture goes with a document ID, not with a SHA-256");
            }
            WithdrawTarget::Sha256(sha)
        }
        Target::Record(id) => WithdrawTarget::Record {
            id,
            sha256: args.capture,
        },
    };
    let archive = open(global, OpenMode::ReadWrite)?;
    let withdrawal = archive.withdraw(&target, &args.reason, now())?;
    if out.json {
        out.value(&json!({
            "document_id": withdrawal.document.to_string(),
            "capture": {
                "sha256": withdrawal.capture_sha256,
                "captured_at": cite::json_time(withdrawal.captured_at),
            },
            "withdrawn_at": cite::json_time(withdrawal.withdrawn_at),
            "reason": withdrawal.reason,
        }))?;
    } else {
        out.line(format!(
            "withdrawn: capture {} of {} (captured {}) at {}: {}",
            withdrawal.capture_sha256,
            withdrawal.document,
            cite::text_time(withdrawal.captured_at),
            cite::text_time(withdrawal.withdrawn_at),
            withdrawal.reason
        ))?;
    }
    Ok(Outcome::Done)
}
