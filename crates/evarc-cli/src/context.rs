//! Where the archive is, and opening it.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use evarc_provenance::Archive;
use evarc_provenance::{OpenMode, StoreError};

use crate::cli::GlobalArgs;

/// Environment variable naming the archive when `--archive` is not given.
pub const ARCHIVE_ENV: &str = "EVARC_ARCHIVE";

/// Where the archive path came from: only the built-in default is created on first use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSource {
    Flag,
    Env,
    Default,
}

/// Resolves the archive path: `--archive`, else `$EVARC_ARCHIVE`, else the platform data dir.
pub fn archive_path(global: &GlobalArgs) -> Result<(PathBuf, PathSource)> {
    if let Some(path) = &global.archive {
        return Ok((path.clone(), PathSource::Flag));
    }
    if let Some(path) = std::env::var_os(ARCHIVE_ENV).filter(|p| !p.is_empty()) {
        return Ok((PathBuf::from(path), PathSource::Env));
    }
    let dirs = directories::ProjectDirs::from("", "", "evarc").context(
        "cannot find a home directory for the default archive: give --archive PATH or set EVARC_ARCHIVE",
    )?;
    Ok((dirs.data_dir().to_owned(), PathSource::Default))
}

/// Opens the archive for a command. The default archive is created on first use; an archive
/// named explicitly must exist (`evarc init` creates it).
pub fn open(global: &GlobalArgs, mode: OpenMode) -> Result<Archive> {
    let (path, source) = archive_path(global)?;
    let wait = std::time::Duration::from_secs(global.wait);
    match Archive::open_waiting(&path, mode, wait) {
        Err(err)
            if source == PathSource::Default
                && matches!(err.store_error(), Some(StoreError::NotFound { .. })) =>
        {
            Archive::init(&path, None, None)
                .with_context(|| format!("creating the default archive at {}", path.display()))?;
            Ok(Archive::open_waiting(&path, mode, wait)?)
        }
        // The problem first, then the hint: "no archive at X: …; create it with `evarc init X`".
        Err(err) if matches!(err.store_error(), Some(StoreError::NotFound { .. })) => Err(
            anyhow::anyhow!("{err}; create it with `evarc init {}`", path.display()),
        ),
        other => Ok(other?),
    }
}
