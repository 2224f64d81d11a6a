//! Parity groups: the insurance of heavily shared chunk and delta values at about 1/K of a full
//! copy (issue 14; they replace issue 16's full spare copies of those values, spares.rs).
//!
//! A value that needs insurance (the stored chunk or delta value of a snapshot that at least
//! [`crate::SPARE_DEPENDENTS`] others are built on) joins a **parity group** of at most
//! [`PARITY_MEMBERS`] values of one kind, exactly as stored in `chunks` or `deltas`. The members
//! laid end to end form a stream S; with a row width H at least the longest member's length,
//! the group keeps P[i] = XOR over c of S[c·H + i] (zero beyond the end of S), so P is at most H
//! bytes. A member of length ≤ H never meets itself in a row: it is rebuilt from P and the other
//! members' primary values. One damaged block holds one value (chunks and deltas keep one value
//! per block), so one damaged byte costs at most one member of a group.
//!
//! Keys (docs/format.md, "Spare copies"), in the column family that holds the kind's spares
//! (so never in the table files of the primaries): `p`‖group number (u64 big-endian, then 24
//! zero bytes) → the group (a header naming each member's kind, key, offset, length and the
//! BLAKE3 of its stored value, then P); `q`‖member key → the group number. A group is one
//! RocksDB value, so every rewrite of it is atomic; it is written in the same batch as what
//! changes it: the snapshot that makes a value worth insuring (ingest), or the new value of a
//! member (repack). Every change lays the group out again from its members' values, each checked
//! against the digest the group records (one that fails is rebuilt from P first).
//!
//! A rebuilt value is returned only when it hashes to the digest the group recorded, and it then
//! goes through the usual decoding and BLAKE3 checks: parity never yields wrong bytes. When a
//! second member of the group is damaged too, the read reports the primary's error.

use std::collections::{BTreeMap, HashMap, HashSet};

use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions};

use crate::format::{CF_CHUNKS, CF_DELTAS};
use crate::spares::{spare_cf, spare_key, TAG_CHUNK, TAG_DELTA};
use crate::{Blake3, Result, Store};

/// Values in one parity group at most (K): one damaged byte costs one member, and a group
/// rebuilds one member; parity costs about 1/K of the members' bytes when their sizes are close.
pub const PARITY_MEMBERS: usize = 8;

/// Key tag of a parity group (`p`‖group number).
pub(crate) const TAG_PARITY: u8 = b'p';
/// Key tag of a member's index entry (`q`‖member key → group number).
pub(crate) const TAG_PARITY_INDEX: u8 = b'q';

const MAGIC: [u8; 4] = *b"EVP1";
/// tag (1), key (32), offset (8), length (8), BLAKE3 of the stored value (32).
const MEMBER_LEN: usize = 81;
/// A row wider than this is a damaged header (chunk and delta values are far smaller).
const WIDTH_MAX: u64 = 1 << 30;

/// A change to parity groups, applied in the same write batch as what causes it.
#[derive(Debug)]
pub(crate) enum ParityOp {
    /// A value worth insuring joins a group (nothing when it is in one already, or when its
    /// primary no longer holds exactly `value`).
    Add {
        tag: u8,
        key: Blake3,
        value: Vec<u8>,
    },
    /// A member's primary value becomes `value` in the same batch (nothing for a non-member).
    Replace {
        tag: u8,
        key: Blake3,
        value: Vec<u8>,
    },
}

/// One member of a group, as its header records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub tag: u8,
    pub key: Blake3,
    pub offset: u64,
    pub len: u64,
    pub digest: Blake3,
}

/// A parity group: its row width, members and parity bytes (at most `width` of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub width: u64,
    pub members: Vec<Member>,
    pub parity: Vec<u8>,
}

