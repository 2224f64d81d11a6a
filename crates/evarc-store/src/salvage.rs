//! Reading a table file's data blocks without its index (issue 16: index-block flips).
//!
//! RocksDB finds a key in a table file through the file's index block (and opens the file
//! through its footer and metaindex). One damaged byte in any of those makes RocksDB refuse the
//! whole file: every value in it reads as "Corruption", although every data block is intact.
//! For the `deltas` table of the corpus archive (about 10 MB) that was every delta snapshot
//! without a spare copy.
//!
//! The data blocks come first in a table file, one after the other, each followed by its
//! compression type byte and checksum. This module walks them from offset 0 without the index:
//! an uncompressed block is found by parsing its entries forward until its restart array, count
//! and checksum line up; a zstd block by its decompressed size and the zstd frame's own length.
//! Every block is accepted only when its checksum verifies (the same check RocksDB makes), and
//! everything read is re-hashed by the caller as any read is. The walk stops at the first block
//! it cannot delimit (the meta blocks, or a damaged data block: the index is intact in that case
//! and RocksDB reads the other blocks itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::files::{block_contents, varint, Handle, BLOCK_TRAILER, FOOTER_LEN, TABLE_MAGIC};
use crate::format::{CF_CHUNKS, CF_DELTAS, CF_SHA256, CF_SNAPSHOTS};
use crate::{Result, Store};

/// The column families whose values never change under a key.
const CONTENT_ADDRESSED: [&str; 4] = [CF_SNAPSHOTS, CF_SHA256, CF_CHUNKS, CF_DELTAS];
/// The restart interval RocksDB's data blocks use (`block_restart_interval`, default 16).
const RESTART_INTERVAL: usize = 16;
/// The zstd frame magic number, as stored.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Internal key types: a value, a deletion, a single deletion.
const TYPE_DELETION: u8 = 0;
const TYPE_VALUE: u8 = 1;
const TYPE_SINGLE_DELETION: u8 = 7;

/// The newest entry of each user key found in one table file's data blocks: its sequence number
/// and its value (`None` for a deletion).
type Salvaged = HashMap<Vec<u8>, (u64, Option<Vec<u8>>)>;

/// Table files already walked, by file name (each is walked at most once per open archive).
#[derive(Default)]
pub(crate) struct SalvageCache {
    files: Mutex<HashMap<String, Arc<Salvaged>>>,
}

impl std::fmt::Debug for SalvageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalvageCache").finish_non_exhaustive()
    }
}

impl Store {
    /// The value under `key` in column family `cf`, read from the data blocks of the table files
    /// that may hold it, without their index blocks. Called only after RocksDB reported
    /// corruption for this key: `None` when no such file yields the key.
    ///
    /// In the content-addressed column families (manifests, the SHA-256 index, chunks, deltas)
    /// every value ever written under a key is the same, so any file that yields the key will
    /// do. Provenance records can be overwritten (counters): there only the newest file whose
    /// key range holds the key is read. Its versions of the key are newer than any other
    /// file's, and a walk that stops at a damaged block has read only versions newer than those
    /// in that block (a table holds a key's versions newest first); so an older value is never
    /// returned for a newer one that damage hides.
    pub(crate) fn salvage(&self, cf: &str, key: &[u8]) -> Option<Vec<u8>> {
        let mut files: Vec<_> = self
            .db
            .live_files()
            .ok()?
            .into_iter()
            .filter(|f| f.column_family_name == cf)
            .filter(|f| {
                f.start_key.as_deref().is_none_or(|s| s <= key)
                    && f.end_key.as_deref().is_none_or(|e| key <= e)
            })
            .collect();
        // Newest first: level 0 before the deeper levels, newer files of level 0 first.
        files.sort_by(|a, b| a.level.cmp(&b.level).then(b.name.cmp(&a.name)));
        if !CONTENT_ADDRESSED.contains(&cf) {
            files.truncate(1);
        }
        let mut best: Option<(u64, Option<Vec<u8>>)> = None;
        for file in files {
            let name = file.name.trim_start_matches('/').to_owned();
            let Some(salvaged) = self.salvaged_file(&name) else {
                continue;
            };
            if let Some((seq, value)) = salvaged.get(key) {
                if best.as_ref().is_none_or(|(b, _)| seq > b) {
                    best = Some((*seq, value.clone()));
                }
            }
        }
        best.and_then(|(_, value)| value)
    }

