//! C2SP signed-note with Ed25519 (signature type `0x01`): <https://c2sp.org/signed-note>.
//!
//! ```text
//! <note text, ending in a newline>
//!
//! — <key name> <base64(4-byte key ID ‖ 64-byte Ed25519 signature)>
//! ```
//! Key ID = the first 4 bytes (big-endian u32) of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)`.
//! Keys are written as Go's `golang.org/x/mod/sumdb/note` writes them:
//! verifier `<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte public key)>`, signer
//! `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte private seed)>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::NoteError;

/// The signature type byte of Ed25519 in signed notes.
pub const ED25519: u8 = 0x01;
/// The signature line prefix: em dash (U+2014), space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The key ID of an Ed25519 key named `name`.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Key names must be non-empty, without Unicode spaces or `+`.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::MalformedKey {
            key: name.to_owned(),
            reason: "a key name must be non-empty, without spaces or '+'".into(),
        });
    }
    Ok(())
}

/// A named Ed25519 signing key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("public", &hex::encode(self.key.verifying_key().as_bytes()))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The key with this 32-byte private seed (RFC 8032), named `name`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |reason: &str| NoteError::MalformedKey {
            key: "PRIVATE+KEY+…".into(),
            reason: reason.into(),
        };
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("expected PRIVATE+KEY+<name>+<id>+<key>"))?;
        let (name, id, bytes) =
            split_key(rest).ok_or_else(|| bad("expected 5 '+'-separated parts"))?;
        let seed: [u8; 32] = typed_key(&bytes).ok_or_else(|| bad("not an Ed25519 key"))?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_id() != id {
            return Err(bad("the key ID does not match the key"));
        }
        Ok(signer)
    }

    /// The key in the text form [`Signer::parse`] reads (secret: keep it mode 0600).
    pub fn to_text(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(typed)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.public_key())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end in a newline) as a signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.key_id().to_be_bytes().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// A named Ed25519 public key that checks signed notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key: VerifyingKey,
}

impl Verifier {
    /// Reads `<name>+<8 hex key ID>+<base64(0x01 ‖ public key)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let bad = |reason: &str| NoteError::MalformedKey {
            key: text.to_owned(),
            reason: reason.into(),
        };
        let (name, id, bytes) =
            split_key(text).ok_or_else(|| bad("expected <name>+<key ID>+<base64 key>"))?;
        check_key_name(name)?;
        let public: [u8; 32] = typed_key(&bytes).ok_or_else(|| bad("not an Ed25519 key"))?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        let verifier = Self {
            name: name.to_owned(),
            key,
        };
        if verifier.key_id() != id {
            return Err(bad("the key ID does not match the key"));
        }
        Ok(verifier)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.key.as_bytes())
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Checks the note's signature by this key; returns the note text (ending in a newline).
    /// Signatures by other keys are ignored, as the spec requires.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, signatures) = split_note(note)?;
        let id = self.key_id();
        for line in signatures {
            let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
                return Err(NoteError::Malformed(format!(
                    "signature line {line:?} does not start with an em dash and a space"
                )));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed(format!("signature line {line:?}")));
            };
            let blob = B64
                .decode(b64)
                .map_err(|e| NoteError::Malformed(format!("signature of {name}: {e}")))?;
            if blob.len() < 4 || name != self.name {
                continue;
            }
            let line_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
            if line_id != id {
                continue;
            }
            let bad = || NoteError::BadSignature {
                name: self.name.clone(),
                key_id: id,
            };
            let signature = Signature::from_slice(&blob[4..]).map_err(|_| bad())?;
            self.key
                .verify(text.as_bytes(), &signature)
                .map_err(|_| bad())?;
            return Ok(text);
        }
        Err(NoteError::NoSignature {
            name: self.name.clone(),
            key_id: id,
        })
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(typed)
        )
    }
}

/// Splits a note into its text (with its final newline) and its signature lines.
pub fn split_note(note: &str) -> Result<(&str, Vec<&str>), NoteError> {
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline".into(),
        ));
    }
    if !note.ends_with('\n') {
        return Err(NoteError::Malformed("does not end in a newline".into()));
    }
    let cut = note
        .rfind("\n\n")
        .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
    let text = &note[..=cut];
    let signatures: Vec<&str> = note[cut + 2..].lines().collect();
    if signatures.is_empty() {
        return Err(NoteError::Malformed("no signature lines".into()));
    }
    Ok((text, signatures))
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "note text must end in a newline".into(),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters other than newline".into(),
        ));
    }
    Ok(())
}

/// `<name>+<8 hex>+<base64>` → (name, key ID, decoded bytes).
fn split_key(text: &str) -> Option<(&str, u32, Vec<u8>)> {
    // The base64 key (last) may itself contain '+'; the name and the ID cannot.
    let mut parts = text.splitn(3, '+');
    let (name, id, key) = (parts.next()?, parts.next()?, parts.next()?);
    if id.len() != 8 {
        return None;
    }
    let id = u32::from_str_radix(id, 16).ok()?;
    Some((name, id, B64.decode(key).ok()?))
}

/// `0x01 ‖ 32 bytes` → the 32 bytes.
fn typed_key(bytes: &[u8]) -> Option<[u8; 32]> {
    match bytes.split_first() {
        Some((&ED25519, key)) => key.try_into().ok(),
        _ => None,
    }
}
