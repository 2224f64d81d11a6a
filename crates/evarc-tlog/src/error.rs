//! Errors of the transparency log, each carrying the sizes, indices or names concerned.

/// Asking the tree for something it does not hold, or the node source failing.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    #[error("reading a log node failed")]
    Source(#[source] E),
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {old} leaves cannot be proven consistent with a tree of {new}")]
    SizeOutOfRange { old: u64, new: u64 },
}

/// A proof that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {old} is larger than tree size {new}")]
    SizeOutOfRange { old: u64, new: u64 },
    #[error("the proof has {actual} hashes where {expected} were expected")]
    WrongLength { expected: usize, actual: usize },
    #[error("the proof leads to root {actual}, but the tree head is {expected}")]
    RootMismatch { expected: String, actual: String },
    #[error("trees of equal size {size} have different roots {first} and {second}")]
    EqualSizeRootMismatch {
        size: u64,
        first: String,
        second: String,
    },
    #[error("malformed proof: {0}")]
    Malformed(String),
}

/// A signed note, key or checkpoint that cannot be read or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed signed note: {0}")]
    Malformed(String),
    #[error("malformed key {key:?}: {reason}")]
    MalformedKey { key: String, reason: String },
    #[error("the note carries no signature by key {name} ({key_id:08x})")]
    NoSignature { name: String, key_id: u32 },
    #[error("the signature by key {name} ({key_id:08x}) does not verify: the note was altered or signed by another key")]
    BadSignature { name: String, key_id: u32 },
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
}
