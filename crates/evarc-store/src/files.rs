//! Every byte of the archive's files, checked without RocksDB: each block of each table file
//! against its checksum, the write-ahead logs and MANIFEST record by record, `CURRENT`.
//!
//! A scrub re-reads every *record*, but RocksDB reads only the blocks a lookup needs: damage to a
//! block no record lives in (a filter, an index entry, the properties, a block whose keys were
//! all overwritten) is found only here. This module reads the files as bytes, in the table and
//! log formats RocksDB 7.x writes (block-based tables, format versions 2 to 5, CRC32c or XXH3
//! block checksums; log records with CRC32c), so it also works on a copy that RocksDB refuses to
//! open, and names the file and the offset of each damaged block.

use std::path::{Path, PathBuf};

use crate::{Result, StoreError};

/// How each kind of file is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `*.sst`: every block's checksum, the footer, the index and metaindex tiling the file.
    Table,
    /// `*.log` (write-ahead log) and `MANIFEST-*`: every record's CRC32c.
    Log,
    /// `CURRENT`: names an existing MANIFEST.
    Current,
    /// `OPTIONS-*`, `LOG*`, `IDENTITY`, `LOCK`, `evarc.lock` and anything else: no checksum in
    /// the format, and nothing RocksDB reads to find data (evarc passes its options in code).
    Unchecked,
    /// A table file the database does not reference, or a MANIFEST other than the one `CURRENT`
    /// names: left by a write that was interrupted (a killed flush or compaction) or not yet
    /// deleted. Nothing is read from it; RocksDB deletes it at the next write.
    Unreferenced,
}

/// One file of the archive and what the check found.
#[derive(Debug)]
pub struct FileCheck {
    /// File name inside the archive directory.
    pub name: String,
    pub kind: FileKind,
    pub bytes: u64,
    /// Blocks (tables) or records (logs) whose checksum was verified.
    pub units_checked: u64,
    /// Damage found, each naming an offset.
    pub damage: Vec<FileDamage>,
    /// In the newest write-ahead log only: the offset and length of a last record cut short by
    /// the end of the file (a write interrupted by a crash, never acknowledged: RocksDB drops
    /// it when it opens the archive). Not damage.
    pub torn_tail: Option<(u64, u64)>,
}

/// A damaged place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDamage {
    pub file: String,
    pub offset: u64,
    pub reason: String,
}

impl std::fmt::Display for FileDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} offset {}: {}", self.file, self.offset, self.reason)
    }
}

/// The outcome of [`check_files`].
#[derive(Debug, Default)]
pub struct FilesReport {
    pub files: Vec<FileCheck>,
}

impl FilesReport {
    /// Every damaged place, file by file.
    pub fn damage(&self) -> impl Iterator<Item = &FileDamage> {
        self.files.iter().flat_map(|f| f.damage.iter())
    }

    pub fn is_clean(&self) -> bool {
        self.damage().next().is_none()
    }

    /// Files and bytes checked against a checksum, and blocks or records verified.
    pub fn checked(&self) -> (u64, u64, u64) {
        let mut out = (0, 0, 0);
        for f in self
            .files
            .iter()
            .filter(|f| !matches!(f.kind, FileKind::Unchecked | FileKind::Unreferenced))
        {
            out.0 += 1;
            out.1 += f.bytes;
            out.2 += f.units_checked;
        }
        out
    }

    /// Files whose format carries no checksum, by name.
    pub fn unchecked(&self) -> Vec<&str> {
        self.names_of(FileKind::Unchecked)
    }

    /// Files the database does not reference (left by an interrupted write), by name.
    pub fn unreferenced(&self) -> Vec<&str> {
        self.names_of(FileKind::Unreferenced)
    }

    fn names_of(&self, kind: FileKind) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.name.as_str())
            .collect()
    }
}

/// Checks every file of the archive at `path` (which need not open).
pub fn check_files(path: &Path) -> Result<FilesReport> {
    check_files_live(path, None)
}

