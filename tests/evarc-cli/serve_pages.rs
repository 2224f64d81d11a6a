//! Issue 12 (pages): evidence packages as downloads, change records on pages and in feeds and
//! packages, and the Memento URL index.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use crate::aws_fixture::{self, DOCUMENT};
use crate::serve_util::Server;
use crate::util::{path_str, Env};

const PROVISION: &str = "CA-P-011417";

/// `evarc export ID --format F -o OUT` with `SOURCE_DATE_EPOCH` set to now: the bagging date
/// (the only clock-derived field of a package) is then today, as the server's.
fn export(env: &Env, id: &str, format: &str, out: &Path) {
    let mut cmd = env.command();
    cmd.env(
        "SOURCE_DATE_EPOCH",
        chrono::Utc::now().timestamp().to_string(),
    )
    .arg("--archive")
    .arg(env.archive())
    .args(["export", id, "--format", format, "-o", path_str(out)]);
    let output = cmd.output().expect("run evarc export");
    assert!(
        output.status.success(),
        "evarc export {id} --format {format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file of a directory tree, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read the bag") {
            let entry = entry.expect("bag entry");
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("file type").is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.insert(name, std::fs::read(entry.path()).expect("read a bag file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// Every file of a ZIP, by path.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP file");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).expect("a ZIP entry");
        let mut content = Vec::new();
        file.read_to_end(&mut content).expect("read a ZIP entry");
        out.insert(file.name().to_owned(), content);
    }
    out
}

#[test]
fn serve_package_downloads_are_the_bytes_evarc_export_writes() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    env.evarc(&["checkpoint"]).ok();
    let server = Server::start(env);
    for id in [PROVISION, DOCUMENT] {
        let page = server.get(&format!("/{id}")).text();
        for suffix in [".warc.gz", ".wacz", ".bag.zip"] {
            assert!(
                page.contains(&format!("<a href=\"/export/{id}{suffix}\">")),
                "the page of {id} offers {suffix}:\n{page}"
            );
        }

        let warc = server.get(&format!("/export/{id}.warc.gz"));
        assert_eq!(warc.status, 200, "{}", warc.text());
        assert_eq!(warc.header("content-type"), Some("application/gzip"));
        assert_eq!(
            warc.header("content-disposition"),
            Some(format!("attachment; filename=\"{id}.warc.gz\"").as_str())
        );
        let out = env.path().join(format!("{id}.warc.gz"));
        export(env, id, "warc", &out);
        assert!(
            std::fs::read(&out).expect("exported WARC") == warc.body,
            "/export/{id}.warc.gz differs from evarc export"
        );

        let wacz = server.get(&format!("/export/{id}.wacz"));
        assert_eq!(wacz.status, 200, "{}", wacz.text());
        assert_eq!(wacz.header("content-type"), Some("application/zip"));
        let out = env.path().join(format!("{id}.wacz"));
        export(env, id, "wacz", &out);
        assert!(
            std::fs::read(&out).expect("exported WACZ") == wacz.body,
            "/export/{id}.wacz differs from evarc export"
        );

        let bag = server.get(&format!("/export/{id}.bag.zip"));
        assert_eq!(bag.status, 200, "{}", bag.text());
        assert_eq!(bag.header("content-type"), Some("application/zip"));
        let out = env.path().join(format!("{id}-bag"));
        export(env, id, "bagit", &out);
        let expected: BTreeMap<String, Vec<u8>> = tree(&out)
            .into_iter()
            .map(|(path, bytes)| (format!("{id}/{path}"), bytes))
            .collect();
        let served = unzip(&bag.body);
        assert_eq!(
            served.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        assert!(
            served == expected,
            "the bag of {id} differs from evarc export"
        );
        assert!(served.contains_key(&format!("{id}/data/log/checkpoint.txt")));
    }
    assert_eq!(server.get("/export/CA-P-999999.wacz").status, 404);
    assert_eq!(server.get("/export/CA-P-011417.tar").status, 404);
}

#[test]
fn serve_package_download_of_damaged_bytes_fails_instead_of_shipping_them() {
    let fixture = aws_fixture::build();
    fixture.damage_first_capture();
    let server = Server::start(&fixture.env);
    let warc = server.get(&format!("/export/{PROVISION}.warc.gz"));
    assert_eq!(warc.status, 500);
    assert!(
        warc.text().contains("✗ Hash not verified"),
        "{}",
        warc.text()
    );
}

#[test]
fn export_packages_carry_the_change_records_of_the_document_and_provision() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let change = env.evarc(&["changes", "CA-C-000001", "--json"]).ok();
    let change: serde_json::Value =
        serde_json::from_slice(&change.stdout).expect("changes --json is JSON");
    for id in [DOCUMENT, PROVISION] {
        let bag = env.path().join(format!("{id}-bag"));
        let run = env.evarc(&["export", id, "--format", "bagit", "-o", path_str(&bag)]);
        let summary = run.ok().stdout_text();
        assert!(
            summary.contains("\n1 change record carried as JSON\n"),
            "{summary}"
        );
        let json = std::fs::read(bag.join("data/changes/CA-C-000001.json"))
            .expect("the bag carries the change record");
        let json: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        assert_eq!(json, change["change"]);
        let manifest = std::fs::read_to_string(bag.join("manifest-sha256.txt")).expect("manifest");
        assert!(
            manifest.contains("  data/changes/CA-C-000001.json\n"),
            "{manifest}"
        );

        let warc = env.path().join(format!("{id}.warc"));
        env.evarc(&["export", id, "--format", "warc", "-o", path_str(&warc)])
            .ok();
        let text = String::from_utf8_lossy(&std::fs::read(&warc).expect("WARC")).into_owned();
        let at = text
            .find("WARC-Target-URI: urn:evarc:change:CA-C-000001\r\n")
            .expect("the WARC carries the change record");
        let record = &text[text[..at].rfind("WARC/1.1\r\n").expect("record start")..];
        assert!(record.contains("WARC-Type: metadata\r\n"), "{record}");
        assert!(
            record.contains("Content-Type: application/json\r\n"),
            "{record}"
        );
        let body = &record[record.find("\r\n\r\n").expect("block") + 4..];
        let body = &body[..body.find("\r\n\r\n").expect("record end")];
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON block");
        assert_eq!(json, change["change"]);
    }
}

