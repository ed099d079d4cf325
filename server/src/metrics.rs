//! `GET /metrics` in Prometheus text format: connections, pushes and acknowledgements,
//! commit latency, storage errors, refusals (quota, sign-in, connection caps), health and
//! the relay's build. Answered only to addresses in `--metrics-allow` (default: loopback),
//! judged on the client a trusted proxy names; a request forwarded by an untrusted proxy
//! is refused (a public client behind a local proxy would otherwise look like loopback).

use std::sync::Mutex;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::{
    counter::Counter,
    family::Family,
    gauge::Gauge,
    histogram::{exponential_buckets, Histogram},
};
use prometheus_client::registry::Registry;

use crate::app::AppState;

/// Labels of a refusal counter: `reason`.
type Reasons = Family<Vec<(String, String)>, Counter>;

/// Every metric of one relay; cheap to share (`Arc`).
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Pushes answered with an acknowledgement.
    pub pushes_acked: Counter,
    /// Blobs newly stored.
    pub blobs_stored: Counter,
    /// Group commits, by duration.
    pub commit_seconds: Histogram,
    /// Failed commits and failed reads.
    pub storage_errors: Family<Vec<(String, String)>, Counter>,
    /// Pushes refused for the storage quota.
    pub quota_refusals: Counter,
    /// Sign-ins and sign-ups refused, by reason.
    pub signin_refusals: Reasons,
    connections_open: Gauge,
    connections_refused: Gauge,
    healthy: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fieldbook");
        let pushes_acked = Counter::default();
        registry.register(
            "pushes_acked",
            "Pushes acknowledged after their durable commit",
            pushes_acked.clone(),
        );
        let blobs_stored = Counter::default();
        registry.register(
            "blobs_stored",
            "Changes and snapshots newly stored in a log",
            blobs_stored.clone(),
        );
        // 0.5 ms to ~4 s.
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "commit_seconds",
            "Duration of a group commit of the log's writer",
            commit_seconds.clone(),
        );
        let storage_errors = Family::default();
        registry.register(
            "storage_errors",
            "Failed commits (operation=commit) and reads (operation=read)",
            storage_errors.clone(),
        );
        let quota_refusals = Counter::default();
        registry.register(
            "quota_refusals",
            "Pushes refused because their space would exceed its storage quota",
            quota_refusals.clone(),
        );
        let signin_refusals = Family::default();
        registry.register(
            "signin_refusals",
            "Sign-ins and sign-ups refused, by reason (wrong_credentials, throttled, signup_limit)",
            signin_refusals.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Open connections (HTTP and WebSocket)",
            connections_open.clone(),
        );
        let connections_refused = Gauge::default();
        registry.register(
            "connections_refused_since_start",
            "Connections refused at a per-address or total cap since the relay started",
            connections_refused.clone(),
        );
        let healthy = Gauge::default();
        registry.register(
            "healthy",
            "1 when commits succeed and the database is not damaged",
            healthy.clone(),
        );
        let build: Family<Vec<(String, String)>, Gauge> = Family::default();
        build
            .get_or_create(&vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )])
            .set(1);
        registry.register("build_info", "The relay's version", build);
        Metrics {
            registry: Mutex::new(registry),
            pushes_acked,
            blobs_stored,
            commit_seconds,
            storage_errors,
            quota_refusals,
            signin_refusals,
            connections_open,
            connections_refused,
            healthy,
        }
    }
}

impl Metrics {
    /// Counts a storage error of `operation` (`commit`, `read`).
    pub fn storage_error(&self, operation: &str) {
        self.storage_errors
            .get_or_create(&vec![("operation".to_string(), operation.to_string())])
            .inc();
    }

    /// Counts a refused sign-in or sign-up.
    pub fn signin_refused(&self, reason: &str) {
        self.signin_refusals
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    /// The text exposition, with the gauges read from `state` now.
    fn render(&self, state: &AppState) -> String {
        self.connections_open
            .set(i64::try_from(state.connections.open()).unwrap_or(i64::MAX));
        self.connections_refused
            .set(i64::try_from(state.connections.refused()).unwrap_or(i64::MAX));
        self.healthy
            .set(i64::from(state.health.problem().is_none()));
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if encode(&mut text, &registry).is_err() {
            text.clear();
        }
        text
    }
}

/// `GET /metrics`.
pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let forwarded = headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for");
    let trusted_peer = state
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&peer.ip()));
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    let allowed =
        (!forwarded || trusted_peer) && state.metrics_allow.iter().any(|net| net.contains(&client));
    if !allowed {
        tracing::info!(%client, "metrics refused: address not in --metrics-allow");
        return (
            StatusCode::FORBIDDEN,
            "metrics are not served to this address",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&state),
    )
        .into_response()
}
