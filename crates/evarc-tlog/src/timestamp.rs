//! RFC 3161 time-stamping: the request (DER, built here) and a first check of the response.
//!
//! The request asks for a token over `SHA-256(data)` with the TSA's certificate included:
//! ```text
//! TimeStampReq ::= SEQUENCE { version INTEGER (1),
//!     messageImprint SEQUENCE { AlgorithmIdentifier (sha256, NULL), OCTET STRING (32) },
//!     nonce INTEGER, certReq BOOLEAN (TRUE) }
//! ```
//! The response is checked only as far as this crate can without X.509: its status is
//! granted (0) or grantedWithMods (1), a token is present, and the token carries the request's
//! message imprint and nonce. The CMS signature and the TSA's certificate chain are checked by
//! whoever trusts the TSA (`openssl ts -verify`); `docs/transparency-log.md` shows how.

use sha2::{Digest, Sha256};

/// The DER of `AlgorithmIdentifier { id-sha256, NULL }`.
const SHA256_ALGORITHM: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
];

/// A time-stamp response that is not a granted token for the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("the time-stamp response is not DER: {0}")]
    Malformed(String),
    #[error("the time-stamping authority refused the request (PKIStatus {status})")]
    Refused { status: u64 },
    #[error("the time-stamp response carries no token")]
    NoToken,
    #[error("the time-stamp token is not over this data (its message imprint differs)")]
    WrongImprint,
    #[error("the time-stamp token does not carry the request's nonce")]
    WrongNonce,
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER, minimal.
fn der_uint(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut content = Vec::new();
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    der(0x02, &content)
}

/// The DER `MessageImprint` of `data`.
pub fn message_imprint(data: &[u8]) -> Vec<u8> {
    let digest = Sha256::digest(data);
    let mut content = SHA256_ALGORITHM.to_vec();
    content.extend(der(0x04, &digest));
    der(0x30, &content)
}

/// The DER `TimeStampReq` for `data` with `nonce` (drawn by the caller), certReq TRUE.
pub fn request(data: &[u8], nonce: u64) -> Vec<u8> {
    let mut content = der_uint(1);
    content.extend(message_imprint(data));
    content.extend(der_uint(nonce));
    content.extend([0x01, 0x01, 0xff]);
    der(0x30, &content)
}

/// Reads one DER element at the start of `bytes`: (tag, content, rest).
fn element(bytes: &[u8]) -> Result<(u8, &[u8], &[u8]), TimestampError> {
    let bad = |why: &str| TimestampError::Malformed(why.to_owned());
    let (&tag, rest) = bytes.split_first().ok_or_else(|| bad("truncated"))?;
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad("content shorter than its length"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// Checks that `response` (a DER `TimeStampResp`) grants a token over `data` with `nonce`;
/// returns the token (DER `ContentInfo`).
pub fn check_response<'a>(
    response: &'a [u8],
    data: &[u8],
    nonce: u64,
) -> Result<&'a [u8], TimestampError> {
    let (tag, body, _) = element(response)?;
    if tag != 0x30 {
        return Err(TimestampError::Malformed("not a SEQUENCE".into()));
    }
    let (tag, status_info, rest) = element(body)?;
    if tag != 0x30 {
        return Err(TimestampError::Malformed("no PKIStatusInfo".into()));
    }
    let (tag, status, _) = element(status_info)?;
    if tag != 0x02 || status.is_empty() || status.len() > 8 {
        return Err(TimestampError::Malformed("no PKIStatus".into()));
    }
    let status = status
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if status > 1 {
        return Err(TimestampError::Refused { status });
    }
    if rest.is_empty() {
        return Err(TimestampError::NoToken);
    }
    let token_len = rest.len() - element(rest)?.2.len();
    let token = &rest[..token_len];
    if !contains(token, &message_imprint(data)) {
        return Err(TimestampError::WrongImprint);
    }
    if !contains(token, &der_uint(nonce)) {
        return Err(TimestampError::WrongNonce);
    }
    Ok(token)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
