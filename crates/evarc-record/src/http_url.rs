//! [`HttpUrl`]: the one rule for "an absolute http(s) URL", used wherever evarc takes one (a
//! source URL, a Wayback address, the archive's base URL, a remote server, a time-stamp
//! authority, a Memento lookup, a WARC target URI turned into a source URL).
//!
//! # The rule
//! After surrounding whitespace is trimmed (the trimmed text is the value kept), a URL is
//! accepted when:
//! 1. it starts with `http://` or `https://`, in any letter case (`HTTPS://` too); another
//!    scheme, no scheme (`example.org/x`) or a scheme without `//` (`http:example.org`) is
//!    refused: evarc only fetches and cites the web, and a path is never a URL;
//! 2. a host follows: the authority (up to the first `/`, `?` or `#`), without a `user@` part
//!    and a `:port`, is not empty (`https://`, `http:///x`, `http://:80/` are refused): a
//!    citation must say where the page was;
//! 3. it holds no whitespace, no control character and no bidirectional or invisible format
//!    character (`safe_text::hidden_kind`) anywhere: such characters are not part of a URL
//!    as sent (they are percent-encoded) and would make what a reader sees differ from what
//!    is recorded.
//!
//! Nothing else is judged (percent-encoding, ports, IDNs, paths are taken as given), and
//! nothing is normalised: the value serialises as the same string it was parsed from (trimmed),
//! so stored JSON stays byte-identical.

use std::fmt;
use std::str::FromStr;

use crate::safe_text::{code_point_name, hidden_kind};

/// An absolute http(s) URL under the rule of this module; once one exists it is well-formed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpUrl(String);

/// Why a text is not an [`HttpUrl`]: the value refused and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an absolute http(s) URL: {problem}")]
pub struct HttpUrlError {
    /// The text refused (trimmed).
    pub value: String,
    /// What is wrong with it.
    pub problem: UrlProblem,
}

/// What is wrong with a text that is not an [`HttpUrl`]. The messages read after
/// `invalid <what> "<value>": `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("expected an absolute http(s) URL, got nothing")]
    Empty,
    #[error("expected an absolute http(s) URL (http:// or https://, then a host)")]
    Scheme,
    #[error("expected a host after {scheme}://")]
    NoHost { scheme: String },
    #[error("expected an absolute http(s) URL without whitespace (character {position}; percent-encode it as %20)")]
    Whitespace { position: usize },
    #[error("expected an absolute http(s) URL without control characters (character {position})")]
    Control { position: usize },
    #[error("expected an absolute http(s) URL without hidden characters: {} is {kind} (character {position})", code_point_name(*.code_point))]
    Hidden {
        code_point: char,
        kind: &'static str,
        position: usize,
    },
}

impl HttpUrl {
    /// Checks `text` against the rule (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<HttpUrl, HttpUrlError> {
        let value = text.trim();
        check(value)
            .map(|()| HttpUrl(value.to_owned()))
            .map_err(|problem| HttpUrlError {
                value: value.to_owned(),
                problem,
            })
    }

    /// The URL as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL as given (trimmed).
    pub fn into_string(self) -> String {
        self.0
    }

    /// `http` or `https`, lower-case.
    pub fn scheme(&self) -> &'static str {
        match split_scheme(&self.0) {
            Some(("https", _)) => "https",
            _ => "http",
        }
    }

    /// The host as written (IPv6 literals with their brackets), never empty.
    pub fn host(&self) -> &str {
        split_scheme(&self.0)
            .map(|(_, rest)| host_of(rest))
            .unwrap_or_default()
    }

    /// True when `text` starts with `http://` or `https://` (any letter case): it is meant as
    /// a URL (and is then parsed, and refused if it breaks the rule), not as a file name.
    pub fn has_http_scheme(text: &str) -> bool {
        split_scheme(text).is_some()
    }
}

/// `("http" | "https", rest after "://")` when `text` starts with an http(s) scheme and `//`,
/// in any letter case.
pub fn split_scheme(text: &str) -> Option<(&'static str, &str)> {
    for (scheme, prefix) in [("https", "https://"), ("http", "http://")] {
        if let Some(head) = text.get(..prefix.len()) {
            if head.eq_ignore_ascii_case(prefix) {
                return Some((scheme, &text[prefix.len()..]));
            }
        }
    }
    None
}

/// The host of what follows `scheme://`: the authority without `user@` and `:port`.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.starts_with('[') {
        // An IPv6 literal: up to its closing bracket.
        return match host_port.find(']') {
            Some(end) => &host_port[..=end],
            None => host_port,
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, _port)) => host,
        None => host_port,
    }
}

fn check(value: &str) -> Result<(), UrlProblem> {
    if value.is_empty() {
        return Err(UrlProblem::Empty);
    }
    // The scheme first: text that is no URL at all (`not a url`) is told so.
    let Some((scheme, rest)) = split_scheme(value) else {
        return Err(UrlProblem::Scheme);
    };
    for (i, c) in value.chars().enumerate() {
        let position = i + 1;
        if c.is_whitespace() {
            return Err(UrlProblem::Whitespace { position });
        }
        if c.is_control() {
            return Err(UrlProblem::Control { position });
        }
        if let Some(kind) = hidden_kind(c) {
            return Err(UrlProblem::Hidden {
                code_point: c,
                kind,
                position,
            });
        }
    }
    let host = host_of(rest);
    if host.is_empty() || host == "[]" {
        return Err(UrlProblem::NoHost {
            scheme: scheme.to_owned(),
        });
    }
    Ok(())
}

