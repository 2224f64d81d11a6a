//! Running the real `evarc` binary in a fresh temporary directory, and comparing its output.
//!
//! Every command gets `--archive <tmp>/archive` (unless a test asks for the raw command line),
//! and `HOME`, `EVARC_ARCHIVE` and `XDG_DATA_HOME` pointing into the temporary directory, so no
//! test ever touches the user's default archive.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary under test.
pub const EVARC: &str = env!("CARGO_BIN_EXE_evarc");

/// Set to `1` to (re)write the expected files from the binary's current output.
const BLESS_VAR: &str = "EVARC_BLESS";

/// A fresh temporary directory with an archive path inside it (not created until `init`).
pub struct Env {
    dir: tempfile::TempDir,
    /// The bucket URL of the archive, when `Env::new` made it on S3.
    blobs: Option<String>,
}

impl Env {
    /// A temporary directory only; the archive does not exist yet.
    pub fn empty() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("evarc-cli-test-")
            .tempdir()
            .expect("create a temporary directory for the test");
        std::fs::create_dir_all(dir.path().join("home")).expect("create the test HOME");
        Env { dir, blobs: None }
    }

    /// A temporary directory with an initialised archive at `archive()`. In the `cli_s3` test
    /// binary the archive keeps its snapshot bytes in a bucket of a real S3 server (issue 14).
    pub fn new() -> Env {
        let mut env = Env::empty();
        match blobs_url(&env) {
            Some(url) => {
                env.raw(&["init", path_str(&env.archive()), "--blobs", &url])
                    .ok();
                // For `flip_chunk_value`, which knows only the archive's path.
                env.write(".blobs-url", url.as_bytes());
                env.blobs = Some(url);
            }
            None => {
                env.raw(&["init", path_str(&env.archive())]).ok();
            }
        };
        env
    }

    /// `s3://…` when the archive keeps its snapshot bytes on the test S3 server.
    #[allow(dead_code)] // Used by the cli_s3 binary only.
    pub fn blobs(&self) -> Option<&str> {
        self.blobs.as_deref()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The archive every [`Env::evarc`] command names with `--archive`.
    pub fn archive(&self) -> PathBuf {
        self.path().join("archive")
    }

    /// Writes a file into the temporary directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the parent of a test file");
        }
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }

    /// `evarc` with the test environment but no `--archive` (and the temp dir as working dir).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(EVARC);
        cmd.current_dir(self.path())
            .env("HOME", self.path().join("home"))
            .env("XDG_DATA_HOME", self.path().join("home/.local/share"))
            .env("EVARC_ARCHIVE", self.path().join("env-archive-never-used"))
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Some(server) = s3() {
            cmd.envs(server.env());
        }
        cmd
    }

    /// `evarc --archive <archive> ARGS…`
    pub fn evarc(&self, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.arg("--archive").arg(self.archive()).args(args);
        Run::capture(self, args, cmd, None)
    }

    /// `evarc --archive <archive> ARGS…` with `stdin` on standard input.
    pub fn evarc_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut cmd = self.command();
        cmd.arg("--archive").arg(self.archive()).args(args);
        Run::capture(self, args, cmd, Some(stdin))
    }

    /// `evarc ARGS…` without `--archive`.
    pub fn raw(&self, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.args(args);
        Run::capture(self, args, cmd, None)
    }

    /// Starts `evarc --archive <archive> ARGS…` with piped standard input, without waiting.
    pub fn spawn_with_stdin(&self, args: &[&str]) -> Child {
        let mut cmd = self.command();
        cmd.arg("--archive")
            .arg(self.archive())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("start evarc")
    }

    /// Replaces this test's temporary paths with `[TMP]` so outputs compare across runs.
    pub fn normalize(&self, text: &str) -> String {
        let real = self
            .path()
            .canonicalize()
            .unwrap_or_else(|_| self.path().to_owned());
        text.replace(path_str(self.path()), "[TMP]")
            .replace(path_str(&real), "[TMP]")
    }

    /// What the archive holds, as `verify --all` and `list` print it: compared before and after
    /// a refused command to show the command changed nothing.
    pub fn state(&self) -> String {
        let verify = self.evarc(&["verify", "--all"]);
        let list = self.evarc(&["list"]).ok();
        format!(
            "verify --all (exit {}):\n{}list:\n{}",
            verify.code,
            verify.stdout_text(),
            list.stdout_text()
        )
    }
}

/// The S3 server of the `cli_s3` test binary (started once, shared by its tests); `None` in the
/// `cli` binary, or when s3s-fs is not installed (the tests then run locally, saying so).
pub fn s3() -> Option<&'static crate::s3_server::S3Server> {
    if !crate::BLOBS_ON_S3 {
        return None;
    }
    static SERVER: std::sync::OnceLock<Option<crate::s3_server::S3Server>> =
        std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| crate::s3_server::S3Server::start("the cli_s3 tests on a bucket"))
        .as_ref()
}

