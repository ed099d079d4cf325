//! The HTTP surface: `/healthz`, the API (`/api/…`), the sync WebSocket (`/sync`) and the
//! built client with an SPA fallback.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    handler::HandlerWithoutStateExt,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use shared::sync::RelayLimits;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

use tower::ServiceExt;

use crate::security::{self, SecurityHeaders};
use crate::{api, assets, auth::RateLimiter, db, hub::Hub, store::LogStore, ws, Config};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: db::Database,
    /// Failing commits, a damaged database.
    pub health: Arc<crate::health::Health>,
    /// Open connections (for metrics).
    pub connections: crate::listen::Connections,
    /// Reverse proxies whose forwarding headers name the real client.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Who may read `/metrics`.
    pub metrics_allow: Arc<Vec<ipnet::IpNet>>,
    /// The change log.
    pub store: LogStore,
    /// Live sync connections.
    pub hub: Arc<Hub>,
    /// Failed sign-ins per account and per address (growing delays, in the database).
    pub throttle: crate::throttle::Throttle,
    /// Sign-ups per client address (ten times `--signin-attempts` in 15 minutes: several
    /// reps may share an office's address).
    pub address_limiter: Arc<RateLimiter>,
    /// Limits of every sync session.
    pub limits: RelayLimits,
    /// Sync connections, awaited at shutdown.
    pub tracker: TaskTracker,
    /// Cancelled when the relay shuts down.
    pub shutdown: CancellationToken,
}

/// The relay's router.
pub fn router(state: AppState, config: &Config) -> Router {
    let index = config.static_dir.join("index.html");
    // Unknown paths without a file extension are client routes (`/customers/…`): answer
    // with the app shell. A missing file (a hashed asset of another build during a rolling
    // deploy, `robots.txt`) is a 404, never the shell: a service worker or CDN would store
    // the HTML as the app's wasm.
    let shell = move |request: Request<Body>| {
        let index = index.clone();
        async move {
            if looks_like_a_file(request.uri().path()) {
                return (StatusCode::NOT_FOUND, "not found").into_response();
            }
            match ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(request)
                .await
            {
                Ok(response) => response.map(Body::new),
                Err(err) => match err {},
            }
        }
    };
    let client = ServeDir::new(&config.static_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(shell.into_service());
    let api = Router::new()
        .route("/signup", post(api::sign_up))
        .route("/signin", post(api::sign_in))
        .route("/signout", post(api::sign_out))
        .route("/devices", get(api::devices))
        .route("/devices/{id}/revoke", post(api::revoke))
        .route("/teams", get(api::teams).post(api::create_team))
        .route("/teams/{team}/territories", post(api::add_territory))
        .route("/teams/{team}/members", get(api::members))
        .route(
            "/teams/{team}/members/{account}",
            axum::routing::patch(api::change_member).delete(api::remove_member),
        )
        .route(
            "/teams/{team}/invites",
            get(api::invites).post(api::create_invite),
        )
        .route(
            "/teams/{team}/invites/{invite}",
            axum::routing::delete(api::revoke_invite),
        )
        .route("/teams/{team}/moves", post(api::move_customers))
        .route("/invites/accept", post(api::accept_invite))
        .fallback(api_not_found)
        .layer(DefaultBodyLimit::max(16 * 1024));
    let security = SecurityHeaders::for_client(&config.static_dir, config.hsts);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/sync", get(ws::handler))
        .route("/robots.txt", get(robots))
        .route("/metrics", get(crate::metrics::handler))
        .nest("/api", api)
        .with_state(state)
        // Dynamic responses are compressed on the fly; static files arrive precompressed
        // and already carry a Content-Encoding, which this layer leaves alone.
        .layer(CompressionLayer::new())
        .fallback_service(
            Router::new()
                .fallback_service(client)
                .layer(middleware::from_fn(assets::cache_headers)),
        )
        .layer(middleware::from_fn_with_state(security, security::headers))
        .layer(TraceLayer::new_for_http())
}

/// Whether a path names a file (its last segment has an extension): such a path is never
/// a client route.
fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|name| name.contains('.'))
}

/// An unknown API path: a JSON 404 like every API error.
async fn api_not_found(request: Request<Body>) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "error": "not_found",
            "message": format!("no API endpoint {} {}", request.method(), truncated(request.uri().path(), 200)),
            "fields": {},
        })),
    )
        .into_response()
}

/// At most `max` characters of `text` (echoed strings stay short).
pub fn truncated(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A book of customers is nobody's search result.
async fn robots() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        "User-agent: *\nDisallow: /\n",
    )
        .into_response()
}

/// Health of the relay: 200 when the database answers, commits succeed (or none failed
/// since the last success) and the database is not known to be damaged; 503 with the
/// reason otherwise, so a load balancer sends devices elsewhere.
async fn healthz(State(state): State<AppState>) -> Response {
    let integrity = state.health.integrity().as_str();
    let problem = match state.db.check().await {
        Err(err) => {
            let err = sqlx_error(err);
            if let Some(err) = &err.1 {
                state.health.saw(err);
            }
            Some(err.0)
        }
        Ok(()) => state.health.problem().map(|problem| problem.to_string()),
    };
    match problem {
        None => {
            Json(serde_json::json!({ "status": "ok", "database": "ok", "integrity": integrity }))
                .into_response()
        }
        Some(reason) => {
            tracing::warn!(cause = %reason, "health check: unhealthy");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "error", "database": reason, "integrity": integrity })),
            )
                .into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            response
        }
    }
}

/// A database error for the health answer, with the query error when there is one.
fn sqlx_error(err: db::DbError) -> (String, Option<sqlx::Error>) {
    let text = err.to_string();
    match err {
        db::DbError::Query(err) => (text, Some(err)),
        _ => (text, None),
    }
}
