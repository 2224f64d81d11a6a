//! Access tokens of `evarc serve` (issue 12): bearer secrets that allow writes or reading
//! private records.
//!
//! A token is `evarc_` followed by 64 hex digits: 256 random bits that the caller draws (the
//! CLI from the OS CSPRNG) and hands in; provenance draws no randomness. Only the SHA-256 of
//! the whole token text is stored (`token/<name>`, `tokenhash/<sha256>`), never the secret:
//! the token is shown once, when created. Checking a presented token hashes it, looks the hash
//! up and compares the stored hash in constant time. A revoked token stays recorded (so its
//! name is never reused and it is refused as revoked).

use chrono::{DateTime, Utc};
use evarc_store::RecordBatch;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::archive::{encode, Archive};
use crate::error::{ProvenanceError, Result};

/// Every token starts with this (greppable in logs and leaked files).
pub const TOKEN_PREFIX: &str = "evarc_";

const TOKEN: &str = "token/";
const TOKEN_BY_HASH: &str = "tokenhash/";
/// `tokenused/<name>`: when the token was last used (RFC 3339), apart from the token's record so
/// that recording a use never rewrites the token (nor races its revocation).
const TOKEN_USED: &str = "tokenused/";

/// The resolution of a token's "last used" time: a use is recorded only when the time recorded
/// is older than this (at most one write per token per minute, whatever the request rate), so
/// the time shown may be up to this much earlier than the latest use.
pub const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// Whether a use of a token at `now` is to be recorded, given the use recorded last.
pub fn use_worth_recording(recorded: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    recorded.is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
}

/// What a token allows beyond anonymous reading.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Archive captures and register provisions through the server.
    Write,
    /// See private records.
    ReadPrivate,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Write => "write",
            Scope::ReadPrivate => "read-private",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scope {
    type Err = ProvenanceError;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "write" => Ok(Scope::Write),
            "read-private" => Ok(Scope::ReadPrivate),
            other => Err(ProvenanceError::InvalidInput(format!(
                "unknown token scope {other:?}: expected write or read-private"
            ))),
        }
    }
}

/// A token as stored: its name, scopes and the SHA-256 of its text, never the text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// SHA-256 (hex) of the token text.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Token {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a presented token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the token is not an evarc token (expected {TOKEN_PREFIX} and 64 hex digits)")]
    Malformed,
    #[error("unknown token")]
    Unknown,
    #[error("token {name:?} was revoked at {at}")]
    Revoked { name: String, at: String },
}

fn token_key(name: &str) -> Vec<u8> {
    format!("{TOKEN}{name}").into_bytes()
}

fn hash_key(hash: &[u8; 32]) -> Vec<u8> {
    let mut key = TOKEN_BY_HASH.as_bytes().to_vec();
    key.extend_from_slice(hash);
    key
}

fn used_key(name: &str) -> Vec<u8> {
    format!("{TOKEN_USED}{name}").into_bytes()
}

fn hash_of(text: &str) -> [u8; 32] {
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// The token text of 32 random bytes.
pub fn token_text(secret: &[u8; 32]) -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(secret))
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ProvenanceError::InvalidInput(format!(
            "invalid token name {name:?}: expected 1 to 64 letters, digits, '-', '_', '.' or '@'"
        )))
    }
}