    /// A point lookup in `cf`; when RocksDB reports corruption, the value read from the data
    /// blocks without the index, if they hold it (else RocksDB's error).
    pub(crate) fn get_salvaging(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get_cf(self.cf(cf)?, key) {
            Ok(value) => Ok(value),
            Err(err) => {
                let err = self.db_err(err);
                if err.is_integrity_failure() {
                    if let Some(value) = self.salvage(cf, key) {
                        return Ok(Some(value));
                    }
                }
                Err(err)
            }
        }
    }

    fn salvaged_file(&self, name: &str) -> Option<Arc<Salvaged>> {
        let mut files = self.salvage.files.lock().ok()?;
        if let Some(found) = files.get(name) {
            return Some(found.clone());
        }
        let bytes = std::fs::read(self.path.join(name)).ok()?;
        let salvaged = Arc::new(salvage_table(&bytes));
        files.insert(name.to_owned(), salvaged.clone());
        Some(salvaged)
    }
}

/// Every entry of the data blocks of a table file, walked from offset 0 without its index.
pub(crate) fn salvage_table(file: &[u8]) -> Salvaged {
    let mut out = Salvaged::new();
    // The checksum type from the footer, if it is intact; else whichever verifies the first block.
    let footer_type = (file.len() >= FOOTER_LEN)
        .then(|| {
            let magic = u64::from_le_bytes(file[file.len() - 8..].try_into().ok()?);
            (magic == TABLE_MAGIC).then(|| file[file.len() - FOOTER_LEN])
        })
        .flatten()
        .filter(|t| matches!(t, 1 | 4));
    let types: Vec<u8> = match footer_type {
        Some(t) => vec![t],
        None => vec![4, 1],
    };
    for checksum_type in types {
        let mut at = 0usize;
        let mut blocks = 0;
        while let Some((handle, contents)) = next_block(file, at, checksum_type) {
            if !add_entries(&contents, &mut out) {
                break;
            }
            blocks += 1;
            at = (handle.offset + handle.size) as usize + BLOCK_TRAILER;
        }
        if blocks > 0 {
            break;
        }
    }
    out
}

/// The block starting at `at`, delimited without an index, with its checksum verified.
fn next_block(file: &[u8], at: usize, checksum_type: u8) -> Option<(Handle, Vec<u8>)> {
    let limit = file.len();
    if at >= limit {
        return None;
    }
    // A zstd block: the decompressed size (varint32), then one zstd frame.
    let mut after_size = at;
    if varint(file, &mut after_size).is_some()
        && file.get(after_size..after_size + 4) == Some(&ZSTD_MAGIC[..])
    {
        if let Ok(frame) = zstd::zstd_safe::find_frame_compressed_size(&file[after_size..]) {
            let handle = Handle {
                offset: at as u64,
                size: (after_size - at + frame) as u64,
            };
            if file.get(after_size + frame) == Some(&7) {
                if let Ok(contents) = block_contents(file, handle, limit, checksum_type) {
                    return Some((handle, contents));
                }
            }
        }
    }
    // An uncompressed block: entries, then the restart offsets, their count, type byte 0 and
    // the checksum. Entries are parsed forward; after each one, the block may end there.
    let mut pos = at;
    let mut entries = 0usize;
    loop {
        let mut p = pos;
        let shared = varint(file, &mut p)?;
        let non_shared = varint(file, &mut p)? as usize;
        let value_len = varint(file, &mut p)? as usize;
        if entries == 0 && shared != 0 {
            return None;
        }
        pos = p.checked_add(non_shared)?.checked_add(value_len)?;
        if pos > limit {
            return None;
        }
        entries += 1;
        let restarts = entries.div_ceil(RESTART_INTERVAL);
        let count_at = pos + 4 * restarts;
        let Some(count) = file.get(count_at..count_at + 4) else {
            continue;
        };
        let count = u32::from_le_bytes(count.try_into().ok()?) as usize;
        if count != restarts
            || file.get(pos..pos + 4) != Some(&[0u8; 4][..])
            || file.get(count_at + 4) != Some(&0)
        {
            continue;
        }
        let handle = Handle {
            offset: at as u64,
            size: (count_at + 4 - at) as u64,
        };
        if let Ok(contents) = block_contents(file, handle, limit, checksum_type) {
            return Some((handle, contents));
        }
    }
}

