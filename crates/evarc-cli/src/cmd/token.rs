//! `evarc token create|list|revoke`: the bearer tokens of `evarc serve` (evarc_provenance::tokens).

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use evarc_provenance::{OpenMode, Scope, Token};
use serde_json::json;

use super::{now, text_time};
use crate::cli::{GlobalArgs, TokenCommand, TokenCreateArgs, TokenRevokeArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, command: TokenCommand, out: &mut Output) -> Result<Outcome> {
    match command {
        TokenCommand::Create(args) => create(global, args, out),
        TokenCommand::List => list(global, out),
        TokenCommand::Revoke(args) => revoke(global, args, out),
    }
}

fn token_json(token: &Token) -> serde_json::Value {
    json!({
        "name": token.name,
        "scopes": token.scopes,
        "created_at": evarc_provenance::cite::json_time(token.created_at),
        "revoked_at": token.revoked_at.map(evarc_provenance::cite::json_time),
    })
}

/// `token list --json`'s row: with `last_used_at` (null: never used).
fn listed_json(token: &Token, last_used: Option<DateTime<Utc>>) -> serde_json::Value {
    let mut value = token_json(token);
    value["last_used_at"] = json!(last_used.map(evarc_provenance::cite::json_time));
    value
}

fn scopes_text(token: &Token) -> String {
    token
        .scopes
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

fn create(global: &GlobalArgs, args: TokenCreateArgs, out: &mut Output) -> Result<Outcome> {
    let scopes = args
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e} (--scope)"))?;
    let archive = open(global, OpenMode::ReadWrite)?;
    // The secret is drawn here, from the OS CSPRNG, and handed in: provenance draws nothing.
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)
        .map_err(|e| anyhow::anyhow!("cannot draw a random token secret: {e}"))
        .context("creating a token")?;
    let (token, text) = archive.create_token(&args.name, &scopes, secret, now())?;
    out.line(text.clone())?;
    if !out.json {
        eprintln!(
            "token {:?} ({}) created: it is shown only now (evarc keeps its SHA-256 only); send it as `Authorization: Bearer …`",
            token.name,
            scopes_text(&token)
        );
    }
    let mut value = token_json(&token);
    value["token"] = json!(text);
    out.value(&value)?;
    Ok(Outcome::Done)
}

fn list(global: &GlobalArgs, out: &mut Output) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadOnly)?;
    let tokens = archive.tokens()?;
    if tokens.is_empty() {
        out.line("No tokens.")?;
    }
    let mut rows = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let state = match token.revoked_at {
            Some(at) => format!("revoked {}", text_time(at)),
            None => "active".to_owned(),
        };
        // Recorded by `evarc serve` to the minute (LAST_USED_RESOLUTION).
        let last_used = archive.token_last_used(&token.name)?;
        let used = last_used.map_or_else(|| "never".to_owned(), text_time);
        out.line(format!(
            "{}\t{}\tcreated {}\t{state}\tlast used {used}",
            token.name,
            scopes_text(token),
            text_time(token.created_at)
        ))?;
        rows.push(listed_json(token, last_used));
    }
    out.value(&json!({ "tokens": rows }))?;
    Ok(Outcome::Done)
}

fn revoke(global: &GlobalArgs, args: TokenRevokeArgs, out: &mut Output) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadWrite)?;
    let token = archive.revoke_token(&args.name, now())?;
    let at = token.revoked_at.map(text_time).unwrap_or_default();
    out.line(format!("revoked: token {:?} at {at}", token.name))?;
    out.value(&token_json(&token))?;
    Ok(Outcome::Done)
}
