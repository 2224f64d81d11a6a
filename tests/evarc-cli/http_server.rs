//! A tiny HTTP/1.1 server for tests, std only.
//!
//! It binds `127.0.0.1:0` (loopback only), answers each connection on its own thread with one
//! response and then closes the connection, and stops when the [`TestServer`] is dropped. Every
//! loop is bounded: request heads are capped in size and read with a timeout, slow bodies check
//! the stop flag between bytes, and a write error (the client went away) ends a response.
//!
//! Used by the CLI integration tests (`mod http_server;`) and by `evarc-cli`'s `fetch` unit
//! tests (through `#[path]`), so not every item is used by every includer.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long a connection may take to send its request head.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request head accepted, in bytes.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How often the accept loop looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(5);
/// Chunk size used when streaming large bodies.
const STREAM_CHUNK: usize = 64 * 1024;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response with a `Content-Length`.
    Fixed {
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A redirect whose `Location` is sent exactly as given (relative or absolute).
    Redirect { status: u16, location: String },
    /// A redirect to `http://127.0.0.1:<port><path>` on this same server.
    RedirectAbsolute { status: u16, path: String },
    /// A 200 whose body is `bytes` bytes of `b'.'`, one byte every `delay`.
    Slow { bytes: usize, delay: Duration },
    /// A 200 whose body is `bytes` bytes of [`large_body_byte`], streamed in chunks; with or
    /// without a `Content-Length` (without one, the body ends when the connection closes).
    Large { bytes: u64, content_length: bool },
    /// A 200 sent with `Transfer-Encoding: chunked`, one HTTP chunk per element.
    Chunked {
        headers: Vec<(String, String)>,
        chunks: Vec<Vec<u8>>,
    },
    /// Reads the request, then sends nothing for `duration` (or until the server stops) and
    /// closes the connection: a server that never answers.
    Silent { duration: Duration },
    /// `404 Not Found` with a short text body (also the answer for unknown paths).
    NotFound,
}

impl Reply {
    /// `200 OK` with the given headers and body.
    pub fn ok(headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        Self::status(200, "OK", headers, body)
    }

    /// Any status, reason phrase, headers and body.
    pub fn status(
        status: u16,
        reason: &str,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Reply::Fixed {
            status,
            reason: reason.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    /// A redirect with `Location` sent exactly as given.
    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::Redirect {
            status,
            location: location.to_owned(),
        }
    }

    /// A redirect to an absolute URL on this server.
    pub fn redirect_absolute(status: u16, path: &str) -> Self {
        Reply::RedirectAbsolute {
            status,
            path: path.to_owned(),
        }
    }
}

/// The byte at `offset` of a [`Reply::Large`] body, so tests can check content cheaply.
pub fn large_body_byte(offset: u64) -> u8 {
    // Truncation is the point: a repeating 0..=250 pattern.
    (offset % 251) as u8
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    routes: HashMap<String, Reply>,
    stop: AtomicBool,
    requests: Mutex<Vec<RecordedRequest>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    addr: SocketAddr,
}

/// A running test server; stops (and joins its threads) on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server answering `routes` (path, including any query string, to reply).
    pub fn start<P: Into<String>>(routes: impl IntoIterator<Item = (P, Reply)>) -> Self {
        Self::start_at("127.0.0.1:0", routes)
    }

