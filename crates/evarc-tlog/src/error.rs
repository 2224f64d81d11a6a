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

/// Why the evidence a reader checks against the log does not verify (`evarc verify-proof`):
/// a checkpoint whose signature fails, a proof of another tree, a leaf or bytes that are not
/// the logged ones, a proof that does not lead to the signed root. Each says which.
#[derive(Debug, thiserror::Error)]
pub enum ProofRejected {
    /// `what` names the checkpoint: the one given (its file) or the proof's own.
    #[error("{what}: {source}")]
    Checkpoint {
        what: String,
        #[source]
        source: NoteError,
    },
    #[error(
        "the proof starts at tree size {proof_old_size}, the checkpoint has {checkpoint_size}"
    )]
    ConsistencyStart {
        proof_old_size: u64,
        checkpoint_size: u64,
    },
    #[error("consistency proof: {0}")]
    Consistency(#[source] ProofError),
    #[error("the proof is against the checkpoint of {proof_size} leaves ({proof_root}), not the one given ({given_size} leaves, {given_root})")]
    OtherCheckpoint {
        proof_size: u64,
        proof_root: String,
        given_size: u64,
        given_root: String,
    },
    /// `record` names the record given (its file).
    #[error("the record {record} is not the leaf the proof carries")]
    OtherLeaf { record: String },
    #[error("inclusion proof of leaf {index}: {source}")]
    Inclusion {
        index: u64,
        #[source]
        source: ProofError,
    },
    /// The leaf is proven in the tree, but it is not a record the reader can interpret
    /// (`reason` says why: another leaf version, kind or encoding).
    #[error(
        "leaf {index} is in the signed tree, but it is {reason}: what it records cannot be checked"
    )]
    UnreadableLeaf { index: u64, reason: String },
    /// `bytes` names the bytes given (their file); the digests are hex.
    #[error("{bytes} hashes to {actual}, but the record says {expected}")]
    BytesDiffer {
        bytes: String,
        actual: String,
        expected: String,
    },
}
