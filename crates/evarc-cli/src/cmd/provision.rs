//! `evarc provision add`: pin a titled clause to a capture by a quote.

use anyhow::Result;
use evarc_provenance::id::ProvisionId;
use evarc_provenance::ProvisionRequest;
use evarc_store::OpenMode;
use serde_json::json;

use super::{now, parse_document_id, text_time};
use crate::cli::{GlobalArgs, ProvisionAddArgs};
use crate::context::open;
use crate::output::Output;

pub fn add(global: &GlobalArgs, args: ProvisionAddArgs, out: &mut Output) -> Result<u8> {
    let document = parse_document_id(&args.document)?;
    let id = args
        .id
        .as_deref()
        .map(|text| text.trim().parse::<ProvisionId>())
        .transpose()?;
    let archive = open(global, OpenMode::ReadWrite)?;
    let (provision, created) = archive.add_provision(
        ProvisionRequest {
            document,
            title: args.title,
            quote: args.quote,
            capture: args.capture,
            id,
            severity: args.severity,
            categories: args.categories,
        },
        now(),
    )?;
    out.line(provision.id.to_string())?;
    if !created {
        eprintln!(
            "{} was already registered for this quote and capture",
            provision.id
        );
    }
    if !out.json {
        eprintln!(
            "pinned to capture sha256:{} of {} ({}), characters {}–{}",
            provision.capture.sha256,
            provision.document,
            text_time(provision.capture.captured_at),
            provision.selector.start,
            provision.selector.end
        );
    }
    out.value(&json!({"provision": provision, "new": created}))?;
    Ok(crate::exit::OK)
}
