//! Which archive a bucket prefix belongs to (issue 14; docs/format.md, "One archive per
//! prefix").
//!
//! Every archive has an ID: 16 random bytes drawn at `init` and kept in its `meta` column family
//! (`archive-id`, 32 lower-case hex digits; an archive made before gets one the first time a
//! writer claims a bucket prefix). The marker object `evarc-archive` of a prefix names the ID of
//! the archive whose bytes or replica it holds. Every writer — `init --blobs`, `replicate`, and
//! the first write of each session of an archive on a bucket — reads the marker first:
//! - no marker: the prefix is free; the writer writes one naming its ID (only if none appeared
//!   meanwhile: a conditional create);
//! - a marker naming this archive's ID: go on;
//! - a marker naming another ID: refused ([`StoreError::PrefixHeld`]), nothing written;
//! - an old marker (one line, no ID: written by an evarc before archive IDs): adopted — rewritten
//!   with this archive's ID — by the archive that already writes there (an archive whose bytes
//!   live there, or whose replica cursor names that prefix), and by anyone when the prefix holds
//!   no record segment yet; refused otherwise.
//!
//! A restored archive has the ID of the archive it was restored from, so two copies of one
//! archive (the original and a restored copy, or a copied directory) can both pass the marker.
//! What keeps them from mixing their records is the *head*: the number of the last record
//! segment a copy knows the prefix holds (`bucket-head` / `replica-head` in the archive
//! directory, written after each segment, and by `restore`). At its first write a copy lists the
//! segments; one numbered above its head that it did not write itself (an entry whose value is not
//! its own) means another copy writes there: refused ([`StoreError::PrefixDiverged`]). Segments
//! are written with a conditional create, so a copy that wants a number another copy took
//! meanwhile is refused too, never overwriting it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use crate::blobs::{BlobStore, MARKER_OBJECT};
use crate::format::CF_META;
use crate::{Result, Store, StoreError};

/// Key in `meta` of the archive's ID.
pub(crate) const META_ARCHIVE_ID_KEY: &[u8] = b"archive-id";
/// The marker's first line (all a marker held before archive IDs).
const MARKER_FIRST_LINE: &str = "evarc archive blobs, format 1 (docs/format.md)";
/// The marker line naming the archive: `archive-id <32 hex digits>`.
const MARKER_ID_FIELD: &str = "archive-id ";

/// An archive's identity: 16 random bytes drawn when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArchiveId([u8; 16]);

impl ArchiveId {
    /// A new random ID.
    pub(crate) fn random() -> Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).map_err(|e| {
            StoreError::io(
                "drawing a random archive ID",
                std::io::Error::other(e.to_string()),
            )
        })?;
        Ok(Self(bytes))
    }

    /// The ID written as 32 lower-case hex digits, or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let bytes = hex::decode(text).ok()?;
        let mut out = [0u8; 16];
        out.copy_from_slice(&bytes);
        Some(Self(out))
    }
}

impl std::fmt::Display for ArchiveId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// What a prefix's marker says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// No marker: the prefix holds no archive.
    Absent,
    /// A marker without an ID (written before archive IDs).
    Old,
    /// A marker naming an archive.
    Held(ArchiveId),
}

/// The marker naming `id`.
pub(crate) fn marker_text(id: ArchiveId) -> String {
    format!("{MARKER_FIRST_LINE}\n{MARKER_ID_FIELD}{id}\n")
}

fn parse_marker(bytes: &[u8]) -> Marker {
    String::from_utf8_lossy(bytes)
        .lines()
        .find_map(|line| ArchiveId::parse(line.strip_prefix(MARKER_ID_FIELD)?))
        .map_or(Marker::Old, Marker::Held)
}

/// Reads the marker of `backend`'s prefix.
pub(crate) fn read_marker(backend: &dyn BlobStore) -> Result<Marker> {
    Ok(match backend.get(MARKER_OBJECT)? {
        Some(bytes) => parse_marker(&bytes),
        // A GET's 404 may not tell a missing object from a missing bucket: `exists` asks the
        // bucket, whose error then names a missing bucket (exit 3, not "no archive").
        None if backend.exists(MARKER_OBJECT)? => match backend.get(MARKER_OBJECT)? {
            Some(bytes) => parse_marker(&bytes),
            None => Marker::Absent,
        },
        None => Marker::Absent,
    })
}

