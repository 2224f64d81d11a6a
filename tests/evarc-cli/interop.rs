//! Issue 15: the ecosystem's players and citation tools on evarc's output, from the venv made by
//! `tools/interop-venv.sh` (`$EVARC_INTEROP_VENV`, default `$HOME/.cache/evarc/interop-venv`):
//! pywb replays a WARC export as the archived pages, citeproc-py renders the CSL-JSON with a
//! bundled style, rispy parses the RIS. When the venv is missing the tests print a SKIP line,
//! unless `EVARC_REQUIRE_INTEROP=1` (set by `.ci/run`), which makes it a failure.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aws_fixture::{self, DOCUMENT};

/// A provision of the fixture, pinned to its first capture (last updated 2026-05-05).
const PROVISION: &str = "CA-P-011417";
use crate::util::{path_str, Env};

/// The interop venv's `bin`, or None (after a SKIP line) when a tool is missing.
fn interop_bin(tools: &[&str]) -> Option<PathBuf> {
    let venv = std::env::var_os("EVARC_INTEROP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/evarc/interop-venv")
        });
    let bin = venv.join("bin");
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| !bin.join(tool).is_file())
        .collect();
    if missing.is_empty() {
        return Some(bin);
    }
    let required = std::env::var_os("EVARC_REQUIRE_INTEROP").is_some_and(|v| v == "1");
    assert!(
        !required,
        "EVARC_REQUIRE_INTEROP=1 but {} lacks {}: run tools/interop-venv.sh",
        bin.display(),
        missing.join(", ")
    );
    eprintln!(
        "SKIP: {} lacks {} (run tools/interop-venv.sh)",
        bin.display(),
        missing.join(", ")
    );
    None
}