/// XORs `value`, laid at stream offset `offset`, into `acc` (rows of `width`; `value` is at
/// most `width` long, so it wraps at most once; positions beyond `acc` are zero rows).
fn xor_into(acc: &mut [u8], width: usize, offset: u64, value: &[u8]) {
    let start = usize::try_from(offset % width as u64).unwrap_or(0);
    let first = value.len().min(width - start);
    for (a, v) in acc[start..].iter_mut().zip(&value[..first]) {
        *a ^= v;
    }
    for (a, v) in acc.iter_mut().zip(&value[first..]) {
        *a ^= v;
    }
}

impl Group {
    /// Lays out a group of `values` (kind tag, key, stored value), in the order given.
    pub fn lay(values: &[(u8, Blake3, &[u8])]) -> Group {
        let width = values
            .iter()
            .map(|(_, _, v)| v.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let total: usize = values.iter().map(|(_, _, v)| v.len()).sum();
        let mut parity = vec![0u8; width.min(total)];
        let mut members = Vec::with_capacity(values.len());
        let mut offset = 0u64;
        for (tag, key, value) in values {
            if !parity.is_empty() {
                xor_into(&mut parity, width, offset, value);
            }
            members.push(Member {
                tag: *tag,
                key: *key,
                offset,
                len: value.len() as u64,
                digest: Blake3::of(value),
            });
            offset += value.len() as u64;
        }
        Group {
            width: width as u64,
            members,
            parity,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(4 + 8 + 2 + MEMBER_LEN * self.members.len() + self.parity.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&self.width.to_be_bytes());
        out.extend_from_slice(&(self.members.len() as u16).to_be_bytes());
        for m in &self.members {
            out.push(m.tag);
            out.extend_from_slice(m.key.as_bytes());
            out.extend_from_slice(&m.offset.to_be_bytes());
            out.extend_from_slice(&m.len.to_be_bytes());
            out.extend_from_slice(m.digest.as_bytes());
        }
        out.extend_from_slice(&self.parity);
        out
    }

    /// The group in `bytes`, or `None` when they are not a well-formed group.
    pub fn decode(bytes: &[u8]) -> Option<Group> {
        let rest = bytes.strip_prefix(&MAGIC)?;
        let width = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        let count = usize::from(u16::from_be_bytes(rest.get(8..10)?.try_into().ok()?));
        let mut rest = rest.get(10..)?;
        if width == 0 || width > WIDTH_MAX {
            return None;
        }
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let m = rest.get(..MEMBER_LEN)?;
            let member = Member {
                tag: m[0],
                key: Blake3::from_slice(&m[1..33])?,
                offset: u64::from_be_bytes(m[33..41].try_into().ok()?),
                len: u64::from_be_bytes(m[41..49].try_into().ok()?),
                digest: Blake3::from_slice(&m[49..81])?,
            };
            if member.len > width {
                return None;
            }
            members.push(member);
            rest = &rest[MEMBER_LEN..];
        }
        if rest.len() as u64 > width {
            return None;
        }
        Some(Group {
            width,
            members,
            parity: rest.to_vec(),
        })
    }

    /// Member `index`'s stored value rebuilt from the parity and the other members' values
    /// (`values[i]` for member `i`; the entry at `index` is ignored). `None` when another
    /// member's value is missing or differs from what the group recorded, or when the result
    /// does not hash to the recorded digest.
    pub fn rebuild(&self, index: usize, values: &[Option<Vec<u8>>]) -> Option<Vec<u8>> {
        let target = self.members.get(index)?;
        let width = usize::try_from(self.width).ok()?;
        let mut acc = vec![0u8; width];
        acc[..self.parity.len()].copy_from_slice(&self.parity);
        for (i, member) in self.members.iter().enumerate() {
            if i == index {
                continue;
            }
            let value = values.get(i)?.as_deref()?;
            if value.len() as u64 != member.len || Blake3::of(value) != member.digest {
                return None;
            }
            xor_into(&mut acc, width, member.offset, value);
        }
        let len = usize::try_from(target.len).ok()?;
        let start = usize::try_from(target.offset % self.width).ok()?;
        let first = len.min(width - start);
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&acc[start..start + first]);
        out.extend_from_slice(&acc[..len - first]);
        (Blake3::of(&out) == target.digest).then_some(out)
    }

