//! The transparency log for anyone to check offline with `evarc verify-proof`: the latest signed
//! checkpoint, the verifier key, inclusion proofs of records and consistency proofs.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use evarc_provenance::id::RecordId;

use crate::error::Failure;
use crate::state::AppState;

fn text(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `/log/checkpoint`: the latest signed checkpoint (C2SP signed note).
pub async fn checkpoint(State(state): State<AppState>) -> Response {
    match state
        .with(|archive| {
            archive
                .latest_checkpoint()?
                .ok_or_else(|| Failure::not_found("this archive has no checkpoint yet"))
        })
        .await
    {
        Ok(note) => text(note),
        Err(f) => f.into_response(),
    }
}

/// `/log/key`: the verifier key checkpoints are signed with.
pub async fn key(State(state): State<AppState>) -> Response {
    match state
        .with(|archive| {
            archive
                .verifier()?
                .map(|v| format!("{v}\n"))
                .ok_or_else(|| Failure::not_found("this archive has no signing key yet"))
        })
        .await
    {
        Ok(key) => text(key),
        Err(f) => f.into_response(),
    }
}

/// `/log/proof/<ID>`: the inclusion proof of the record's leaf in the latest checkpoint.
pub async fn inclusion(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let Ok(id) = id.trim().parse::<RecordId>() else {
        return Failure::not_found("not a record ID").into_response();
    };
    match state
        .with(move |archive| {
            let subject = archive.log_subject_for(&id, reader.0)?;
            Ok(archive.inclusion_proof(&subject, None)?.to_text())
        })
        .await
    {
        Ok(proof) => text(proof),
        Err(f) => f.into_response(),
    }
}

/// `/log/consistency/<size>`: the consistency proof from the kept checkpoint of that size to
/// the latest one.
pub async fn consistency(State(state): State<AppState>, Path(size): Path<String>) -> Response {
    let Ok(size) = size.trim().parse::<u64>() else {
        return Failure::not_found("expected /log/consistency/<tree size>").into_response();
    };
    match state
        .with(move |archive| {
            let old = archive.checkpoint_text(size)?.ok_or_else(|| {
                Failure::not_found(format!("no checkpoint of {size} leaves in this archive"))
            })?;
            Ok(archive.consistency_proof(&old)?.to_text())
        })
        .await
    {
        Ok(proof) => text(proof),
        Err(f) => f.into_response(),
    }
}
