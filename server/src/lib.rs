//! Fieldbook's relay: accounts and devices, the per-space append-only change log with a
//! WebSocket sync endpoint, and the built client (precompressed, with an SPA fallback).
//!
//! # Flow
//!
//! The binary (`src/bin/fieldbook-server.rs`) parses [`Config`], sets up tracing, binds the
//! listener and calls [`run`] with a shutdown future. [`run`] opens the database
//! ([`db::open`]), starts the log's writer task ([`store::LogStore::start`]) and, on
//! PostgreSQL, the listener for other relays' commits ([`fanout::listen`]), precompresses
//! the static files ([`assets::precompress_dir`]) and serves the router ([`app::router`])
//! until the shutdown future resolves. Then it stops accepting, tells every sync
//! connection to finish (an append under way is committed and acknowledged first), waits
//! for them — at most `Config::shutdown_grace`, then the remaining connections (clients
//! that stopped reading) are closed by returning — lets the writer drain and closes the
//! database.
//!
//! # Layout
//!
//! - [`config`]: command-line flags and `FIELDBOOK_*` environment variables, validated into
//!   a [`Config`].
//! - [`db`]: the database, SQLite (default) or PostgreSQL by URL: migrations, health check,
//!   and [`with_db!`], which runs one query on either backend.
//! - [`assets`]: the built client: brotli/gzip precompression and cache headers.
//! - [`app`]: the axum router: `/healthz`, `/api`, `/sync` and the client.
//! - [`security`]: headers of every response (CSP with the built `index.html`'s inline
//!   script hashes, nosniff, no referrer, no framing, HSTS when configured), `no-store` on
//!   API answers.
//! - [`api`]: the HTTP API (sign-up, sign-in, sign-out, devices, revoke).
//! - [`auth`]: accounts, devices, tokens, argon2id, the sign-up limit per address.
//! - [`throttle`]: growing delays after failed sign-ins, per account and per address,
//!   counted in the database (shared by every relay).
//! - [`ws`]: the WebSocket endpoint driving `shared::sync::RelaySession`.
//! - [`store`]: the change log, with one group-committing writer per relay and gap-free
//!   sequence numbers under a per-space lock.
//! - [`health`]: failing commits (probed until they work again) and a damaged database
//!   (integrity check at start, corruption errors of any query), for `/healthz`.
//! - [`listen`]: accepting connections: HTTP/1.1 with a request-head deadline, caps per
//!   address and in all (raised open-file limit), trusted proxies, graceful stop.
//! - [`metrics`]: `GET /metrics` (Prometheus text) for the addresses `--metrics-allow`
//!   names.
//! - [`hub`]: live connections: wake-ups and revocations.
//! - [`fanout`]: several relays on one PostgreSQL: LISTEN/NOTIFY wake-ups and revocations
//!   between relays, and resynchronisation after a lost listener connection.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod bench;
pub mod config;
pub mod db;
pub mod embedded;
pub mod fanout;
pub mod handover;
pub mod health;
pub mod hub;
pub mod listen;
pub mod metrics;
pub mod security;
pub mod store;
pub mod teams;
pub mod throttle;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use config::Config;
use tokio::net::TcpListener;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// A random id for this relay process (16 hex digits).
fn random_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Only distinguishes relays in notifications: the clock is enough then.
        bytes = now_ms().to_le_bytes();
    }
    hex::encode(bytes)
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
    let db = db::open(&config.database).await?;
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
    // Names this relay in its commit notifications, so it can skip its own.
    let relay_id = random_id();
    let health = Arc::new(health::Health::default());
    health::check_integrity(&db, health.clone());
    let metrics = Arc::new(metrics::Metrics::default());
    let hub = Arc::new(hub::Hub::default());
    let (store, writer) = store::LogStore::start(
        db.clone(),
        relay_id.clone(),
        health.clone(),
        metrics.clone(),
        config.space_quota_bytes,
        hub.clone(),
    );
    let shutdown_token = tokio_util::sync::CancellationToken::new();
    // Several relays on one PostgreSQL: listen for the others' commits and revocations.
    let listener_task = match &db {
        db::Database::Postgres(pool) => Some(tokio::spawn(fanout::listen(
            pool.clone(),
            relay_id.clone(),
            hub.clone(),
            store.clone(),
            shutdown_token.clone(),
        ))),
        db::Database::Sqlite(_) => None,
    };
    tracing::info!(relay = %relay_id, database = db.backend(), "relay starting");
    let state = app::AppState {
        db: db.clone(),
        health,
        connections: listen::Connections::default(),
        trusted_proxies: Arc::new(config.connections.trusted_proxies.clone()),
        metrics,
        metrics_allow: Arc::new(config.metrics_allow.clone()),
        store,
        hub,
        throttle: throttle::Throttle::new(db.clone(), config.signin_attempts),
        address_limiter: Arc::new(auth::RateLimiter::new(
            config.signin_attempts.saturating_mul(10),
            Duration::from_secs(15 * 60),
        )),
        limits: config.limits,
        tracker: tokio_util::task::TaskTracker::new(),
        shutdown: shutdown_token,
    };
    let open_files = listen::raise_open_file_limit();
    let limits = listen::ConnectionLimits {
        per_address: config.connections.per_address,
        total: listen::total_cap(open_files, config.connections.total),
        header_read_timeout: config.connections.header_timeout,
        trusted_proxies: config.connections.trusted_proxies.clone(),
    };
    tracing::info!(
        open_file_limit = open_files,
        max_connections = limits.total,
        max_per_address = limits.per_address,
        "connection capacity"
    );
    let router = app::router(state.clone(), &config);
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let stop = state.shutdown.clone();
    let tracker = state.tracker.clone();
    // Graceful shutdown stops accepting and lets each connection finish what it started
    // (an append under way is committed and acknowledged), but only for the grace period:
    // a client that stops reading would otherwise keep the relay alive, port closed,
    // until SIGKILL.
    let (stopping, stopped_accepting) = tokio::sync::oneshot::channel::<()>();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight commits");
            let _ = stopping.send(());
            // Stops accepting, and tells the sync connections to finish.
            stop.cancel();
        });
    }
    let serve = listen::serve(
        listener,
        router,
        limits,
        state.connections.clone(),
        stop.clone(),
    );
    let drained = {
        let tracker = tracker.clone();
        async move {
            serve.await;
            tracker.close();
            tracker.wait().await;
            Ok::<_, std::io::Error>(())
        }
    };
    let grace = config.shutdown_grace;
    let deadline = async move {
        if stopped_accepting.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = drained => result?,
        () = deadline => {
            // Every commit that started has had the grace period to finish; what remains
            // are connections that do not read. Returning ends the process, which closes
            // them (an unacknowledged push is pushed again by its device).
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                connections = tracker.len(),
                "shutdown grace period over: closing the remaining connections"
            );
            return Ok(());
        }
    }
    // The last store handles go with the state; the writer then drains and ends.
    drop(state);
    if let Err(err) = writer.await {
        tracing::error!(cause = %err, "log writer failed");
    }
    if let Some(task) = listener_task {
        let _ = task.await;
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
