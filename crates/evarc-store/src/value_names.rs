//! Which object of a bucket holds the value of a chunk or delta (issue 14, repack of an archive
//! on a bucket).
//!
//! Ingest names an object after the value's key alone (`deltas/<hex[0..2]>/<hex>`): the first
//! encoding of a value. A repack re-encodes values smaller; objects are immutable, so a new
//! encoding goes to a new object whose name also names its bytes,
//! `deltas/<hex[0..2]>/<hex>.<tag>` where `<tag>` is the first 32 hex digits of the BLAKE3 of
//! the value's bytes, and the switch-over is recorded in `meta` under
//! `value-object/` ‖ kind (`c` chunk, `d` delta) ‖ the 32-byte key: the 16-byte tag, or nothing
//! for the plain name (docs/format.md, "Repack of an archive on a bucket"). `meta` travels in
//! the record segments, so a restored archive reads the same objects. No entry: the plain name.
//!
//! A local archive records tags too when it keeps a replica (`replicate`): its repack changes
//! the bytes of values the replica holds under their plain names, and the next `replicate`
//! sends the new encodings under tagged names (the old objects stay valid: every encoding of a
//! value decodes to the same verified bytes).

use std::collections::HashMap;

use rocksdb::{IteratorMode, WriteBatch};

use crate::blobs::{value_tag, BlobKind, ValueTag};
use crate::format::{CF_CHUNKS, CF_DELTAS, CF_META};
use crate::{Blake3, Result, Store};

/// Prefix of the `meta` keys recording which object holds a value.
pub(crate) const VALUE_OBJECT_PREFIX: &[u8] = b"value-object/";

/// The `meta` key recording which object holds the value `key` of `kind`.
pub(crate) fn value_object_key(kind: BlobKind, key: Blake3) -> Vec<u8> {
    let mut out = Vec::with_capacity(VALUE_OBJECT_PREFIX.len() + 33);
    out.extend_from_slice(VALUE_OBJECT_PREFIX);
    out.push(kind_code(kind));
    out.extend_from_slice(key.as_bytes());
    out
}

fn kind_code(kind: BlobKind) -> u8 {
    match kind {
        BlobKind::Chunk => b'c',
        BlobKind::Delta => b'd',
    }
}

/// The kind and key a `meta` key made by [`value_object_key`] names.
fn parse_value_object_key(key: &[u8]) -> Option<(BlobKind, Blake3)> {
    let rest = key.strip_prefix(VALUE_OBJECT_PREFIX)?;
    let (code, blob) = rest.split_first()?;
    let kind = match code {
        b'c' => BlobKind::Chunk,
        b'd' => BlobKind::Delta,
        _ => return None,
    };
    Some((kind, Blake3::from_slice(blob)?))
}

/// The tag a recorded value holds: 16 bytes, or none (empty: the plain name). Anything else is
/// not a tag this evarc wrote and reads as the plain name.
fn parse_tag(value: &[u8]) -> Option<ValueTag> {
    <ValueTag>::try_from(value).ok()
}

/// Every tag recorded in the `meta` column family `meta` of `db`.
pub(crate) fn tags_in(
    db: &rocksdb::DB,
    meta: &rocksdb::ColumnFamily,
) -> std::result::Result<HashMap<(BlobKind, Blake3), ValueTag>, rocksdb::Error> {
    let mut out = HashMap::new();
    let mode = IteratorMode::From(VALUE_OBJECT_PREFIX, rocksdb::Direction::Forward);
    for item in db.iterator_cf(meta, mode) {
        let (key, value) = item?;
        if !key.starts_with(VALUE_OBJECT_PREFIX) {
            break;
        }
        if let (Some(blob), Some(tag)) = (parse_value_object_key(&key), parse_tag(&value)) {
            out.insert(blob, tag);
        }
    }
    Ok(out)
}

impl Store {
    /// The tag of the object holding the value `key` of `kind` (`None`: the plain name).
    pub(crate) fn value_tag(&self, kind: BlobKind, key: Blake3) -> Result<Option<ValueTag>> {
        Ok(self
            .db
            .get_pinned_cf(self.cf(CF_META)?, value_object_key(kind, key))
            .map_err(|e| self.db_err(e))?
            .and_then(|value| parse_tag(&value)))
    }

    /// Every recorded tag (values re-encoded by a repack).
    pub(crate) fn value_tags(&self) -> Result<HashMap<(BlobKind, Blake3), ValueTag>> {
        tags_in(&self.db, self.cf(CF_META)?).map_err(|e| self.db_err(e))
    }

    /// Adds to `batch` the record that the value `key` of `kind` is now the object carrying
    /// `tag` (none: the plain name); returns the `meta` key written.
    pub(crate) fn put_value_tag(
        &self,
        batch: &mut WriteBatch,
        kind: BlobKind,
        key: Blake3,
        tag: Option<&ValueTag>,
    ) -> Result<Vec<u8>> {
        let meta_key = value_object_key(kind, key);
        let value: &[u8] = match tag {
            Some(tag) => tag,
            None => &[],
        };
        batch.put_cf(self.cf(CF_META)?, &meta_key, value);
        Ok(meta_key)
    }

    /// Adds to `batch` the tags of the chunk and delta values a repack of this local archive
    /// writes in it (`puts`: column family, key, value), when the archive keeps a replica: the
    /// replica's objects hold the earlier encodings under their plain names, and the next
    /// `replicate` sends these under tagged names. Nothing otherwise (spare copies never).
    pub(crate) fn tag_local_values(
        &self,
        batch: &mut WriteBatch,
        puts: &[(&'static str, Vec<u8>, Vec<u8>)],
    ) -> Result<()> {
        if self.blobs.is_some() || !crate::remote::has_replica(&self.path) {
            return Ok(());
        }
        for (cf, key, value) in puts {
            let kind = match *cf {
                CF_CHUNKS => BlobKind::Chunk,
                CF_DELTAS => BlobKind::Delta,
                _ => continue,
            };
            // 33-byte keys are spare copies (spares.rs).
            if let Some(key) = Blake3::from_slice(key) {
                self.put_value_tag(batch, kind, key, Some(&value_tag(value)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_object_keys_round_trip_and_tags_are_16_bytes_or_plain() {
        let key = Blake3::of(b"value");
        for kind in [BlobKind::Chunk, BlobKind::Delta] {
            let meta_key = value_object_key(kind, key);
            assert_eq!(parse_value_object_key(&meta_key), Some((kind, key)));
        }
        assert_eq!(parse_value_object_key(b"value-object/x"), None);
        assert_eq!(parse_value_object_key(b"format-version"), None);
        assert_eq!(parse_tag(&[7u8; 16]), Some([7u8; 16]));
        assert_eq!(parse_tag(&[]), None);
        assert_eq!(parse_tag(&[7u8; 15]), None);
    }
}
