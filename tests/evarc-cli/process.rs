//! Issue 10, the process items: readers beside a writer, a closed stdout pipe, writers queueing
//! for the lock, `import manifest` with a bare file name and deterministic IDs, exit codes and
//! error wording.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::http_server::{Reply, TestServer};
use crate::util::{path_str, redact_between, Env};

/// Distinct small text for writer `i`.
fn body(i: usize) -> Vec<u8> {
    format!("<p>version {i} of the terms</p>\n{}\n", "x".repeat(i * 7)).into_bytes()
}

/// Issue 10 item 1: `verify`, `list` and `show` beside a writer running many `archive`
/// commands (each closes with a flush, its compactions delete table files) never fail. Before
/// the fix, a read-only open that raced a deletion failed with exit 1 ("Corruption: Can't access
/// …sst: No such file or directory") or 3 a few times in a hundred.
#[test]
fn readers_beside_a_writer_never_fail_because_of_the_writer() {
    let env = Env::new();
    let first = env.write("first.html", &body(0));
    let run = env
        .evarc(&[
            "archive",
            path_str(&first),
            "--entity",
            "Writer Co",
            "--document",
            "Terms 0",
            "--url",
            "https://writer.example/0",
        ])
        .ok();
    let sha = run.field("SHA-256:");
    let done = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut failures: Vec<String> = Vec::new();
    let mut reads = 0;
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 1..=60 {
                let file = env.write(&format!("w{i}.html"), &body(i));
                let run = env.evarc(&[
                    "archive",
                    path_str(&file),
                    "--entity",
                    "Writer Co",
                    "--document",
                    &format!("Terms {}", i % 6),
                    "--url",
                    &format!("https://writer.example/{}", i % 6),
                ]);
                assert_eq!(run.code, 0, "writer {i} failed: {}", run.stderr);
                if Instant::now() > deadline {
                    break;
                }
            }
            done.store(true, Ordering::SeqCst);
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = Vec::new();
                    let mut reads = 0;
                    while !done.load(Ordering::SeqCst) {
                        for args in [
                            vec!["verify", sha.as_str()],
                            vec!["list"],
                            vec!["show", "CA-D-00001", "--json"],
                        ] {
                            let run = env.evarc(&args);
                            reads += 1;
                            if run.code != 0 {
                                failures.push(format!(
                                    "{} exit {}: {}",
                                    run.command, run.code, run.stderr
                                ));
                            }
                        }
                    }
                    (reads, failures)
                })
            })
            .collect();
        writer.join().expect("writer thread");
        for reader in readers {
            let (n, f) = reader.join().expect("reader thread");
            reads += n;
            failures.extend(f);
        }
    });
    assert!(reads > 0, "no read ran beside the writer");
    assert!(
        failures.is_empty(),
        "{} of {reads} reads failed beside the writer:\n{}",
        failures.len(),
        failures.join("\n")
    );
    env.evarc(&["verify", "--all"]).ok();
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    drop(reader);
    writer
}

/// Issue 10 item 8: `show … --json | head -c5` ended with "error: Broken pipe", exit 2. A
/// closed standard output ends any command quietly with exit 0.
#[test]
fn closed_stdout_pipe_ends_commands_quietly() {
    let env = Env::new();
    let file = env.write("terms.html", &body(3));
    let sha = env
        .evarc(&[
            "archive",
            path_str(&file),
            "--entity",
            "Pipe Co",
            "--document",
            "Terms",
            "--url",
            "https://pipe.example/",
        ])
        .ok()
        .field("SHA-256:");
    for args in [
        vec!["show", "CA-D-00001", "--json"],
        vec!["show", "CA-D-00001"],
        vec!["list", "--json"],
        vec!["get", sha.as_str()],
        vec!["cite", "CA-D-00001", "--format", "bluebook"],
    ] {
        let output = env
            .command()
            .arg("--archive")
            .arg(env.archive())
            .args(&args)
            .stdout(Stdio::from(closed_pipe()))
            .stderr(Stdio::piped())
            .output()
            .expect("run evarc");
        assert_eq!(
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned()
            ),
            (Some(0), String::new()),
            "evarc {} into a closed pipe",
            args.join(" ")
        );
    }
}

