//! The one line an error is reported in: its causes joined by ": ", each said once.

/// The error and its causes on one line. A cause whose text its outer error already contains
/// (an error that prints its own source, e.g. "reading X: Permission denied (os error 13)"
/// over the `Permission denied (os error 13)` it wraps) is not repeated, nor is an outer text
/// that an inner one starts with ("line 12" over "line 12: …"). Line breaks inside a message
/// (RocksDB's) become "; ".
pub fn render(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = one_line(&cause.to_string());
        if text.is_empty() || parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        if let Some(last) = parts.last_mut() {
            if text.starts_with(last.as_str()) {
                *last = text;
                continue;
            }
        }
        parts.push(text);
    }
    parts.join(": ")
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::render;

    #[derive(Debug, thiserror::Error)]
    #[error("reading x: {source}")]
    struct Reading {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_printed_by_its_outer_error_is_not_repeated() {
        let io = std::io::Error::from_raw_os_error(13);
        let err = anyhow::Error::new(Reading { source: io });
        assert_eq!(render(&err), "reading x: Permission denied (os error 13)");
    }

    #[test]
    fn an_outer_prefix_of_the_inner_message_is_said_once() {
        let err = anyhow::anyhow!("line 12: not a manifest row").context("line 12");
        assert_eq!(render(&err), "line 12: not a manifest row");
    }

    #[test]
    fn line_breaks_become_semicolons() {
        let err = anyhow::anyhow!("first\nsecond\n").context("outer");
        assert_eq!(render(&err), "outer: first; second");
    }
}
