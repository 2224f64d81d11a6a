//! Capturing a web page as evidence over HTTP(S), with everything about the exchange recorded.
//!
//! [`fetch`] performs one `GET`, following redirects itself so every hop is recorded, and keeps
//! the body exactly as it came off the wire after transfer decoding (chunked): it asks for
//! `Accept-Encoding: identity` and never decompresses or decodes, so a stored body is the
//! document's bytes whatever its encoding.
//!
//! Limits are enforced while the response streams in, not afterwards: the whole exchange,
//! redirects and body included, must finish before [`FetchOptions::timeout`], and the body is
//! abandoned as soon as it grows past [`FetchOptions::max_bytes`].
//!
//! Transport is `ureq` 2 with rustls and the bundled webpki roots (no OpenSSL, no system
//! certificate store, no proxy taken from the environment).

use std::io::{self, Read};
use std::time::{Duration, Instant};

use evarc_provenance::{HttpUrl, UrlProblem};
use url::Url;

/// Bytes read from the response body per `read` call; the most a fetch buffers past the limit.
const READ_CHUNK: usize = 64 * 1024;

/// How a fetch behaves; the CLI fills this from its flags.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Deadline for the whole fetch: connecting, every redirect hop and reading the body.
    pub timeout: Duration,
    /// Deadline for establishing each TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Capture non-2xx final responses instead of refusing them.
    pub allow_http_errors: bool,
    /// Most redirects followed; one more is an error.
    pub max_redirects: u32,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 256 * 1024 * 1024,
            allow_http_errors: false,
            max_redirects: 10,
            user_agent: format!("evarc/{} (+evidence capture)", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// One redirect followed on the way to the final response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The URL that answered with the redirect.
    pub url: String,
    /// Its status: 301, 302, 303, 307 or 308.
    pub status: u16,
    /// The `Location` header exactly as sent (possibly relative).
    pub location: String,
}

/// A captured response and how it was reached.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The body after transfer decoding, byte for byte; never content-decoded.
    pub body: Vec<u8>,
    /// The URL as the caller gave it.
    pub requested_url: String,
    /// The URL of the final response, after redirects (normalised by URL parsing).
    pub final_url: String,
    pub status: u16,
    /// The reason phrase as the server sent it (may be empty).
    pub reason: String,
    /// As on the status line, e.g. `HTTP/1.1`.
    pub http_version: String,
    /// Headers of the final response in the order received. Names are lower-cased (the HTTP
    /// client normalises them); values are as sent, trimmed. A value that is not valid UTF-8
    /// cannot be read back from the client and is left out.
    pub headers: Vec<(String, String)>,
    /// Each redirect followed, in order.
    pub redirects: Vec<Redirect>,
    /// The final response's `Content-Type` value as sent (parameters such as `charset` kept).
    pub media_type: Option<String>,
}

impl Fetched {
    /// The HTTP exchange as recorded with a capture: request, final URL, status, headers in
    /// order and every redirect hop.
    pub fn http_exchange(&self) -> evarc_provenance::model::HttpExchange {
        evarc_provenance::model::HttpExchange {
            requested_url: self.requested_url.clone(),
            final_url: self.final_url.clone(),
            status: self.status,
            reason: self.reason.clone(),
            version: self.http_version.clone(),
            headers: self.headers.clone(),
            redirects: self
                .redirects
                .iter()
                .map(|r| evarc_provenance::model::Redirect {
                    url: r.url.clone(),
                    status: r.status,
                    location: r.location.clone(),
                })
                .collect(),
        }
    }
}

/// Why a fetch failed. Every message is one line naming the URL concerned.
#[derive(thiserror::Error, Debug)]
pub enum FetchError {
    #[error("{url:?} is not a valid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url}: only http:// and https:// URLs can be fetched")]
    UnsupportedScheme { url: String },
    #[error("fetching {url}: timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("{url}: response exceeds the size limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url} returned {status} {reason} (use --allow-http-errors to capture it anyway)")]
    HttpStatus {
        url: String,
        status: u16,
        reason: String,
    },
    #[error("{url}: gave up after {limit} redirects")]
    TooManyRedirects { url: String, limit: u32 },
    #[error("{url}: cannot follow redirect {status} to {location:?}: {reason}")]
    BadRedirect {
        url: String,
        status: u16,
        location: String,
        reason: String,
    },
    #[error("fetching {url}: malformed HTTP response: {reason}")]
    Protocol { url: String, reason: String },
    #[error("fetching {url}: could not connect")]
    Connect {
        url: String,
        #[source]
        source: io::Error,
    },
    #[error("fetching {url}: transfer failed")]
    Io {
        url: String,
        #[source]
        source: io::Error,
    },
}

