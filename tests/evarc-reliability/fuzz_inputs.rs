//! Replays every fuzz seed (`fuzz/corpus/*/seed-*`) and every input that once crashed a target
//! (`fuzz/regressions/<target>/*`) through the same harness cargo-fuzz runs, on stable Rust.

#[path = "../../fuzz/src/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if dir == "corpus" && !name.is_some_and(|n| n.starts_with("seed-")) {
                continue;
            }
            let data = std::fs::read(&path).expect("read a fuzz input");
            eprintln!("{target}: {}", path.display());
            run(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn id_inputs() {
    assert!(replay("id", harness::id) > 0);
}

#[test]
fn text_inputs() {
    assert!(replay("text", harness::text) > 0);
}

#[test]
fn anchor_inputs() {
    assert!(replay("anchor", harness::anchor) > 0);
}

#[test]
fn warc_inputs() {
    assert!(replay("warc", harness::warc) > 0);
}

#[test]
fn cite_inputs() {
    assert!(replay("cite", harness::cite_all) > 0);
}

/// Every renderer with a 10 MB quote and control characters and newlines in every title.
#[test]
fn cite_renders_a_ten_megabyte_quote() {
    let mut data =
        b"\x03Entity\r\nwith\x07bell\0Title \x1b[2J\xe2\x80\xae\n\0https://example.org/\0".to_vec();
    data.extend(std::iter::repeat_n(b"quote \"{}\\ line\n".as_slice(), 600_000).flatten());
    data.extend_from_slice(b"\0title\0sev\0pre\0suf\0b3\0name\0https://b.example/\0");
    harness::cite_once(&data);
}
