//! The on-disk format, version 1. docs/format.md is the prose form of this file; keep them in step.

use crate::{Blake3, Sha256};

/// The format version this code writes, kept under [`META_FORMAT_KEY`] in [`CF_META`].
pub const FORMAT_VERSION: u32 = 1;

/// Raw bytes per chunk: a snapshot of `n` bytes has `ceil(n / CHUNK_SIZE)` chunks.
pub const CHUNK_SIZE: usize = 1 << 20;

/// Archive-wide settings: `format-version` → ASCII decimal.
pub(crate) const CF_META: &str = "meta";
/// BLAKE3 of a snapshot (32 bytes) → its manifest.
pub(crate) const CF_SNAPSHOTS: &str = "snapshots";
/// SHA-256 of a snapshot (32 bytes) → its BLAKE3 key (32 bytes).
pub(crate) const CF_SHA256: &str = "sha256";
/// BLAKE3 of a chunk's raw bytes (32 bytes) → codec byte + compressed bytes.
pub(crate) const CF_CHUNKS: &str = "chunks";
/// Opaque records of upper layers (provenance); the store never interprets them.
pub(crate) const CF_RECORDS: &str = "records";

pub(crate) const ALL_CFS: [&str; 5] = [CF_META, CF_SNAPSHOTS, CF_SHA256, CF_CHUNKS, CF_RECORDS];

pub(crate) const META_FORMAT_KEY: &[u8] = b"format-version";

/// Name of the advisory lock file a writer holds inside the archive directory.
pub(crate) const LOCK_FILE: &str = "evarc.lock";

const MANIFEST_V1: u8 = 1;
const MANIFEST_HEADER: usize = 1 + 32 + 8 + 4 + 4;

/// Codec byte of a chunk value: zstd frame follows.
pub(crate) const CODEC_ZSTD: u8 = 1;
/// Codec byte of a chunk value: raw bytes follow (used when zstd would not shrink the chunk).
pub(crate) const CODEC_RAW: u8 = 0;

/// A snapshot's manifest: everything recorded about it at put time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub sha256: Sha256,
    pub len: u64,
    pub chunk_size: u32,
    pub chunks: Vec<Blake3>,
}

impl Manifest {
    /// `version(1) ‖ sha256(32) ‖ len(u64 BE) ‖ chunk_size(u32 BE) ‖ n(u32 BE) ‖ n × blake3(32)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MANIFEST_HEADER + 32 * self.chunks.len());
        out.push(MANIFEST_V1);
        out.extend_from_slice(self.sha256.as_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        let count =
            u32::try_from(self.chunks.len()).expect("chunk count fits u32 (4 PiB snapshots)");
        out.extend_from_slice(&count.to_be_bytes());
        for chunk in &self.chunks {
            out.extend_from_slice(chunk.as_bytes());
        }
        out
    }

    /// Decodes and checks a manifest's internal consistency; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < MANIFEST_HEADER {
            return Err(format!(
                "is {} bytes long, shorter than its header",
                bytes.len()
            ));
        }
        if bytes[0] != MANIFEST_V1 {
            return Err(format!("has unknown version byte {}", bytes[0]));
        }
        let sha256 = Sha256::from_slice(&bytes[1..33]).expect("slice of 32");
        let len = u64::from_be_bytes(bytes[33..41].try_into().expect("slice of 8"));
        let chunk_size = u32::from_be_bytes(bytes[41..45].try_into().expect("slice of 4"));
        let count = u32::from_be_bytes(bytes[45..49].try_into().expect("slice of 4")) as usize;
        let body = &bytes[MANIFEST_HEADER..];
        if body.len() != count * 32 {
            return Err(format!(
                "lists {count} chunks but holds {} bytes of chunk keys",
                body.len()
            ));
        }
        if chunk_size == 0 {
            return Err("has a chunk size of 0".into());
        }
        let expected_count = len.div_ceil(u64::from(chunk_size));
        if expected_count != count as u64 {
            return Err(format!(
                "lists {count} chunks for {len} bytes in chunks of {chunk_size} (expected {expected_count})"
            ));
        }
        let chunks = body
            .chunks_exact(32)
            .map(|c| Blake3::from_slice(c).expect("chunks_exact(32)"))
            .collect();
        Ok(Self {
            sha256,
            len,
            chunk_size,
            chunks,
        })
    }

    /// Raw length of chunk `index`.
    pub fn chunk_len(&self, index: usize) -> usize {
        let size = u64::from(self.chunk_size);
        let start = index as u64 * size;
        (self.len - start).min(size) as usize
    }
}

/// Encodes a chunk value: zstd at `level`, or raw when compression would not shrink it.
pub(crate) fn encode_chunk(raw: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    let compressed = zstd::bulk::compress(raw, level)?;
    let mut out = Vec::with_capacity(1 + compressed.len().min(raw.len()));
    if compressed.len() < raw.len() {
        out.push(CODEC_ZSTD);
        out.extend_from_slice(&compressed);
    } else {
        out.push(CODEC_RAW);
        out.extend_from_slice(raw);
    }
    Ok(out)
}

/// Decodes a chunk value into its raw bytes, expecting exactly `raw_len` of them.
pub(crate) fn decode_chunk(value: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
    let (codec, payload) = value
        .split_first()
        .ok_or_else(|| "is empty (no codec byte)".to_string())?;
    let raw = match *codec {
        CODEC_ZSTD => zstd::bulk::decompress(payload, raw_len)
            .map_err(|e| format!("does not decompress: {e}"))?,
        CODEC_RAW => payload.to_vec(),
        other => return Err(format!("has unknown codec byte {other}")),
    };
    if raw.len() != raw_len {
        return Err(format!(
            "holds {} bytes, but {raw_len} were recorded",
            raw.len()
        ));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_rejects_damage() {
        let manifest = Manifest {
            sha256: Sha256::of(b"x"),
            len: 3 * 10 + 1,
            chunk_size: 10,
            chunks: (0..4u8).map(|i| Blake3::of(&[i])).collect(),
        };
        let bytes = manifest.encode();
        assert_eq!(Manifest::decode(&bytes), Ok(manifest.clone()));
        assert_eq!(manifest.chunk_len(3), 1);
        assert!(Manifest::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut wrong_len = bytes.clone();
        wrong_len[40] ^= 0x40;
        assert!(Manifest::decode(&wrong_len).unwrap_err().contains("chunks"));
    }

    #[test]
    fn chunk_codec_round_trips_both_ways() {
        let text = vec![b'a'; 4096];
        let encoded = encode_chunk(&text, 3).expect("compress");
        assert_eq!(encoded[0], CODEC_ZSTD);
        assert_eq!(decode_chunk(&encoded, 4096).expect("decode"), text);
        let noise: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(97) ^ 0x5a).collect();
        let encoded = encode_chunk(&noise, 3).expect("compress");
        assert_eq!(encoded[0], CODEC_RAW);
        assert!(decode_chunk(&encoded, 63).is_err());
    }
}