    /// Bytes of the group as stored.
    fn stored_len(&self) -> u64 {
        (4 + 8 + 2 + MEMBER_LEN * self.members.len() + self.parity.len()) as u64
    }
}

/// The column family holding a member kind's primaries.
pub(crate) fn primary_cf(tag: u8) -> &'static str {
    match tag {
        TAG_DELTA => CF_DELTAS,
        _ => CF_CHUNKS,
    }
}

/// The column family holding a member kind's parity groups and index entries (the one holding
/// its spare copies: never the primaries').
pub(crate) fn parity_cf(tag: u8) -> &'static str {
    spare_cf(tag)
}

fn group_key(number: u64) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = TAG_PARITY;
    out[1..9].copy_from_slice(&number.to_be_bytes());
    out
}

fn group_number(key: &[u8]) -> Option<u64> {
    (key.len() == 33 && key[0] == TAG_PARITY)
        .then(|| key[1..9].try_into().ok().map(u64::from_be_bytes))
        .flatten()
}

/// New values of a group's members replaced in one batch.
type Replaced = Vec<(Blake3, Vec<u8>)>;

/// Bytes of the parity groups [`Store::relay_parity`] wrote.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RelayReport {
    pub after: u64,
}

impl Store {
    /// The value under `key` in `cf`, read without the table index when RocksDB refuses the
    /// block's file; `None` when absent or unreadable.
    fn read_any(&self, cf: &str, key: &[u8]) -> Option<Vec<u8>> {
        let handle = self.db.cf_handle(cf)?;
        match self.db.get_cf(handle, key) {
            Ok(value) => value,
            Err(_) => self.salvage(cf, key),
        }
    }

    /// The group that holds member `key` of kind `tag`, with its number.
    fn parity_group_of(&self, tag: u8, key: Blake3) -> Option<(u64, Group)> {
        let cf = parity_cf(tag);
        let number = self.read_any(cf, &spare_key(TAG_PARITY_INDEX, key))?;
        let number = u64::from_be_bytes(number.as_slice().try_into().ok()?);
        let group = Group::decode(&self.read_any(cf, &group_key(number))?)?;
        group
            .members
            .iter()
            .any(|m| m.tag == tag && m.key == key)
            .then_some((number, group))
    }

