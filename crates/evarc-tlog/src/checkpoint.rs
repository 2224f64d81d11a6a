//! C2SP tlog-checkpoint: <https://c2sp.org/tlog-checkpoint>.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [extension lines]
//!
//! — <key name> <signature>
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::NoteError;
use crate::hash::Hash;
use crate::note::{Signer, Verifier};

/// The body of a checkpoint: which log, how many leaves, which tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines (opaque; evarc writes none).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, size, root and extensions, one per line.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// The root hash in base64, as in the body.
    pub fn root_base64(&self) -> String {
        B64.encode(self.root)
    }

    /// The signed checkpoint (a signed note).
    pub fn sign(&self, signer: &Signer) -> Result<String, NoteError> {
        signer.sign(&self.body())
    }

    /// Parses a checkpoint body (the note text, signatures already checked).
    pub fn parse_body(text: &str) -> Result<Self, NoteError> {
        let bad = |why: String| NoteError::MalformedCheckpoint(why);
        let mut lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end in a newline".into()))?
            .split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad("empty origin line".into()));
        }
        let size_text = lines
            .next()
            .ok_or_else(|| bad("no tree size line".into()))?;
        let leading_zero = size_text.len() > 1 && size_text.starts_with('0');
        let size = size_text
            .parse::<u64>()
            .ok()
            .filter(|_| !leading_zero && size_text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad(format!("tree size {size_text:?} is not a decimal number")))?;
        let root_text = lines
            .next()
            .ok_or_else(|| bad("no root hash line".into()))?;
        let root: Hash = B64
            .decode(root_text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad(format!("root hash {root_text:?} is not 32 bytes of base64")))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line".into()));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks a signed checkpoint with `verifier` and parses it. The origin must be the key name.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self, NoteError> {
        let text = verifier.open(note)?;
        let checkpoint = Self::parse_body(text)?;
        if checkpoint.origin != verifier.name() {
            return Err(NoteError::MalformedCheckpoint(format!(
                "origin {:?} is not the key name {:?}",
                checkpoint.origin,
                verifier.name()
            )));
        }
        Ok(checkpoint)
    }

    /// Parses a signed checkpoint without checking its signature (for display and lookups).
    pub fn parse_unverified(note: &str) -> Result<Self, NoteError> {
        let (text, _) = crate::note::split_note(note)?;
        Self::parse_body(text)
    }
}
