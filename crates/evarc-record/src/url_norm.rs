//! URL normalisation for matching: two spellings of one address compare equal.

/// Normalises a URL for comparison: scheme and host lower-cased, the default port of `http`
/// (80) and `https` (443) dropped, and a trailing slash of the path dropped (`/a/` → `/a`, `/` →
/// empty). Query and fragment are kept as they are. Text without `scheme://` is only trimmed
/// and has its trailing slash dropped, so a partial URL can still be searched for.
pub fn normalise_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return drop_trailing_slash(url).to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    // A port follows the last colon, unless that colon is inside an IPv6 literal.
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && port.chars().all(|c| c.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (host_port, None),
    };
    let default_port = match scheme.as_str() {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    };
    let port = port.filter(|p| !p.is_empty() && Some(*p) != default_port);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, query) = tail.split_at(path_end);
    let mut out = format!("{scheme}://");
    if let Some(user) = userinfo {
        out.push_str(user);
        out.push('@');
    }
    out.push_str(&host.to_lowercase());
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    out.push_str(drop_trailing_slash(path));
    out.push_str(query);
    out
}

fn drop_trailing_slash(path: &str) -> &str {
    path.strip_suffix('/').unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::normalise_url;

    #[test]
    fn spellings_of_one_address_normalise_alike() {
        let want = "https://aws.amazon.com/service-terms";
        for spelling in [
            "https://aws.amazon.com/service-terms/",
            "HTTPS://AWS.Amazon.COM/service-terms",
            "https://aws.amazon.com:443/service-terms/",
            " https://aws.amazon.com/service-terms ",
        ] {
            assert_eq!(normalise_url(spelling), want, "{spelling}");
        }
        assert_eq!(normalise_url("http://x.test:80/"), "http://x.test");
        assert_eq!(
            normalise_url("http://x.test:8080/a/"),
            "http://x.test:8080/a"
        );
        assert_eq!(normalise_url("https://x.test:80/"), "https://x.test:80");
        assert_eq!(
            normalise_url("https://x.test/A/?q=B"),
            "https://x.test/A?q=B"
        );
        assert_eq!(normalise_url("http://[::1]:80/"), "http://[::1]");
        assert_eq!(normalise_url("aws.amazon.com/"), "aws.amazon.com");
    }
}
