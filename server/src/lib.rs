//! Fieldbook's relay: accounts and devices, the per-space append-only change log with a
//! WebSocket sync endpoint, and the built client (precompressed, with an SPA fallback).
//!
//! # Flow
//!
//! The binary (`src/bin/fieldbook-server.rs`) parses [`Config`], sets up tracing, binds the
//! listener and calls [`run`] with a shutdown future. [`run`] opens the database
//! ([`db::open`]), starts the log's writer task ([`store::LogStore::start`]), precompresses
//! the static files ([`assets::precompress_dir`]) and serves the router ([`app::router`])
//! until the shutdown future resolves. Then it stops accepting, tells every sync
//! connection to finish (an append under way is committed and acknowledged first), waits
//! for them, lets the writer drain and closes the database.
//!
//! # Layout
//!
//! - [`config`]: command-line flags and `FIELDBOOK_*` environment variables, validated into
//!   a [`Config`].
//! - [`db`]: the SQLite file: WAL mode, migrations, health check.
//! - [`assets`]: the built client: brotli/gzip precompression and cache headers.
//! - [`app`]: the axum router: `/healthz`, `/api`, `/sync` and the client.
//! - [`api`]: the HTTP API (sign-up, sign-in, sign-out, devices, revoke).
//! - [`auth`]: accounts, devices, tokens, argon2id, rate limits.
//! - [`ws`]: the WebSocket endpoint driving `shared::sync::RelaySession`.
//! - [`store`]: the change log in SQLite, with one group-committing writer.
//! - [`hub`]: live connections: wake-ups and revocations.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod bench;
pub mod config;
pub mod db;
pub mod hub;
pub mod store;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
pub use config::Config;
use tokio::net::TcpListener;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// Why the relay could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data file could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves Fieldbook on an already bound `listener` until `shutdown` resolves.
///
/// Taking a bound listener lets tests bind port 0 and read the address first.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let pool = db::open(&config.data_dir).await?;
    if config.static_dir.join("index.html").is_file() {
        let static_dir = config.static_dir.clone();
        match tokio::task::spawn_blocking(move || assets::precompress_dir(&static_dir)).await {
            Ok(Ok(report)) => tracing::info!(
                n_files = report.n_files,
                n_compressed = report.n_compressed,
                "static files ready"
            ),
            Ok(Err(err)) => {
                tracing::warn!(cause = %err, "could not precompress static files; serving them uncompressed")
            }
            Err(err) => tracing::warn!(cause = %err, "precompression task failed"),
        }
    } else {
        tracing::warn!(
            static_dir = %config.static_dir.display(),
            "no built client found; run scripts/start.sh to build it"
        );
    }
    let (store, writer) = store::LogStore::start(pool.clone());
    let state = app::AppState {
        pool: pool.clone(),
        store,
        hub: Arc::new(hub::Hub::default()),
        limiter: Arc::new(auth::RateLimiter::new(
            config.signin_attempts,
            Duration::from_secs(15 * 60),
        )),
        address_limiter: Arc::new(auth::RateLimiter::new(
            config.signin_attempts.saturating_mul(10),
            Duration::from_secs(15 * 60),
        )),
        limits: config.limits,
        tracker: tokio_util::task::TaskTracker::new(),
        shutdown: tokio_util::sync::CancellationToken::new(),
    };
    let router = app::router(state.clone(), &config);
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let stop = state.shutdown.clone();
    let tracker = state.tracker.clone();
    // Sync frames are small and latency-bound: send them at once instead of waiting for the
    // peer's delayed ACK (Nagle), which cost ~40 ms per wake-up and pull.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(cause = %err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight commits");
        // Upgraded sync connections are not tracked by the HTTP server: tell them.
        stop.cancel();
    })
    .await?;
    tracker.close();
    tracker.wait().await;
    // The last store handles go with the state; the writer then drains and ends.
    drop(state);
    if let Err(err) = writer.await {
        tracing::error!(cause = %err, "log writer failed");
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