/// `s3://evarc-test/PREFIX` for a new archive of this test run, when on S3.
pub fn blobs_url(env: &Env) -> Option<String> {
    s3()?;
    let name = env
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(format!(
        "s3://{}/{}",
        crate::s3_server::BUCKET,
        crate::s3_server::unique_prefix(&name)
    ))
}

/// A path as UTF-8 (test paths always are).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// One finished run of the binary.
pub struct Run {
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub code: i32,
    pub command: String,
}

impl Run {
    fn capture(env: &Env, args: &[&str], mut cmd: Command, stdin: Option<&[u8]>) -> Run {
        let output = match stdin {
            None => cmd.output().expect("run evarc"),
            Some(bytes) => {
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = cmd.spawn().expect("start evarc");
                let mut pipe = child.stdin.take().expect("stdin is piped");
                let bytes = bytes.to_vec();
                // A writer thread, so a large input cannot deadlock against a full stdout pipe.
                let writer = std::thread::spawn(move || {
                    // The child may exit without reading everything (a refusal): not our error.
                    let _ = pipe.write_all(&bytes);
                });
                let output = child.wait_with_output().expect("wait for evarc");
                writer.join().expect("stdin writer thread");
                output
            }
        };
        Run::from_output(env, args, output)
    }

    pub fn from_output(env: &Env, args: &[&str], output: Output) -> Run {
        Run {
            stdout: output.stdout,
            stderr: env.normalize(&String::from_utf8_lossy(&output.stderr)),
            code: output.status.code().unwrap_or(-1),
            command: format!("evarc {}", env.normalize(&args.join(" "))),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.code,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        )
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn ok(self) -> Run {
        self.code(0)
    }

    /// Asserts this exit code.
    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code,
            expected,
            "unexpected exit code from {}",
            self.describe()
        );
        self
    }

    /// Asserts a refused request: exit `code`, nothing on stdout, exactly one line on stderr
    /// starting with `error: ` and containing each of `needles`. Returns the message.
    #[track_caller]
    pub fn one_line_error(self, code: i32, needles: &[&str]) -> String {
        let run = self.code(code);
        assert!(
            run.stdout.is_empty(),
            "a refused command printed on stdout: {}",
            run.describe()
        );
        let message = run.stderr.strip_suffix('\n').unwrap_or(&run.stderr);
        assert!(
            !message.contains('\n') && message.starts_with("error: "),
            "expected exactly one `error: …` line on stderr: {}",
            run.describe()
        );
        for needle in needles {
            assert!(
                message.contains(needle),
                "the error message lacks {needle:?}: {}",
                run.describe()
            );
        }
        message.to_owned()
    }

    /// Standard output as UTF-8 (panics otherwise).
    #[track_caller]
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone())
            .unwrap_or_else(|_| panic!("stdout is not UTF-8: {}", self.describe()))
    }

    /// The value after `label` on the first stdout line that starts with it, trimmed.
    #[track_caller]
    pub fn field(&self, label: &str) -> String {
        let text = self.stdout_text();
        text.lines()
            .find_map(|line| line.strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no line starting with {label:?}: {}", self.describe()))
    }
}

/// Compares `actual` with the committed file `tests/evarc-cli/expected/<name>`, byte for byte.
/// With `EVARC_BLESS=1` the file is written instead.
#[track_caller]
pub fn assert_expected(name: &str, actual: &[u8]) {
    let path = expected_dir().join(name);
    if std::env::var_os(BLESS_VAR).is_some_and(|v| v == "1") {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the expected directory");
        }
        std::fs::write(&path, actual).expect("write an expected file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read expected file {} ({e}); generate it with {BLESS_VAR}=1, then review it",
            path.display()
        )
    });
    if expected != actual {
        let expected = String::from_utf8_lossy(&expected);
        let actual = String::from_utf8_lossy(actual);
        let first = expected
            .split_inclusive('\n')
            .zip(actual.split_inclusive('\n'))
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "output differs from {} (first difference at line {}):\n--- expected ---\n{expected}\n--- actual ---\n{actual}",
            path.display(),
            first + 1
        );
    }
}

/// `tests/evarc-cli/expected/`.
pub fn expected_dir() -> PathBuf {
    test_dir().join("expected")
}

/// `tests/evarc-cli/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    test_dir().join("fixtures")
}

fn test_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/evarc-cli")
}

/// Replaces the tool's own version (`evarc 0.1.0`) by `evarc [VERSION]`, so a release does not
/// change the expected outputs that name the tool.
pub fn redact_version(text: &str) -> String {
    text.replace(
        &format!("evarc {}", env!("CARGO_PKG_VERSION")),
        "evarc [VERSION]",
    )
}

