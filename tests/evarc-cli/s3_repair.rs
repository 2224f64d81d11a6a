//! Issue 14: `repair` fetches from the replica only what cannot be read locally. A rebuild
//! copies each column family in key order and stops at its first and its last damaged block;
//! the values between are read again by key (a read fails only in a damaged block itself), so
//! two flipped chunk values far apart in key order fetch two values, not every value between
//! them. Runs in the `cli_s3` binary against s3s-fs.

use crate::s3_server::{self, BUCKET};
use crate::util::{flip_chunk_value, noise, path_str, s3, Env};

#[test]
fn repair_fetches_only_the_damaged_values_not_those_between_them() {
    if s3().is_none() {
        eprintln!(
            "SKIPPED repair_fetches_only_the_damaged_values_not_those_between_them: no S3 server"
        );
        return;
    }
    // A local archive of 8 documents, one capture each (a chunk value each), and its replica.
    let env = Env::empty();
    env.raw(&["init", path_str(&env.archive())]).ok();
    let mut chunks = Vec::new();
    for n in 0..8u64 {
        // Compressible (stored as a zstd-coded chunk value), distinct per document.
        let bytes: Vec<u8> = noise(500 + n, 30 << 10)
            .iter()
            .map(|b| b"abcdefgh \n"[usize::from(*b % 10)])
            .collect();
        let file = env.write(&format!("doc-{n}.bin"), &bytes);
        let title = format!("Document {n}");
        let url = format!("https://acme.example/{n}");
        let run = env
            .evarc(&[
                "archive",
                path_str(&file),
                "--entity",
                "Acme",
                "--document",
                &title,
                "--url",
                &url,
                "--captured-at",
                "2026-04-01T10:00:00Z",
            ])
            .ok();
        chunks.push(
            run.field("BLAKE3:")
                .trim_start_matches("blake3:")
                .to_owned(),
        );
    }
    let url = format!(
        "s3://{BUCKET}/{}",
        s3_server::unique_prefix("repair-between")
    );
    env.evarc(&["replicate", &url]).ok();
    let before = env.evarc(&["verify", "--all"]).ok().stdout_text();

    // The first and the last chunk in key order damaged, intact values between them (the
    // rebuild before fetched 7 values here).
    chunks.sort();
    let (first, last) = (&chunks[0], &chunks[7]);
    env.evarc(&["config", "set", "name", "Example Evidence Archive"])
        .ok();
    flip_chunk_value(&env.archive(), first);
    flip_chunk_value(&env.archive(), last);
    env.evarc(&["verify", "--all"]).code(1);

    let text = env.evarc(&["repair", &url]).ok().stdout_text();
    assert_eq!(
        text,
        format!(
            "repaired blake3:{first}\nrepaired blake3:{last}\n2 of 2 damaged snapshots repaired from {url} (2 values fetched)\n"
        ),
    );
    assert_eq!(env.evarc(&["verify", "--all"]).ok().stdout_text(), before);
}
