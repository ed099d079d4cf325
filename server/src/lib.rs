//! Fieldbook's relay. Today it serves the built client (precompressed, with an SPA fallback)
//! and owns the SQLite data file; the per-space change log, accounts and devices arrive with
//! sync.
//!
//! # Flow
//!
//! The binary (`src/bin/fieldbook-server.rs`) parses [`Config`], sets up tracing, binds the
//! listener and calls [`run`] with a shutdown future. [`run`] opens the database
//! ([`db::open`]), precompresses the static files ([`assets::precompress_dir`]) and serves
//! the router ([`app::router`]) until the shutdown future resolves, then lets in-flight
//! requests finish and closes the database cleanly.
//!
//! # Layout
//!
//! - [`config`]: command-line flags and `FIELDBOOK_*` environment variables, validated into
//!   a [`Config`].
//! - [`db`]: the SQLite file: WAL mode, migrations, health check.
//! - [`assets`]: the built client: brotli/gzip precompression and cache headers.
//! - [`app`]: the axum router: `/healthz` and the client.
#![deny(clippy::unwrap_used)]

pub mod app;
pub mod assets;
pub mod config;
pub mod db;

use std::future::Future;

pub use config::Config;
use tokio::net::TcpListener;

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
    let router = app::router(app::AppState { pool: pool.clone() }, &config);
    tracing::info!(addr = %listener.local_addr()?, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
