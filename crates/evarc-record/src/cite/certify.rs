//! The hash certification of `evarc certify`: a declaration in the shape of a Federal Rule of
//! Evidence 902(14) certification, with placeholders for the person who signs it.
//!
//! The caller re-hashes the bytes first and refuses to certify on a mismatch; this function only
//! words a verification that succeeded.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::dates::text_time;
use super::record::is_line_break;
use super::{CaptureMethod, CitationRecord};

/// What was re-hashed for the certification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashedSubject {
    /// The capture's bytes as stored in the archive.
    StoredBytes,
    /// An exhibit file given by the operator.
    Exhibit { path: String },
}

fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect()
}

fn method_text(method: &CaptureMethod) -> String {
    match method {
        CaptureMethod::HttpFetch { status, final_url } => format!(
            "HTTP fetch of the source URL by the tool (HTTP status {status}; final URL after redirects: {})",
            one_line(final_url)
        ),
        CaptureMethod::FileImport => "import of a file supplied by the operator; the capture time below was asserted by the operator, not observed by the tool".to_owned(),
        CaptureMethod::WarcImport => "import of a WARC record; the capture time below is the one recorded in the WARC file".to_owned(),
    }
}

/// Renders the certification text for a verification that succeeded at `verified_at`.
pub fn certification(
    record: &CitationRecord,
    exhibit_name: &str,
    verified_at: DateTime<Utc>,
    hashed: &HashedSubject,
) -> String {
    let capture = &record.capture;
    let mut out = String::new();
    let w = &mut out;
    // Writing to a String cannot fail.
    let _ = writeln!(
        w,
        "CERTIFICATION OF DATA AUTHENTICATED BY A PROCESS OF DIGITAL IDENTIFICATION"
    );
    let _ = writeln!(w, "(Fed. R. Evid. 902(14); 28 U.S.C. § 1746)");
    let _ = writeln!(w);
    let _ = writeln!(w, "1. Declarant. I, [FULL NAME], am [ROLE / TITLE] at [ORGANIZATION]. I am qualified to make this certification because [BASIS OF KNOWLEDGE: e.g. I operate the evidence archive \"{}\" and am familiar with how it captures and verifies records].", one_line(&record.archive.name));
    let _ = writeln!(w);
    let _ = writeln!(w, "2. Data identified.");
    let _ = writeln!(w, "   Record ID: {}", record.record_id);
    let _ = writeln!(w, "   Document ID: {}", record.document_id);
    let _ = writeln!(w, "   Entity: {}", one_line(&record.entity));
    let _ = writeln!(w, "   Document title: {}", one_line(&record.document_title));
    if let Some(p) = &record.provision {
        let _ = writeln!(w, "   Provision title: {}", one_line(&p.title));
    }
    let _ = writeln!(w, "   Source URL: {}", one_line(&record.source_url));
    let _ = writeln!(w, "   Exhibit file: {}", one_line(exhibit_name));
    let _ = writeln!(w, "   Byte length: {} bytes", capture.byte_len);
    let _ = writeln!(w, "   Media type: {}", one_line(&capture.media_type));
    let _ = writeln!(w);
    let _ = writeln!(w, "3. Capture.");
    let _ = writeln!(w, "   Tool: {}", one_line(&record.archive.tool));
    let _ = writeln!(w, "   Method: {}", method_text(&capture.method));
    let _ = writeln!(w, "   Captured: {}", text_time(capture.captured_at));
    if let Some(wd) = &capture.withdrawn {
        let _ = writeln!(
            w,
            "   Withdrawn: {}: {} (the archive marks this capture as withdrawn; its bytes are kept)",
            text_time(wd.withdrawn_at),
            one_line(&wd.reason)
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "4. Digital identification.");
    let _ = writeln!(w, "   Algorithm: SHA-256 (FIPS 180-4)");
    let _ = writeln!(w, "   Hash recorded at capture: {}", capture.sha256);
    let _ = writeln!(w);
    let what = match hashed {
        HashedSubject::StoredBytes => {
            "the bytes of this capture as stored in the archive".to_owned()
        }
        HashedSubject::Exhibit { path } => format!("the exhibit file \"{}\"", one_line(path)),
    };
    let _ = writeln!(w, "5. Verification. At {} I caused {what} to be hashed again with SHA-256. The result was identical to the hash recorded at capture.", text_time(verified_at));
    let _ = writeln!(w);
    let _ = writeln!(w, "6. Meaning. An identical SHA-256 hash shows that the exhibit's bytes are identical to the bytes captured at the time stated above. Hashing does not prove that the server at the source URL sent those bytes; that rests on the capture method stated in paragraph 3.");
    let _ = writeln!(w);
    let _ = writeln!(w, "I declare under penalty of perjury that the foregoing is true and correct. Executed on ____________. ____________ (signature)");
    out
}
