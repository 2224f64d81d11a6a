//! Proof files.
//!
//! Inclusion proofs use the C2SP tlog-proof layout (<https://c2sp.org/tlog-proof>):
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of opaque data>        (optional; evarc puts the leaf itself here)
//! index <leaf index>
//! <base64 hash>                         (zero or more: leaf's sibling first)
//!
//! <the checkpoint, verbatim>
//! ```
//! No C2SP layout exists for consistency proofs; evarc writes them the same way:
//! ```text
//! evarc.tlog-consistency@v1
//! old <size of the older tree>
//! <base64 hash>                         (zero or more, RFC 9162 §2.1.4 order)
//!
//! <the newer checkpoint, verbatim>
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::ProofError;
use crate::hash::Hash;

/// The first line of an inclusion proof.
pub const TLOG_PROOF_V1: &str = "c2sp.org/tlog-proof@v1";
/// The first line of a consistency proof.
pub const CONSISTENCY_V1: &str = "evarc.tlog-consistency@v1";

/// An inclusion proof with the checkpoint it proves against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub hashes: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

/// A consistency proof from an older tree size to the checkpoint it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub hashes: Vec<Hash>,
    /// The newer signed checkpoint, verbatim.
    pub checkpoint: String,
}

impl InclusionProof {
    pub fn to_text(&self) -> String {
        let mut out = format!("{TLOG_PROOF_V1}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        push_hashes(&mut out, &self.hashes);
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    pub fn parse(text: &str) -> Result<Self, ProofError> {
        let (header, checkpoint) = split(text)?;
        let mut lines = header.iter().copied();
        if lines.next() != Some(TLOG_PROOF_V1) {
            return Err(malformed(format!("the first line is not {TLOG_PROOF_V1}")));
        }
        let mut line = lines.next();
        let mut extra = None;
        if let Some(rest) = line.and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(
                B64.decode(rest)
                    .map_err(|e| malformed(format!("extra data: {e}")))?,
            );
            line = lines.next();
        }
        let index = line
            .and_then(|l| l.strip_prefix("index "))
            .ok_or_else(|| malformed("no index line".into()))
            .and_then(|n| decimal("index", n))?;
        let hashes = parse_hashes(lines)?;
        Ok(Self {
            extra,
            index,
            hashes,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

impl ConsistencyProof {
    pub fn to_text(&self) -> String {
        let mut out = format!("{CONSISTENCY_V1}\nold {}\n", self.old_size);
        push_hashes(&mut out, &self.hashes);
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    pub fn parse(text: &str) -> Result<Self, ProofError> {
        let (header, checkpoint) = split(text)?;
        let mut lines = header.iter().copied();
        if lines.next() != Some(CONSISTENCY_V1) {
            return Err(malformed(format!("the first line is not {CONSISTENCY_V1}")));
        }
        let old_size = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| malformed("no old-size line".into()))
            .and_then(|n| decimal("old size", n))?;
        let hashes = parse_hashes(lines)?;
        Ok(Self {
            old_size,
            hashes,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// What kind of proof a text is, by its first line.
pub fn is_consistency_proof(text: &str) -> bool {
    text.starts_with(CONSISTENCY_V1)
}

fn malformed(why: String) -> ProofError {
    ProofError::Malformed(why)
}

fn push_hashes(out: &mut String, hashes: &[Hash]) {
    for h in hashes {
        out.push_str(&B64.encode(h));
        out.push('\n');
    }
}

/// Header lines (up to the first empty line) and the checkpoint after it.
fn split(text: &str) -> Result<(Vec<&str>, &str), ProofError> {
    let cut = text
        .find("\n\n")
        .ok_or_else(|| malformed("no empty line before the checkpoint".into()))?;
    let header = text[..cut].split('\n').collect();
    Ok((header, &text[cut + 2..]))
}

fn parse_hashes<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<Hash>, ProofError> {
    lines
        .map(|l| {
            B64.decode(l)
                .ok()
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| malformed(format!("{l:?} is not a base64 SHA-256 hash")))
        })
        .collect()
}

fn decimal(what: &str, text: &str) -> Result<u64, ProofError> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    text.parse()
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| malformed(format!("{what} {text:?} is not a decimal number")))
}
