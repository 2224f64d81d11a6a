//! Stable record IDs: `CA-D-00648` (document), `CA-P-011417` (provision) and `CA-C-000001`
//! (change record, [`ChangeId`]).
//!
//! An ID is the archive's [`Prefix`], a kind letter (`D` or `P`) and a decimal sequence number
//! starting at 1. Documents are printed with at least 5 digits, provisions with at least 6; past
//! 99999 / 999999 the number simply gets longer. IDs are printed upper-case and parsed
//! case-insensitively. Parsing accepts any number of digits (leading zeros included, so
//! `ca-d-648` is `CA-D-00648`) and rejects sequence 0, signs, spaces, non-ASCII digits and numbers
//! that do not fit in a `u64`. Once an ID value exists it is well-formed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a prefix or an ID could not be parsed. Every variant names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The archive prefix is not 2–8 ASCII letters.
    #[error("invalid archive prefix {input:?}: expected 2 to 8 ASCII letters (e.g. CA)")]
    InvalidPrefix { input: String },
    /// The text does not have the shape of an ID.
    #[error("invalid ID {input:?}: expected {expected}")]
    Malformed { input: String, expected: String },
    /// The sequence number is 0; sequences start at 1.
    #[error("invalid ID {input:?}: sequence numbers start at 1")]
    ZeroSequence { input: String },
    /// The sequence number does not fit in 64 bits.
    #[error("invalid ID {input:?}: sequence number is larger than {max}", max = u64::MAX)]
    Overflow { input: String },
}

/// The archive's ID prefix: 2–8 upper-case ASCII letters, `CA` by default.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(String);

impl Prefix {
    /// Validates and upper-cases a prefix (`ca` → `CA`).
    pub fn new(input: &str) -> Result<Prefix, IdError> {
        let ok = (2..=8).contains(&input.len()) && input.bytes().all(|b| b.is_ascii_alphabetic());
        if !ok {
            return Err(IdError::InvalidPrefix {
                input: input.to_owned(),
            });
        }
        Ok(Prefix(input.to_ascii_uppercase()))
    }

    /// The upper-case prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Prefix("CA".to_owned())
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Prefix {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Prefix::new(s)
    }
}

/// The kind letter of an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Document,
    Provision,
    Change,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Document => 'D',
            Kind::Provision => 'P',
            Kind::Change => 'C',
        }
    }
}

/// Splits `PREFIX-K-digits` into its parts. `want` restricts the kind; `None` accepts both.
fn parse_parts(input: &str, want: Option<Kind>) -> Result<(Prefix, Kind, u64), IdError> {
    let shown_prefix = input
        .split('-')
        .next()
        .and_then(|p| Prefix::new(p).ok())
        .unwrap_or_default();
    let malformed = || IdError::Malformed {
        input: input.to_owned(),
        expected: expected_shape(&shown_prefix, want),
    };
    let mut parts = input.split('-');
    let (Some(prefix), Some(kind), Some(digits), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let prefix = Prefix::new(prefix).map_err(|_| malformed())?;
    let kind = match kind {
        "D" | "d" => Kind::Document,
        "P" | "p" => Kind::Provision,
        // Change records are their own kind: only asked for by name (not a `RecordId`).
        "C" | "c" if want == Some(Kind::Change) => Kind::Change,
        _ => return Err(malformed()),
    };
    if want.is_some_and(|w| w != kind) {
        return Err(malformed());
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let seq: u64 = digits.parse().map_err(|_| IdError::Overflow {
        input: input.to_owned(),
    })?;
    if seq == 0 {
        return Err(IdError::ZeroSequence {
            input: input.to_owned(),
        });
    }
    Ok((prefix, kind, seq))
}

fn expected_shape(prefix: &Prefix, want: Option<Kind>) -> String {
    match want {
        Some(Kind::Document) => format!("{prefix}-D-<digits> (document)"),
        Some(Kind::Provision) => format!("{prefix}-P-<digits> (provision)"),
        Some(Kind::Change) => format!("{prefix}-C-<digits> (change record)"),
        None => format!("{prefix}-D-<digits> (document) or {prefix}-P-<digits> (provision)"),
    }
}

macro_rules! sequence_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $width:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name {
            prefix: Prefix,
            seq: u64,
        }

        impl $name {
            /// Builds an ID. `seq` must be at least 1: sequences start at 1, and 0 is rejected
            /// with [`IdError::ZeroSequence`].
            pub fn new(prefix: Prefix, seq: u64) -> Result<Self, IdError> {
                if seq == 0 {
                    return Err(IdError::ZeroSequence {
                        input: format!("{}-{}-0", prefix, $kind.letter()),
                    });
                }
                Ok($name { prefix, seq })
            }

            /// The sequence number (at least 1).
            pub fn seq(&self) -> u64 {
                self.seq
            }

            /// The archive prefix.
            pub fn prefix(&self) -> &Prefix {
                &self.prefix
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{}-{}-{:0width$}",
                    self.prefix,
                    $kind.letter(),
                    self.seq,
                    width = $width
                )
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let (prefix, _, seq) = parse_parts(s, Some($kind))?;
                Ok($name { prefix, seq })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

sequence_id!(
    /// A document ID, printed `CA-D-` + the sequence zero-padded to 5 digits.
    DocumentId,
    Kind::Document,
    5
);
sequence_id!(
    /// A provision ID, printed `CA-P-` + the sequence zero-padded to 6 digits.
    ProvisionId,
    Kind::Provision,
    6
);

sequence_id!(
    /// A change record ID, printed `CA-C-` + the sequence zero-padded to 6 digits.
    ChangeId,
    Kind::Change,
    6
);

/// Either kind of ID: what a citation cites.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordId {
    Document(DocumentId),
    Provision(ProvisionId),
}

impl RecordId {
    /// The archive prefix of the ID.
    pub fn prefix(&self) -> &Prefix {
        match self {
            RecordId::Document(id) => id.prefix(),
            RecordId::Provision(id) => id.prefix(),
        }
    }
}

impl From<DocumentId> for RecordId {
    fn from(id: DocumentId) -> Self {
        RecordId::Document(id)
    }
}

impl From<ProvisionId> for RecordId {
    fn from(id: ProvisionId) -> Self {
        RecordId::Provision(id)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Document(id) => id.fmt(f),
            RecordId::Provision(id) => id.fmt(f),
        }
    }
}

impl FromStr for RecordId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (prefix, kind, seq) = parse_parts(s, None)?;
        Ok(match kind {
            Kind::Document => RecordId::Document(DocumentId { prefix, seq }),
            Kind::Provision => RecordId::Provision(ProvisionId { prefix, seq }),
            Kind::Change => unreachable_change(s)?,
        })
    }
}

/// `parse_parts(_, None)` never yields a change kind; kept as an error rather than a panic.
fn unreachable_change(input: &str) -> Result<RecordId, IdError> {
    Err(IdError::Malformed {
        input: input.to_owned(),
        expected: "a document or provision ID".to_owned(),
    })
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Prefix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Prefix::new(&text).map_err(serde::de::Error::custom)
    }
}
