//! A real S3 server for the tests (issue 14): `s3s-fs` (crates.io, 0.14.1) on a free loopback
//! port with a temporary root directory. .ci/run installs it under
//! `$HOME/.cache/evarc/s3s-fs/bin`; `EVARC_S3S_FS` names another binary. Without it, the S3 tests
//! skip saying so, unless `EVARC_REQUIRE_S3=1` (CI) makes its absence a failure.
//!
//! Included by the store and CLI test binaries with `#[path]`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "evarc-test-access";
/// The secret key the server accepts.
pub const SECRET_KEY: &str = "evarc-test-secret-key-0123456789";
/// The bucket every test uses (each with its own prefix).
pub const BUCKET: &str = "evarc-test";

/// A running `s3s-fs`.
pub struct S3Server {
    child: Option<Child>,
    root: tempfile::TempDir,
    port: u16,
    binary: PathBuf,
}

/// The s3s-fs binary, if installed.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("EVARC_S3S_FS").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let cached = Path::new(&home).join(".cache/evarc/s3s-fs/bin/s3s-fs");
        if cached.is_file() {
            return Some(cached);
        }
    }
    let found = Command::new("s3s-fs")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then(|| PathBuf::from("s3s-fs"))
}

/// True when the S3 tests must run (CI).
pub fn required() -> bool {
    std::env::var("EVARC_REQUIRE_S3").is_ok_and(|v| v == "1")
}

impl S3Server {
    /// Starts a server with the test bucket created, or `None` (after saying why) when s3s-fs
    /// is not installed and not required.
    pub fn start(test: &str) -> Option<S3Server> {
        let Some(binary) = binary() else {
            assert!(
                !required(),
                "EVARC_REQUIRE_S3=1 but s3s-fs is not installed (see .ci/run)"
            );
            eprintln!(
                "SKIPPED {test}: s3s-fs is not installed (cargo install --locked s3s-fs --version 0.14.1 --features binary, or set EVARC_S3S_FS)"
            );
            return None;
        };
        let root = tempfile::Builder::new()
            .prefix("evarc-s3s-")
            .tempdir()
            .expect("create the S3 server's root");
        std::fs::create_dir_all(root.path().join(BUCKET)).expect("create the test bucket");
        let port = free_port();
        let mut server = S3Server {
            child: None,
            root,
            port,
            binary,
        };
        server.restart();
        Some(server)
    }

    /// Starts (again) the server on the same port and root.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        // A watchdog shell kills the server when the test process is gone (a static server
        // outlives every test and is never dropped, nor is its temporary root): then it also
        // removes the root. Stopped by `kill` (TERM), it leaves the root to `restart` or Drop.
        let script = "\"$@\" & child=$!; trap 'kill -9 $child 2>/dev/null; exit 0' TERM INT; \
                      while kill -0 $PARENT 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
                      kill -9 $child 2>/dev/null; wait $child; \
                      if ! kill -0 $PARENT 2>/dev/null; then rm -rf -- \"$ROOT\"; fi";
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("s3s-fs-watchdog")
            .arg(&self.binary)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.root.path())
            .env("PARENT", std::process::id().to_string())
            .env("ROOT", self.root.path())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server at once (SIGKILL to the server, then the watchdog).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The watchdog's TERM trap kills the server with -9 first.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the server keeps the objects (one directory per bucket).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The environment a client needs: endpoint, credentials, region, plain HTTP allowed.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A prefix no other test uses.
pub fn unique_prefix(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