    /// The stored value of `key` (a chunk or delta value, kind `tag`) rebuilt from its parity
    /// group, checked against the digest the group recorded; `None` when it has no group or
    /// cannot be rebuilt (another member damaged too).
    pub(crate) fn parity_rebuild(&self, tag: u8, key: Blake3) -> Option<Vec<u8>> {
        let (_, group) = self.parity_group_of(tag, key)?;
        let index = group
            .members
            .iter()
            .position(|m| m.tag == tag && m.key == key)?;
        let values: Vec<Option<Vec<u8>>> = group
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (i != index)
                    .then(|| self.read_any(primary_cf(m.tag), m.key.as_bytes()))
                    .flatten()
            })
            .collect();
        group.rebuild(index, &values)
    }

    /// The members' current values, each checked against the digest the group recorded; when
    /// exactly one fails it is rebuilt from the parity. `None` for a member that cannot be had.
    fn member_values(&self, group: &Group) -> Vec<Option<Vec<u8>>> {
        let mut values: Vec<Option<Vec<u8>>> = group
            .members
            .iter()
            .map(|m| {
                self.read_any(primary_cf(m.tag), m.key.as_bytes())
                    .filter(|v| v.len() as u64 == m.len && Blake3::of(v) == m.digest)
            })
            .collect();
        let missing: Vec<usize> = (0..values.len()).filter(|i| values[*i].is_none()).collect();
        if let [only] = missing[..] {
            values[only] = group.rebuild(only, &values);
        }
        values
    }

    /// The highest group number in `cf`; `Ok(None)` when there is no group, `Err` when the
    /// keys cannot be read to the end.
    fn last_group_number(&self, cf: &str) -> std::result::Result<Option<u64>, ()> {
        let handle = self.db.cf_handle(cf).ok_or(())?;
        let from = group_key(u64::MAX);
        let mode = IteratorMode::From(&from, Direction::Reverse);
        for item in self.db.iterator_cf(handle, mode) {
            let (key, _) = item.map_err(|_| ())?;
            if key.first().is_some_and(|b| *b < TAG_PARITY) {
                return Ok(None);
            }
            if let Some(number) = group_number(&key) {
                return Ok(Some(number));
            }
        }
        Ok(None)
    }

    /// Writes `batch` with the parity `ops` it causes added to it, as one write. Parity changes
    /// of concurrent writers are serialised (each group is read, laid out again and written
    /// under one lock).
    pub(crate) fn write_with_parity(
        &self,
        mut batch: WriteBatch,
        mut ops: Vec<ParityOp>,
        options: &WriteOptions,
    ) -> Result<()> {
        // Values this batch writes as primaries (an Add may name one of them).
        let pending: HashMap<(u8, Blake3), Blake3> = ops
            .iter()
            .filter_map(|op| match op {
                ParityOp::Replace { tag, key, value } => Some(((*tag, *key), Blake3::of(value))),
                ParityOp::Add { .. } => None,
            })
            .collect();
        ops.retain(|op| match op {
            ParityOp::Replace { tag, key, .. } => self
                .read_any(parity_cf(*tag), &spare_key(TAG_PARITY_INDEX, *key))
                .is_some(),
            ParityOp::Add { .. } => true,
        });
        if ops.is_empty() {
            return self
                .db
                .write_opt(batch, options)
                .map_err(|e| self.db_err(e));
        }
        let _guard = self
            .parity_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.add_parity_ops(&mut batch, ops, &pending)?;
        self.db
            .write_opt(batch, options)
            .map_err(|e| self.db_err(e))
    }

    /// Adds to `batch` the groups (and index entries) that `ops` change, laid out again.
    /// `pending`: the digests of the primary values the same batch writes.
    fn add_parity_ops(
        &self,
        batch: &mut WriteBatch,
        ops: Vec<ParityOp>,
        pending: &HashMap<(u8, Blake3), Blake3>,
    ) -> Result<()> {
        for tag in [TAG_DELTA, TAG_CHUNK] {
            let cf = parity_cf(tag);
            // Groups touched, by number: the group, and the new values of members replaced.
            let mut touched: BTreeMap<u64, (Group, Replaced)> = BTreeMap::new();
            let mut adds: Vec<(Blake3, Vec<u8>)> = Vec::new();
            let mut seen = HashSet::new();
            for op in &ops {
                match op {
                    ParityOp::Replace { tag: t, key, value } if *t == tag => {
                        if let Some((number, group)) = self.parity_group_of(tag, *key) {
                            touched
                                .entry(number)
                                .or_insert_with(|| (group, Vec::new()))
                                .1
                                .push((*key, value.clone()));
                        }
                    }
                    ParityOp::Add { tag: t, key, value } if *t == tag => {
                        let insured = self
                            .read_any(cf, &spare_key(TAG_PARITY_INDEX, *key))
                            .is_some();
                        // The value must be the primary as it stands after this batch.
                        let current = match pending.get(&(tag, *key)) {
                            Some(digest) => *digest == Blake3::of(value),
                            None => {
                                self.read_any(primary_cf(tag), key.as_bytes()).as_deref()
                                    == Some(value.as_slice())
                            }
                        };
                        if !insured && current && seen.insert(*key) {
                            adds.push((*key, value.clone()));
                        }
                    }
                    _ => {}
                }
            }
            if touched.is_empty() && adds.is_empty() {
                continue;
            }
            let mut next = match self.last_group_number(cf) {
                Ok(last) => last.map_or(0, |n| n + 1),
                // The keys cannot be listed (damaged blocks): nothing joins a group; a group
                // number could clash. The scrub reports the damage.
                Err(()) => {
                    adds.clear();
                    if touched.is_empty() {
                        continue;
                    }
                    u64::MAX
                }
            };
            // The newest group takes new members while it has room.
            if !adds.is_empty() && next > 0 {
                let open = next - 1;
                if let std::collections::btree_map::Entry::Vacant(slot) = touched.entry(open) {
                    if let Some(group) = self
                        .read_any(cf, &group_key(open))
                        .and_then(|bytes| Group::decode(&bytes))
                    {
                        slot.insert((group, Vec::new()));
                    }
                }
            }
            let cf_handle = self.cf(cf)?;
            for (number, (group, replaced)) in touched {
                let mut values = self.member_values(&group);
                for (key, value) in replaced {
                    if let Some(i) = group.members.iter().position(|m| m.key == key) {
                        values[i] = Some(value);
                    }
                }
                let mut kept: Vec<(u8, Blake3, Vec<u8>)> = Vec::new();
                for (member, value) in group.members.iter().zip(values) {
                    match value {
                        Some(value) => kept.push((member.tag, member.key, value)),
                        // Two members damaged: this one cannot be had, it leaves the group.
                        None => {
                            batch.delete_cf(cf_handle, spare_key(TAG_PARITY_INDEX, member.key));
                        }
                    }
                }
                if number.checked_add(1) == Some(next) {
                    while kept.len() < PARITY_MEMBERS && !adds.is_empty() {
                        let (key, value) = adds.remove(0);
                        batch.put_cf(
                            cf_handle,
                            spare_key(TAG_PARITY_INDEX, key),
                            number.to_be_bytes(),
                        );
                        kept.push((tag, key, value));
                    }
                }
                put_group(batch, cf_handle, number, &kept);
            }
            for members in adds.chunks(PARITY_MEMBERS) {
                let kept: Vec<(u8, Blake3, Vec<u8>)> = members
                    .iter()
                    .map(|(key, value)| (tag, *key, value.clone()))
                    .collect();
                for (key, _) in members {
                    batch.put_cf(
                        cf_handle,
                        spare_key(TAG_PARITY_INDEX, *key),
                        next.to_be_bytes(),
                    );
                }
                put_group(batch, cf_handle, next, &kept);
                next += 1;
            }
        }
        Ok(())
    }

    /// Bytes of the parity groups as stored (those that can be listed).
    pub(crate) fn parity_bytes(&self) -> u64 {
        let mut bytes = 0u64;
        for tag in [TAG_DELTA, TAG_CHUNK] {
            let Some(handle) = self.db.cf_handle(parity_cf(tag)) else {
                continue;
            };
            self.for_each_group_entry(handle, |key, value| {
                if group_number(key).is_some() {
                    bytes += value.len() as u64;
                }
            });
        }
        bytes
    }

    /// Calls `visit` on each stored entry under the parity-group tag of a column family, in
    /// key order (stops at the first that cannot be read).
    fn for_each_group_entry(
        &self,
        handle: &rocksdb::ColumnFamily,
        mut visit: impl FnMut(&[u8], &[u8]),
    ) {
        let from = group_key(0);
        for item in self
            .db
            .iterator_cf(handle, IteratorMode::From(&from, Direction::Forward))
        {
            let Ok((key, value)) = item else { break };
            if key.first().is_some_and(|b| *b > TAG_PARITY) {
                break;
            }
            visit(&key, &value);
        }
    }

    /// Lays every parity group out again, members sorted by size so that each group's row
    /// width is close to its members' (what `evarc repack` does at its end, after values got
    /// smaller): one synced batch per kind replaces the groups read and their index entries.
    /// Groups that cannot be read are left as they are.
    pub(crate) fn relay_parity(&self) -> Result<RelayReport> {
        let _guard = self
            .parity_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut report = RelayReport::default();
        for tag in [TAG_DELTA, TAG_CHUNK] {
            let cf = parity_cf(tag);
            let handle = self.cf(cf)?;
            let Ok(Some(last)) = self.last_group_number(cf) else {
                continue;
            };
            let mut batch = WriteBatch::default();
            let mut members: Vec<(u8, Blake3, Vec<u8>)> = Vec::new();
            self.for_each_group_entry(handle, |key, value| {
                let (Some(number), Some(group)) = (group_number(key), Group::decode(value)) else {
                    return;
                };
                for (member, value) in group.members.iter().zip(self.member_values(&group)) {
                    match value {
                        Some(value) => members.push((member.tag, member.key, value)),
                        None => batch.delete_cf(handle, spare_key(TAG_PARITY_INDEX, member.key)),
                    }
                }
                batch.delete_cf(handle, group_key(number));
            });
            members.sort_by(|a, b| b.2.len().cmp(&a.2.len()).then(a.1.cmp(&b.1)));
            for (next, group) in (last + 1..).zip(members.chunks(PARITY_MEMBERS)) {
                for (_, key, _) in group {
                    batch.put_cf(
                        handle,
                        spare_key(TAG_PARITY_INDEX, *key),
                        next.to_be_bytes(),
                    );
                }
                report.after += put_group(&mut batch, handle, next, group);
            }
            let mut sync = WriteOptions::default();
            sync.set_sync(true);
            self.db
                .write_opt(batch, &sync)
                .map_err(|e| self.db_err(e))?;
        }
        Ok(report)
    }
}

