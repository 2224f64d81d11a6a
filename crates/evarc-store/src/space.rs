//! Where an archive's bytes are: table file bytes per column family, and the stored value bytes
//! by kind (keyframe chunks, deltas, spare copies, parity groups, manifests, index, records by
//! key prefix).

use std::collections::BTreeMap;

use rocksdb::IteratorMode;

use crate::format::{ALL_CFS, CF_CHUNKS, CF_DELTAS, CF_RECORDS, CF_SHA256, CF_SNAPSHOTS};
use crate::spares::{TAG_CHUNK, TAG_DELTA, TAG_MANIFEST};
use crate::{Result, Store};

/// The bytes of an archive, measured at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpaceReport {
    /// Bytes of the table files of each column family (RocksDB's `total-sst-files-size`).
    pub table_bytes: BTreeMap<String, u64>,
    /// Stored value bytes (keys and values, before RocksDB's block compression) and counts by
    /// kind: `chunks` (keyframes and large snapshots), `deltas`, `spare …`, `manifests`, `sha256 index`, `records cap/`…
    pub values: BTreeMap<String, (u64, u64)>,
}

impl SpaceReport {
    /// Bytes of all table files.
    pub fn table_total(&self) -> u64 {
        self.table_bytes.values().sum()
    }
}

impl Store {
    /// Measures where the bytes are. Memtables are not counted in `table_bytes`: a writer
    /// flushes before measuring ([`Store::flush_all`]).
    pub fn space(&self) -> Result<SpaceReport> {
        let mut report = SpaceReport::default();
        for name in ALL_CFS {
            let Ok(cf) = self.cf(name) else { continue };
            let bytes = self
                .db
                .property_int_value_cf(cf, "rocksdb.total-sst-files-size")
                .map_err(|e| self.db_err(e))?
                .unwrap_or(0);
            report.table_bytes.insert((*name).to_owned(), bytes);
            for item in self.db.iterator_cf(cf, IteratorMode::Start) {
                let (key, value) = item.map_err(|e| self.db_err(e))?;
                let kind = kind_of(name, &key);
                let entry = report.values.entry(kind).or_default();
                entry.0 += 1;
                entry.1 += (key.len() + value.len()) as u64;
            }
        }
        Ok(report)
    }

    /// Flushes every column family's memtable to table files.
    pub fn flush_all(&self) -> Result<()> {
        for name in ALL_CFS {
            if let Ok(cf) = self.cf(name) {
                self.db.flush_cf(cf).map_err(|e| self.db_err(e))?;
            }
        }
        Ok(())
    }
}

fn kind_of(cf: &str, key: &[u8]) -> String {
    let spare = |tag: u8| match tag {
        TAG_MANIFEST => "spare manifests",
        TAG_DELTA => "spare deltas",
        TAG_CHUNK => "spare chunks",
        crate::parity::TAG_PARITY => "parity groups",
        crate::parity::TAG_PARITY_INDEX => "parity index",
        _ => "unknown",
    };
    match cf {
        CF_SNAPSHOTS => "manifests".into(),
        CF_SHA256 => "sha256 index".into(),
        CF_CHUNKS if key.len() == 32 => "chunks".into(),
        CF_DELTAS if key.len() == 32 => "deltas".into(),
        CF_CHUNKS | CF_DELTAS if key.len() == 33 => spare(key[0]).into(),
        CF_RECORDS => {
            let end = key
                .iter()
                .position(|b| *b == b'/')
                .map_or(key.len(), |i| i + 1);
            format!("records {}", String::from_utf8_lossy(&key[..end]))
        }
        other => other.to_owned(),
    }
}
