//! The on-disk format, version 2 (reads version 1). docs/format.md is the prose form of this file;
//! keep them in step.

use crate::{Blake3, Sha256};

/// The format version this code writes, kept under [`META_FORMAT_KEY`] in [`CF_META`].
/// Version 1 archives (chunked snapshots only) are read, and upgraded to 2 when opened for writing.
pub const FORMAT_VERSION: u32 = 2;

/// The format version of an archive `evarc repack` has re-encoded: version 2 plus path deltas
/// (codec 3), which an evarc that reads only versions 1 and 2 would take for damage. Repack
/// records it before writing its first value, so such an evarc refuses the archive instead.
pub const FORMAT_VERSION_REPACKED: u32 = 3;

/// Snapshots up to this size may be stored as a delta against an earlier snapshot (and may serve
/// as a delta base); larger ones are always chunked.
pub const DELTA_MAX: usize = 32 << 20;

/// Longest delta chain: a snapshot whose base is this deep is stored whole instead.
pub const MAX_DEPTH: u32 = 64;

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
/// BLAKE3 of a delta snapshot (32 bytes) → codec byte + zstd frame made with its base as prefix.
pub(crate) const CF_DELTAS: &str = "deltas";

pub(crate) const ALL_CFS: [&str; 6] = [
    CF_META,
    CF_SNAPSHOTS,
    CF_SHA256,
    CF_CHUNKS,
    CF_RECORDS,
    CF_DELTAS,
];

pub(crate) const META_FORMAT_KEY: &[u8] = b"format-version";

/// Name of the advisory lock file a writer holds inside the archive directory.
pub(crate) const LOCK_FILE: &str = "evarc.lock";

const MANIFEST_V1: u8 = 1;
const MANIFEST_V1_HEADER: usize = 1 + 32 + 8 + 4 + 4;
const MANIFEST_V2: u8 = 2;
const LAYOUT_CHUNKED: u8 = 0;
const LAYOUT_DELTA: u8 = 1;

/// Codec byte of a chunk value: zstd frame follows.
pub(crate) const CODEC_ZSTD: u8 = 1;
/// Codec byte of a chunk value: raw bytes follow (used when zstd would not shrink the chunk).
pub(crate) const CODEC_RAW: u8 = 0;
/// Codec byte of a delta value: a zstd frame compressed with the base snapshot as prefix.
pub(crate) const CODEC_ZSTD_PREFIX: u8 = 2;
/// Delta value codec: a path delta, the snapshots of its read path as prefix (crate::pathdelta).
pub(crate) const CODEC_ZSTD_PATH: u8 = 3;

/// A snapshot's manifest: everything recorded about it at put time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub sha256: Sha256,
    pub len: u64,
    pub layout: Layout,
}

/// How a snapshot's bytes are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Whole, in content-addressed chunks (every version-1 snapshot; chain keyframes).
    Chunked {
        chunk_size: u32,
        chunks: Vec<Blake3>,
    },
    /// As a zstd frame (in [`CF_DELTAS`]) that needs the `base` snapshot's bytes as prefix.
    /// `index` is the snapshot's position in its chain (the keyframe is 0) and `depth` the
    /// number of deltas applied to reach it from the keyframe.
    Delta {
        base: Blake3,
        index: u64,
        depth: u32,
    },
}

impl Manifest {
    /// Version 2: `2 ‖ sha256(32) ‖ len(u64) ‖ layout(1) ‖ …`, where layout 0 (chunked) is
    /// followed by `chunk_size(u32) ‖ n(u32) ‖ n × blake3(32)` and layout 1 (delta) by
    /// `base blake3(32) ‖ index(u64) ‖ depth(u32)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(MANIFEST_V2);
        out.extend_from_slice(self.sha256.as_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
        match &self.layout {
            Layout::Chunked { chunk_size, chunks } => {
                out.push(LAYOUT_CHUNKED);
                out.extend_from_slice(&chunk_size.to_be_bytes());
                let count =
                    u32::try_from(chunks.len()).expect("chunk count fits u32 (4 PiB snapshots)");
                out.extend_from_slice(&count.to_be_bytes());
                for chunk in chunks {
                    out.extend_from_slice(chunk.as_bytes());
                }
            }
            Layout::Delta { base, index, depth } => {
                out.push(LAYOUT_DELTA);
                out.extend_from_slice(base.as_bytes());
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(&depth.to_be_bytes());
            }
        }
        out
    }

