//! Running `evarc serve` on a test archive and talking HTTP to it.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};

use crate::util::Env;

/// A running `evarc serve --listen 127.0.0.1:0`; stopped (by its own handle) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(env: &Env) -> Server {
        Self::start_with(env, &[])
    }

    /// `evarc serve --listen 127.0.0.1:0` with more options (`--recheck-after 0` …).
    pub fn start_with(env: &Env, options: &[&str]) -> Server {
        let mut cmd = env.command();
        cmd.arg("--archive")
            .arg(env.archive())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start evarc serve");
        let stdout = child.stdout.take().expect("serve's stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read serve's first line");
        let base = line
            .split(" at ")
            .nth(1)
            .unwrap_or_else(|| panic!("serve prints `Serving … at http://ADDR/`, got {line:?}"))
            .trim()
            .trim_end_matches('/')
            .to_owned();
        Server { child, base }
    }

    /// GET `path` (sent as is, no redirects followed) with extra request headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let mut request = agent.get(&format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = response.all(&n).join(", ");
                (n, v)
            })
            .collect();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).expect("read the body");
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.get_with(path, &[])
    }

    /// GET with the request target sent byte for byte (no client-side `..` resolution or
    /// encoding): the status code and the body.
    pub fn get_raw(&self, target: &str) -> (u16, String) {
        use std::io::{Read as _, Write as _};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the server");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("set a read timeout");
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send the request");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("read the answer");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line for {target}: {answer:?}"));
        (status, answer)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The text of `<pre … id="citation-record">…</pre>`, HTML entities decoded.
pub fn citation_block(page: &str) -> String {
    let start = page
        .find("id=\"citation-record\">")
        .expect("the page has a Citation Record block")
        + "id=\"citation-record\">".len();
    let end = start + page[start..].find("</pre>").expect("the block ends");
    unescape(&page[start..end])
}

pub fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
