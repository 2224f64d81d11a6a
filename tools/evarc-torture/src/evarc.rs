//! Running the built `evarc` binary against one archive.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context as _, Result};

/// The `evarc` binary and the archive every command names.
#[derive(Clone, Debug)]
pub struct Evarc {
    pub bin: PathBuf,
    pub archive: PathBuf,
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl Evarc {
    pub fn new(bin: PathBuf, archive: PathBuf) -> Self {
        Self { bin, archive }
    }

    /// A command with `--archive` set; no default archive of the user is ever touched.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--archive")
            .arg(&self.archive)
            .args(args)
            .env_remove("EVARC_ARCHIVE")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a command to completion.
    pub fn run(&self, args: &[&str]) -> Result<Run> {
        let output = self
            .command(args)
            .output()
            .with_context(|| format!("running {} {args:?}", self.bin.display()))?;
        Ok(run_of(output))
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> Result<Run> {
        let run = self.run(args)?;
        if run.code != 0 {
            bail!(
                "evarc {args:?} exited {}: {}",
                run.code,
                run.stderr.trim_end()
            );
        }
        Ok(run)
    }

    /// `evarc init` of this archive.
    pub fn init(&self) -> Result<()> {
        let out = Command::new(&self.bin)
            .arg("init")
            .arg(&self.archive)
            .env_remove("EVARC_ARCHIVE")
            .output()
            .context("running evarc init")?;
        if !out.status.success() {
            bail!(
                "evarc init failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

pub fn run_of(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Finds the `evarc` binary: `$EVARC_BIN`, else beside this executable (or one level up, for test
/// binaries in `target/*/deps`), else builds it with cargo.
pub fn locate() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("EVARC_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe().context("locating this executable")?;
    let name = format!("evarc{}", std::env::consts::EXE_SUFFIX);
    let mut dir = exe.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join(&name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    build(exe.parent().and_then(Path::parent))
}

/// `cargo build -p evarc-cli` in the profile this executable was built in.
fn build(profile_dir: Option<&Path>) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let release = profile_dir.is_some_and(|d| d.ends_with("release"));
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "-p", "evarc-cli", "--bin", "evarc"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().context("building evarc with cargo")?;
    if !status.success() {
        bail!("cargo build -p evarc-cli failed; set EVARC_BIN to an evarc binary");
    }
    let name = format!("evarc{}", std::env::consts::EXE_SUFFIX);
    profile_dir
        .map(|d| d.join(&name))
        .filter(|p| p.is_file())
        .context("evarc was built but not found; set EVARC_BIN")
}