/// Puts the group of `members` under `number`; returns its stored bytes.
fn put_group(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    number: u64,
    members: &[(u8, Blake3, Vec<u8>)],
) -> u64 {
    let refs: Vec<(u8, Blake3, &[u8])> = members
        .iter()
        .map(|(tag, key, value)| (*tag, *key, value.as_slice()))
        .collect();
    let group = Group::lay(&refs);
    batch.put_cf(cf, group_key(number), group.encode());
    group.stored_len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(seed: u8, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Any one member of a group of unequal sizes is rebuilt from the parity and the others;
    /// with a second member missing or altered, nothing is returned.
    #[test]
    fn a_group_rebuilds_any_one_member_and_never_a_wrong_one() {
        let lens = [700usize, 5, 1000, 999, 1, 300, 1000, 64];
        let values: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, len)| value(i as u8, *len))
            .collect();
        let members: Vec<(u8, Blake3, &[u8])> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (TAG_CHUNK, Blake3::of(&[i as u8]), v.as_slice()))
            .collect();
        let group = Group::lay(&members);
        assert_eq!(group.width, 1000);
        assert_eq!(
            group.parity.len(),
            1000,
            "one row width, not the members' sum"
        );
        let decoded = Group::decode(&group.encode()).expect("decodes");
        assert_eq!(decoded, group);
        for lost in 0..values.len() {
            let mut known: Vec<Option<Vec<u8>>> = values.iter().cloned().map(Some).collect();
            known[lost] = None;
            assert_eq!(
                decoded.rebuild(lost, &known).as_ref(),
                Some(&values[lost]),
                "member {lost}"
            );
            let other = (lost + 1) % values.len();
            known[other] = None;
            assert_eq!(decoded.rebuild(lost, &known), None, "two missing");
            let mut altered = values[other].clone();
            altered[0] ^= 1;
            known[other] = Some(altered);
            assert_eq!(
                decoded.rebuild(lost, &known),
                None,
                "another member altered"
            );
        }
        // A group smaller than a row keeps its parity no longer than its stream.
        let small = Group::lay(&members[1..2]);
        assert_eq!(small.parity, values[1]);
        assert!(Group::decode(b"EVP1").is_none());
    }
}