impl Archive {
    /// Records a new token named `name` with `scopes`, whose secret is `secret` (256 random
    /// bits the caller drew). Returns the record and the token text, which is not kept.
    pub fn create_token(
        &self,
        name: &str,
        scopes: &[Scope],
        secret: [u8; 32],
        now: DateTime<Utc>,
    ) -> Result<(Token, String)> {
        let name = name.trim();
        check_name(name)?;
        if scopes.is_empty() {
            return Err(ProvenanceError::InvalidInput(
                "a token needs at least one scope (write, read-private)".into(),
            ));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let text = token_text(&secret);
        let hash = hash_of(&text);
        let _guard = self.write_lock();
        if let Some(existing) = self.token(name)? {
            return Err(ProvenanceError::InvalidInput(format!(
                "a token named {name:?} exists already (created {}{}): choose another name",
                crate::cite::text_time(existing.created_at),
                if existing.revoked_at.is_some() {
                    ", revoked"
                } else {
                    ""
                }
            )));
        }
        let token = Token {
            name: name.to_owned(),
            scopes,
            sha256: hex::encode(hash),
            created_at: now,
            revoked_at: None,
        };
        let mut batch = RecordBatch::new();
        batch.put(token_key(name), encode(&token));
        batch.put(hash_key(&hash), name.as_bytes().to_vec());
        self.store().commit_records(batch)?;
        Ok((token, text))
    }

    /// The token named `name`, if any.
    pub fn token(&self, name: &str) -> Result<Option<Token>> {
        self.json(&token_key(name))
    }

    /// Every token, by name.
    pub fn tokens(&self) -> Result<Vec<Token>> {
        let mut out = Vec::new();
        for (key, value) in self.store().records_with_prefix(TOKEN.as_bytes())? {
            out.push(crate::archive::decode::<Token>(&key, &value)?);
        }
        Ok(out)
    }

    /// Revokes the token named `name` at `now`; a revoked token is refused from then on.
    pub fn revoke_token(&self, name: &str, now: DateTime<Utc>) -> Result<Token> {
        let name = name.trim();
        let _guard = self.write_lock();
        let mut token = self
            .token(name)?
            .ok_or_else(|| ProvenanceError::InvalidInput(format!("no token named {name:?}")))?;
        if let Some(at) = token.revoked_at {
            return Err(ProvenanceError::InvalidInput(format!(
                "token {name:?} was already revoked at {}",
                crate::cite::text_time(at)
            )));
        }
        token.revoked_at = Some(now);
        let mut batch = RecordBatch::new();
        batch.put(token_key(name), encode(&token));
        self.store().commit_records(batch)?;
        Ok(token)
    }

    /// The token a reader presented, when it is a live token of this archive.
    pub fn authenticate(
        &self,
        presented: &str,
    ) -> Result<std::result::Result<Token, TokenRefusal>> {
        let presented = presented.trim();
        let well_formed = presented
            .strip_prefix(TOKEN_PREFIX)
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Ok(Err(TokenRefusal::Malformed));
        }
        let hash = hash_of(presented);
        let Some(name) = self.store().record(&hash_key(&hash))? else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        let name = String::from_utf8_lossy(&name).into_owned();
        let Some(token) = self.token(&name)? else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        let stored = hex::decode(&token.sha256).unwrap_or_default();
        if !bool::from(stored.as_slice().ct_eq(&hash)) {
            return Ok(Err(TokenRefusal::Unknown));
        }
        if let Some(at) = token.revoked_at {
            return Ok(Err(TokenRefusal::Revoked {
                name: token.name,
                at: crate::cite::text_time(at),
            }));
        }
        Ok(Ok(token))
    }

    /// When the token named `name` was last used (to [`LAST_USED_RESOLUTION`]); `None` when
    /// never.
    pub fn token_last_used(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        let Some(bytes) = self.store().record(&used_key(name))? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| ProvenanceError::RecordCorrupt {
                key: format!("{TOKEN_USED}{name}"),
                reason: format!("not an RFC 3339 time: {e}"),
            })
    }

    /// Records that the token named `name` was used (an authenticated request) at `at`, unless
    /// the use recorded is less than [`LAST_USED_RESOLUTION`] older or later (the archive is open
    /// for writing). Returns whether it wrote.
    pub fn record_token_use(&self, name: &str, at: DateTime<Utc>) -> Result<bool> {
        let _guard = self.write_lock();
        if self.token(name)?.is_none() {
            return Err(ProvenanceError::InvalidInput(format!(
                "no token named {name:?}"
            )));
        }
        if !use_worth_recording(self.token_last_used(name)?, at) {
            return Ok(false);
        }
        let mut batch = RecordBatch::new();
        batch.put(
            used_key(name),
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .into_bytes(),
        );
        self.store().commit_records(batch)?;
        Ok(true)
    }
}