    /// Starts a server on a given loopback address (e.g. the one of a server just dropped, so
    /// that the same URLs answer differently).
    pub fn start_at<P: Into<String>>(
        bind: &str,
        routes: impl IntoIterator<Item = (P, Reply)>,
    ) -> Self {
        let listener = TcpListener::bind(bind).expect("bind a loopback port for tests");
        listener
            .set_nonblocking(true)
            .expect("make the test listener non-blocking");
        let addr = listener
            .local_addr()
            .expect("the test listener has an address");
        let shared = Arc::new(Shared {
            routes: routes.into_iter().map(|(p, r)| (p.into(), r)).collect(),
            stop: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
            addr,
        });
        let for_thread = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("test-http-accept".into())
            .spawn(move || accept_loop(&listener, &for_thread))
            .expect("spawn the test server thread");
        TestServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .expect("test server request log lock")
            .clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let workers = match self.shared.workers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared_for_conn = Arc::clone(shared);
                let spawned =
                    thread::Builder::new()
                        .name("test-http-conn".into())
                        .spawn(move || {
                            // A failing connection only fails that request; the client sees it.
                            let _ = handle_connection(stream, &shared_for_conn);
                        });
                if let Ok(handle) = spawned {
                    if let Ok(mut workers) = shared.workers.lock() {
                        workers.retain(|w| !w.is_finished());
                        workers.push(handle);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

fn handle_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(REQUEST_READ_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let request = read_request_head(&stream)?;
    let path = request.target.clone();
    shared
        .requests
        .lock()
        .map_err(|_| io::Error::other("request log poisoned"))?
        .push(request);
    let reply = shared
        .routes
        .get(&path)
        .or_else(|| {
            path.split_once('?')
                .and_then(|(bare, _)| shared.routes.get(bare))
        })
        .cloned()
        .unwrap_or(Reply::NotFound);
    let mut out = stream.try_clone()?;
    write_reply(&mut out, &reply, shared)?;
    out.flush()?;
    // Closing tells a client without Content-Length where the body ends.
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

fn read_request_head(stream: &TcpStream) -> io::Result<RecordedRequest> {
    let mut reader = BufReader::new(stream).take(MAX_REQUEST_HEAD as u64);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break; // closed, or the head was too large
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok(RecordedRequest {
        method,
        target,
        headers,
    })
}

fn write_head(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(String, String)],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    out.write_all(head.as_bytes())
}

fn write_reply(out: &mut TcpStream, reply: &Reply, shared: &Shared) -> io::Result<()> {
    let header = |n: &str, v: String| (n.to_owned(), v);
    match reply {
        Reply::Fixed {
            status,
            reason,
            headers,
            body,
        } => {
            let mut all = headers.clone();
            all.push(header("Content-Length", body.len().to_string()));
            write_head(out, *status, reason, &all)?;
            out.write_all(body)
        }
        Reply::Redirect { status, location } => write_redirect(out, *status, location),
        Reply::RedirectAbsolute { status, path } => {
            write_redirect(out, *status, &format!("http://{}{}", shared.addr, path))
        }
        Reply::Slow { bytes, delay } => {
            let headers = [
                header("Content-Type", "text/plain".into()),
                header("Content-Length", bytes.to_string()),
            ];
            write_head(out, 200, "OK", &headers)?;
            out.flush()?;
            for _ in 0..*bytes {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                thread::sleep(*delay);
                out.write_all(b".")?;
                out.flush()?;
            }
            Ok(())
        }
        Reply::Large {
            bytes,
            content_length,
        } => {
            let mut headers = vec![header("Content-Type", "application/octet-stream".into())];
            if *content_length {
                headers.push(header("Content-Length", bytes.to_string()));
            }
            write_head(out, 200, "OK", &headers)?;
            let mut sent = 0u64;
            let mut chunk = Vec::with_capacity(STREAM_CHUNK);
            while sent < *bytes && !shared.stop.load(Ordering::SeqCst) {
                let n = (*bytes - sent).min(STREAM_CHUNK as u64);
                chunk.clear();
                chunk.extend((sent..sent + n).map(large_body_byte));
                out.write_all(&chunk)?;
                sent += n;
            }
            Ok(())
        }
        Reply::Chunked { headers, chunks } => {
            let mut all = headers.clone();
            all.push(header("Transfer-Encoding", "chunked".into()));
            write_head(out, 200, "OK", &all)?;
            for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                out.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                out.write_all(chunk)?;
                out.write_all(b"\r\n")?;
            }
            out.write_all(b"0\r\n\r\n")
        }
        Reply::Silent { duration } => {
            let step = Duration::from_millis(10);
            let mut waited = Duration::ZERO;
            while waited < *duration && !shared.stop.load(Ordering::SeqCst) {
                thread::sleep(step);
                waited += step;
            }
            Ok(())
        }
        Reply::NotFound => {
            let body = b"not found\n";
            let headers = [
                header("Content-Type", "text/plain".into()),
                header("Content-Length", body.len().to_string()),
            ];
            write_head(out, 404, "Not Found", &headers)?;
            out.write_all(body)
        }
    }
}

fn write_redirect(out: &mut impl Write, status: u16, location: &str) -> io::Result<()> {
    let reason = match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Redirect",
    };
    let headers = [
        ("Location".to_owned(), location.to_owned()),
        ("Content-Length".to_owned(), "0".to_owned()),
    ];
    write_head(out, status, reason, &headers)
}
