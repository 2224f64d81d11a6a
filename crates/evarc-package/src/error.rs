//! Errors of package export. Every variant names what failed (the capture, the path) and chains
//! its source. Reading a WARC does not fail as a whole: damage is reported per record as a
//! [`crate::DamagedRecord`].

use std::io;
use std::path::PathBuf;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// No captures were given: an empty package proves nothing.
    #[error("nothing to export: no captures given")]
    NoCaptures,
    /// The bytes of a capture could not be read.
    #[error("could not read the bytes of capture {sha256} of {document}")]
    CaptureRead {
        document: String,
        sha256: String,
        #[source]
        source: io::Error,
    },
    /// The bytes read back are not the bytes recorded.
    #[error(
        "capture of {document} does not verify: SHA-256 was {actual} ({actual_len} bytes), \
         but should have been {expected} ({expected_len} bytes)"
    )]
    CaptureMismatch {
        document: String,
        expected: String,
        actual: String,
        expected_len: u64,
        actual_len: u64,
    },
    /// A text field of a record cannot be written into a WARC header.
    #[error("capture of {document}: {field} {value:?} cannot be written as a WARC header")]
    BadHeaderValue {
        document: String,
        field: &'static str,
        value: String,
    },
    /// Writing the output failed.
    #[error("could not write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The output stream of a WARC failed.
    #[error("could not write the WARC")]
    WarcOutput(#[source] io::Error),
    /// BagIt output goes only into a new or empty directory.
    #[error("{} exists and is not an empty directory; choose a new output directory", path.display())]
    OutputNotEmpty { path: PathBuf },
    /// WACZ output never overwrites a file.
    #[error("{} already exists; choose a new output file", path.display())]
    OutputExists { path: PathBuf },
    /// The ZIP container of a WACZ could not be written.
    #[error("could not write the ZIP container {}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    /// A change record could not be written as JSON.
    #[error("could not write change record {id} as JSON")]
    ChangeJson {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

impl PackageError {
    /// The bytes of a capture read back are not the bytes recorded: a verification failure.
    /// (A capture whose bytes could not be read says why in its source, e.g. a store error.)
    pub fn is_integrity_failure(&self) -> bool {
        matches!(self, Self::CaptureMismatch { .. })
    }

    /// The output failed (a file, the WARC stream, the ZIP container): the environment's fault.
    pub fn is_output_failure(&self) -> bool {
        matches!(
            self,
            Self::Write { .. } | Self::WarcOutput(_) | Self::Zip { .. }
        )
    }
}
