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
        let mut cmd = env.command();
        cmd.arg("--archive")
            .arg(env.archive())
            .args(["serve", "--listen", "127.0.0.1:0"])
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
