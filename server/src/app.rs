//! The HTTP surface: `/healthz` and the built client with an SPA fallback.

use axum::{
    extract::State,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use sqlx::SqlitePool;
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

use crate::{assets, db, Config};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The data file.
    pub pool: SqlitePool,
}

/// The relay's router.
pub fn router(state: AppState, config: &Config) -> Router {
    let index = config.static_dir.join("index.html");
    // Unknown paths are client routes (`/customers/…`): answer with the app shell.
    let client = ServeDir::new(&config.static_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
        // Dynamic responses are compressed on the fly; static files arrive precompressed
        // and already carry a Content-Encoding, which this layer leaves alone.
        .layer(CompressionLayer::new())
        .fallback_service(
            Router::new()
                .fallback_service(client)
                .layer(middleware::from_fn(assets::cache_headers)),
        )
        .layer(TraceLayer::new_for_http())
}

/// Health of the relay: 200 when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match db::check(&state.pool).await {
        Ok(()) => Json(serde_json_ok()).into_response(),
        Err(err) => {
            tracing::error!(cause = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "error", "database": err.to_string() })),
            )
                .into_response()
        }
    }
}

fn serde_json_ok() -> serde_json::Value {
    serde_json::json!({ "status": "ok", "database": "ok" })
}
