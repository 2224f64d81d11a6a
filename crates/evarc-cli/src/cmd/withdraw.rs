//! `evarc withdraw`: an append-only withdrawal record of a mistaken capture (logged).

use anyhow::Result;
use evarc_provenance::cite;
use evarc_provenance::WithdrawTarget;
use evarc_provenance::{OpenMode, Sha256};
use serde_json::json;

use super::{now, parse_record_id};
use crate::cli::{GlobalArgs, WithdrawArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: WithdrawArgs, out: &mut Output) -> Result<Outcome> {
    let text = args.target.trim();
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    let target = if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        if args.capture.is_some() {
            anyhow::bail!("--capture goes with a document ID, not with a SHA-256");
        }
        WithdrawTarget::Sha256(Sha256::from_hex(hex)?)
    } else {
        WithdrawTarget::Record {
            id: parse_record_id(text)?,
            sha256: args
                .capture
                .as_deref()
                .map(Sha256::parse_user)
                .transpose()?,
        }
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
