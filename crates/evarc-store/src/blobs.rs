//! Where snapshot bytes live (issue 14): the values of `chunks` and `deltas` either stay in
//! RocksDB (the default) or are kept as immutable, content-addressed objects in an S3-compatible
//! bucket, through Apache Arrow's `object_store` crate.
//!
//! An archive on a bucket keeps its manifests, index, records and log in the local RocksDB, plus
//! a bounded cache of blobs on disk (`blob-cache/` in the archive directory). Object names are
//! derived from the value's key (docs/format.md, "Snapshot bytes in a bucket"):
//! `PREFIX/chunks/<hex[0..2]>/<hex>` and `PREFIX/deltas/<hex[0..2]>/<hex>`, and for a value a
//! repack re-encoded `…/<hex>.<tag>`, the tag naming its bytes (value_names.rs).
//!
//! `object_store` is async: the backend keeps a small tokio runtime of its own and the store API
//! stays synchronous (every call waits for its request, from any thread, also inside a caller's
//! own tokio runtime).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};

use crate::{Blake3, Result, StoreError};

/// Default bytes of the local blob cache of an archive on a bucket.
pub const DEFAULT_BLOB_CACHE: u64 = 256 << 20;

/// Name of the object written at `init` (and checked by `restore`): what the bucket prefix holds,
/// and which archive it belongs to (owner.rs).
pub(crate) const MARKER_OBJECT: &str = "evarc-archive";

/// Where the snapshot bytes of an archive live, when not in RocksDB: the bucket and prefix of
/// an `s3://bucket/prefix` URL, and the non-secret settings of the endpoint. Credentials are
/// never part of it: they come from the environment (`AWS_ACCESS_KEY_ID`, …) at each open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobsConfig {
    bucket: String,
    prefix: String,
    /// `AWS_ENDPOINT_URL` at init (an S3-compatible server), if any; the environment overrides it.
    pub endpoint: Option<String>,
    /// `AWS_REGION` at init, if any; the environment overrides it.
    pub region: Option<String>,
    /// Bytes of the local blob cache.
    pub cache_bytes: u64,
    /// True when `endpoint` was handed in for this run (a flag): it then wins over the
    /// environment. Never stored.
    endpoint_given: bool,
}

