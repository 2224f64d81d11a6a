use anyhow::{bail, Result};
use evarc_provenance::id::Prefix;
use evarc_provenance::OpenMode;

use crate::cli::{ConfigCommand, GlobalArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

const KEYS: &str = "base-url, name, prefix";

pub fn run(global: &GlobalArgs, command: ConfigCommand, out: &mut Output) -> Result<Outcome> {
    match command {
        ConfigCommand::Get { key } => {
            let archive = open(global, OpenMode::ReadOnly)?;
            let config = archive.config()?;
            let base_url = config.base_url.clone().unwrap_or_default();
            match key.as_deref() {
                None => {
                    out.line(format!("base-url = {base_url}"))?;
                    out.line(format!("name = {}", config.name))?;
                    out.line(format!("prefix = {}", config.prefix))?;
                }
                Some("base-url") => out.line(base_url)?,
                Some("name") => out.line(&config.name)?,
                Some("prefix") => out.line(config.prefix.as_str())?,
                Some(other) => bail!("unknown setting {other:?}: expected one of {KEYS}"),
            }
            out.value(&config)?;
        }
        ConfigCommand::Set { key, value } => {
            let archive = open(global, OpenMode::ReadWrite)?;
            match key.as_str() {
                "base-url" => archive.set_base_url(&value)?,
                "name" => archive.set_name(&value)?,
                "prefix" => archive.set_prefix(Prefix::new(value.trim())?)?,
                other => bail!("unknown setting {other:?}: expected one of {KEYS}"),
            }
            let config = archive.config()?;
            out.line(format!("{key} set"))?;
            out.value(&config)?;
        }
        ConfigCommand::Unset { key } => {
            let archive = open(global, OpenMode::ReadWrite)?;
            match key.as_str() {
                "base-url" => archive.unset_base_url()?,
                "name" => archive.set_name(evarc_provenance::DEFAULT_NAME)?,
                "prefix" => archive.set_prefix(Prefix::default())?,
                other => bail!("unknown setting {other:?}: expected one of {KEYS}"),
            }
            let config = archive.config()?;
            out.line(format!("{key} unset"))?;
            out.value(&config)?;
        }
    }
    Ok(Outcome::Done)
}