    /// Decodes a version-1 or version-2 manifest and checks its consistency.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        match bytes.first() {
            Some(&MANIFEST_V1) => decode_v1(bytes),
            Some(&MANIFEST_V2) => decode_v2(bytes),
            Some(other) => Err(format!("has unknown version byte {other}")),
            None => Err("is empty".into()),
        }
    }

    /// The chunk list of a chunked snapshot (empty for a delta).
    pub fn chunks(&self) -> &[Blake3] {
        match &self.layout {
            Layout::Chunked { chunks, .. } => chunks,
            Layout::Delta { .. } => &[],
        }
    }

    /// Raw length of chunk `index` of a chunked snapshot.
    pub fn chunk_len(&self, index: usize) -> usize {
        let size = match &self.layout {
            Layout::Chunked { chunk_size, .. } => u64::from(*chunk_size),
            Layout::Delta { .. } => return 0,
        };
        let start = index as u64 * size;
        (self.len - start).min(size) as usize
    }

    /// Position in the delta chain (0 for a chunked snapshot) and number of deltas to reach it.
    pub fn chain_position(&self) -> (u64, u32) {
        match &self.layout {
            Layout::Chunked { .. } => (0, 0),
            Layout::Delta { index, depth, .. } => (*index, *depth),
        }
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("slice of 4"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(bytes[at..at + 8].try_into().expect("slice of 8"))
}

fn decode_chunk_list(
    len: u64,
    chunk_size: u32,
    count: usize,
    body: &[u8],
) -> Result<Layout, String> {
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
    Ok(Layout::Chunked { chunk_size, chunks })
}

/// Version 1: `1 ‖ sha256(32) ‖ len(u64) ‖ chunk_size(u32) ‖ n(u32) ‖ n × blake3(32)`.
fn decode_v1(bytes: &[u8]) -> Result<Manifest, String> {
    if bytes.len() < MANIFEST_V1_HEADER {
        return Err(format!(
            "is {} bytes long, shorter than its header",
            bytes.len()
        ));
    }
    let sha256 = Sha256::from_slice(&bytes[1..33]).expect("slice of 32");
    let len = read_u64(bytes, 33);
    let layout = decode_chunk_list(
        len,
        read_u32(bytes, 41),
        read_u32(bytes, 45) as usize,
        &bytes[MANIFEST_V1_HEADER..],
    )?;
    Ok(Manifest {
        sha256,
        len,
        layout,
    })
}

fn decode_v2(bytes: &[u8]) -> Result<Manifest, String> {
    const HEAD: usize = 1 + 32 + 8 + 1;
    if bytes.len() < HEAD {
        return Err(format!(
            "is {} bytes long, shorter than its header",
            bytes.len()
        ));
    }
    let sha256 = Sha256::from_slice(&bytes[1..33]).expect("slice of 32");
    let len = read_u64(bytes, 33);
    let rest = &bytes[HEAD..];
    let layout = match bytes[HEAD - 1] {
        LAYOUT_CHUNKED => {
            if rest.len() < 8 {
                return Err("is too short for its chunk list header".into());
            }
            decode_chunk_list(
                len,
                read_u32(rest, 0),
                read_u32(rest, 4) as usize,
                &rest[8..],
            )?
        }
        LAYOUT_DELTA => {
            if rest.len() != 32 + 8 + 4 {
                return Err(format!(
                    "has a delta layout of {} bytes instead of 44",
                    rest.len()
                ));
            }
            let (index, depth) = (read_u64(rest, 32), read_u32(rest, 40));
            if index == 0 || depth == 0 || depth > MAX_DEPTH {
                return Err(format!(
                    "has an impossible chain position {index} at depth {depth}"
                ));
            }
            if len > DELTA_MAX as u64 {
                return Err(format!(
                    "is a delta of {len} bytes, over the {DELTA_MAX}-byte limit"
                ));
            }
            Layout::Delta {
                base: Blake3::from_slice(&rest[..32]).expect("slice of 32"),
                index,
                depth,
            }
        }
        other => return Err(format!("has unknown layout byte {other}")),
    };
    Ok(Manifest {
        sha256,
        len,
        layout,
    })
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
            layout: Layout::Chunked {
                chunk_size: 10,
                chunks: (0..4u8).map(|i| Blake3::of(&[i])).collect(),
            },
        };
        let bytes = manifest.encode();
        assert_eq!(Manifest::decode(&bytes), Ok(manifest.clone()));
        assert_eq!(manifest.chunk_len(3), 1);
        assert!(Manifest::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut wrong_len = bytes.clone();
        wrong_len[40] ^= 0x40;
        assert!(Manifest::decode(&wrong_len).unwrap_err().contains("chunks"));
        let delta = Manifest {
            sha256: Sha256::of(b"y"),
            len: 5,
            layout: Layout::Delta {
                base: Blake3::of(b"base"),
                index: 6,
                depth: 2,
            },
        };
        assert_eq!(Manifest::decode(&delta.encode()), Ok(delta));
    }

    #[test]
    fn version_1_manifests_still_decode() {
        let mut v1 = vec![1u8];
        v1.extend_from_slice(Sha256::of(b"x").as_bytes());
        v1.extend_from_slice(&5u64.to_be_bytes());
        v1.extend_from_slice(&(1u32 << 20).to_be_bytes());
        v1.extend_from_slice(&1u32.to_be_bytes());
        v1.extend_from_slice(Blake3::of(b"x").as_bytes());
        let manifest = Manifest::decode(&v1).expect("v1 decodes");
        assert_eq!(manifest.chunks(), &[Blake3::of(b"x")]);
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