/// `python -c SCRIPT ARGS…` in the venv; panics with its output unless it succeeds.
fn python(bin: &Path, script: &str, args: &[&str]) -> String {
    let output = Command::new(bin.join("python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run the venv's python");
    assert!(
        output.status.success(),
        "python failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("python prints UTF-8")
}

// ---------------------------------------------------------------------------------------------
// pywb

const PAGE_URL: &str = "https://terms.example.org/legal/terms?hl=en";

/// Three distinct versions of one page, captured at these times.
const VERSIONS: [(&str, &str); 3] = [
    ("2026-05-02T10:30:09Z", "first"),
    ("2026-05-09T08:00:00Z", "second"),
    ("2026-05-16T23:59:59Z", "third"),
];

fn page(version: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Terms ({version})</title></head>\n\
         <body><h1>Terms of Service</h1><p id=\"marker\">This is the {version} version of the terms.</p></body></html>\n"
    )
}

/// A running `wayback`, killed when dropped.
struct Wayback {
    child: Child,
    port: u16,
}

impl Drop for Wayback {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Wayback {
    /// Starts `wayback` in `root` on a free loopback port and waits (at most 60 s) until it
    /// answers.
    fn start(bin: &Path, root: &Path) -> Wayback {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(bin.join("wayback"))
            .args(["-b", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wayback");
        let mut wayback = Wayback { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = wayback.child.try_wait() {
                panic!("wayback exited before serving: {status}");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return wayback;
            }
            assert!(
                Instant::now() < deadline,
                "wayback did not listen on 127.0.0.1:{port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `GET path` without following redirects: (status, Content-Type, body).
    fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(Duration::from_secs(60))
            .build();
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let response = match agent.get(&url).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => panic!("GET {url}: {e}"),
        };
        let status = response.status();
        let content_type = response.header("Content-Type").unwrap_or("").to_owned();
        let mut body = Vec::new();
        response
            .into_reader()
            .read_to_end(&mut body)
            .expect("read the body");
        (status, content_type, body)
    }
}

/// 14-digit timestamp of an RFC 3339 UTC time with whole seconds.
fn timestamp(rfc3339: &str) -> String {
    rfc3339.chars().filter(char::is_ascii_digit).collect()
}

/// `wb-manager ARGS…` in `root`; panics with its output unless it succeeds.
fn wb_manager(bin: &Path, root: &Path, args: &[&str]) {
    let output = Command::new(bin.join("wb-manager"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("run wb-manager");
    assert!(
        output.status.success(),
        "wb-manager {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn warc_and_wacz_exports_replay_every_capture_as_the_page_in_pywb() {
    let env = Env::new();
    let mut manifest = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for (at, version) in VERSIONS {
        let name = format!("pages/{version}.html");
        env.write(&name, page(version).as_bytes());
        manifest.push_str(&format!(
            "{at}\tExample Corp\tTerms of Service\t{PAGE_URL}\t{name}\n"
        ));
    }
    let manifest = env.write("manifest.tsv", manifest.as_bytes());
    env.evarc(&["import", "manifest", path_str(&manifest)]).ok();
    // With a checkpoint, the exports carry the log evidence too (inclusion proof records).
    env.evarc(&["checkpoint"]).ok();
    let warc = env.path().join("ev.warc.gz");
    let wacz = env.path().join("ev.wacz");
    for (format, path) in [("warc", &warc), ("wacz", &wacz)] {
        env.evarc(&[
            "export",
            "CA-D-00001",
            "--format",
            format,
            "-o",
            path_str(path),
        ])
        .ok();
    }

    let Some(bin) = interop_bin(&["wb-manager", "wayback"]) else {
        return;
    };
    let root = env.path().join("pywb");
    std::fs::create_dir_all(&root).expect("create the pywb root");
    wb_manager(&bin, &root, &["init", "ev"]);
    wb_manager(&bin, &root, &["add", "ev", path_str(&warc)]);
    wb_manager(&bin, &root, &["init", "evz"]);
    wb_manager(
        &bin,
        &root,
        &["add", "--unpack-wacz", "evz", path_str(&wacz)],
    );
    let wayback = Wayback::start(&bin, &root);

    for collection in ["ev", "evz"] {
        for (at, version) in VERSIONS {
            let ts = timestamp(at);
            let expected = page(version);
            // The exact archived bytes, unrewritten.
            let (status, content_type, body) =
                wayback.get(&format!("/{collection}/{ts}id_/{PAGE_URL}"));
            assert_eq!(status, 200, "{collection}: id_ replay of {ts}");
            assert!(
                content_type.starts_with("text/html"),
                "{collection}: id_ replay of {ts} is {content_type}"
            );
            assert_eq!(
                hex::encode(Sha256::digest(&body)),
                hex::encode(Sha256::digest(expected.as_bytes())),
                "{collection}: id_ replay of {ts} is not the captured page: {}",
                String::from_utf8_lossy(&body)
            );
            // The normal replay: pywb's frame, around the page itself (mp_).
            let (status, content_type, _) = wayback.get(&format!("/{collection}/{ts}/{PAGE_URL}"));
            assert_eq!(status, 200, "{collection}: replay of {ts}");
            assert!(content_type.starts_with("text/html"), "{content_type}");
            let (status, _, body) = wayback.get(&format!("/{collection}/{ts}mp_/{PAGE_URL}"));
            assert_eq!(status, 200, "{collection}: mp_ replay of {ts}");
            let text = String::from_utf8_lossy(&body);
            assert!(
                text.contains(&format!("This is the {version} version of the terms.")),
                "{collection}: replay of {ts} does not show the page: {text}"
            );
        }

        // The TimeMap lists exactly the captures, once each.
        let (status, _, body) = wayback.get(&format!("/{collection}/timemap/link/{PAGE_URL}"));
        assert_eq!(status, 200, "{collection}: timemap");
        let timemap = String::from_utf8_lossy(&body);
        let prefix = format!("/{collection}/");
        let mementos: Vec<String> = timemap
            .split(",\n")
            .filter(|entry| {
                entry
                    .split("rel=\"")
                    .nth(1)
                    .is_some_and(|rel| rel.split('"').next().unwrap_or("").contains("memento"))
            })
            .map(|entry| {
                let start = entry
                    .find(&prefix)
                    .expect("a memento URL in the collection")
                    + prefix.len();
                entry[start..start + 14].to_owned()
            })
            .collect();
        let expected: Vec<String> = VERSIONS.iter().map(|(at, _)| timestamp(at)).collect();
        assert_eq!(mementos, expected, "{collection}: timemap:\n{timemap}");
    }
}

// ---------------------------------------------------------------------------------------------
// Citation managers

/// citeproc-py with its bundled `harvard-cite-them-right` style: the in-text citation and the
/// bibliography entry of the first item of a CSL-JSON array file.
const CITEPROC: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")  # citeproc-py warns that it ignores the `custom` object
from citeproc import CitationStylesStyle, CitationStylesBibliography, Citation, CitationItem, formatter
from citeproc.source.json import CiteProcJSON
items = json.load(open(sys.argv[1], encoding="utf-8"))
style = CitationStylesStyle("harvard-cite-them-right", validate=False)
bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
citation = Citation([CitationItem(items[0]["id"])])
bibliography.register(citation)
print(bibliography.cite(citation, lambda item: None))
for entry in bibliography.bibliography():
    print(str(entry))
"#;

#[test]
fn csl_json_renders_with_its_last_updated_date_in_citeproc_py() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    // The provision is pinned to the first capture, whose last-updated date is recorded
    // (2026-05-05); the document's latest capture has none.
    let dated = env
        .evarc(&[
            "cite",
            PROVISION,
            "--format",
            "csl-json",
            "--accessed",
            "2026-05-20",
        ])
        .ok();
    let json: Value = serde_json::from_slice(&dated.stdout).expect("csl-json is JSON");
    assert_eq!(
        json[0]["issued"],
        serde_json::json!({"date-parts": [[2026, 5, 5]]})
    );
    let undated = env
        .evarc(&[
            "cite",
            DOCUMENT,
            "--format",
            "csl-json",
            "--accessed",
            "2026-05-20",
        ])
        .ok();
    let json: Value = serde_json::from_slice(&undated.stdout).expect("csl-json is JSON");
    assert!(json[0].get("issued").is_none(), "{json}");

    let Some(bin) = interop_bin(&["python"]) else {
        return;
    };
    let file = env.write("dated.json", &dated.stdout);
    assert_eq!(
        python(&bin, CITEPROC, &[path_str(&file)]),
        "(AWS Bedrock, 2026)\n\
         AWS Bedrock (2026) Intellectual Property in Fine-Tuned Models and Custom Model Outputs, \
         AWS Service Terms. Available at: https://aws.amazon.com/service-terms/ \
         (Accessed: May 20, 2026).\n"
    );
    let file = env.write("undated.json", &undated.stdout);
    assert_eq!(
        python(&bin, CITEPROC, &[path_str(&file)]),
        "(AWS Bedrock, no date)\n\
         AWS Bedrock (no date) AWS Service Terms, AWS Bedrock. Available at: https://aws.amazon.com/service-terms/ \
         (Accessed: May 20, 2026).\n"
    );
}

/// rispy: every record of a RIS file as JSON.
const RISPY: &str = r#"
import json, sys, rispy
with open(sys.argv[1], encoding="utf-8") as f:
    print(json.dumps(rispy.load(f), ensure_ascii=False, sort_keys=True))
"#;

#[test]
fn ris_parses_with_rispy() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let ris = env
        .evarc(&[
            "cite",
            PROVISION,
            "--format",
            "ris",
            "--accessed",
            "2026-05-20",
        ])
        .ok();
    let Some(bin) = interop_bin(&["python"]) else {
        return;
    };
    let file = env.write("cite.ris", &ris.stdout);
    let parsed: Value =
        serde_json::from_str(&python(&bin, RISPY, &[path_str(&file)])).expect("rispy JSON");
    assert_eq!(
        parsed,
        serde_json::json!([{
            "type_of_reference": "ELEC",
            "title": "Intellectual Property in Fine-Tuned Models and Custom Model Outputs",
            "secondary_title": "AWS Service Terms",
            "authors": ["AWS Bedrock"],
            "urls": ["https://aws.amazon.com/service-terms/"],
            "date": "2026/05/05/",
            "access_date": "2026/05/20/",
            // No Wayback capture was recorded and no base URL is set: no "Archived at" note.
            "notes": [
                "Captured 2026-05-12T09:51:22Z; SHA-256 492e1601d4d5346d243101b83320edbd8bf3ced242b9b633833c99e42b0c312c; CA-D-00648; CA-P-011417"
            ]
        }])
    );
}