/// Whether a command-line argument names a web page rather than a file.
/// (`HttpUrl`'s scheme step: `http://` or `https://` in any letter case; the rest of the rule
/// is checked when it is fetched.)
pub fn looks_like_url(arg: &str) -> bool {
    HttpUrl::has_http_scheme(arg)
}

/// Fetches `url` with `GET`, following redirects, and returns the final response in full.
pub fn fetch(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let deadline = Deadline::new(opts.timeout);
    let mut current = parse_http_url(url)?;
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout_connect(opts.connect_timeout)
        .user_agent(&opts.user_agent)
        .build();
    let mut redirects = Vec::new();
    loop {
        let remaining = deadline.remaining().ok_or_else(|| FetchError::Timeout {
            url: current.to_string(),
            after: opts.timeout,
        })?;
        let outcome = agent
            .get(current.as_str())
            .set("Accept-Encoding", "identity")
            .timeout(remaining)
            .call();
        // Non-2xx answers are responses to record, not transport failures.
        let response = match outcome {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(t)) => {
                return Err(transport_error(current.as_str(), &t, opts, &deadline))
            }
        };

        let status = response.status();
        if let (true, Some(location)) = (is_redirect(status), response.header("location")) {
            let location = location.to_owned();
            let next = follow(&current, status, &location)?;
            redirects.push(Redirect {
                url: current.to_string(),
                status,
                location,
            });
            if redirects.len() > opts.max_redirects as usize {
                return Err(FetchError::TooManyRedirects {
                    url: url.to_owned(),
                    limit: opts.max_redirects,
                });
            }
            current = next;
            continue;
        }

        if !(200..300).contains(&status) && !opts.allow_http_errors {
            return Err(FetchError::HttpStatus {
                url: current.to_string(),
                status,
                reason: response.status_text().to_owned(),
            });
        }
        return finish(url, current, redirects, response, opts, &deadline);
    }
}

/// Records the final response and reads its body within the limits.
fn finish(
    requested: &str,
    current: Url,
    redirects: Vec<Redirect>,
    response: ureq::Response,
    opts: &FetchOptions,
    deadline: &Deadline,
) -> Result<Fetched, FetchError> {
    let final_url = current.to_string();
    let declared_len = response
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > opts.max_bytes) {
        return Err(FetchError::TooLarge {
            url: final_url,
            limit: opts.max_bytes,
        });
    }
    let headers = response_headers(&response);
    let status = response.status();
    let reason = response.status_text().to_owned();
    let http_version = response.http_version().to_owned();
    let media_type = response.header("content-type").map(str::to_owned);
    let body = read_body(
        response.into_reader(),
        &final_url,
        declared_len,
        opts,
        deadline,
    )?;
    Ok(Fetched {
        body,
        requested_url: requested.to_owned(),
        final_url,
        status,
        reason,
        http_version,
        headers,
        redirects,
        media_type,
    })
}

/// Reads the body, stopping at the deadline or as soon as it outgrows `opts.max_bytes`.
fn read_body(
    mut reader: impl Read,
    url: &str,
    declared_len: Option<u64>,
    opts: &FetchOptions,
    deadline: &Deadline,
) -> Result<Vec<u8>, FetchError> {
    let timeout = || FetchError::Timeout {
        url: url.to_owned(),
        after: opts.timeout,
    };
    let initial = declared_len.unwrap_or(0).min(opts.max_bytes);
    let mut body = Vec::with_capacity(usize::try_from(initial).unwrap_or(0));
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(body),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) || deadline.passed() => return Err(timeout()),
            Err(e) => {
                return Err(FetchError::Io {
                    url: url.to_owned(),
                    source: e,
                })
            }
        };
        if body.len() as u64 + n as u64 > opts.max_bytes {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit: opts.max_bytes,
            });
        }
        body.extend_from_slice(&chunk[..n]);
        // The client bounds each socket read by the deadline; this catches a trickle that
        // keeps every single read just inside it.
        if deadline.passed() {
            return Err(timeout());
        }
    }
}

/// The headers in received order, pairing repeated names with their values in turn.
fn response_headers(response: &ureq::Response) -> Vec<(String, String)> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut headers = Vec::new();
    for name in response.headers_names() {
        let index = match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                seen.push((name.clone(), 1));
                0
            }
        };
        if let Some(value) = response.all(&name).get(index) {
            headers.push((name, (*value).to_owned()));
        }
    }
    headers
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Resolves a `Location` against the URL that sent it and checks it can be fetched.
fn follow(current: &Url, status: u16, location: &str) -> Result<Url, FetchError> {
    let bad = |reason: String| FetchError::BadRedirect {
        url: current.to_string(),
        status,
        location: location.to_owned(),
        reason,
    };
    let next = current.join(location).map_err(|e| bad(e.to_string()))?;
    HttpUrl::parse(next.as_str()).map_err(|e| bad(e.problem.to_string()))?;
    Ok(next)
}