impl BlobsConfig {
    /// Parses `s3://bucket[/prefix]`; anything else is [`StoreError::BlobsUrl`].
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |reason: &str| StoreError::BlobsUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("only s3://BUCKET/PREFIX URLs are supported"))?;
        let (bucket, prefix) = match rest.split_once('/') {
            Some((bucket, prefix)) => (bucket, prefix.trim_matches('/')),
            None => (rest, ""),
        };
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !valid_bucket {
            return Err(bad(
                "the bucket name must be 3 to 63 lowercase letters, digits, '-' or '.'",
            ));
        }
        if prefix.split('/').any(|part| part == "." || part == "..")
            || prefix.contains("//")
            || prefix.bytes().any(|b| b.is_ascii_control() || b == b'\\')
        {
            return Err(bad("the prefix must be plain path segments"));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            endpoint: None,
            region: None,
            cache_bytes: DEFAULT_BLOB_CACHE,
            endpoint_given: false,
        })
    }

    /// Uses `endpoint` (e.g. `http://127.0.0.1:9000`), over `AWS_ENDPOINT_URL`, and records it.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self.endpoint_given = true;
        self
    }

    /// Records the environment's `AWS_ENDPOINT_URL` and `AWS_REGION` (when set and no endpoint
    /// was given), so that later opens find the bucket without them.
    pub fn record_environment(mut self) -> Self {
        if self.endpoint.is_none() {
            self.endpoint =
                env_nonempty("AWS_ENDPOINT_URL").or_else(|| env_nonempty("AWS_ENDPOINT"));
        }
        if self.region.is_none() {
            self.region = env_nonempty("AWS_REGION").or_else(|| env_nonempty("AWS_DEFAULT_REGION"));
        }
        self
    }

    /// The `s3://bucket/prefix` URL.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The endpoint used: the environment's `AWS_ENDPOINT_URL`, else the recorded one, else AWS.
    pub fn effective_endpoint(&self) -> String {
        self.endpoint_used()
            .unwrap_or_else(|| "the AWS S3 endpoint".to_owned())
    }

    /// The endpoint given for this run, else the environment's, else the recorded one.
    fn endpoint_used(&self) -> Option<String> {
        if self.endpoint_given {
            return self.endpoint.clone();
        }
        env_nonempty("AWS_ENDPOINT_URL")
            .or_else(|| env_nonempty("AWS_ENDPOINT"))
            .or_else(|| self.endpoint.clone())
    }

    /// Text form kept in the archive's `meta` column family (no secret in it).
    pub(crate) fn encode(&self) -> String {
        let mut out = format!("url={}\n", self.url());
        if let Some(endpoint) = &self.endpoint {
            out.push_str(&format!("endpoint={endpoint}\n"));
        }
        if let Some(region) = &self.region {
            out.push_str(&format!("region={region}\n"));
        }
        out.push_str(&format!("cache-bytes={}\n", self.cache_bytes));
        out
    }

    pub(crate) fn decode(text: &str) -> Result<Self> {
        let mut config: Option<Self> = None;
        let mut endpoint = None;
        let mut region = None;
        let mut cache_bytes = DEFAULT_BLOB_CACHE;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("url", url)) => config = Some(Self::parse(url)?),
                Some(("endpoint", value)) => endpoint = Some(value.to_owned()),
                Some(("region", value)) => region = Some(value.to_owned()),
                Some(("cache-bytes", value)) => {
                    cache_bytes = value.parse().unwrap_or(DEFAULT_BLOB_CACHE);
                }
                _ => {}
            }
        }
        let mut config = config.ok_or_else(|| StoreError::BlobsUrl {
            url: String::new(),
            reason: "the archive's blob setting records no URL".into(),
        })?;
        config.endpoint = endpoint;
        config.region = region;
        config.cache_bytes = cache_bytes;
        Ok(config)
    }

    /// The full object name of `name` under the prefix.
    fn object(&self, name: &str) -> object_store::path::Path {
        if self.prefix.is_empty() {
            object_store::path::Path::from(name)
        } else {
            object_store::path::Path::from(format!("{}/{name}", self.prefix))
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The two kinds of blob: a chunk value (keyed by the chunk's BLAKE3) and a delta value (keyed
/// by the snapshot's BLAKE3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlobKind {
    Chunk,
    Delta,
}

impl BlobKind {
    pub(crate) fn dir(self) -> &'static str {
        match self {
            Self::Chunk => "chunks",
            Self::Delta => "deltas",
        }
    }

    /// The object name of the blob `key` of this kind, relative to the prefix, as ingest
    /// writes it.
    pub fn object_name(self, key: Blake3) -> String {
        let hex = key.to_hex();
        format!("{}/{}/{hex}", self.dir(), &hex[..2])
    }

    /// The object name of the value of `key` whose bytes carry `tag` (a re-encoded value,
    /// crate::value_names), or the plain name of [`BlobKind::object_name`] without one.
    pub(crate) fn tagged_name(self, key: Blake3, tag: Option<&ValueTag>) -> String {
        match tag {
            Some(tag) => format!("{}.{}", self.object_name(key), hex::encode(tag)),
            None => self.object_name(key),
        }
    }

    /// The kind and key of an object name made by [`BlobKind::tagged_name`] (with or without
    /// a tag).
    pub(crate) fn parse_object_name(name: &str) -> Option<(Self, Blake3)> {
        let mut parts = name.split('/');
        let kind = match parts.next()? {
            "chunks" => Self::Chunk,
            "deltas" => Self::Delta,
            _ => return None,
        };
        let _fanout = parts.next()?;
        let last = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let hex = match last.split_once('.') {
            Some((hex, tag)) if tag.len() == 32 && hex::decode(tag).is_ok() => hex,
            Some(_) => return None,
            None => last,
        };
        let bytes = hex::decode(hex).ok()?;
        Some((kind, Blake3::from_slice(&bytes)?))
    }
}

/// What names the bytes of a re-encoded value in its object's name: the first 16 bytes of
/// their BLAKE3 (docs/format.md, "Repack of an archive on a bucket").
pub(crate) type ValueTag = [u8; 16];

/// The tag of a value's bytes.
pub(crate) fn value_tag(value: &[u8]) -> ValueTag {
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&Blake3::of(value).as_bytes()[..16]);
    tag
}

