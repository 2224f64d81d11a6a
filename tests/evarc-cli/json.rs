//! A small JSON reader for checking `--json` outputs (the CLI crate has no JSON dev-dependency).
//!
//! Strict enough for tests: it parses what `serde_json` writes and panics, naming the position,
//! on anything else.

use std::fmt;

/// A parsed JSON value; object members keep their order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole document (surrounding whitespace allowed).
    #[track_caller]
    pub fn parse(text: &str) -> Json {
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
        };
        let value = parser.value();
        parser.space();
        assert!(
            parser.at == parser.chars.len(),
            "trailing characters after JSON at {}: {text}",
            parser.at
        );
        value
    }

    /// Follows a path of object keys and array indices (`"captures/0/http/status"`).
    #[track_caller]
    pub fn at(&self, path: &str) -> &Json {
        let mut value = self;
        for step in path.split('/').filter(|s| !s.is_empty()) {
            value = match value {
                Json::Object(members) => members
                    .iter()
                    .find(|(k, _)| k == step)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("no key {step:?} (path {path:?}) in {value}")),
                Json::Array(items) => {
                    let index: usize = step
                        .parse()
                        .unwrap_or_else(|_| panic!("{step:?} is not an array index in {path:?}"));
                    items
                        .get(index)
                        .unwrap_or_else(|| panic!("index {index} out of range (path {path:?})"))
                }
                other => panic!("cannot index {other} with {step:?} (path {path:?})"),
            };
        }
        value
    }

    /// The string at `path`.
    #[track_caller]
    pub fn str(&self, path: &str) -> &str {
        match self.at(path) {
            Json::String(s) => s,
            other => panic!("{path:?} is {other}, not a string"),
        }
    }

    /// The number at `path`, as an integer.
    #[track_caller]
    pub fn int(&self, path: &str) -> i64 {
        match self.at(path) {
            // Test values are small integers.
            Json::Number(n) if n.fract() == 0.0 => *n as i64,
            other => panic!("{path:?} is {other}, not an integer"),
        }
    }

    /// The array at `path`.
    #[track_caller]
    pub fn array(&self, path: &str) -> &[Json] {
        match self.at(path) {
            Json::Array(items) => items,
            other => panic!("{path:?} is {other}, not an array"),
        }
    }

    pub fn is_null(&self, path: &str) -> bool {
        matches!(self.at(path), Json::Null)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => write!(f, "{s:?}"),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(members) => {
                f.write_str("{")?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k:?}:{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn space(&mut self) {
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| matches!(c, ' ' | '\n' | '\r' | '\t'))
        {
            self.at += 1;
        }
    }

    fn peek(&self) -> char {
        *self
            .chars
            .get(self.at)
            .unwrap_or_else(|| panic!("unexpected end of JSON"))
    }

    fn expect(&mut self, word: &str) {
        for c in word.chars() {
            assert_eq!(self.peek(), c, "malformed JSON at {}", self.at);
            self.at += 1;
        }
    }

    fn value(&mut self) -> Json {
        self.space();
        match self.peek() {
            'n' => {
                self.expect("null");
                Json::Null
            }
            't' => {
                self.expect("true");
                Json::Bool(true)
            }
            'f' => {
                self.expect("false");
                Json::Bool(false)
            }
            '"' => Json::String(self.string()),
            '[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.peek() == ']' {
                    self.at += 1;
                    return Json::Array(items);
                }
                loop {
                    items.push(self.value());
                    self.space();
                    match self.peek() {
                        ',' => self.at += 1,
                        ']' => {
                            self.at += 1;
                            return Json::Array(items);
                        }
                        c => panic!("expected , or ] at {}, found {c:?}", self.at),
                    }
                }
            }
            '{' => {
                self.at += 1;
                let mut members = Vec::new();
                self.space();
                if self.peek() == '}' {
                    self.at += 1;
                    return Json::Object(members);
                }
                loop {
                    self.space();
                    let key = self.string();
                    self.space();
                    self.expect(":");
                    members.push((key, self.value()));
                    self.space();
                    match self.peek() {
                        ',' => self.at += 1,
                        '}' => {
                            self.at += 1;
                            return Json::Object(members);
                        }
                        c => panic!("expected , or }} at {}, found {c:?}", self.at),
                    }
                }
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Json {
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        Json::Number(
            text.parse()
                .unwrap_or_else(|_| panic!("malformed JSON number {text:?} at {start}")),
        )
    }

    fn string(&mut self) -> String {
        self.expect("\"");
        let mut out = String::new();
        loop {
            let c = self.peek();
            self.at += 1;
            match c {
                '"' => return out,
                '\\' => {
                    let escaped = self.peek();
                    self.at += 1;
                    match escaped {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let unit = self.hex4();
                            let code = if (0xD800..0xDC00).contains(&unit) {
                                self.expect("\\u");
                                let low = self.hex4();
                                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                unit
                            };
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        c => panic!("bad escape \\{c} at {}", self.at),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> u32 {
        let text: String = self.chars[self.at..self.at + 4].iter().collect();
        self.at += 4;
        u32::from_str_radix(&text, 16).unwrap_or_else(|_| panic!("bad \\u escape {text:?}"))
    }
}