/// The refusal of a prefix held by `holder` (`None`: an old marker) to the archive `this`.
fn held(backend: &dyn BlobStore, holder: Option<ArchiveId>, this: ArchiveId) -> StoreError {
    StoreError::PrefixHeld {
        url: backend.url(),
        holder: holder.map(|id| id.to_string()),
        this: this.to_string(),
    }
}

/// Whether `backend`'s prefix holds a record segment.
fn has_segments(backend: &dyn BlobStore) -> Result<bool> {
    Ok(!backend.list(crate::remote::SEGMENT_DIR)?.is_empty())
}

/// Checks, before anything is written, that archive `this` may write to `backend`'s prefix;
/// `writes_there`: the archive already writes there (adopts an old marker). Returns the marker
/// found, for [`claim`].
pub(crate) fn check(
    backend: &dyn BlobStore,
    this: ArchiveId,
    writes_there: bool,
) -> Result<Marker> {
    let marker = read_marker(backend)?;
    match marker {
        Marker::Held(id) if id == this => {}
        Marker::Held(id) => return Err(held(backend, Some(id), this)),
        Marker::Old if !writes_there && has_segments(backend)? => {
            return Err(held(backend, None, this))
        }
        Marker::Old | Marker::Absent => {}
    }
    Ok(marker)
}

/// Writes the marker naming `this` when `found` (what [`check`] read) is not already it: a
/// conditional create where there was none (another writer that created one meanwhile wins,
/// and this one is refused), a rewrite of an old marker.
pub(crate) fn claim(backend: &dyn BlobStore, this: ArchiveId, found: Marker) -> Result<()> {
    let text = marker_text(this).into_bytes();
    match found {
        Marker::Held(_) => Ok(()),
        Marker::Old => backend.put(MARKER_OBJECT, text),
        Marker::Absent => {
            if backend.put_new(MARKER_OBJECT, text)? {
                return Ok(());
            }
            match read_marker(backend)? {
                Marker::Held(id) if id == this => Ok(()),
                Marker::Held(id) => Err(held(backend, Some(id), this)),
                _ => Err(held(backend, None, this)),
            }
        }
    }
}

/// `check` then `claim`.
pub(crate) fn check_and_claim(
    backend: &dyn BlobStore,
    this: ArchiveId,
    writes_there: bool,
) -> Result<()> {
    let found = check(backend, this, writes_there)?;
    claim(backend, this, found)
}

/// The head file of a prefix: its URL on the first line, the number of the last segment this
/// copy knows the prefix holds on the second.
pub(crate) fn read_head(path: &Path, url: &str) -> Result<Option<u64>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Ok(None),
        Err(e) => return Err(StoreError::io(format!("reading {}", path.display()), e)),
    };
    let mut lines = text.lines();
    if lines.next() != Some(url) {
        return Ok(None);
    }
    Ok(lines.next().and_then(|n| n.trim().parse().ok()))
}