/// Issue 10 (writers queue): 8 `archive` commands started at once on one archive all succeed,
/// each waiting for the writer lock in turn.
#[test]
fn eight_parallel_archive_commands_all_succeed() {
    let env = Env::new();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let file = env.write(&format!("p{i}.html"), &body(100 + i));
            env.command()
                .arg("--archive")
                .arg(env.archive())
                .args(["archive", path_str(&file), "--entity", "Queue Co"])
                .args(["--document", &format!("Page {i}")])
                .args(["--url", &format!("https://queue.example/{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start evarc")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("wait for evarc");
        assert_eq!(
            output.status.code(),
            Some(0),
            "archive {i}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert_eq!(list.lines().count(), 8, "{list}");
    env.evarc(&["verify", "--all"]).ok();
}

/// `--wait 0` keeps the old behaviour: a second writer fails at once, naming the lock.
#[test]
fn second_writer_with_wait_0_fails_at_once_and_waits_otherwise() {
    let env = Env::new();
    if !std::path::Path::new("/proc/locks").exists() {
        println!("note: skipped: /proc/locks is not available");
        return;
    }
    let mut writer = env.spawn_with_stdin(&["archive", "-"]);
    let mut stdin = writer.stdin.take().expect("piped stdin");
    std::io::Write::write_all(&mut stdin, b"a slow upload\n").expect("write to the writer");
    crate::store_cli::wait_for_lock(&env, &mut writer);
    let other = env.write("other.txt", b"second writer\n");
    let started = Instant::now();
    let message = env
        .evarc(&["--wait", "0", "archive", path_str(&other)])
        .one_line_error(2, &["[TMP]/archive", "in use by another evarc process"]);
    assert!(started.elapsed() < Duration::from_secs(10), "{message}");
    let message = env
        .evarc(&["--wait", "1", "archive", path_str(&other)])
        .one_line_error(2, &["in use by another evarc process", "after waiting 1 s"]);
    assert!(started.elapsed() >= Duration::from_secs(1), "{message}");
    // A writer that waits long enough gets the lock once the first one is done.
    let waiting = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| env.evarc(&["--wait", "60", "archive", path_str(&other)]));
        std::thread::sleep(Duration::from_millis(300));
        drop(stdin);
        writer.wait().expect("first writer");
        waiting.join().expect("waiting writer")
    });
    waiting.ok();
}

/// A manifest row for `import manifest`.
fn row(at: &str, entity: &str, title: &str, url: &str, path: &str) -> String {
    format!("{at}\t{entity}\t{title}\t{url}\t{path}\n")
}

const HEADER: &str = "captured_at\tentity\tdocument\tsource_url\tpath\n";

