use anyhow::Result;
use evarc_provenance::id::Prefix;
use evarc_provenance::Archive;

use crate::cli::{GlobalArgs, InitArgs};
use crate::context::archive_path;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: InitArgs, out: &mut Output) -> Result<u8> {
    let path = match args.path {
        Some(path) => path,
        None => archive_path(global)?.0,
    };
    let prefix = args.prefix.as_deref().map(Prefix::new).transpose()?;
    let archive = Archive::init(&path, prefix, args.name.as_deref())?;
    let verifier = archive.create_signing_key(super::tlog::random_seed()?)?;
    let config = archive.config()?;
    out.line(format!(
        "Initialized empty evarc archive in {} (ID prefix {}, name {:?})",
        path.display(),
        config.prefix,
        config.name
    ))?;
    out.value(&serde_json::json!({
        "archive": path,
        "prefix": config.prefix,
        "name": config.name,
        "format_version": evarc_provenance::FORMAT_VERSION,
        "verifier_key": verifier.to_string(),
    }))?;
    Ok(crate::exit::OK)
}
