//! `evarc serve`: the permanent address behind every citation.
//!
//! An HTTP front end over an archive opened read-only: one page per record ID (provision and
//! document pages), the verified bytes of each capture (`/raw/<sha256>`), Memento (RFC 7089)
//! TimeGate, TimeMaps and mementos in the Wayback URL shape, a JSON API under `/api/v1/`, Atom
//! feeds of new captures and the transparency log's checkpoint, key and proofs.
//!
//! Like the CLI it renders what `evarc-provenance` decides: every rule (which record an ID
//! names, the citation text, the evidence check, which capture is the nearest memento) is a
//! provenance function. The server reads the clock and hands it in. docs/serve.md lists the
//! routes and headers.

mod access;
mod api;
mod assets;
mod cache;
mod changes;
mod error;
mod feed;
mod last_used;
mod log;
mod memento;
mod package;
mod pages;
mod raw;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::routing::get;
use axum::Router;

pub use access::WRITE_BODY_LIMIT;
pub use error::ServeError;
pub use state::AppState;

/// Largest request body accepted by the read routes (the write routes: [`WRITE_BODY_LIMIT`]).
pub const BODY_LIMIT: usize = 64 * 1024;
/// A request that takes longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that has not sent its whole request head within this time is disconnected.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head (request line and headers) read; larger ones are refused.
pub const HEADER_LIMIT: usize = 16 * 1024;

/// The routes, over an archive state. docs/serve.md lists them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/assets/{name}", get(assets::asset))
        .route("/raw/{sha256}", get(raw::raw))
        .route("/web/{*rest}", get(memento::memento))
        .route("/timegate/{*rest}", get(memento::timegate))
        .route("/timemap/link/{*rest}", get(memento::timemap_link))
        .route("/timemap/json/{*rest}", get(memento::timemap_json))
        .route("/feed.atom", get(feed::global))
        .route("/feed/{id}", get(feed::document))
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/key", get(log::key))
        .route("/log/proof/{id}", get(log::inclusion))
        .route("/log/consistency/{size}", get(log::consistency))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/records/{id}", get(api::record))
        .route("/api/v1/citations/{id}", get(api::citation))
        .route("/api/v1/history/{id}", get(api::history))
        .route("/api/v1/captures/{sha256}", get(api::captures))
        .route("/api/v1/audit/{id}", get(api::audit))
        .route("/api/v1/search", get(api::search))
        // i12-pages: evidence packages, change records and their feeds.
        .route("/export/{file}", get(package::download))
        .route("/feed/changes.atom", get(changes::global_feed))
        .route("/feed/changes/{id}", get(changes::document_feed))
        .route("/{id}", get(pages::record))
        .fallback(pages::not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        // Issue 12, writes: tokens, their own body limit (access.rs).
        .merge(access::write_routes())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Serves the archive at `path` on `listen` until interrupted (Ctrl-C / SIGTERM). `on_bound`
/// is told the address actually bound (port 0 picks a free one) before the first request.
pub fn run(
    path: PathBuf,
    listen: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    run_with(path, listen, ServeOptions::default(), on_bound)
}

/// How the server reuses what it computed (`evarc serve` options).
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// A check of a capture's bytes that verified is shown again (and its bytes served) while
    /// it is younger than this; zero: every request checks (`--recheck-after`).
    pub recheck_after: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            recheck_after: state::DEFAULT_RECHECK_AFTER,
        }
    }
}

/// [`run`] with options.
pub fn run_with(
    path: PathBuf,
    listen: SocketAddr,
    options: ServeOptions,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let state = AppState::open_with(path, options.recheck_after)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: listen,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
        on_bound(bound);
        accept_loop(listener, router(state)).await;
        Ok(())
    })
}

/// Accepts connections until shutdown; each is served over HTTP/1.1 with a header read timeout
/// (slow clients are cut off) and a bounded header buffer.
async fn accept_loop(listener: tokio::net::TcpListener, app: Router) {
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a little, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => return,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(HEADER_LIMIT);
            let io = hyper_util::rt::TokioIo::new(stream);
            // A connection's failure (reset, timeout) concerns that client only.
            let _ = http.serve_connection(io, service).await;
        });
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