/// [`check_files`], knowing which table files the database references (`live`, file names such
/// as `000042.sst`): the others are listed as [`FileKind::Unreferenced`], not checked. Without
/// the list (an archive RocksDB will not open) every table file is checked.
pub fn check_files_live(
    path: &Path,
    live: Option<&std::collections::HashSet<String>>,
) -> Result<FilesReport> {
    let current_manifest = std::fs::read_to_string(path.join("CURRENT"))
        .ok()
        .map(|text| text.trim_end().to_owned());
    let entries = std::fs::read_dir(path)
        .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
    let mut names: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(entry.path());
        }
    }
    names.sort();
    // The live write-ahead log: the newest one (RocksDB numbers files in creation order).
    let live_wal = names
        .iter()
        .filter_map(|p| {
            p.file_name()?
                .to_str()?
                .strip_suffix(".log")?
                .parse::<u64>()
                .ok()
        })
        .max();
    let mut report = FilesReport::default();
    for file in names {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut kind = kind_of(&name);
        if let Some(live) = live {
            let stale_table = kind == FileKind::Table && !live.contains(&name);
            let stale_manifest = name.starts_with("MANIFEST-")
                && current_manifest.as_deref().is_some_and(|m| m != name);
            if stale_table || stale_manifest {
                kind = FileKind::Unreferenced;
            }
        }
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            // Removed since the listing: a writer beside this check replaced it (an OPTIONS
            // file, an old MANIFEST or log, a compacted table). What is gone holds nothing the
            // database still reads.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io(format!("reading {}", file.display()), e)),
        };
        let mut check = FileCheck {
            name: name.clone(),
            kind,
            bytes: bytes.len() as u64,
            units_checked: 0,
            damage: Vec::new(),
            torn_tail: None,
        };
        let is_live_wal = live_wal.is_some_and(|n| {
            name.strip_suffix(".log")
                .and_then(|stem| stem.parse::<u64>().ok())
                == Some(n)
        });
        let mut torn_tail = None;
        let mut damaged = |offset: u64, reason: String| {
            check.damage.push(FileDamage {
                file: name.clone(),
                offset,
                reason,
            })
        };
        let units = match kind {
            FileKind::Table => check_table(&bytes, &mut damaged),
            FileKind::Log => {
                let (records, torn) = check_log(&bytes, is_live_wal, &mut damaged);
                torn_tail = torn;
                records
            }
            FileKind::Current => {
                check_current(path, &bytes, &mut damaged);
                1
            }
            FileKind::Unchecked | FileKind::Unreferenced => 0,
        };
        check.units_checked = units;
        check.torn_tail = torn_tail;
        report.files.push(check);
    }
    Ok(report)
}

fn kind_of(name: &str) -> FileKind {
    if name.ends_with(".sst") {
        FileKind::Table
    } else if name.ends_with(".log") || name.starts_with("MANIFEST-") {
        FileKind::Log
    } else if name == "CURRENT" {
        FileKind::Current
    } else {
        FileKind::Unchecked
    }
}

fn check_current(dir: &Path, bytes: &[u8], damaged: &mut impl FnMut(u64, String)) {
    let text = std::str::from_utf8(bytes).unwrap_or("");
    let Some(manifest) = text.strip_suffix('\n') else {
        damaged(0, "does not end with a newline".into());
        return;
    };
    let well_formed = manifest
        .strip_prefix("MANIFEST-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        damaged(0, format!("does not name a MANIFEST file: {text:?}"));
    } else if !dir.join(manifest).is_file() {
        damaged(0, format!("names {manifest}, which does not exist"));
    }
}

// ---- log files (WAL, MANIFEST): 32 KiB blocks of records `crc32c(4) len(2) type(1) payload`.

const LOG_BLOCK: usize = 32 * 1024;
const LOG_HEADER: usize = 7;
const LOG_RECYCLABLE_HEADER: usize = 11;