/// One object listed in a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectEntry {
    /// Its name relative to the prefix.
    pub name: String,
    pub size: u64,
}

/// Uploads of one snapshot's values (or a group of streamed chunks) in flight at once.
pub const UPLOAD_CONCURRENCY: usize = 8;

/// The small interface the store needs of an object store: immutable named objects.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Writes `bytes` under `name`; returns once the server confirmed it.
    fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()>;
    /// Writes `bytes` under `name` only if no object has that name (a conditional create,
    /// `If-None-Match: *`): `Ok(false)`, nothing written, when one has.
    fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<bool> {
        if self.exists(name)? {
            return Ok(false);
        }
        self.put(name, bytes).map(|()| true)
    }
    /// Writes each `(name, bytes)`, possibly concurrently; returns once the server confirmed
    /// every one, or with the first failure.
    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<()> {
        objects
            .into_iter()
            .try_for_each(|(name, bytes)| self.put(&name, bytes))
    }
    /// The object `name`, or `None` when there is none.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// The objects `names`, in that order, possibly fetched concurrently.
    fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        names.iter().map(|name| self.get(name)).collect()
    }
    /// Whether object `name` exists.
    fn exists(&self, name: &str) -> Result<bool>;
    /// Every object whose name starts with `dir/`, by name.
    fn list(&self, dir: &str) -> Result<Vec<ObjectEntry>>;
    /// Removes object `name`.
    fn delete(&self, name: &str) -> Result<()>;
    /// `s3://bucket/prefix`, for messages.
    fn url(&self) -> String;
}

/// A bucket of an S3-compatible server, through `object_store`.
#[derive(Debug)]
pub struct S3Blobs {
    config: BlobsConfig,
    endpoint: String,
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
}

/// Requests are retried this often (object_store's default of 10 over 3 minutes would keep a
/// command waiting minutes on a stopped server).
const MAX_RETRIES: usize = 2;
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

impl S3Blobs {
    /// Connects (lazily: no request is made) to the bucket of `config`, with credentials,
    /// region and endpoint from the environment (the recorded endpoint and region when the
    /// environment sets none).
    pub fn connect(config: &BlobsConfig) -> Result<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_retry(object_store::RetryConfig {
                backoff: object_store::BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: MAX_RETRIES,
                retry_timeout: RETRY_TIMEOUT,
            })
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(REQUEST_TIMEOUT),
            );
        if let Some(endpoint) = config.endpoint_used() {
            builder = builder.with_endpoint(endpoint);
        }
        let endpoint = config.effective_endpoint();
        // The client options set above replace those `from_env` read: plain HTTP is allowed
        // again when asked for (`AWS_ALLOW_HTTP`) or when the endpoint given is http:// (a
        // loopback test server).
        let allow_http =
            env_nonempty("AWS_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if allow_http || endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        if env_nonempty("AWS_REGION").is_none() && env_nonempty("AWS_DEFAULT_REGION").is_none() {
            if let Some(region) = &config.region {
                builder = builder.with_region(region);
            }
        }
        let store = builder.build().map_err(|e| StoreError::Remote {
            url: config.url(),
            endpoint: endpoint.clone(),
            problem: RemoteProblem::Config,
            detail: e.to_string(),
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("evarc-blobs")
            .enable_all()
            .build()
            .map_err(|e| StoreError::io("starting the object-store runtime", e))?;
        Ok(Self {
            config: config.clone(),
            endpoint,
            store: Arc::new(store),
            runtime,
        })
    }

    /// Runs `fut` on the backend's runtime and waits for it, from any thread (also one of a
    /// caller's own tokio runtime: the future is spawned, never blocked on in place).
    fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> object_store::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(object_store::Error::Generic {
                store: "S3",
                source: "the object-store runtime stopped".into(),
            })
        })
    }

    fn error(&self, name: &str, err: &object_store::Error) -> StoreError {
        remote_error(&self.config.url(), &self.endpoint, name, err)
    }

    /// Checks that the bucket exists and the credentials are accepted (a listing: some servers
    /// create a bucket on a first write). Whether it accepts writes, the marker's write then
    /// tells (owner.rs).
    pub(crate) fn probe(&self) -> Result<()> {
        let store = Arc::clone(&self.store);
        let path = self.config.object("");
        self.run(async move { store.list_with_delimiter(Some(&path)).await })
            .map(|_| ())
            .map_err(|e| self.error("", &e))
    }
}

