//! Digests: BLAKE3 (the storage key) and SHA-256 (the public hash), and how users name them.
//!
//! Shared by the store (which keys snapshots by them) and the record model (whose captures,
//! provisions and change records name bytes by them). In records they serialise as 64 lower-case
//! hex digits, exactly the strings stored before they were types, so stored JSON keeps its bytes;
//! reading a record whose digest is not 64 hex digits is an error ([`DigestError`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A digest given as text is not well-formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed hash {input:?}: {reason}")]
pub struct DigestError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

macro_rules! digest_type {
    ($name:ident, $algo:literal) => {
        #[doc = concat!("A ", $algo, " digest (32 bytes), printed as 64 lower-case hex digits.")]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The algorithm's name as printed in messages.
            pub const ALGORITHM: &'static str = $algo;

            /// The digest as 64 lower-case hex digits.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Parses exactly 64 hex digits (either case).
            pub fn from_hex(text: &str) -> Result<Self, DigestError> {
                parse_hex32(text).map(Self)
            }

            /// The raw 32 bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Builds a digest from a 32-byte slice, as read from a key or value.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = DigestError;

            fn from_str(text: &str) -> Result<Self, DigestError> {
                Self::from_hex(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Self::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(Blake3, "BLAKE3");
digest_type!(Sha256, "SHA-256");

impl Blake3 {
    /// The BLAKE3 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

impl Sha256 {
    /// The SHA-256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// Parses a SHA-256 as a user types it: 64 hex digits (either case), optionally prefixed
    /// `sha256:`, surrounding whitespace ignored.
    pub fn parse_user(text: &str) -> Result<Self, DigestError> {
        let trimmed = text.trim();
        let hex = trimmed
            .strip_prefix("sha256:")
            .or_else(|| trimmed.strip_prefix("SHA256:"))
            .unwrap_or(trimmed);
        Self::from_hex(hex).map_err(|err| DigestError {
            input: text.to_owned(),
            reason: err.reason,
        })
    }
}

fn parse_hex32(text: &str) -> Result<[u8; 32], DigestError> {
    let malformed = |reason: &str| DigestError {
        input: text.to_owned(),
        reason: reason.to_owned(),
    };
    if text.len() != 64 {
        return Err(malformed(&format!(
            "expected 64 hex digits, got {} characters",
            text.chars().count()
        )));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| malformed("not hexadecimal"))?;
    Ok(out)
}

/// How a user names a snapshot: `blake3:<hex>`, `sha256:<hex>`, or bare 64 hex digits (either).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestQuery {
    /// `blake3:<64 hex>`.
    Blake3(Blake3),
    /// `sha256:<64 hex>`.
    Sha256(Sha256),
    /// 64 hex digits without an algorithm: looked up as SHA-256, then as BLAKE3.
    Either([u8; 32]),
}

impl FromStr for DigestQuery {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, DigestError> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let with_context = |err: DigestError| DigestError {
            input: text.to_owned(),
            reason: err.reason,
        };
        if let Some(rest) = lower.strip_prefix("blake3:") {
            Blake3::from_hex(rest)
                .map(Self::Blake3)
                .map_err(with_context)
        } else if let Some(rest) = lower
            .strip_prefix("sha256:")
            .or(lower.strip_prefix("sha-256:"))
        {
            Sha256::from_hex(rest)
                .map(Self::Sha256)
                .map_err(with_context)
        } else if lower.contains(':') {
            Err(DigestError {
                input: text.to_owned(),
                reason: "unknown algorithm; use sha256:<hex>, blake3:<hex> or 64 hex digits".into(),
            })
        } else {
            parse_hex32(&lower).map(Self::Either).map_err(with_context)
        }
    }
}

impl fmt::Display for DigestQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Blake3(d) => write!(f, "blake3:{d}"),
            Self::Sha256(d) => write!(f, "sha256:{d}"),
            Self::Either(bytes) => f.write_str(&hex::encode(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_serialise_as_the_lower_case_hex_stored_before_they_were_types() {
        let sha = Sha256::of(b"evarc");
        let json = serde_json::to_string(&sha).expect("serialises");
        assert_eq!(json, format!("\"{}\"", sha.to_hex()));
        let back: Sha256 = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, sha);
    }

    #[test]
    fn reading_a_bad_hex_digest_is_an_error_naming_it() {
        let err = serde_json::from_str::<Blake3>("\"abc\"").expect_err("three digits");
        assert_eq!(
            err.to_string(),
            "malformed hash \"abc\": expected 64 hex digits, got 3 characters"
        );
        let bad = "z".repeat(64);
        let err = Sha256::from_hex(&bad).expect_err("not hex");
        assert_eq!(err.reason, "not hexadecimal");
    }
}
