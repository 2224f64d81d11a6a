//! Exit codes, and how an error chain maps to one.

use evarc_provenance::StoreError;

/// Everything checked verified (or the command succeeded).
pub const OK: u8 = 0;
/// Something checked failed verification: bytes missing, damaged or different.
pub const VERIFICATION_FAILED: u8 = 1;
/// The request was wrong: usage, a bad path, an unknown or malformed hash or ID.
pub const USAGE: u8 = 2;
/// The environment failed: I/O or storage errors not caused by the input.
pub const ENVIRONMENT: u8 = 3;

/// How a command that ran to its end went: the one typed result every command returns, mapped
/// to an exit code by [`code_of`] only. Errors that stop a command are mapped by [`code_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done as asked; everything checked verified.
    Done,
    /// Something checked failed verification (its report says what): bytes missing, damaged
    /// or different, a hash mismatch in an import, a fetch that failed while tracking.
    VerificationFailed,
    /// A batch ran to its end but some of its input was refused (rows, records): each is
    /// reported on its own line.
    InputRefused,
    /// A batch ran to its end but some of it failed on the storage (exit 3).
    StorageFailed,
    /// An import stopped by Ctrl-C after making what it did durable (exit 130).
    Interrupted,
}

impl Outcome {
    /// `VerificationFailed` when `failed`, else `Done`.
    pub fn verified_unless(failed: bool) -> Outcome {
        if failed {
            Outcome::VerificationFailed
        } else {
            Outcome::Done
        }
    }
}

/// The exit code of a command that ran to its end.
pub fn code_of(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Done => OK,
        Outcome::VerificationFailed => VERIFICATION_FAILED,
        Outcome::InputRefused => USAGE,
        Outcome::StorageFailed => ENVIRONMENT,
        Outcome::Interrupted => INTERRUPTED,
    }
}

/// An import stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// The exit code for an error: the first classified cause in the chain decides.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        // An io::Error carrying a store error (a verifying reader's) hides it from `source()`.
        if let Some(store) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<StoreError>())
        {
            return store_code(store);
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return store_code(store);
        }
        // A package that cannot be written: its captures' bytes do not verify (1) or the output
        // fails (3); otherwise its source (a verifying reader's store error) decides, else 2.
        if let Some(package) = cause.downcast_ref::<evarc_package::PackageError>() {
            if package.is_integrity_failure() {
                return VERIFICATION_FAILED;
            }
            if package.is_output_failure() {
                return ENVIRONMENT;
            }
        }
        if let Some(prov) = cause.downcast_ref::<evarc_provenance::ProvenanceError>() {
            return provenance_code(prov);
        }
        if let Some(code) = front_end_code(cause) {
            return code;
        }
    }
    USAGE
}

fn provenance_code(prov: &evarc_provenance::ProvenanceError) -> u8 {
    if let Some(store) = prov.store_error() {
        return store_code(store);
    }
    if prov.is_integrity_failure() {
        return VERIFICATION_FAILED;
    }
    USAGE
}

/// The typed errors of the transparency log's checks and of the CLI's own clients (a remote
/// `evarc serve`, a time-stamp authority, the OS's randomness, the server it runs).
fn front_end_code(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    use crate::cmd::tlog::{NoRandomness, TsaError};
    use crate::remote::RemoteError;
    if cause.is::<evarc_provenance::evarc_tlog::ProofRejected>() {
        return Some(VERIFICATION_FAILED);
    }
    if let Some(remote) = cause.downcast_ref::<RemoteError>() {
        return Some(match remote {
            RemoteError::HashMismatch { .. } => VERIFICATION_FAILED,
            RemoteError::Encode(_)
            | RemoteError::TokenRefused { .. }
            | RemoteError::Refused { .. } => USAGE,
            RemoteError::ServerFailed { .. }
            | RemoteError::Unreachable { .. }
            | RemoteError::Unreadable { .. }
            | RemoteError::NotAReport { .. } => ENVIRONMENT,
        });
    }
    if let Some(tsa) = cause.downcast_ref::<TsaError>() {
        return Some(match tsa {
            TsaError::Refused { .. } => USAGE,
            TsaError::Unreachable { .. } | TsaError::Unreadable(_) => ENVIRONMENT,
        });
    }
    if cause.is::<NoRandomness>() {
        return Some(ENVIRONMENT);
    }
    if let Some(serve) = cause.downcast_ref::<evarc_serve::ServeError>() {
        return Some(match serve {
            evarc_serve::ServeError::Archive(prov) => provenance_code(prov),
            evarc_serve::ServeError::Bind { .. } | evarc_serve::ServeError::Runtime(_) => {
                ENVIRONMENT
            }
        });
    }
    None
}

fn store_code(err: &StoreError) -> u8 {
    if err.is_integrity_failure() {
        return VERIFICATION_FAILED;
    }
    match err {
        StoreError::Db { .. } => ENVIRONMENT,
        // A bucket that cannot be reached, refuses the credentials or does not exist (issue 14).
        StoreError::Remote { .. } => ENVIRONMENT,
        StoreError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
            ENVIRONMENT
        }
        _ => USAGE,
    }
}

/// True when the error is a closed stdout pipe (`evarc get … | head`): not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            // serde_json's error hides the io::Error it wraps from `source()`.
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || cause.downcast_ref::<StoreError>().is_some_and(|e| {
                matches!(e, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::tlog::TsaError;
    use crate::remote::RemoteError;
    use evarc_provenance::evarc_tlog::ProofRejected;

    fn code(err: impl std::error::Error + Send + Sync + 'static) -> u8 {
        code_for(&anyhow::Error::new(err))
    }

    #[test]
    fn typed_front_end_errors_map_to_their_codes() {
        let reason = || "why".to_owned();
        assert_eq!(
            code(RemoteError::HashMismatch { reason: reason() }),
            VERIFICATION_FAILED
        );
        assert_eq!(
            code(RemoteError::Refused {
                status: 400,
                reason: reason()
            }),
            USAGE
        );
        assert_eq!(
            code(RemoteError::ServerFailed {
                base: "http://s".to_owned(),
                status: 500,
                reason: reason()
            }),
            ENVIRONMENT
        );
        assert_eq!(
            code(TsaError::Refused {
                url: "http://tsa".to_owned(),
                status: 501,
                text: "Not Implemented".to_owned()
            }),
            USAGE
        );
        assert_eq!(
            code(TsaError::Unreadable(std::io::Error::other("cut"))),
            ENVIRONMENT
        );
        assert_eq!(
            code(ProofRejected::OtherLeaf {
                record: "leaf.json".to_owned()
            }),
            VERIFICATION_FAILED
        );
    }

    #[test]
    fn a_typed_error_under_context_keeps_its_code() {
        let err = anyhow::Error::new(RemoteError::HashMismatch {
            reason: "sha256 differs".to_owned(),
        })
        .context("row.html");
        assert_eq!(code_for(&err), VERIFICATION_FAILED);
        assert_eq!(
            crate::error_line::render(&err),
            "row.html: the server refused the capture: sha256 differs"
        );
    }
}