/// Replaces every line that starts with `label` by `label` + `replacement`.
pub fn redact_line(text: &str, label: &str, replacement: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.starts_with(label) {
                let end = if line.ends_with('\n') { "\n" } else { "" };
                format!("{label}{replacement}{end}")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// Replaces the text between `start` and the next `end` (exclusive of both), everywhere.
pub fn redact_between(text: &str, start: &str, end: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        let after = &rest[i + start.len()..];
        let Some(j) = after.find(end) else { break };
        out.push_str(&rest[..i + start.len()]);
        out.push_str(replacement);
        rest = &after[j..];
    }
    out.push_str(rest);
    out
}

/// Deterministic incompressible bytes (xorshift64*), different for each `seed`.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The BLAKE3 test-vector input: `len` bytes of 0, 1, …, 250, 0, 1, …
pub fn vector_input(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Flips one byte of the archive's RocksDB files where `needle` is stored verbatim: in a table
/// file (`*.sst`) when one holds it, else in the write-ahead log (`*.log`). Returns the file.
/// The archive must not be open.
#[track_caller]
pub fn flip_stored_byte(archive: &Path, needle: &[u8]) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(archive)
        .expect("list the archive directory")
        .map(|e| e.expect("archive directory entry").path())
        .collect();
    files.sort();
    for ext in ["sst", "log"] {
        for file in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == ext))
        {
            let mut bytes = std::fs::read(file).expect("read an archive file");
            if let Some(at) = find(&bytes, needle) {
                bytes[at + needle.len() / 2] ^= 0x5a;
                std::fs::write(file, &bytes).expect("write the damaged archive file");
                return file.clone();
            }
        }
    }
    // An archive on a bucket: the bytes are in an object of the S3 server's (issue 14).
    for object in bucket_objects(archive) {
        let mut bytes = std::fs::read(&object).expect("read an object");
        if let Some(at) = find(&bytes, needle) {
            bytes[at + needle.len() / 2] ^= 0x5a;
            std::fs::write(&object, &bytes).expect("write the damaged object");
            let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
            return object;
        }
    }
    panic!(
        "no *.sst or *.log file in {} holds the bytes to damage",
        archive.display()
    );
}

/// The object files (on the test S3 server's disk) of the bucket prefix of the archive at
/// `archive`, when `Env::new` made it on S3; none otherwise.
fn bucket_objects(archive: &Path) -> Vec<PathBuf> {
    let url = archive
        .parent()
        .and_then(|dir| std::fs::read_to_string(dir.join(".blobs-url")).ok());
    let (Some(server), Some(url)) = (s3(), url) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack = vec![server.root().join(url.trim_start_matches("s3://"))];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Damages the stored value of chunk `key` (its BLAKE3, 64 hex digits) in the archive's table
/// files: finds the entry whose key is followed by RocksDB's 8-byte sequence/type trailer and a
/// zstd-coded value (a codec byte, then the zstd magic: a chunk coded whole or against a similar
/// chunk, or a delta), and flips a byte of the value.
/// The archive must not be open. Returns the file damaged.
#[track_caller]
pub fn flip_chunk_value(archive: &Path, key_hex: &str) -> PathBuf {
    let key: Vec<u8> = (0..key_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key_hex[i..i + 2], 16).expect("a hex chunk key"))
        .collect();
    assert_eq!(key.len(), 32, "a chunk key is 32 bytes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(archive)
        .expect("list the archive directory")
        .map(|e| e.expect("archive directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    files.sort();
    for file in files {
        let mut bytes = std::fs::read(&file).expect("read a table file");
        let mut from = 0;
        while let Some(found) = find(&bytes[from..], &key) {
            let value = from + found + key.len() + 8;
            let is_zstd = bytes.get(value + 1..value + 5) == Some(&[0x28, 0xB5, 0x2F, 0xFD][..]);
            if is_zstd && bytes.len() > value + 20 {
                bytes[value + 16] ^= 0x5a;
                std::fs::write(&file, &bytes).expect("write the damaged table file");
                return file;
            }
            from += found + 1;
        }
    }
    // An archive on a bucket: the chunk is an object of the S3 server's (issue 14); the local
    // cache is dropped so that the next read fetches the damaged object.
    let hex = key_hex.to_ascii_lowercase();
    for object in bucket_objects(archive) {
        if object
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == hex)
            && object
                .parent()
                .is_some_and(|p| p.ends_with(format!("chunks/{}", &hex[..2])))
        {
            let mut bytes = std::fs::read(&object).expect("read the chunk object");
            bytes[16] ^= 0x5a;
            std::fs::write(&object, &bytes).expect("write the damaged chunk object");
            let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
            return object;
        }
    }
    panic!(
        "no table file in {} holds chunk {key_hex} (is it still only in the write-ahead log?)",
        archive.display()
    );
}
