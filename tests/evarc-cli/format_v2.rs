//! An archive written by store format 2 before the library API redesign (issue 11) opens, verifies
//! and cites exactly as the binary that wrote it did: the committed fixture
//! `fixtures/format-v2/format-v2.tar.gz` and the outputs that binary printed for it
//! (`fixtures/format-v2/expected/`, one file per line of `commands.tsv`) were made together by
//! `fixtures/format-v2/make-format-v2.sh`. Stored JSON (`show --json`), log leaves (the proofs'
//! `extra` lines), proofs and every citation format are compared whole.
//!
//! An intended change of an output (an issue that changes a citation on purpose) is blessed with
//! `EVARC_BLESS=1` like the other expected files, and shows as a reviewed diff of `expected/`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::util::{fixtures_dir, path_str, Env};

fn fixture_dir() -> PathBuf {
    fixtures_dir().join("format-v2")
}

/// Unpacks the fixture into a fresh test directory: `archive/` and `checkpoint.txt`.
pub(crate) fn unpack() -> Env {
    let env = Env::empty();
    let tarball = fixture_dir().join("format-v2.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(env.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking {}", tarball.display());
    env
}

/// Runs one command line of `commands.tsv` as the generator did: `evarc --archive A ARGS… >out 2>&1`,
/// then `exit N`, then (for `prove`) the proof file written.
fn replay(env: &Env, name: &str, args: &[String]) -> String {
    let out_path = env.path().join(format!("{name}.out"));
    let out = File::create(&out_path).expect("create the output file");
    let err = out.try_clone().expect("share the output file with stderr");
    let fixture = path_str(env.path());
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{fixture}", fixture))
        .collect();
    let status = env
        .command()
        .arg("--archive")
        .arg(env.archive())
        .args(&args)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .expect("run evarc");
    let mut text = std::fs::read_to_string(&out_path).expect("read the output");
    text.push_str(&format!("exit {}\n", status.code().unwrap_or(-1)));
    if let Some(id) = name.strip_prefix("prove-") {
        let proof = env.path().join(format!("proof-{id}"));
        text.push_str(&std::fs::read_to_string(&proof).unwrap_or_default());
    }
    text.replace(fixture, "{fixture}")
}

/// The certification states when it re-hashed the bytes: that instant is now, not part of the fixture.
fn mask_check_time(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("5. Verification. At ") {
            Some(rest) => match rest.split_once(" UTC ") {
                Some((_, tail)) => format!("5. Verification. At [NOW] UTC {tail}"),
                None => line.to_owned(),
            },
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn commands() -> Vec<(String, Vec<String>)> {
    let list = std::fs::read_to_string(fixture_dir().join("commands.tsv")).expect("commands.tsv");
    list.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split('\t').map(str::to_owned);
            let name = fields.next().expect("a name");
            (name, fields.collect())
        })
        .collect()
}

fn expected_path(name: &str) -> PathBuf {
    fixture_dir().join("expected").join(format!("{name}.txt"))
}

fn compare(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("EVARC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(path, actual).expect("bless an expected file");
        return None;
    }
    let expected = std::fs::read_to_string(path).expect("read an expected file");
    (mask_check_time(&expected) != mask_check_time(actual)).then(|| {
        format!(
            "{}:\n--- expected ---\n{expected}\n--- actual ---\n{actual}",
            path.display()
        )
    })
}

#[test]
fn a_format_2_archive_opens_verifies_and_cites_as_the_binary_that_wrote_it() {
    let env = unpack();
    let commands = commands();
    assert!(
        commands.len() > 60,
        "commands.tsv lists {} commands",
        commands.len()
    );
    let differences: Vec<String> = commands
        .iter()
        .filter_map(|(name, args)| compare(&expected_path(name), &replay(&env, name, args)))
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} outputs differ:\n{}",
        differences.len(),
        commands.len(),
        differences.join("\n")
    );
}

/// The fixture predates the document indexes: the first write indexes it, and a capture named by
/// entity and title only (no URL) finds its document through the index.
#[test]
fn a_format_2_archive_gets_its_document_index_at_the_first_write() {
    let env = unpack();
    let page = env.write(
        "v3.html",
        b"<html><body><p>Version three of the terms. As between you and us, you own your content.</p></body></html>\n",
    );
    let run = env
        .evarc(&[
            "archive",
            path_str(&page),
            "--entity",
            "Example Co",
            "--document",
            "Terms",
            "--captured-at",
            "2026-04-01T00:00:00Z",
        ])
        .ok();
    assert!(
        run.stdout_text().contains("CA-D-00649"),
        "{}",
        run.stdout_text()
    );
    let history = env.evarc(&["history", "CA-D-00649"]).ok();
    assert!(history
        .stdout_text()
        .starts_with("CA-D-00649 Example Co — Terms"));
    assert!(
        history.stdout_text().contains("3 captures"),
        "{}",
        history.stdout_text()
    );
    // A new document of the same publisher still gets the next ID.
    let other = env.write(
        "privacy.html",
        b"<html><body><p>Privacy.</p></body></html>\n",
    );
    let run = env
        .evarc(&[
            "archive",
            path_str(&other),
            "--entity",
            "Example Co",
            "--document",
            "Privacy",
            "--url",
            "https://example.com/privacy",
        ])
        .ok();
    assert!(
        run.stdout_text().contains("CA-D-00651"),
        "{}",
        run.stdout_text()
    );
    assert_eq!(env.evarc(&["verify", "--all"]).ok().code, 0);
}