/// Adds a data block's entries to `out` (the newest of each user key); false when the block
/// does not parse as a data block.
fn add_entries(block: &[u8], out: &mut Salvaged) -> bool {
    if block.len() < 4 {
        return false;
    }
    let Ok(footer) = block[block.len() - 4..].try_into().map(u32::from_le_bytes) else {
        return false;
    };
    if footer & 0x8000_0000 != 0 {
        return false; // a data block hash index, which evarc never configures
    }
    let restarts = footer as usize;
    let Some(end) = block.len().checked_sub(4 + 4 * restarts) else {
        return false;
    };
    let mut key: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < end {
        let (Some(shared), Some(non_shared), Some(value_len)) = (
            varint(block, &mut at),
            varint(block, &mut at),
            varint(block, &mut at),
        ) else {
            return false;
        };
        let (shared, non_shared, value_len) =
            (shared as usize, non_shared as usize, value_len as usize);
        let Some(value_at) = at.checked_add(non_shared) else {
            return false;
        };
        let Some(next) = value_at.checked_add(value_len).filter(|n| *n <= end) else {
            return false;
        };
        if shared > key.len() {
            return false;
        }
        key.truncate(shared);
        key.extend_from_slice(&block[at..value_at]);
        at = next;
        if key.len() < 8 {
            return false;
        }
        let (user_key, trailer) = key.split_at(key.len() - 8);
        let Ok(trailer) = trailer.try_into().map(u64::from_le_bytes) else {
            return false;
        };
        let (seq, kind) = (trailer >> 8, (trailer & 0xff) as u8);
        let value = match kind {
            TYPE_VALUE => Some(block[value_at..next].to_vec()),
            TYPE_DELETION | TYPE_SINGLE_DELETION => None,
            _ => continue, // merges, range deletions, blob indexes: evarc writes none
        };
        match out.get(user_key) {
            Some((newer, _)) if *newer >= seq => {}
            _ => {
                out.insert(user_key.to_vec(), (seq, value));
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables written by RocksDB (uncompressed and zstd blocks), read back without their index:
    /// every key, every value, deletions as deletions.
    #[test]
    fn a_table_reads_without_its_index() {
        for compression in [
            rocksdb::DBCompressionType::None,
            rocksdb::DBCompressionType::Zstd,
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut opts = rocksdb::Options::default();
            opts.create_if_missing(true);
            opts.set_compression_type(compression);
            let db = rocksdb::DB::open(&opts, dir.path()).expect("open");
            let value = |i: u32| {
                let mut v = format!("value {i} ").repeat(1 + (i as usize * 37) % 300);
                v.push_str(&i.to_string());
                v.into_bytes()
            };
            for i in 0u32..500 {
                db.put(format!("key{i:05}"), value(i)).expect("put");
            }
            db.delete("key00007").expect("delete");
            db.flush().expect("flush");
            let files = db.live_files().expect("live files");
            drop(db);
            assert_eq!(files.len(), 1);
            let bytes = std::fs::read(dir.path().join(files[0].name.trim_start_matches('/')))
                .expect("read table");
            let salvaged = salvage_table(&bytes);
            assert_eq!(salvaged.len(), 500, "{compression:?}");
            for i in 0u32..500 {
                let expected = (i != 7).then(|| value(i));
                let found = salvaged
                    .get(format!("key{i:05}").as_bytes())
                    .map(|v| v.1.clone());
                assert_eq!(found, Some(expected), "{compression:?} key{i:05}");
            }
        }
    }
}