fn parse_http_url(url: &str) -> Result<Url, FetchError> {
    let invalid = |reason: String| FetchError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    match HttpUrl::parse(url) {
        Ok(_) => Url::parse(url).map_err(|e| invalid(e.to_string())),
        // A URL all the same (`ftp://…`, `file:…`, `http:host`), of a kind evarc does not fetch.
        Err(e) if e.problem == UrlProblem::Scheme && Url::parse(url).is_ok() => {
            Err(FetchError::UnsupportedScheme {
                url: url.to_owned(),
            })
        }
        Err(e) => Err(invalid(e.problem.to_string())),
    }
}

/// Maps a failed request (before any response arrived) to a [`FetchError`].
fn transport_error(
    url: &str,
    t: &ureq::Transport,
    opts: &FetchOptions,
    deadline: &Deadline,
) -> FetchError {
    use ureq::ErrorKind as K;
    let io_source = std::error::Error::source(t).and_then(|s| s.downcast_ref::<io::Error>());
    let timed_out = io_source.is_some_and(is_timeout) || deadline.passed();
    let detail = || {
        let source = std::error::Error::source(t).map(ToString::to_string);
        let text = match (t.message(), source) {
            (Some(m), Some(s)) => format!("{m}: {s}"),
            (Some(m), None) => m.to_owned(),
            (None, Some(s)) => s,
            (None, None) => t.kind().to_string(),
        };
        io::Error::new(
            io_source.map_or(io::ErrorKind::Other, io::Error::kind),
            text,
        )
    };
    match t.kind() {
        K::Dns | K::ConnectionFailed if timed_out => FetchError::Timeout {
            url: url.to_owned(),
            after: if deadline.passed() {
                opts.timeout
            } else {
                opts.connect_timeout
            },
        },
        K::Dns | K::ConnectionFailed => FetchError::Connect {
            url: url.to_owned(),
            source: detail(),
        },
        _ if timed_out => FetchError::Timeout {
            url: url.to_owned(),
            after: opts.timeout,
        },
        K::BadStatus | K::BadHeader => FetchError::Protocol {
            url: url.to_owned(),
            reason: detail().to_string(),
        },
        K::InvalidUrl | K::UnknownScheme => FetchError::InvalidUrl {
            url: url.to_owned(),
            reason: detail().to_string(),
        },
        _ => FetchError::Io {
            url: url.to_owned(),
            source: detail(),
        },
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// The instant by which the whole fetch must be done.
struct Deadline(Option<Instant>);

impl Deadline {
    fn new(timeout: Duration) -> Self {
        // A timeout too large to represent means no deadline.
        Deadline(Instant::now().checked_add(timeout))
    }

    /// Time left, or `None` once the deadline has passed.
    fn remaining(&self) -> Option<Duration> {
        match self.0 {
            Some(at) => at
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero()),
            None => Some(Duration::from_secs(u64::from(u32::MAX))),
        }
    }

    fn passed(&self) -> bool {
        self.remaining().is_none()
    }
}

#[cfg(test)]
#[path = "../../../tests/evarc-cli/http_server.rs"]
mod test_http_server;

#[cfg(test)]
mod tests {
    use super::test_http_server::{large_body_byte, Reply, TestServer};
    use super::*;

    fn opts() -> FetchOptions {
        FetchOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            ..FetchOptions::default()
        }
    }

    fn header<'a>(f: &'a Fetched, name: &str) -> Option<&'a str> {
        f.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn fetch_200_records_status_headers_and_body() {
        let server = TestServer::start([(
            "/page",
            Reply::ok(
                &[
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("X-Evidence", "one"),
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                ],
                "<p>hello</p>",
            ),
        )]);
        let url = server.url("/page");
        let f = fetch(&url, &opts()).expect("fetch a plain page");
        assert_eq!(f.body, b"<p>hello</p>");
        assert_eq!(f.status, 200);
        assert_eq!(f.reason, "OK");
        assert_eq!(f.http_version, "HTTP/1.1");
        assert_eq!(f.requested_url, url);
        assert_eq!(f.final_url, url);
        assert!(f.redirects.is_empty());
        assert_eq!(f.media_type.as_deref(), Some("text/html; charset=utf-8"));
        let names: Vec<&str> = f.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "x-evidence",
                "set-cookie",
                "set-cookie",
                "content-length",
                "connection"
            ]
        );
        assert_eq!(header(&f, "x-evidence"), Some("one"));
        let cookies: Vec<&str> = f
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, ["a=1", "b=2"]);

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].header("accept-encoding"), Some("identity"));
        assert_eq!(
            requests[0].header("user-agent"),
            Some(FetchOptions::default().user_agent.as_str())
        );
    }

    #[test]
    fn redirect_chain_is_recorded_hop_by_hop() {
        let server = TestServer::start([
            ("/start", Reply::redirect(301, "/dir/next")),
            ("/dir/next", Reply::redirect(302, "relative")),
            ("/dir/relative", Reply::redirect_absolute(307, "/last")),
            ("/last", Reply::redirect(308, "/final?x=1")),
            (
                "/final?x=1",
                Reply::ok(&[("Content-Type", "text/plain")], "done"),
            ),
        ]);
        let f = fetch(&server.url("/start"), &opts()).expect("follow the redirect chain");
        assert_eq!(f.body, b"done");
        assert_eq!(f.final_url, server.url("/final?x=1"));
        assert_eq!(f.requested_url, server.url("/start"));
        let hops: Vec<(String, u16, String)> = f
            .redirects
            .iter()
            .map(|r| (r.url.clone(), r.status, r.location.clone()))
            .collect();
        assert_eq!(
            hops,
            [
                (server.url("/start"), 301, "/dir/next".to_owned()),
                (server.url("/dir/next"), 302, "relative".to_owned()),
                (server.url("/dir/relative"), 307, server.url("/last")),
                (server.url("/last"), 308, "/final?x=1".to_owned()),
            ]
        );
    }

    #[test]
    fn too_many_redirects_is_refused() {
        let server = TestServer::start([
            ("/a", Reply::redirect(302, "/b")),
            ("/b", Reply::redirect(302, "/a")),
        ]);
        let options = FetchOptions {
            max_redirects: 3,
            ..opts()
        };
        let err = fetch(&server.url("/a"), &options).expect_err("a redirect loop must fail");
        assert!(
            matches!(err, FetchError::TooManyRedirects { limit: 3, .. }),
            "{err:?}"
        );
        assert_eq!(server.requests().len(), 4);
        assert!(err.to_string().contains("gave up after 3 redirects"));
    }

    #[test]
    fn not_found_is_refused_unless_allowed() {
        let server = TestServer::start(Vec::<(String, Reply)>::new());
        let url = server.url("/missing");
        let err = fetch(&url, &opts()).expect_err("404 must be refused by default");
        assert!(
            matches!(err, FetchError::HttpStatus { status: 404, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{url} returned 404 Not Found (use --allow-http-errors to capture it anyway)")
        );

        let options = FetchOptions {
            allow_http_errors: true,
            ..opts()
        };
        let f = fetch(&url, &options).expect("404 captured when allowed");
        assert_eq!(f.status, 404);
        assert_eq!(f.reason, "Not Found");
        assert_eq!(f.body, b"not found\n");
    }

    #[test]
    fn server_error_reason_is_kept_verbatim() {
        let server =
            TestServer::start([("/teapot", Reply::status(503, "Gone Fishing", &[], "later"))]);
        let options = FetchOptions {
            allow_http_errors: true,
            ..opts()
        };
        let f = fetch(&server.url("/teapot"), &options).expect("503 captured when allowed");
        assert_eq!((f.status, f.reason.as_str()), (503, "Gone Fishing"));
    }

    #[test]
    fn slow_body_hits_the_timeout() {
        let server = TestServer::start([(
            "/slow",
            Reply::Slow {
                bytes: 100,
                delay: Duration::from_millis(100),
            },
        )]);
        let options = FetchOptions {
            timeout: Duration::from_secs(1),
            ..opts()
        };
        let url = server.url("/slow");
        let err = fetch(&url, &options).expect_err("a trickling body must time out");
        assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("fetching {url}: timed out after 1s")
        );
    }

    #[test]
    fn silent_server_hits_the_timeout() {
        let server = TestServer::start([(
            "/silent",
            Reply::Silent {
                duration: Duration::from_secs(10),
            },
        )]);
        let options = FetchOptions {
            timeout: Duration::from_secs(1),
            ..opts()
        };
        let err = fetch(&server.url("/silent"), &options).expect_err("no answer must time out");
        assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    }

    #[test]
    fn oversized_body_is_refused_with_and_without_content_length() {
        let server = TestServer::start([
            (
                "/big",
                Reply::Large {
                    bytes: 4 * 1024 * 1024,
                    content_length: true,
                },
            ),
            (
                "/big-stream",
                Reply::Large {
                    bytes: 4 * 1024 * 1024,
                    content_length: false,
                },
            ),
        ]);
        let options = FetchOptions {
            max_bytes: 1024 * 1024,
            ..opts()
        };
        for path in ["/big", "/big-stream"] {
            let url = server.url(path);
            let err = fetch(&url, &options).expect_err("an oversized body must be refused");
            assert!(
                matches!(
                    err,
                    FetchError::TooLarge {
                        limit: 1_048_576,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!("{url}: response exceeds the size limit of 1048576 bytes")
            );
        }
    }

    #[test]
    fn body_at_the_limit_is_accepted_whole() {
        let len = 200_000u64;
        let server = TestServer::start([(
            "/exact",
            Reply::Large {
                bytes: len,
                content_length: false,
            },
        )]);
        let options = FetchOptions {
            max_bytes: len,
            ..opts()
        };
        let f = fetch(&server.url("/exact"), &options).expect("a body at the limit is fine");
        let expected: Vec<u8> = (0..len).map(large_body_byte).collect();
        assert!(f.body == expected, "body differs from what was sent");
    }

    #[test]
    fn non_utf8_and_compressed_looking_bodies_are_kept_byte_exact() {
        let raw: Vec<u8> = vec![0xff, 0xfe, 0x00, b'a', 0xc3, 0x28, 0x80, b'\n'];
        let server = TestServer::start([
            (
                "/latin1",
                Reply::ok(
                    &[("Content-Type", "text/plain; charset=latin1")],
                    raw.clone(),
                ),
            ),
            (
                "/gz",
                Reply::ok(
                    &[("Content-Encoding", "gzip")],
                    vec![0x1f, 0x8b, 0x08, 0x00],
                ),
            ),
        ]);
        let f = fetch(&server.url("/latin1"), &opts()).expect("fetch non-UTF-8 body");
        assert_eq!(f.body, raw);
        let f = fetch(&server.url("/gz"), &opts()).expect("fetch content-encoded body");
        assert_eq!(f.body, [0x1f, 0x8b, 0x08, 0x00]);
        assert_eq!(header(&f, "content-encoding"), Some("gzip"));
    }

    #[test]
    fn chunked_body_is_transfer_decoded() {
        let server = TestServer::start([(
            "/chunked",
            Reply::Chunked {
                headers: vec![("Content-Type".into(), "text/plain".into())],
                chunks: vec![b"hello, ".to_vec(), vec![0xff, 0x00], b"world".to_vec()],
            },
        )]);
        let f = fetch(&server.url("/chunked"), &opts()).expect("fetch chunked body");
        assert_eq!(f.body, b"hello, \xff\x00world");
        assert_eq!(header(&f, "transfer-encoding"), Some("chunked"));
    }

    #[test]
    fn invalid_urls_and_other_schemes_are_refused() {
        let err = fetch("http://", &opts()).expect_err("no host");
        assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err:?}");
        let err = fetch("not a url", &opts()).expect_err("not a URL");
        assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err:?}");
        for url in ["ftp://example.invalid/x", "file:///etc/passwd"] {
            let err = fetch(url, &opts()).expect_err("only http(s)");
            assert!(
                matches!(err, FetchError::UnsupportedScheme { .. }),
                "{err:?}"
            );
            assert!(err.to_string().starts_with(url));
        }
    }

    #[test]
    fn redirect_to_another_scheme_is_refused() {
        let server =
            TestServer::start([("/away", Reply::redirect(302, "ftp://example.invalid/x"))]);
        let err = fetch(&server.url("/away"), &opts()).expect_err("ftp redirect");
        assert!(matches!(err, FetchError::BadRedirect { .. }), "{err:?}");
    }

    #[test]
    fn refused_connection_and_tls_to_plain_http_fail_cleanly() {
        let port = {
            let server = TestServer::start(Vec::<(String, Reply)>::new());
            server.addr.port()
        };
        let err = fetch(&format!("http://127.0.0.1:{port}/"), &opts())
            .expect_err("nothing listens any more");
        assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");

        let server = TestServer::start([("/", Reply::ok(&[], "plain"))]);
        let url = format!("https://{}/", server.addr);
        let err = fetch(&url, &opts()).expect_err("TLS handshake with a plain HTTP server");
        assert!(
            !matches!(err, FetchError::Timeout { .. }),
            "should fail fast: {err:?}"
        );
    }
}
