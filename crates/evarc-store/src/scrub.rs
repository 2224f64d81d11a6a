//! Scrub: re-read and re-hash every snapshot of the archive, in parallel.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rocksdb::IteratorMode;

use crate::format::{Layout, CF_SHA256, CF_SNAPSHOTS};
use crate::{Blake3, Result, Sha256, Store, StoreError};

/// One snapshot that failed the scrub.
#[derive(Debug)]
pub struct ScrubFinding {
    /// The snapshot's key.
    pub blake3: Blake3,
    /// Its SHA-256 as recorded, when the manifest or the index still says.
    pub sha256: Option<Sha256>,
    /// What is wrong.
    pub error: StoreError,
}

/// The outcome of a scrub.
#[derive(Debug, Default)]
pub struct ScrubReport {
    /// Snapshots checked.
    pub checked: u64,
    /// Snapshots that verified.
    pub verified: u64,
    /// Raw bytes re-hashed.
    pub bytes: u64,
    /// Snapshots that did not verify, in key order.
    pub failures: Vec<ScrubFinding>,
    /// Damage found while listing the archive (a key space that could not be read to its end,
    /// an index entry that does not match a manifest). Listed snapshots are still checked.
    pub listing_errors: Vec<StoreError>,
}

impl ScrubReport {
    /// True when every snapshot verified and the listing was clean.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.listing_errors.is_empty()
    }
}

impl Store {
    /// Verifies every snapshot on all cores. `progress(done, total)` is called from worker
    /// threads after each snapshot.
    pub fn scrub(&self, progress: impl Fn(u64, u64) + Sync) -> Result<ScrubReport> {
        let mut report = ScrubReport::default();
        // Every snapshot is listed twice, by manifest and by SHA-256 index entry, so damage to
        // one key space still leaves the snapshot named through the other.
        let mut snapshots: BTreeMap<Blake3, Option<Sha256>> = BTreeMap::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_SNAPSHOTS)?, IteratorMode::Start)
        {
            match item {
                Ok((key, _)) => match Blake3::from_slice(&key) {
                    Some(key) => {
                        snapshots.entry(key).or_insert(None);
                    }
                    None => report.listing_errors.push(StoreError::NotAnArchive {
                        path: self.path.clone(),
                        reason: format!(
                            "a snapshot key of {} bytes: {}",
                            key.len(),
                            hex::encode(&key)
                        ),
                    }),
                },
                Err(e) => {
                    report.listing_errors.push(self.db_err(e));
                    break;
                }
            }
        }
        for item in self
            .db
            .iterator_cf(self.cf(CF_SHA256)?, IteratorMode::Start)
        {
            match item {
                Ok((sha, key)) => match (Sha256::from_slice(&sha), Blake3::from_slice(&key)) {
                    (Some(sha), Some(key)) => {
                        snapshots.insert(key, Some(sha));
                    }
                    _ => report.listing_errors.push(StoreError::NotAnArchive {
                        path: self.path.clone(),
                        reason: format!(
                            "a damaged index entry {} → {}",
                            hex::encode(&sha),
                            hex::encode(&key)
                        ),
                    }),
                },
                Err(e) => {
                    report.listing_errors.push(self.db_err(e));
                    break;
                }
            }
        }
        let total = snapshots.len() as u64;
        let done = AtomicU64::new(0);
        // Snapshots of one delta chain are checked in chain order on one thread, so that each
        // base is rebuilt once and found in the cache by the deltas built on it; chains run in
        // parallel. Bytes cached before the scrub are not trusted.
        self.cache.clear();
        let groups = self.chain_groups(snapshots);
        let results: Vec<_> = groups
            .into_par_iter()
            .flat_map_iter(|group| {
                group
                    .into_iter()
                    .map(|(key, indexed_sha)| {
                        let result = self.verify_listed(key, indexed_sha);
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                        (key, indexed_sha, result)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (key, indexed_sha, result) in results {
            report.checked += 1;
            match result {
                Ok(len) => {
                    report.verified += 1;
                    report.bytes += len;
                }
                Err(error) => report.failures.push(ScrubFinding {
                    blake3: key,
                    sha256: indexed_sha,
                    error,
                }),
            }
        }
        Ok(report)
    }

    /// Groups snapshots by the keyframe of their delta chain, each group in chain order.
    /// Snapshots whose manifest cannot be read form groups of their own (and fail when checked).
    pub(crate) fn chain_groups(
        &self,
        snapshots: BTreeMap<Blake3, Option<Sha256>>,
    ) -> Vec<Vec<(Blake3, Option<Sha256>)>> {
        let mut position: HashMap<Blake3, (u64, Option<Blake3>)> = HashMap::new();
        for key in snapshots.keys() {
            if let Ok(Some(manifest)) = self.manifest(*key) {
                let base = match manifest.layout {
                    Layout::Delta { base, .. } => Some(base),
                    Layout::Chunked { .. } => None,
                };
                position.insert(*key, (manifest.chain_position().0, base));
            }
        }
        let root_of = |mut key: Blake3| {
            // Bounded: chains are at most MAX_DEPTH deep; a damaged cycle stops here too.
            for _ in 0..=crate::format::MAX_DEPTH {
                match position.get(&key) {
                    Some((_, Some(base))) => key = *base,
                    _ => break,
                }
            }
            key
        };
        let mut groups: BTreeMap<Blake3, Vec<(u64, Blake3, Option<Sha256>)>> = BTreeMap::new();
        for (key, sha) in snapshots {
            let index = position.get(&key).map_or(0, |(index, _)| *index);
            groups
                .entry(root_of(key))
                .or_default()
                .push((index, key, sha));
        }
        groups
            .into_values()
            .map(|mut group| {
                group.sort();
                group.into_iter().map(|(_, key, sha)| (key, sha)).collect()
            })
            .collect()
    }

    /// Verifies one listed snapshot: present, re-hashes right, and agrees with its index entry.
    fn verify_listed(&self, key: Blake3, indexed_sha: Option<Sha256>) -> Result<u64> {
        let info = match self.verify(key) {
            Err(StoreError::SnapshotNotFound { .. }) => {
                return Err(StoreError::ManifestCorrupt {
                    snapshot: key,
                    reason: "is missing (the SHA-256 index still lists the snapshot)".into(),
                })
            }
            other => other?,
        };
        match indexed_sha {
            Some(sha) if sha != info.sha256 => Err(StoreError::IndexCorrupt {
                sha256: sha,
                points_to: key.to_hex(),
                reason: format!("whose manifest records sha256:{}", info.sha256),
            }),
            Some(_) => Ok(info.len),
            None => match self.find_sha256(info.sha256)? {
                Some(found) if found.blake3 == key => Ok(info.len),
                _ => Err(StoreError::IndexCorrupt {
                    sha256: info.sha256,
                    points_to: "nothing".into(),
                    reason: format!("so snapshot blake3:{key} cannot be found by its SHA-256"),
                }),
            },
        }
    }
}
