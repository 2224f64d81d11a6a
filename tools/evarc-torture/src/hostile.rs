//! Hostile files: one that grows while it is archived, and a disk that fills up.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, ensure, Context as _, Result};
use sha2::Digest as _;

use crate::evarc::Evarc;
use crate::rng::Rng;

/// Archives a file while another thread appends to it. What is stored must hash to what was
/// recorded and be a prefix of the file as it ends up (a consistent read of a growing file).
/// Returns the stored and final sizes.
pub fn growing_file(
    evarc: &Evarc,
    dir: &Path,
    initial: usize,
    growth: usize,
) -> Result<(u64, u64)> {
    let path = dir.join("growing file.bin");
    let mut rng = Rng::new(7);
    std::fs::write(&path, rng.bytes(initial))?;
    let appending = AtomicBool::new(true);
    let archived = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("open for appending");
            let mut rng = Rng::new(8);
            let mut written = 0usize;
            while appending.load(Ordering::Relaxed) && written < growth {
                file.write_all(&rng.bytes(64 << 10)).expect("append");
                written += 64 << 10;
            }
        });
        let run = evarc.run(&["--json", "archive", &path.to_string_lossy()]);
        appending.store(false, Ordering::Relaxed);
        run
    })?;
    ensure!(
        archived.code == 0,
        "archive of a growing file exited {}: {}",
        archived.code,
        archived.stderr
    );
    let value: serde_json::Value = serde_json::from_slice(&archived.stdout)?;
    let sha = value["snapshot"]["sha256"]
        .as_str()
        .context("sha256 printed")?
        .to_owned();
    let get = evarc.run(&["get", &sha])?;
    ensure!(get.code == 0, "get {sha} exited {}", get.code);
    ensure!(
        hex::encode(sha2::Sha256::digest(&get.stdout)) == sha,
        "the stored bytes do not hash to the recorded SHA-256"
    );
    let final_bytes = std::fs::read(&path)?;
    ensure!(
        final_bytes.starts_with(&get.stdout),
        "the stored bytes are not a prefix of the file"
    );
    Ok((get.stdout.len() as u64, final_bytes.len() as u64))
}

/// What the full-disk run saw.
#[derive(Debug)]
pub struct FullDisk {
    pub archived_before_full: usize,
    pub exit: i32,
    pub error: String,
}

/// On a small file system at `mount` (e.g. `mount -t tmpfs -o size=20m tmpfs /mnt/x`): archive
/// 1 MiB files until the disk is full; the failure must be one clean line with exit 3, and after
/// space is freed the archive must verify, return every acknowledged snapshot, and take more.
pub fn full_disk(evarc_bin: &Path, mount: &Path, scratch: &Path) -> Result<FullDisk> {
    let archive = mount.join("archive");
    let evarc = Evarc::new(evarc_bin.to_owned(), archive);
    evarc.init()?;
    // Space to give back once the disk is full.
    let ballast = mount.join("ballast");
    std::fs::write(&ballast, vec![0x5a; 4 << 20])?;
    let mut rng = Rng::new(11);
    let mut acknowledged = Vec::new();
    let input = scratch.join("input.bin");
    let failure = loop {
        if acknowledged.len() > 10_000 {
            bail!("the file system at {} never filled up", mount.display());
        }
        let bytes = rng.bytes(1 << 20);
        std::fs::write(&input, &bytes)?;
        let run = evarc.run(&["--json", "archive", &input.to_string_lossy()])?;
        if run.code != 0 {
            break run;
        }
        acknowledged.push(hex::encode(sha2::Sha256::digest(&bytes)));
    };
    let error = failure.stderr.trim_end().to_owned();
    std::fs::remove_file(&ballast)?;
    let verify = evarc.run(&["verify", "--all"])?;
    ensure!(
        verify.code == 0,
        "verify --all after freeing space exited {}: {}{}",
        verify.code,
        verify.stdout_text(),
        verify.stderr
    );
    for sha in &acknowledged {
        let get = evarc.run(&["get", sha])?;
        ensure!(
            get.code == 0 && hex::encode(sha2::Sha256::digest(&get.stdout)) == *sha,
            "acknowledged snapshot {sha} lost after the disk filled"
        );
    }
    std::fs::write(&input, b"after the disk was full")?;
    evarc.ok(&["archive", &input.to_string_lossy()])?;
    Ok(FullDisk {
        archived_before_full: acknowledged.len(),
        exit: failure.code,
        error,
    })
}