#[test]
fn serve_document_page_shows_versions_last_updated_and_change_records() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let html = server.get(&format!("/{DOCUMENT}")).text();
    for needle in [
        // Derived from the versions (the first capture of the current text), beside no
        // asserted date (the latest capture asserts none).
        "<dt>Document last updated</dt><dd>2026-05-20 20:43:05 UTC (first capture of the current text, v2)</dd>",
        "<h2>Versions</h2>",
        "<td>v2 · <a href=\"/CA-C-000001\">CA-C-000001</a></td><td>2026-05-20 20:43:05 UTC</td>",
        "<td>v1</td><td>2026-05-12 09:51:22 UTC</td>",
        "<h2>Change records</h2>",
        "2026-05-20 20:43:05 UTC · <a href=\"/CA-C-000001\">View change record CA-C-000001</a>",
        "<a href=\"/feed/changes/CA-D-00648\">",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
}

#[test]
fn serve_change_record_page_shows_word_diffs_statuses_and_the_cite_text() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let page = server.get("/CA-C-000001");
    assert_eq!(page.status, 200);
    let html = page.text();
    for needle in [
        "<h1>Text change CA-C-000001 of May 20, 2026</h1>",
        "AWS Bedrock · <a href=\"/CA-D-00648\">AWS Service Terms</a>",
        "Your Content<ins> &amp; you may use it for any lawful purpose</ins>.",
        "<a href=\"/web/20260512095122/https://aws.amazon.com/service-terms/\">2026-05-12 09:51:22 UTC</a>",
        "<td><a href=\"/CA-P-011417\">CA-P-011417</a> Intellectual Property in Fine-Tuned Models and Custom Model Outputs</td><td class=\"status\">unchanged</td>",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    // The amended definition of Output shows its word diff in the provisions' table.
    assert!(html.contains("<td class=\"status\">amended</td>"), "{html}");
    let cite = fixture.env.evarc(&["cite", "CA-C-000001"]).ok();
    assert_eq!(crate::serve_util::citation_block(&html), cite.stdout_text());
    assert_eq!(server.get("/CA-C-000009").status, 404);
}

#[test]
fn serve_change_feeds_global_per_entity_and_per_document() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let base = &server.base;
    for path in [
        "/feed/changes.atom",
        "/feed/changes.atom?entity=aws%20bedrock",
        "/feed/changes/CA-D-00648",
    ] {
        let feed = server.get(path);
        assert_eq!(feed.status, 200, "{path}");
        assert_eq!(
            feed.header("content-type"),
            Some("application/atom+xml; charset=utf-8")
        );
        let text = feed.text();
        assert_eq!(text.matches("<entry>").count(), 1, "{path}: {text}");
        assert!(
            text.contains(&format!("<link href=\"{base}/CA-C-000001\"/>")),
            "{text}"
        );
        assert!(
            text.contains("<updated>2026-05-20T20:43:05Z</updated>"),
            "{text}"
        );
    }
    assert_eq!(server.get("/feed/changes.atom?entity=Nobody").status, 404);
    assert_eq!(server.get("/feed/changes/CA-D-99999").status, 404);
}

#[test]
fn serve_timegate_finds_urls_differing_only_in_normalisation() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let base = &server.base;
    for variant in [
        "https://aws.amazon.com/service-terms",
        "https://AWS.Amazon.COM/service-terms/",
        "https://aws.amazon.com:443/service-terms/",
        "HTTPS://aws.amazon.com:443/service-terms",
    ] {
        let gate = server.get_with(
            &format!("/timegate/{variant}"),
            &[("Accept-Datetime", "Wed, 13 May 2026 00:00:00 GMT")],
        );
        assert_eq!(gate.status, 302, "{variant}");
        assert_eq!(
            gate.header("location"),
            Some(format!("{base}/web/20260512095122/{variant}").as_str()),
            "{variant}"
        );
        let map = server.get(&format!("/timemap/link/{variant}")).text();
        assert_eq!(map.matches("; datetime=").count(), 2, "{variant}: {map}");
    }
    assert_eq!(
        server
            .get("/timegate/https://aws.amazon.com/service-terms/other")
            .status,
        404
    );
}

#[test]
fn memento_lookup_on_an_archive_from_before_the_url_index_scans_then_migrates() {
    let env = crate::format_v2::unpack();
    let list = env.evarc(&["--json", "list"]).ok();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON list");
    let url = list[0]["document"]["source_url"]
        .as_str()
        .expect("a source URL")
        .to_owned();
    let variant = url
        .replacen("https://", "HTTPS://", 1)
        .trim_end_matches('/')
        .to_owned();
    let lookup = |env: &Env| {
        let server = Server::start(env);
        let gate = server.get(&format!("/timegate/{variant}"));
        assert_eq!(gate.status, 302, "{}", gate.text());
        gate.header("location").map(str::to_owned)
    };
    // Read-only, not indexed: the documents are scanned.
    let before = lookup(&env);
    // Any writer open indexes the archive once (here: a checkpoint).
    env.evarc(&["checkpoint"]).ok();
    assert_eq!(lookup(&env), before);
}
