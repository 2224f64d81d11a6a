//! `evarc provision add`: pin a titled clause to a capture by a quote.

use anyhow::{Context as _, Result};
use evarc_provenance::anchor::AnchorError;
use evarc_provenance::id::ProvisionId;
use evarc_provenance::OpenMode;
use evarc_provenance::{ProvenanceError, ProvisionRequest};
use serde_json::json;

use super::{now, text_time};
use crate::cli::{GlobalArgs, ProvisionAddArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn add(global: &GlobalArgs, args: ProvisionAddArgs, out: &mut Output) -> Result<Outcome> {
    let document = args.document.clone();
    let id = args
        .id
        .as_deref()
        .map(|text| text.trim().parse::<ProvisionId>())
        .transpose()?;
    let quote = match (args.quote, &args.quote_file) {
        (Some(quote), _) => quote,
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the quote file {}", path.display()))?,
        (None, None) => {
            anyhow::bail!("a provision needs a quote: --quote TEXT or --quote-file FILE")
        }
    };
    let archive = open(global, OpenMode::ReadWrite)?;
    let (provision, created) = archive
        .add_provision_at(
            ProvisionRequest {
                document,
                title: args.title,
                quote,
                capture: args.capture,
                id,
                severity: args.severity,
                categories: args.categories,
                private: args.private,
            },
            args.occurrence,
            now(),
        )
        .map_err(|err| {
            let ambiguous = matches!(
                &err,
                ProvenanceError::QuoteNotFound {
                    source: AnchorError::Ambiguous { .. },
                    ..
                }
            );
            let err = anyhow::Error::from(err);
            if ambiguous {
                // The problem first, the hint after.
                anyhow::anyhow!("{err:#}; choose one with --occurrence N")
            } else {
                err
            }
        })?;
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
    Ok(Outcome::Done)
}
