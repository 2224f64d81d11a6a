//! tests/s3_server.rs must not leak its temporary root: a server kept in a static is never
//! dropped, so the watchdog removes the root once the test process is gone.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::s3_server::S3Server;

const PROBE_VAR: &str = "EVARC_S3S_LEAK_PROBE";

/// Run by the test below in a child process: starts a server, notes its root, and exits
/// without dropping it (as a test process with a static server does).
#[test]
#[ignore = "a helper process of s3s_root_is_removed_once_the_test_process_is_gone"]
fn s3s_leak_probe_process() {
    let note = std::env::var_os(PROBE_VAR).expect("run by the test below");
    let server = S3Server::start("s3s_leak_probe_process").expect("s3s-fs is installed");
    assert!(server.root().is_dir());
    std::fs::write(&note, server.root().as_os_str().as_encoded_bytes()).expect("note the root");
    std::mem::forget(server);
    std::process::exit(0);
}

#[test]
fn s3s_root_is_removed_once_the_test_process_is_gone() {
    if crate::s3_server::binary().is_none() {
        assert!(
            !crate::s3_server::required(),
            "EVARC_REQUIRE_S3=1 but no s3s-fs"
        );
        eprintln!("SKIPPED s3s_root_is_removed_once_the_test_process_is_gone: no s3s-fs");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let note = dir.path().join("root");
    let status = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--ignored",
            "--exact",
            "s3_server_cleanup::s3s_leak_probe_process",
        ])
        .env(PROBE_VAR, &note)
        .status()
        .expect("run the probe process");
    assert!(status.success(), "the probe process failed: {status}");
    let root = PathBuf::from(std::fs::read_to_string(&note).expect("the probe noted its root"));
    assert!(root.starts_with(std::env::temp_dir()), "{}", root.display());
    // The watchdog polls every 0.5 s.
    let deadline = Instant::now() + Duration::from_secs(15);
    while root.exists() {
        assert!(
            Instant::now() < deadline,
            "{} is still there 15 s after its test process ended",
            root.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