///
/// In the live write-ahead log (`live_wal`), a last record that the end of the file cuts short is
/// a write interrupted by a crash: returned as the torn tail (offset, bytes), not damage. It is
/// damage when the bytes present already match the record's checksum (then its length field, not
/// the end of the file, is wrong), or anywhere else than at the end of the file.
fn check_log(
    bytes: &[u8],
    live_wal: bool,
    damaged: &mut impl FnMut(u64, String),
) -> (u64, Option<(u64, u64)>) {
    let mut records = 0;
    let mut block_start = 0;
    // The file ends inside this block (a block is written whole only once it is full).
    let last_block = |block_start: usize| block_start + LOG_BLOCK > bytes.len();
    while block_start < bytes.len() {
        let block = &bytes[block_start..bytes.len().min(block_start + LOG_BLOCK)];
        let mut at = 0;
        while at + LOG_HEADER <= block.len() {
            let header = &block[at..at + LOG_HEADER];
            let len = usize::from(u16::from_le_bytes([header[4], header[5]]));
            let kind = header[6];
            if kind == 0 && len == 0 {
                // Zero type and length: preallocated or trailing padding. All of it must be zero.
                if let Some(pos) = block[at..].iter().position(|b| *b != 0) {
                    damaged(
                        (block_start + at + pos) as u64,
                        "a non-zero byte in the zero padding after the last record".into(),
                    );
                }
                break;
            }
            let header_len = if (5..=8).contains(&kind) {
                LOG_RECYCLABLE_HEADER
            } else {
                LOG_HEADER
            };
            let end = at + header_len + len;
            if live_wal
                && (1..=10).contains(&kind)
                && kind != 9
                && end > block.len()
                && last_block(block_start)
                && end <= LOG_BLOCK
            {
                let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
                let present = &block[(at + 6).min(block.len())..];
                if stored != crc32c_mask(crc32c(present)) {
                    let offset = (block_start + at) as u64;
                    return (records, Some((offset, bytes.len() as u64 - offset)));
                }
            }
            if !(1..=10).contains(&kind) || kind == 9 || end > block.len() {
                damaged(
                    (block_start + at) as u64,
                    format!("a record header of type {kind} and length {len} that does not fit its block"),
                );
                break;
            }
            let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let actual = crc32c_mask(crc32c(&block[at + 6..end]));
            if stored != actual {
                damaged(
                    (block_start + at) as u64,
                    format!(
                        "record checksum mismatch (stored {stored:#010x}, computed {actual:#010x})"
                    ),
                );
            }
            records += 1;
            at = end;
        }
        // Fewer than 7 bytes left in a block are zero padding, or at the end of the live log,
        // the start of a header that the end of the file cut.
        if at < block.len()
            && block.len() - at < LOG_HEADER
            && live_wal
            && last_block(block_start)
            && block[at..].iter().any(|b| *b != 0)
        {
            let offset = (block_start + at) as u64;
            return (records, Some((offset, bytes.len() as u64 - offset)));
        }
        if at < block.len() && block.len() - at < LOG_HEADER {
            if let Some(pos) = block[at..].iter().position(|b| *b != 0) {
                damaged(
                    (block_start + at + pos) as u64,
                    "a non-zero byte in a block's trailing padding".into(),
                );
            }
        }
        block_start += LOG_BLOCK;
    }
    (records, None)
}

// ---- block-based tables.