impl BlobStore for S3Blobs {
    fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(name);
        self.run(async move { store.put(&path, PutPayload::from(bytes)).await })
            .map(|_| ())
            .map_err(|e| self.error(name, &e))
    }

    fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<bool> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(name);
        let options = object_store::PutOptions::from(object_store::PutMode::Create);
        match self.run(async move {
            store
                .put_opts(&path, PutPayload::from(bytes), options)
                .await
        }) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(err) => Err(self.error(name, &err)),
        }
    }

    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<()> {
        use futures_util::{StreamExt as _, TryStreamExt as _};
        if objects.len() <= 1 {
            return objects
                .into_iter()
                .try_for_each(|(name, bytes)| self.put(&name, bytes));
        }
        let store = Arc::clone(&self.store);
        let requests: Vec<(String, object_store::path::Path, Vec<u8>)> = objects
            .into_iter()
            .map(|(name, bytes)| {
                let path = self.config.object(&name);
                (name, path, bytes)
            })
            .collect();
        let failed = self.run(async move {
            let outcome = futures_util::stream::iter(requests)
                .map(|(name, path, bytes)| {
                    let store = Arc::clone(&store);
                    async move {
                        match store.put(&path, PutPayload::from(bytes)).await {
                            Ok(_) => Ok(()),
                            Err(err) => Err((name, err)),
                        }
                    }
                })
                .buffer_unordered(UPLOAD_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await;
            Ok(outcome.err())
        });
        match failed {
            Ok(None) => Ok(()),
            Ok(Some((name, err))) => Err(self.error(&name, &err)),
            Err(err) => Err(self.error("", &err)),
        }
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(name);
        match self.run(async move { store.get(&path).await?.bytes().await }) {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(object_store::Error::NotFound { source, .. })
                if !source.to_string().contains("NoSuchBucket") =>
            {
                Ok(None)
            }
            Err(err) => Err(self.error(name, &err)),
        }
    }

    fn get_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        use futures_util::{StreamExt as _, TryStreamExt as _};
        let store = Arc::clone(&self.store);
        let requests: Vec<(usize, object_store::path::Path)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (i, self.config.object(name)))
            .collect();
        let fetched = self.run(async move {
            let outcome = futures_util::stream::iter(requests)
                .map(|(i, path)| {
                    let store = Arc::clone(&store);
                    async move {
                        let got = match store.get(&path).await {
                            Ok(result) => result.bytes().await,
                            Err(err) => Err(err),
                        };
                        match got {
                            Ok(bytes) => Ok(Some(bytes.to_vec())),
                            Err(object_store::Error::NotFound { source, .. })
                                if !source.to_string().contains("NoSuchBucket") =>
                            {
                                Ok(None)
                            }
                            Err(err) => Err((i, err)),
                        }
                    }
                })
                .buffered(UPLOAD_CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await;
            Ok(outcome)
        });
        match fetched {
            Ok(Ok(found)) => Ok(found),
            Ok(Err((i, err))) => Err(self.error(&names[i], &err)),
            Err(err) => Err(self.error("", &err)),
        }
    }

    fn exists(&self, name: &str) -> Result<bool> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(name);
        match self.run(async move { store.head(&path).await }) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => {
                // HEAD has no body: a missing bucket also answers 404. Tell them apart once.
                self.list_page_check()?;
                Ok(false)
            }
            Err(err) => Err(self.error(name, &err)),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<ObjectEntry>> {
        use futures_util::TryStreamExt as _;
        let store = Arc::clone(&self.store);
        let path = self.config.object(dir);
        let strip = format!("{}/", self.config.object("").as_ref());
        let strip = if self.config.prefix.is_empty() {
            String::new()
        } else {
            strip.trim_start_matches('/').to_owned()
        };
        let found = self
            .run(async move { store.list(Some(&path)).try_collect::<Vec<_>>().await })
            .map_err(|e| self.error(dir, &e))?;
        let mut out: Vec<ObjectEntry> = found
            .into_iter()
            .map(|meta| ObjectEntry {
                name: meta
                    .location
                    .as_ref()
                    .strip_prefix(strip.as_str())
                    .unwrap_or(meta.location.as_ref())
                    .to_owned(),
                size: meta.size,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn delete(&self, name: &str) -> Result<()> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(name);
        self.run(async move { store.delete(&path).await })
            .map_err(|e| self.error(name, &e))
    }

    fn url(&self) -> String {
        self.config.url()
    }
}

impl S3Blobs {
    /// A listing of the marker's directory: fails with the bucket's error when it is missing.
    fn list_page_check(&self) -> Result<()> {
        let store = Arc::clone(&self.store);
        let path = self.config.object(MARKER_OBJECT);
        match self.run(async move { store.head(&path).await }) {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => {
                let store = Arc::clone(&self.store);
                let path = self.config.object("");
                self.run(async move { store.list_with_delimiter(Some(&path)).await })
                    .map(|_| ())
                    .map_err(|e| self.error("", &e))
            }
            Err(err) => Err(self.error(MARKER_OBJECT, &err)),
        }
    }
}

/// What went wrong talking to a bucket, for the message and the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteProblem {
    /// The endpoint did not answer (connection refused, timeout, DNS).
    Unreachable,
    /// The credentials were refused.
    Credentials,
    /// The bucket does not exist.
    NoBucket,
    /// The client could not be configured (e.g. a malformed endpoint).
    Config,
    /// Anything else the server answered.
    Other,
}