impl FromStr for HttpUrl {
    type Err = HttpUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HttpUrl::parse(s)
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for HttpUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<HttpUrl> for String {
    fn from(url: HttpUrl) -> String {
        url.0
    }
}

impl serde::Serialize for HttpUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for HttpUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HttpUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_urls_keep_their_text() {
        for (input, kept, scheme, host) in [
            (
                "https://example.org/terms",
                "https://example.org/terms",
                "https",
                "example.org",
            ),
            (
                "http://example.org",
                "http://example.org",
                "http",
                "example.org",
            ),
            (
                "HTTPS://Example.ORG/A?b#c",
                "HTTPS://Example.ORG/A?b#c",
                "https",
                "Example.ORG",
            ),
            ("Http://a", "Http://a", "http", "a"),
            (
                "  https://example.org/x \n",
                "https://example.org/x",
                "https",
                "example.org",
            ),
            (
                "http://127.0.0.1:8080/api",
                "http://127.0.0.1:8080/api",
                "http",
                "127.0.0.1",
            ),
            ("http://[::1]:80/", "http://[::1]:80/", "http", "[::1]"),
            (
                "https://user:pw@host.example/",
                "https://user:pw@host.example/",
                "https",
                "host.example",
            ),
            (
                "https://example.org?q=1",
                "https://example.org?q=1",
                "https",
                "example.org",
            ),
            (
                "https://exämple.org/é%20x",
                "https://exämple.org/é%20x",
                "https",
                "exämple.org",
            ),
            (
                "https://e.org/<a>\"",
                "https://e.org/<a>\"",
                "https",
                "e.org",
            ),
        ] {
            let url = HttpUrl::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(url.as_str(), kept, "{input:?}");
            assert_eq!(url.scheme(), scheme, "{input:?}");
            assert_eq!(url.host(), host, "{input:?}");
            assert_eq!(url.to_string(), kept);
            assert_eq!(input.parse::<HttpUrl>(), Ok(url));
        }
    }

    #[test]
    fn refused_texts_say_why() {
        let scheme = UrlProblem::Scheme;
        let no_host = |s: &str| UrlProblem::NoHost {
            scheme: s.to_owned(),
        };
        for (input, problem) in [
            ("", UrlProblem::Empty),
            ("   ", UrlProblem::Empty),
            ("example.org/privacy", scheme.clone()),
            ("not a url", scheme.clone()),
            ("\u{202e}https://x/", scheme.clone()),
            ("http:// /x", UrlProblem::Whitespace { position: 8 }),
            ("ftp://mirror.example/t", scheme.clone()),
            ("file:///etc/passwd", scheme.clone()),
            ("http:example.org", scheme.clone()),
            ("http:/x", scheme.clone()),
            ("httpé://x", scheme.clone()),
            ("./http://x", scheme.clone()),
            ("https://", no_host("https")),
            ("http:///x", no_host("http")),
            ("http://:80/", no_host("http")),
            ("http://user@/x", no_host("http")),
            ("https://[]/", no_host("https")),
            ("HTTP://?q", no_host("http")),
            ("https://a b/", UrlProblem::Whitespace { position: 10 }),
            ("https://a\u{a0}b/", UrlProblem::Whitespace { position: 10 }),
            ("https://a/\u{7}", UrlProblem::Control { position: 11 }),
            (
                "https://a/\u{202e}x",
                UrlProblem::Hidden {
                    code_point: '\u{202e}',
                    kind: hidden_kind('\u{202e}').unwrap_or_default(),
                    position: 11,
                },
            ),
            (
                "https://a/\u{200b}",
                UrlProblem::Hidden {
                    code_point: '\u{200b}',
                    kind: hidden_kind('\u{200b}').unwrap_or_default(),
                    position: 11,
                },
            ),
        ] {
            let err = HttpUrl::parse(input).expect_err(input);
            assert_eq!(err.problem, problem, "{input:?}");
            assert_eq!(err.value, input.trim());
            assert!(err.to_string().contains(&format!("{:?}", input.trim())));
        }
    }

    #[test]
    fn scheme_detection_is_the_rule_s_first_step() {
        for yes in ["http://x", "HTTPS://x/y", "Http://a", "https://"] {
            assert!(HttpUrl::has_http_scheme(yes), "{yes}");
        }
        for no in [
            "",
            "http:/x",
            "ftp://x",
            "./http://x",
            "https",
            "é",
            "httpé://",
        ] {
            assert!(!HttpUrl::has_http_scheme(no), "{no}");
        }
    }

    #[test]
    fn serde_is_the_same_string() {
        let url = HttpUrl::parse("HTTPS://Example.org/a?b").expect("valid");
        let json = serde_json::to_string(&url).expect("serialise");
        assert_eq!(json, "\"HTTPS://Example.org/a?b\"");
        let back: HttpUrl = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, url);
        let err = serde_json::from_str::<HttpUrl>("\"ftp://x/\"").expect_err("not http");
        assert!(err.to_string().contains("\"ftp://x/\""), "{err}");
    }
}