/// Issue 10 item 9: `import manifest m.tsv` (no folder part) failed every row with "cannot
/// read the manifest's folder : No such file".
#[test]
fn import_manifest_with_a_bare_file_name() {
    let env = Env::new();
    env.write("data/a.html", b"<p>alpha</p>\n");
    let manifest = format!(
        "{HEADER}{}",
        row(
            "2026-05-01T10:00:00Z",
            "Bare Co",
            "Alpha",
            "https://bare.example/a",
            "data/a.html"
        )
    );
    env.write("m.tsv", manifest.as_bytes());
    let run = env.evarc(&["import", "manifest", "m.tsv"]).ok();
    assert_eq!(
        run.stdout_text(),
        "CA-D-00001 2026-05-01 10:00:00 UTC sha256:3b46f3c6c3b9c8a0de4b1e7b4b4a95e3dc6a1b6f2b2d4cdb9c5d9db7fa0e1d5b new capture\n"
            .replace(
                "3b46f3c6c3b9c8a0de4b1e7b4b4a95e3dc6a1b6f2b2d4cdb9c5d9db7fa0e1d5b",
                &sha256_hex(b"<p>alpha</p>\n")
            )
    );
    assert_eq!(
        redact_between(&run.stderr, "(", " s)", "[TIME]"),
        "text versions: 1 capture of 1 document indexed, 0 new change records ([TIME] s)\n\
         1 archived, 0 already there, 0 hash mismatches, 0 failed\n"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Issue 10 item 11: the same 300-row manifest imported into three fresh archives gave
/// different document IDs (parallel lanes registered documents by thread timing, largest lane
/// first). Documents are numbered in manifest order: "Doc k" (first row k) is CA-D-{k+1}.
#[test]
fn same_manifest_gives_the_same_ids_in_manifest_order() {
    let source = Env::empty();
    let mut manifest = String::from(HEADER);
    let docs = 40;
    let mut rows = 0;
    // Interleaved rows; documents have 3 to 13 captures, so "largest first" is not manifest
    // order (40 documents, 306 rows: the first 300 are imported).
    for version in 0..13 {
        for k in 0..docs {
            if version < 3 + k % 11 && rows < 300 {
                let path = format!("d{k}/v{version}.html");
                source.write(
                    &path,
                    format!("<p>doc {k} version {version}</p>\n").as_bytes(),
                );
                let at = format!("2026-03-{:02}T{:02}:{:02}:00Z", 1 + version, k % 24, k);
                manifest.push_str(&row(
                    &at,
                    "Order Co",
                    &format!("Doc {k}"),
                    &format!("https://order.example/{k}"),
                    &path,
                ));
                rows += 1;
            }
        }
    }
    assert_eq!(rows, 300);
    let manifest_path = source.write("manifest.tsv", manifest.as_bytes());
    let expected: String = (0..docs)
        .map(|k| format!("CA-D-{:05}  Order Co — Doc {k}", k + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let mut lists = Vec::new();
    for _ in 0..3 {
        let env = Env::new();
        env.evarc(&["import", "manifest", path_str(&manifest_path)])
            .ok();
        let list = env.evarc(&["list"]).ok().stdout_text();
        let ids: String = list
            .lines()
            .map(|l| l.split("  (").next().unwrap_or(l).to_owned())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(ids, expected, "documents not numbered in manifest order");
        lists.push(list);
    }
    assert_eq!(lists[0], lists[1]);
    assert_eq!(lists[1], lists[2]);
}

/// Issue 10 rough edges: a manifest row that is not a row said "line 3: line 3: …".
#[test]
fn manifest_row_error_names_its_line_once() {
    let env = Env::new();
    env.write("a.html", b"<p>a</p>\n");
    let manifest = format!(
        "{HEADER}{}not\ta\trow\n",
        row(
            "2026-05-01T10:00:00Z",
            "Line Co",
            "A",
            "https://line.example/a",
            "a.html"
        )
    );
    let path = env.write("m.tsv", manifest.as_bytes());
    let run = env.evarc(&["import", "manifest", path_str(&path)]).code(2);
    let first = run.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("line 3: not a manifest row: "),
        "{}",
        run.stderr
    );
    assert_eq!(first.matches("line 3").count(), 1, "{first}");
}

/// Issue 10 rough edges: error wording, the problem first and the hint after, one line each.
#[test]
fn errors_say_the_problem_first_and_what_was_expected() {
    let env = Env::new();
    let message = env.evarc(&["show", "deadbeef"]).one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: \"deadbeef\" is neither a record ID nor a snapshot hash: expected a document or provision ID (CA-D-<digits>, CA-P-<digits>) or a SHA-256 or BLAKE3 (64 hex digits, optionally sha256: or blake3: before them)"
    );

    let missing = env.path().join("nowhere");
    let message = env
        .raw(&["--archive", path_str(&missing), "list"])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: no archive at [TMP]/nowhere: the directory does not exist; create it with `evarc init [TMP]/nowhere`"
    );

    let message = env
        .evarc(&["archive", "ftp://files.example/terms.pdf"])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: unsupported URL scheme \"ftp\" in ftp://files.example/terms.pdf: evarc captures http:// and https:// URLs (or give a file path)"
    );
}

/// Issue 10 rough edges: a cause printed by its outer error was printed again
/// ("writing X: failed to persist temporary file: Is a directory (os error 21): Is a directory
/// (os error 21)").
#[test]
fn a_cause_is_printed_once() {
    let env = Env::new();
    let file = env.write("t.txt", b"bytes to get back\n");
    let sha = env
        .evarc(&["archive", path_str(&file)])
        .ok()
        .field("SHA-256:");
    let dir = env.path().join("a-directory");
    std::fs::create_dir_all(dir.join("inside")).expect("create a directory");
    // --force: past the existing-output refusal, to the OS error of writing onto a directory.
    let run = env.evarc(&["get", &sha, "-o", path_str(&dir), "--force"]);
    assert_ne!(run.code, 0, "get into a directory succeeded");
    let message = run.stderr.trim_end().to_owned();
    assert!(!message.contains('\n'), "{message}");
    let os_errors = message.matches("(os error").count();
    assert_eq!(
        os_errors, 1,
        "the cause is printed {os_errors} times: {message}"
    );
}

/// Issue 10 rough edges: `export -o /nonexistent/dir/x.warc` exited 3; a missing output folder
/// is the request's fault (2), said before anything is read.
#[test]
fn export_into_a_missing_folder_is_a_usage_error() {
    let env = Env::new();
    let file = env.write("t.html", &body(1));
    env.evarc(&[
        "archive",
        path_str(&file),
        "--entity",
        "Export Co",
        "--document",
        "T",
        "--url",
        "https://export.example/",
    ])
    .ok();
    let out = env.path().join("no/such/dir/x.warc");
    let message = env
        .evarc(&["export", "CA-D-00001", "-f", "warc", "-o", path_str(&out)])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: the output folder [TMP]/no/such/dir does not exist; create it first or choose another output path"
    );
}