impl std::fmt::Display for RemoteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "the endpoint cannot be reached",
            Self::Credentials => {
                "the credentials were refused (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
            }
            Self::NoBucket => "the bucket does not exist",
            Self::Config => "the object-store client cannot be configured",
            Self::Other => "the request failed",
        })
    }
}

fn remote_error(url: &str, endpoint: &str, name: &str, err: &object_store::Error) -> StoreError {
    let detail = crate::error_chain(err);
    let lower = detail.to_ascii_lowercase();
    let problem = if lower.contains("nosuchbucket") || lower.contains("bucket does not exist") {
        RemoteProblem::NoBucket
    } else if matches!(
        err,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || lower.contains("invalidaccesskeyid")
        || lower.contains("signaturedoesnotmatch")
        || lower.contains("accessdenied")
        || lower.contains("403 forbidden")
    {
        RemoteProblem::Credentials
    } else if lower.contains("connect")
        || lower.contains("timed out")
        || lower.contains("dns")
        || lower.contains("error sending request")
    {
        RemoteProblem::Unreachable
    } else {
        RemoteProblem::Other
    };
    let url = if name.is_empty() {
        url.to_owned()
    } else {
        format!("{}/{name}", url.trim_end_matches('/'))
    };
    StoreError::Remote {
        url,
        endpoint: endpoint.to_owned(),
        problem,
        detail: first_line(&detail),
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(300).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// The blobs of an archive on a bucket: the bucket plus a bounded cache on local disk.
#[derive(Debug)]
pub(crate) struct RemoteBlobs {
    pub(crate) config: BlobsConfig,
    pub(crate) backend: Box<dyn BlobStore>,
    cache: DiskCache,
    /// Serialises check-upload-commit of each snapshot (see `commit_prepared_with`); different
    /// snapshots upload in parallel.
    pub(crate) commit: InFlight,
    /// Record entries (family code, key) written since the last push to the bucket.
    pending: std::sync::Mutex<Vec<(u8, Vec<u8>)>>,
    /// This writer's view of the bucket's record log (remote.rs).
    pub(crate) push: std::sync::Mutex<crate::remote::PushState>,
    /// Set once this writer checked that the prefix is this archive's (owner.rs).
    pub(crate) claimed: std::sync::atomic::AtomicBool,
    /// Objects and bytes reads fetched from the bucket.
    fetches: FetchCounters,
}

#[derive(Debug, Default)]
struct FetchCounters {
    objects: AtomicU64,
    bytes: AtomicU64,
    cache_hits: AtomicU64,
}

/// What the reads of an archive on a bucket fetched since it was opened
/// ([`crate::Store::blob_fetches`]): whole objects, one per chunk or delta value a read needs
/// and the local cache lacks (a value is a few KiB to 1 MiB: no range of an object is worth a
/// request of its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobFetches {
    /// Objects fetched from the bucket.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Values the local blob cache answered.
    pub cache_hits: u64,
}

impl RemoteBlobs {
    pub(crate) fn open(archive: &Path, config: BlobsConfig) -> Result<Self> {
        let backend = Box::new(S3Blobs::connect(&config)?);
        let cache = DiskCache::open(archive.join(BLOB_CACHE_DIR), config.cache_bytes);
        Ok(Self {
            config,
            backend,
            cache,
            commit: InFlight::default(),
            pending: std::sync::Mutex::new(Vec::new()),
            push: std::sync::Mutex::new(crate::remote::PushState::default()),
            claimed: std::sync::atomic::AtomicBool::new(false),
            fetches: FetchCounters::default(),
        })
    }

    /// The record entries written since the last push.
    pub(crate) fn pending_entries(&self) -> std::sync::MutexGuard<'_, Vec<(u8, Vec<u8>)>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value of blob `key` whose object carries `tag` (none: the plain name), from the
    /// cache or the bucket (then cached); `None` when the bucket has none. When that object is
    /// gone (a reader whose view predates a repack, the old object deleted by `gc` since), the
    /// other objects of the same key are tried: every encoding of a value decodes to the same
    /// verified bytes, and the read verifies whichever it gets.
    pub(crate) fn get(
        &self,
        kind: BlobKind,
        key: Blake3,
        tag: Option<&ValueTag>,
    ) -> Result<Option<Vec<u8>>> {
        let name = kind.tagged_name(key, tag);
        if let Some(found) = self.get_named(&name)? {
            return Ok(Some(found));
        }
        for other in self.other_objects(kind, key, &name)? {
            if let Some(found) = self.get_named(&other)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The object `name`, from the cache or the bucket (then cached).
    fn get_named(&self, name: &str) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.cache.get(name) {
            self.fetches.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(bytes));
        }
        let found = self.backend.get(name)?;
        if let Some(bytes) = &found {
            self.fetches.objects.fetch_add(1, Ordering::Relaxed);
            self.fetches
                .bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            self.cache.put(name, bytes);
        }
        Ok(found)
    }

    /// The names of the objects of blob `key` other than `tried`, in name order (a listing of
    /// its fan-out directory).
    fn other_objects(&self, kind: BlobKind, key: Blake3, tried: &str) -> Result<Vec<String>> {
        let plain = kind.object_name(key);
        let dir = plain.rsplit_once('/').map_or("", |(dir, _)| dir);
        Ok(self
            .backend
            .list(dir)?
            .into_iter()
            .map(|entry| entry.name)
            .filter(|name| name != tried && BlobKind::parse_object_name(name) == Some((kind, key)))
            .collect())
    }

    /// Writes the named objects to the bucket (up to [`UPLOAD_CONCURRENCY`] at a time) and to
    /// the cache; returns once the bucket confirmed every one (or with the first failure).
    pub(crate) fn put_named(&self, objects: Vec<(String, Vec<u8>)>) -> Result<()> {
        for (name, bytes) in &objects {
            self.cache.put(name, bytes);
        }
        self.backend.put_many(objects)
    }

    /// Drops object `name` from the local cache (it left the bucket).
    pub(crate) fn forget_cached(&self, name: &str) {
        self.cache.remove(name);
    }

    /// What reads fetched since the archive was opened.
    pub(crate) fn fetches(&self) -> BlobFetches {
        BlobFetches {
            objects: self.fetches.objects.load(Ordering::Relaxed),
            bytes: self.fetches.bytes.load(Ordering::Relaxed),
            cache_hits: self.fetches.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// Writes the blobs to the bucket (up to [`UPLOAD_CONCURRENCY`] at a time) and to the cache;
    /// returns once the bucket confirmed every one (or with the first failure).
    pub(crate) fn put_all(&self, blobs: Vec<(BlobKind, Blake3, Vec<u8>)>) -> Result<()> {
        let objects = blobs
            .into_iter()
            .map(|(kind, key, bytes)| {
                let name = kind.object_name(key);
                self.cache.put(&name, &bytes);
                (name, bytes)
            })
            .collect();
        self.backend.put_many(objects)
    }

    /// Whether the bucket holds the blob's object carrying `tag` (the cache answers first).
    pub(crate) fn contains(
        &self,
        kind: BlobKind,
        key: Blake3,
        tag: Option<&ValueTag>,
    ) -> Result<bool> {
        let name = kind.tagged_name(key, tag);
        if self.cache.contains(&name) {
            return Ok(true);
        }
        self.backend.exists(&name)
    }
}

/// Snapshots whose check-upload-commit is under way: a second writer thread of the same
/// snapshot waits (a delta object's bytes depend on its base, so two threads must not upload
/// different deltas under one name), other snapshots go ahead.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    keys: std::sync::Mutex<std::collections::HashSet<Blake3>>,
    released: std::sync::Condvar,
}

/// Held while one snapshot is checked, uploaded and committed.
pub(crate) struct InFlightGuard<'a> {
    set: &'a InFlight,
    key: Blake3,
}

impl InFlight {
    /// Waits until no other thread holds `key`, then holds it until the guard is dropped.
    pub(crate) fn lock(&self, key: Blake3) -> InFlightGuard<'_> {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while keys.contains(&key) {
            keys = self
                .released
                .wait(keys)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        keys.insert(key);
        InFlightGuard { set: self, key }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.set
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
        self.set.released.notify_all();
    }
}

/// The cache directory inside an archive on a bucket.
pub(crate) const BLOB_CACHE_DIR: &str = "blob-cache";

/// Blobs on local disk, at most about `budget` bytes: the least recently used are removed
/// (by modification time, which a hit refreshes) when a write goes over. Every cached value is
/// verified like a fetched one when read (its chunk or snapshot hash), so a damaged cache file
/// is a verification failure, never wrong bytes.
#[derive(Debug)]
struct DiskCache {
    dir: PathBuf,
    budget: u64,
    used: AtomicU64,
    counter: AtomicU64,
}

impl DiskCache {
    fn open(dir: PathBuf, budget: u64) -> Self {
        let used = walk(&dir).iter().map(|(_, len, _)| len).sum();
        Self {
            dir,
            budget,
            used: AtomicU64::new(used),
            counter: AtomicU64::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn contains(&self, name: &str) -> bool {
        self.budget > 0 && self.path(name).is_file()
    }

    fn get(&self, name: &str) -> Option<Vec<u8>> {
        if self.budget == 0 {
            return None;
        }
        let path = self.path(name);
        let bytes = std::fs::read(&path).ok()?;
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        Some(bytes)
    }

    /// Best effort: a file left behind is only evicted later.
    fn remove(&self, name: &str) {
        let path = self.path(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            if std::fs::remove_file(&path).is_ok() {
                let _ = self
                    .used
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                        Some(used.saturating_sub(meta.len()))
                    });
            }
        }
    }

    /// Best effort: a cache that cannot be written only costs refetches.
    fn put(&self, name: &str, bytes: &[u8]) {
        if self.budget == 0 || bytes.len() as u64 > self.budget {
            return;
        }
        let path = self.path(name);
        if path.is_file() {
            return;
        }
        let Some(parent) = path.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".tmp-{}-{n}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        let used = self.used.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
        if used > self.budget {
            self.evict();
        }
    }

    /// Removes the least recently used files until the cache holds at most 3/4 of its budget.
    fn evict(&self) {
        let mut files = walk(&self.dir);
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort_by_key(|(_, _, modified)| *modified);
        let target = self.budget / 4 * 3;
        for (path, len, _) in files {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
        self.used.store(total, Ordering::Relaxed);
    }
}

/// Every file under `dir` with its length and modification time.
fn walk(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                out.push((entry.path(), meta.len(), modified));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_parse_and_malformed_ones_are_refused() {
        let config = BlobsConfig::parse("s3://my-bucket/some/prefix/").expect("valid");
        assert_eq!(config.url(), "s3://my-bucket/some/prefix");
        assert_eq!(config.bucket(), "my-bucket");
        assert_eq!(
            BlobsConfig::parse("s3://my-bucket").expect("valid").url(),
            "s3://my-bucket"
        );
        for bad in [
            "http://my-bucket/p",
            "s3://",
            "s3://UPPER/p",
            "s3://ab/p",
            "s3://-bucket/p",
            "s3://bucket/../p",
            "s3://bucket/a//b",
        ] {
            let err = BlobsConfig::parse(bad).expect_err(bad);
            assert!(
                matches!(&err, StoreError::BlobsUrl { url, .. } if url == bad),
                "{err}"
            );
        }
    }

    #[test]
    fn the_recorded_setting_round_trips_without_secrets() {
        let config = BlobsConfig::parse("s3://my-bucket/p")
            .expect("valid")
            .with_endpoint("http://127.0.0.1:9000");
        let text = config.encode();
        assert_eq!(
            text,
            "url=s3://my-bucket/p\nendpoint=http://127.0.0.1:9000\ncache-bytes=268435456\n"
        );
        let decoded = BlobsConfig::decode(&text).expect("decode");
        assert_eq!(decoded.url(), config.url());
        assert_eq!(decoded.endpoint, config.endpoint);
        assert_eq!(decoded.cache_bytes, DEFAULT_BLOB_CACHE);
    }

    #[test]
    fn object_names_are_derived_from_the_key_and_parse_back() {
        let key = Blake3::of(b"chunk");
        let name = BlobKind::Chunk.object_name(key);
        let hex = key.to_hex();
        assert_eq!(name, format!("chunks/{}/{hex}", &hex[..2]));
        assert_eq!(
            BlobKind::parse_object_name(&name),
            Some((BlobKind::Chunk, key))
        );
        assert_eq!(
            BlobKind::parse_object_name(&BlobKind::Delta.object_name(key)),
            Some((BlobKind::Delta, key))
        );
        assert_eq!(
            BlobKind::parse_object_name("records/0000000000000000"),
            None
        );
        assert_eq!(BlobKind::parse_object_name("chunks/ab/not-hex"), None);
    }

    #[test]
    fn a_re_encoded_value_is_named_by_its_key_and_its_bytes_and_parses_back() {
        let key = Blake3::of(b"delta");
        let tag = value_tag(b"re-encoded bytes");
        assert_eq!(
            hex::encode(tag),
            Blake3::of(b"re-encoded bytes").to_hex()[..32]
        );
        let name = BlobKind::Delta.tagged_name(key, Some(&tag));
        let hex = key.to_hex();
        assert_eq!(
            name,
            format!("deltas/{}/{hex}.{}", &hex[..2], hex::encode(tag))
        );
        assert_eq!(
            BlobKind::Delta.tagged_name(key, None),
            BlobKind::Delta.object_name(key)
        );
        assert_eq!(
            BlobKind::parse_object_name(&name),
            Some((BlobKind::Delta, key))
        );
        // Other bytes, other name; a malformed tag is no value object.
        assert_ne!(
            BlobKind::Delta.tagged_name(key, Some(&value_tag(b"other bytes"))),
            name
        );
        assert_eq!(
            BlobKind::parse_object_name(&format!("deltas/{}/{hex}.abc", &hex[..2])),
            None
        );
    }

    #[test]
    fn the_disk_cache_stays_within_its_budget() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = DiskCache::open(dir.path().join("c"), 10_000);
        for i in 0..30u8 {
            cache.put(&format!("chunks/{i:02x}/{i}"), &[i; 1000]);
        }
        let used: u64 = walk(&dir.path().join("c"))
            .iter()
            .map(|(_, len, _)| len)
            .sum();
        assert!(used <= 10_000, "{used} bytes cached");
        assert_eq!(cache.get("chunks/1d/29"), Some(vec![29u8; 1000]));
        assert_eq!(cache.get("chunks/00/0"), None);
    }
}
