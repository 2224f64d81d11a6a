//! The HTTP message block of a WARC `response` record, rebuilt from a recorded exchange.

use evarc_record::model::HttpExchange;

/// Headers that describe the transfer, not the stored payload: the stored bytes are the
/// payload after transfer decoding, so these are dropped and a correct `Content-Length` is
/// written. `Content-Encoding` is kept: evarc stores bodies as sent (it asks for `identity`,
/// and a server that compresses anyway has its compressed bytes stored and hashed).
const TRANSFER_HEADERS: [&str; 4] = [
    "transfer-encoding",
    "content-length",
    "connection",
    "keep-alive",
];

/// `HTTP/1.1 <status> <reason>\r\n`, the recorded headers (minus transfer headers, with CR, LF
/// and NUL replaced by spaces), `Content-Length: <payload_len>\r\n\r\n`.
pub(crate) fn response_head(http: &HttpExchange, payload_len: u64) -> Vec<u8> {
    let reason = if http.reason.trim().is_empty() {
        canonical_reason(http.status)
    } else {
        http.reason.trim()
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", http.status, clean(reason));
    for (name, value) in &http.headers {
        let lower = name.to_ascii_lowercase();
        if TRANSFER_HEADERS.contains(&lower.as_str()) || !is_token(name) {
            continue;
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&clean(value.trim()));
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {payload_len}\r\n\r\n"));
    head.into_bytes()
}

fn clean(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\0') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// An HTTP header name (RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn canonical_reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}