/// Records that the prefix `url` holds segments up to `number` (synced, then renamed over).
pub(crate) fn write_head(path: &Path, url: &str, number: u64) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(format!("{url}\n{number}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| StoreError::io(format!("writing {}", path.display()), e))
}

impl Store {
    /// This archive's ID (issue 14), or `None` for an archive made before IDs that no writer
    /// has yet given one (it gets one when it next writes to a bucket).
    pub fn archive_id(&self) -> Result<Option<ArchiveId>> {
        let value = self
            .db
            .get_cf(self.cf(CF_META)?, META_ARCHIVE_ID_KEY)
            .map_err(|e| self.db_err(e))?;
        Ok(value.and_then(|v| ArchiveId::parse(&String::from_utf8_lossy(&v))))
    }

    /// Records `id` as this archive's ID (synced).
    pub(crate) fn set_archive_id(&self, id: ArchiveId) -> Result<()> {
        self.write_meta(META_ARCHIVE_ID_KEY, id.to_string().as_bytes())?;
        self.note_written([(crate::remote::CODE_META, META_ARCHIVE_ID_KEY.to_vec())]);
        Ok(())
    }

    /// This archive's ID, drawn and recorded now if it has none (a writer).
    pub(crate) fn ensure_archive_id(&self) -> Result<ArchiveId> {
        if let Some(id) = self.archive_id()? {
            return Ok(id);
        }
        let id = ArchiveId::random()?;
        self.set_archive_id(id)?;
        Ok(id)
    }

    /// The number the next segment written to `backend` gets, once checked that every segment
    /// there numbered above this copy's head (`head_path`) holds only entries this copy holds
    /// too (what a writer killed between a segment and its head left); another segment means
    /// another copy of the archive writes there: [`StoreError::PrefixDiverged`]. Without a
    /// head (an archive that never wrote there with this version, or whose head file is lost),
    /// the listing is taken as it is.
    pub(crate) fn check_head(&self, backend: &dyn BlobStore, head_path: &Path) -> Result<u64> {
        let url = backend.url();
        let listed: BTreeMap<u64, String> = backend
            .list(crate::remote::SEGMENT_DIR)?
            .into_iter()
            .filter_map(|e| Some((e.name.rsplit('/').next()?.parse::<u64>().ok()?, e.name)))
            .collect();
        let highest = listed.keys().next_back().copied();
        let Some(head) = read_head(head_path, &url)? else {
            return Ok(highest.map_or(0, |n| n + 1));
        };
        for (number, name) in listed.range(head + 1..) {
            let foreign = |reason: String| StoreError::PrefixDiverged {
                url: url.clone(),
                id: self
                    .archive_id()
                    .ok()
                    .flatten()
                    .map_or_else(|| "(none)".to_owned(), |id| id.to_string()),
                segment: name.clone(),
                head: head.to_string(),
                reason,
            };
            let bytes = backend
                .get(name)?
                .ok_or_else(|| foreign("it vanished while being read".into()))?;
            let entries = crate::remote::decode_segment(&bytes).map_err(|reason| {
                StoreError::SegmentCorrupt {
                    url: url.clone(),
                    name: name.clone(),
                    reason,
                }
            })?;
            for (code, key, value) in entries {
                let Some(cf) = crate::remote::segment_cf(code) else {
                    return Err(foreign(format!(
                        "it holds an entry of unknown family {code}"
                    )));
                };
                let local = self
                    .db
                    .get_cf(self.cf(cf)?, &key)
                    .map_err(|e| self.db_err(e))?;
                if local.as_deref() != Some(value.as_slice()) {
                    return Err(foreign(format!(
                        "its {cf} entry {} is not this copy's",
                        hex::encode(&key[..key.len().min(16)])
                    )));
                }
            }
            write_head(head_path, &url, *number)?;
        }
        Ok(highest.map_or(head + 1, |n| n.max(head) + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_old_and_new_parse() {
        let id = ArchiveId::random().expect("random");
        assert_eq!(ArchiveId::parse(&id.to_string()), Some(id));
        assert_eq!(parse_marker(marker_text(id).as_bytes()), Marker::Held(id));
        assert_eq!(
            parse_marker(b"evarc archive blobs, format 1 (docs/format.md)\n"),
            Marker::Old
        );
        assert_eq!(parse_marker(b"archive-id not-hex\n"), Marker::Old);
        assert_eq!(ArchiveId::parse("ABCDEF0123456789abcdef0123456789"), None);
        assert_ne!(ArchiveId::random().expect("random"), id);
    }

    #[test]
    fn the_head_file_round_trips_and_names_its_prefix() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bucket-head");
        assert_eq!(read_head(&path, "s3://a/p").expect("read"), None);
        write_head(&path, "s3://a/p", 41).expect("write");
        assert_eq!(read_head(&path, "s3://a/p").expect("read"), Some(41));
        assert_eq!(read_head(&path, "s3://a/q").expect("read"), None);
    }
}