/// Issue 10 rough edges: a TSA answering HTTP 501 gave exit 3; a remote refusal is 2, as for URL
/// capture.
#[test]
fn tsa_refusal_is_a_usage_error() {
    let env = Env::new();
    let server = TestServer::start([(
        "/tsa",
        Reply::status(501, "Not Implemented", &[], "no time-stamps here"),
    )]);
    let url = server.url("/tsa");
    let message = env
        .evarc(&["checkpoint", "--tsa", &url])
        .one_line_error(2, &["refused the request", "HTTP 501 Not Implemented"]);
    assert!(message.contains(&url), "{message}");
}

/// Issue 10 rough edges: Ctrl-C during `import manifest` says how many captures were made
/// durable and which manifest line to resume from; every line printed is durable, and a rerun
/// completes the import.
#[test]
fn ctrl_c_during_import_says_what_is_durable_and_where_to_resume() {
    use std::io::BufRead as _;
    let env = Env::new();
    let mut manifest = String::from(HEADER);
    for i in 0..1500 {
        let path = format!("rows/r{i}.txt");
        env.write(&path, format!("row {i}\n").as_bytes());
        manifest.push_str(&row(
            &format!("2026-04-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
            "Signal Co",
            &format!("Doc {}", i % 10),
            &format!("https://signal.example/{}", i % 10),
            &path,
        ));
    }
    let path = env.write("m.tsv", manifest.as_bytes());
    let mut child = env
        .command()
        .arg("--archive")
        .arg(env.archive())
        .args(["import", "manifest", path_str(&path)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the import");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("read the first line");
    assert!(first.contains("new capture"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read the rest");
    let output = child.wait_with_output().expect("wait for the import");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let printed = 1 + rest.lines().count();
    if output.status.code() == Some(0) {
        println!("note: the import finished before Ctrl-C arrived; nothing to check");
        return;
    }
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let expected_start = format!(
        "interrupted: {printed} captures made durable (0 already there, 0 hash mismatches, 0 failed); every row before manifest line "
    );
    assert!(stderr.starts_with(&expected_start), "{stderr}");
    let resume: usize = stderr[expected_start.len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume line in {stderr}"));
    assert!(
        resume >= 2 && resume <= printed + 1,
        "resume line {resume}, {printed} printed"
    );
    // Every capture printed is recorded: the rerun makes only the others new.
    let rerun = env.evarc(&["import", "manifest", path_str(&path)]).ok();
    let text = rerun.stdout_text();
    assert_eq!(text.lines().count(), 1500, "{}", rerun.stderr);
    assert_eq!(
        text.matches(" new capture\n").count(),
        1500 - printed,
        "{}",
        rerun.stderr
    );
    env.evarc(&["verify", "--all"]).ok();
}

/// `import manifest` refused capture times before 1991 with no way to record them (`archive` has
/// `--force`): `import manifest --force` records them; without it the row is refused, exit 2.
#[test]
fn import_manifest_force_records_an_implausible_capture_time() {
    let env = Env::new();
    env.write("data/old.html", b"<p>old terms</p>\n");
    let manifest = format!(
        "{HEADER}{}",
        row(
            "1985-01-01T00:00:00Z",
            "Old Co",
            "Terms",
            "https://old.example/t",
            "data/old.html"
        )
    );
    env.write("m.tsv", manifest.as_bytes());
    let refused = env.evarc(&["import", "manifest", "m.tsv"]).code(2);
    assert_eq!(refused.stdout_text(), "");
    assert_eq!(
        refused.stderr,
        "line 2: capture time 1985-01-01 00:00:00 UTC is before 1991: refused as implausible\n\
         0 archived, 0 already there, 0 hash mismatches, 1 failed\n"
    );
    let forced = env.evarc(&["import", "manifest", "m.tsv", "--force"]).ok();
    assert_eq!(
        forced.stdout_text(),
        format!(
            "CA-D-00001 1985-01-01 00:00:00 UTC sha256:{} new capture\n",
            sha256_hex(b"<p>old terms</p>\n")
        )
    );
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert!(list.contains("latest 1985-01-01 00:00:00 UTC"), "{list}");
}
