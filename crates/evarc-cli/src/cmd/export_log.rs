//! The transparency-log evidence of an export (docs/transparency-log.md, "Evidence in
//! packages"): the latest kept checkpoint, the archive's verifier key, the checkpoint's RFC 3161
//! time-stamp when it has one, and the inclusion proof of every exported record's leaf that the
//! checkpoint covers: each capture's, and each exported provision's.
//!
//! No checkpoint is made here (an export opens the archive read-only and stays reproducible):
//! records the latest checkpoint does not cover are exported without proof and named in the
//! summary, so the user can run `evarc checkpoint` and export again.

use anyhow::Result;
use evarc_package::{ExportCapture, LogEvidence, LogProof};
use evarc_provenance::evarc_tlog::Checkpoint;
use evarc_provenance::id::RecordId;
use evarc_provenance::{Archive, LogSubject, ProvenanceError};
use serde::Serialize;

/// What the export says about the log (`--json`: the `log` object).
#[derive(Debug, Default, Serialize)]
pub struct LogSummary {
    /// `<origin> <size> <root base64>` of the checkpoint the proofs are against, if any.
    pub checkpoint: Option<String>,
    /// Whether the package carries an RFC 3161 time-stamp over the checkpoint.
    pub timestamped: bool,
    /// Inclusion proofs included.
    pub proofs: usize,
    /// Records exported without a proof: no checkpoint covers their leaf yet.
    pub unproven: Vec<String>,
}

/// The evidence to put in the package (None: nothing proven) and its summary.
pub fn log_evidence(
    archive: &Archive,
    items: &[ExportCapture],
) -> Result<(Option<LogEvidence>, LogSummary)> {
    let mut subjects: Vec<(LogProof, LogSubject)> = Vec::new();
    for item in items {
        let base = LogProof {
            document: item.document.id.to_string(),
            sha256: item.capture.sha256.clone(),
            captured_at: item.capture.captured_at,
            provision: None,
            proof: String::new(),
        };
        subjects.push((
            base.clone(),
            LogSubject::Capture {
                document: item.document.clone(),
                capture: item.capture.clone(),
            },
        ));
        for citation in &item.citations {
            if let RecordId::Provision(id) = &citation.record_id {
                let proof = LogProof {
                    provision: Some(id.to_string()),
                    ..base.clone()
                };
                subjects.push((proof, LogSubject::Provision(archive.provision(id)?)));
            }
        }
    }
    subjects.sort_by(|a, b| key(&a.0).cmp(&key(&b.0)));
    subjects.dedup_by(|a, b| key(&a.0) == key(&b.0));

    let mut summary = LogSummary::default();
    let (Some(verifier), Some(note)) = (archive.verifier()?, archive.latest_checkpoint()?) else {
        summary.unproven = subjects.iter().map(|(_, s)| s.name()).collect();
        return Ok((None, summary));
    };
    let head = Checkpoint::parse_unverified(&note)?;
    let mut proofs = Vec::new();
    for (mut proof, subject) in subjects {
        match archive.inclusion_proof(&subject, Some(&note)) {
            Ok(inclusion) => {
                proof.proof = inclusion.to_text();
                proofs.push(proof);
            }
            Err(ProvenanceError::NotLogged { .. } | ProvenanceError::NotInCheckpoint { .. }) => {
                summary.unproven.push(subject.name());
            }
            Err(err) => return Err(err.into()),
        }
    }
    if proofs.is_empty() {
        return Ok((None, summary));
    }
    let timestamp = archive.timestamp(head.size)?;
    summary.checkpoint = Some(format!(
        "{} {} {}",
        head.origin,
        head.size,
        head.root_base64()
    ));
    summary.timestamped = timestamp.is_some();
    summary.proofs = proofs.len();
    Ok((
        Some(LogEvidence {
            checkpoint: note,
            public_key: verifier.to_string(),
            timestamp,
            proofs,
        }),
        summary,
    ))
}

fn key(proof: &LogProof) -> (&str, &str, chrono::DateTime<chrono::Utc>, Option<&str>) {
    (
        &proof.document,
        &proof.sha256,
        proof.captured_at,
        proof.provision.as_deref(),
    )
}

/// The summary's line about the log.
pub fn summary_line(log: &LogSummary) -> String {
    let unproven = if log.unproven.is_empty() {
        String::new()
    } else {
        format!(
            "; not covered by a checkpoint yet (run `evarc checkpoint` and export again): {}",
            log.unproven.join(", ")
        )
    };
    match &log.checkpoint {
        Some(checkpoint) => format!(
            "transparency log: {} inclusion proof{} against checkpoint {checkpoint}, with the \
             verifier key{}{unproven}",
            log.proofs,
            if log.proofs == 1 { "" } else { "s" },
            if log.timestamped {
                " and the RFC 3161 time-stamp"
            } else {
                ""
            }
        ),
        None => "transparency log: no checkpoint covers these records, so the package carries \
                 no proofs (run `evarc checkpoint` and export again to include them)"
            .to_owned(),
    }
}
