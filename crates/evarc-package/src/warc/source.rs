//! Byte sources for the WARC reader: an offset-counting buffered reader with resync scanning,
//! a hashing reader over a record block, and HTTP chunked transfer decoding.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

/// A buffered reader that knows the file offset of the next byte it returns.
pub(crate) struct Source<R> {
    inner: BufReader<R>,
    pub pos: u64,
}

impl<R: Read + Seek> Source<R> {
    pub fn new(inner: R) -> Self {
        Source {
            inner: BufReader::with_capacity(64 * 1024, inner),
            pos: 0,
        }
    }

    pub fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        self.inner.seek(SeekFrom::Start(pos))?;
        self.pos = pos;
        Ok(())
    }

    /// The offset of the first occurrence of `pattern` at or after `from`, if any. Leaves the
    /// reader positioned there (or at the end).
    pub fn scan(&mut self, from: u64, pattern: &[u8]) -> io::Result<Option<u64>> {
        self.seek_to(from)?;
        let mut window: Vec<u8> = Vec::with_capacity(pattern.len() + 64 * 1024);
        let mut window_start = from;
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let n = buf.len();
            window.extend_from_slice(buf);
            self.consume(n);
            if let Some(i) = window.windows(pattern.len()).position(|w| w == pattern) {
                let found = window_start + i as u64;
                self.seek_to(found)?;
                return Ok(Some(found));
            }
            let keep = pattern.len().saturating_sub(1).min(window.len());
            let drop = window.len() - keep;
            window.drain(..drop);
            window_start += drop as u64;
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.pos += amt as u64;
    }
}

/// Hashes and counts every byte read or consumed through it.
pub(crate) struct HashingBufRead<R> {
    pub inner: R,
    pub hasher: Sha256,
    pub count: u64,
}

impl<R: BufRead> HashingBufRead<R> {
    pub fn new(inner: R) -> Self {
        HashingBufRead {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
}

impl<R: BufRead> Read for HashingBufRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for HashingBufRead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        // The bytes being consumed are still in the buffer: fill_buf returns them again
        // without reading.
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.hasher.update(&buf[..n]);
            self.count += n as u64;
        }
        self.inner.consume(amt);
    }
}

/// Reads one line (up to and including `\n`) of at most `limit` bytes.
pub(crate) fn read_line<R: BufRead + ?Sized>(r: &mut R, limit: usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(line);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line longer than {limit} bytes"),
            ));
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            return Ok(line);
        }
    }
}

/// HTTP/1.1 chunked transfer decoding (RFC 9112 §7.1); trailers are read and dropped.
pub(crate) struct Dechunk<R> {
    inner: R,
    remaining: u64,
    done: bool,
}

impl<R: BufRead> Dechunk<R> {
    pub fn new(inner: R) -> Self {
        Dechunk {
            inner,
            remaining: 0,
            done: false,
        }
    }

    /// Whether the stream starts like a chunked body (a hex size line); some WARCs keep the
    /// `Transfer-Encoding: chunked` header over a body that was already decoded.
    pub fn looks_chunked(r: &mut R) -> io::Result<bool> {
        let buf = r.fill_buf()?;
        let digits = buf.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        Ok(digits > 0
            && digits <= 16
            && matches!(buf.get(digits), Some(b'\r' | b'\n' | b';' | b' ' | b'\t')))
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let line = read_line(&mut self.inner, 4096)?;
        let text = String::from_utf8_lossy(&line);
        let size = text.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "chunked body ends without its last chunk",
            ));
        }
        self.remaining = u64::from_str_radix(size, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size line {:?}", text.trim_end()),
            )
        })?;
        if self.remaining == 0 {
            // Trailer fields until an empty line (or the end of the block).
            loop {
                let trailer = read_line(&mut self.inner, 64 * 1024)?;
                if trailer.is_empty() || trailer == b"\r\n" || trailer == b"\n" {
                    break;
                }
            }
            self.done = true;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            self.next_chunk()?;
            if self.done {
                return Ok(0);
            }
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "chunked body ends inside a chunk",
            ));
        }
        self.remaining -= n as u64;
        if self.remaining == 0 {
            let crlf = read_line(&mut self.inner, 2)?;
            if crlf != b"\r\n" && crlf != b"\n" {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk not followed by CRLF",
                ));
            }
        }
        Ok(n)
    }
}
