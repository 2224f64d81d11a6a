//! The summary line about the transparency-log evidence of an export. The evidence itself
//! (latest checkpoint, verifier key, time-stamp, inclusion proofs of every exported record the
//! checkpoint covers) is chosen by `evarc_provenance::export`; records no checkpoint covers are
//! named, so the user can run `evarc checkpoint` and export again.

use evarc_provenance::export::LogSummary;

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