pub(crate) const BLOCK_TRAILER: usize = 5;
pub(crate) const FOOTER_LEN: usize = 53;
const LEGACY_FOOTER_LEN: usize = 48;
pub(crate) const TABLE_MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
const LEGACY_TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Handle {
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

pub(crate) fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn handle(bytes: &[u8], at: &mut usize) -> Option<Handle> {
    Some(Handle {
        offset: varint(bytes, at)?,
        size: varint(bytes, at)?,
    })
}

fn check_table(file: &[u8], damaged: &mut impl FnMut(u64, String)) -> u64 {
    let len = file.len();
    if len < FOOTER_LEN {
        damaged(0, format!("{len} bytes: too short for a table file"));
        return 0;
    }
    let magic = u64::from_le_bytes(file[len - 8..].try_into().expect("8 bytes"));
    if magic == LEGACY_TABLE_MAGIC {
        damaged(
            (len - LEGACY_FOOTER_LEN) as u64,
            "a legacy table footer (format version 0), which evarc never writes".into(),
        );
        return 0;
    }
    let footer_at = len - FOOTER_LEN;
    if magic != TABLE_MAGIC {
        damaged(
            (len - 8) as u64,
            format!("table magic number {magic:#018x} is wrong"),
        );
        return 0;
    }
    let footer = &file[footer_at..];
    let checksum_type = footer[0];
    let version = u32::from_le_bytes(footer[41..45].try_into().expect("4 bytes"));
    if !(2..=5).contains(&version) {
        damaged(
            (footer_at + 41) as u64,
            format!("table format version {version} (this check reads 2 to 5)"),
        );
        return 0;
    }
    if !matches!(checksum_type, 1 | 4) {
        damaged(
            footer_at as u64,
            format!("checksum type {checksum_type} (CRC32c 1 or XXH3 4 expected)"),
        );
        return 0;
    }
    let mut at = 1;
    let (Some(metaindex), Some(index)) = (handle(footer, &mut at), handle(footer, &mut at)) else {
        damaged(
            footer_at as u64,
            "the footer's block handles do not decode".into(),
        );
        return 0;
    };
    if let Some(pos) = footer[at..41].iter().position(|b| *b != 0) {
        damaged(
            (footer_at + at + pos) as u64,
            "a non-zero byte in the footer's padding".into(),
        );
    }
    let mut checked = 0;
    let mut blocks: Vec<(Handle, &'static str)> =
        vec![(metaindex, "metaindex block"), (index, "index block")];
    // The metaindex lists the other meta blocks (filter, properties, compression dictionary…).
    match block_contents(file, metaindex, footer_at, checksum_type) {
        Ok(contents) => match block_entries(&contents, false) {
            Some(entries) => blocks.extend(entries.into_iter().map(|h| (h, "meta block"))),
            None => damaged(
                metaindex.offset,
                "the metaindex block does not decode".into(),
            ),
        },
        Err(reason) => damaged(metaindex.offset, format!("metaindex block: {reason}")),
    }
    match block_contents(file, index, footer_at, checksum_type) {
        Ok(contents) => {
            // Index values are block handles, delta-encoded (no value length) from table format
            // 4 on; the handles must tile the start of the file either way.
            let data = block_entries(&contents, true)
                .filter(|h| tiles_from_zero(h))
                .or_else(|| block_entries(&contents, false).filter(|h| tiles_from_zero(h)));
            match data {
                Some(data) => blocks.extend(data.into_iter().map(|h| (h, "data block"))),
                None => damaged(index.offset, "the index block does not decode".into()),
            }
        }
        Err(reason) => damaged(index.offset, format!("index block: {reason}")),
    }
    blocks.sort();
    blocks.dedup();
    // Every byte before the footer belongs to exactly one block (or its trailer).
    let mut covered = 0u64;
    for (h, what) in &blocks {
        if h.offset > covered {
            damaged(
                covered,
                format!("{} bytes belong to no block", h.offset - covered),
            );
        }
        covered = covered.max(h.offset + h.size + BLOCK_TRAILER as u64);
        if *what == "metaindex block" || *what == "index block" {
            checked += 1; // verified above, by block_contents
            continue;
        }
        match verify_block(file, *h, footer_at, checksum_type) {
            Ok(()) => checked += 1,
            Err(reason) => damaged(h.offset, format!("{what}: {reason}")),
        }
    }
    if covered != footer_at as u64 && !blocks.is_empty() {
        damaged(
            covered.min(footer_at as u64),
            format!("the blocks end at offset {covered}, but the footer starts at {footer_at}"),
        );
    }
    checked
}

fn tiles_from_zero(handles: &[Handle]) -> bool {
    let mut next = 0;
    for h in handles {
        if h.offset != next {
            return false;
        }
        next = h.offset + h.size + BLOCK_TRAILER as u64;
    }
    true
}

/// Checks a block's trailer checksum.
fn verify_block(
    file: &[u8],
    h: Handle,
    limit: usize,
    checksum_type: u8,
) -> std::result::Result<(), String> {
    let start = usize::try_from(h.offset).map_err(|_| "offset out of range".to_string())?;
    let size = usize::try_from(h.size).map_err(|_| "size out of range".to_string())?;
    let end = start
        .checked_add(size)
        .and_then(|e| e.checked_add(BLOCK_TRAILER))
        .filter(|e| *e <= limit)
        .ok_or_else(|| format!("{size} bytes at offset {start} run past the footer"))?;
    let data = &file[start..start + size + 1]; // contents and the compression type byte
    let stored = u32::from_le_bytes(file[end - 4..end].try_into().expect("4 bytes"));
    let actual = match checksum_type {
        1 => crc32c_mask(crc32c(data)),
        _ => {
            let (body, last) = data.split_at(data.len() - 1);
            let v = xxhash_rust::xxh3::xxh3_64(body) as u32;
            v ^ u32::from(last[0]).wrapping_mul(0x6b90_83d9)
        }
    };
    if stored == actual {
        Ok(())
    } else {
        Err(format!(
            "block checksum mismatch (stored {stored:#010x}, computed {actual:#010x}, {size} bytes)"
        ))
    }
}

/// A verified block's contents, decompressed.
pub(crate) fn block_contents(
    file: &[u8],
    h: Handle,
    limit: usize,
    checksum_type: u8,
) -> std::result::Result<Vec<u8>, String> {
    verify_block(file, h, limit, checksum_type)?;
    let start = h.offset as usize;
    let data = &file[start..start + h.size as usize];
    match file[start + h.size as usize] {
        0 => Ok(data.to_vec()),
        7 => {
            // zstd (format version 2+): varint32 of the decompressed size, then the frame.
            let mut at = 0;
            let size = varint(data, &mut at).ok_or("a zstd block without its size")?;
            let out = zstd::bulk::decompress(&data[at..], size as usize)
                .map_err(|e| format!("zstd: {e}"))?;
            Ok(out)
        }
        other => Err(format!("compression type {other}, which evarc never uses")),
    }
}

/// The block handles stored as values of a block (an index or the metaindex), in order.
fn block_entries(block: &[u8], delta_values: bool) -> Option<Vec<Handle>> {
    if block.len() < 4 {
        return None;
    }
    let footer = u32::from_le_bytes(block[block.len() - 4..].try_into().ok()?);
    let restarts = (footer & 0x7fff_ffff) as usize;
    let entries_end = block.len().checked_sub(4 + 4 * restarts)?;
    let mut out = Vec::new();
    let mut at = 0;
    while at < entries_end {
        let _shared = varint(block, &mut at)?;
        let non_shared = varint(block, &mut at)? as usize;
        if delta_values {
            at = at.checked_add(non_shared)?;
            out.push(handle(block, &mut at)?);
        } else {
            let value_len = varint(block, &mut at)? as usize;
            at = at.checked_add(non_shared)?;
            let end = at.checked_add(value_len)?;
            let mut v = at;
            out.push(handle(block.get(..end)?, &mut v)?);
            at = end;
        }
        if at > entries_end {
            return None;
        }
    }
    Some(out)
}

// ---- CRC32c (Castagnoli), as RocksDB's logs store it (masked).

const fn crc32c_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
            k += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC32C: [u32; 256] = crc32c_table();

fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc = CRC32C[((crc ^ u32::from(*b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn crc32c_mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_answer() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
