use anyhow::Result;
use evarc_provenance::id::Prefix;
use evarc_provenance::Archive;

use crate::cli::{GlobalArgs, InitArgs};
use crate::context::archive_path;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: InitArgs, out: &mut Output) -> Result<Outcome> {
    let path = match args.path {
        Some(path) => path,
        None => archive_path(global)?.0,
    };
    let prefix = args.prefix.as_deref().map(Prefix::new).transpose()?;
    let blobs = match &args.blobs {
        Some(url) => {
            let mut config = super::bucket::bucket_config(url, args.endpoint.as_deref())?;
            config.cache_bytes = args.blob_cache_mb.saturating_mul(1 << 20);
            Some(config)
        }
        None => None,
    };
    let archive = Archive::init_with_blobs(&path, prefix, args.name.as_deref(), blobs)?;
    let verifier = archive.create_signing_key(super::tlog::random_seed()?)?;
    let config = archive.config()?;
    out.line(format!(
        "Initialized empty evarc archive in {} (ID prefix {}, name {:?})",
        path.display(),
        config.prefix,
        config.name
    ))?;
    let blobs = archive.blobs()?;
    if let Some(blobs) = &blobs {
        out.line(format!(
            "Snapshot bytes in {} at {} (checked by writing {}/evarc-archive)",
            blobs.url(),
            blobs.effective_endpoint(),
            blobs.url()
        ))?;
    }
    let mut value = serde_json::json!({
        "archive": path,
        "prefix": config.prefix,
        "name": config.name,
        "format_version": evarc_provenance::FORMAT_VERSION,
        "verifier_key": verifier.to_string(),
    });
    if let (Some(blobs), Some(map)) = (&blobs, value.as_object_mut()) {
        map.insert("blobs".into(), blobs.url().into());
    }
    out.value(&value)?;
    Ok(Outcome::Done)
}
