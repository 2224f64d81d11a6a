//! SHA-256 helpers: hashing writers and readers, and the derivation of WARC record IDs.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// The `<urn:uuid:…>` of a WARC record, derived from its identity (never random).
///
/// The identity is a list of fields (record type, document ID, SHA-256, capture time, …); the
/// UUID is the first 128 bits of the SHA-256 of the fields joined with NUL, with the version
/// nibble set to 8 and the RFC 9562 variant bits (a UUIDv8, "custom"). The same fields always
/// give the same ID; fields cannot run into each other because NUL never occurs in them.
pub fn record_id(fields: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"evarc-warc-record-id/1");
    for field in fields {
        hasher.update([0u8]);
        hasher.update(field.as_bytes());
    }
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `sha256:<64 lower hex>` of some bytes.
pub(crate) fn sha256_label(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A writer that hashes and counts what passes through.
pub(crate) struct HashingWriter<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The hex digest and length so far, and the inner writer.
    pub fn finish(self) -> (String, u64, W) {
        (hex::encode(self.hasher.finalize()), self.len, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that counts bytes (the offsets of records in a WARC).
pub(crate) struct CountingWriter<W> {
    pub inner: W,
    pub count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies `reader` into `out`, returning the SHA-256 (hex) and length of what was copied.
pub(crate) fn copy_hashing(
    reader: &mut dyn Read,
    out: &mut dyn Write,
) -> io::Result<(String, u64)> {
    let mut hashing = HashingWriter::new(out);
    io::copy(reader, &mut hashing)?;
    let (hex, len, _) = hashing.finish();
    Ok((hex, len))
}
