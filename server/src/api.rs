//! The HTTP API: sign-up, sign-in, sign-out, list devices, revoke a device. JSON in and
//! out; errors are `{"error": code, "message": text, "fields": {field: text}}` with a
//! fitting status. Authenticated calls carry `Authorization: Bearer <device token>`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{self, AuthError, DeviceAuth};
use crate::now_ms;

/// Sign-up and sign-in input.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    device_name: String,
}

/// An API error as JSON.
pub struct ApiError(AuthError);

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        ApiError(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.0.to_string();
        let (status, code) = match &self.0 {
            AuthError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            AuthError::WrongCredentials => (StatusCode::UNAUTHORIZED, "wrong_credentials"),
            AuthError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AuthError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AuthError::Revoked => (StatusCode::UNAUTHORIZED, "revoked"),
            AuthError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AuthError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let fields: serde_json::Map<String, serde_json::Value> = match &self.0 {
            AuthError::Invalid(fields) => fields
                .iter()
                .map(|(field, text)| ((*field).to_string(), text.clone().into()))
                .collect(),
            _ => serde_json::Map::new(),
        };
        let body = Json(serde_json::json!({ "error": code, "message": message, "fields": fields }));
        match self.0 {
            AuthError::RateLimited(seconds) => {
                (status, [(header::RETRY_AFTER, seconds.to_string())], body).into_response()
            }
            _ => (status, body).into_response(),
        }
    }
}

fn json_input<T>(input: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    input
        .map(|Json(value)| value)
        .map_err(|rejection| ApiError(AuthError::Invalid(vec![("body", rejection.body_text())])))
}

/// The device behind the request's bearer token.
async fn bearer(state: &AppState, headers: &HeaderMap) -> Result<DeviceAuth, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(ApiError(AuthError::Unauthorized))?;
    Ok(auth::device_for_token(&state.db, token.trim()).await?)
}

fn limit(limiter: &crate::auth::RateLimiter, key: String) -> Result<(), ApiError> {
    limiter
        .check(&key, Instant::now())
        .map_err(|wait| ApiError(AuthError::RateLimited(wait)))
}

/// `POST /api/signup`.
pub async fn sign_up(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    input: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    limit(&state.address_limiter, format!("signup:{client}"))?;
    let session = auth::sign_up(
        &state.db,
        &input.email,
        &input.password,
        &input.device_name,
        now_ms(),
    )
    .await?;
    tracing::info!(account = %session.account_id, device = %session.device_id, "account created");
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

/// `POST /api/signin`. Attempts are limited per email and per address.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    input: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    limit(&state.address_limiter, format!("signin:{client}"))?;
    limit(&state.limiter, input.email.trim().to_lowercase())?;
    let session = auth::sign_in(
        &state.db,
        &input.email,
        &input.password,
        &input.device_name,
        now_ms(),
    )
    .await?;
    tracing::info!(account = %session.account_id, device = %session.device_id, "device signed in");
    Ok(Json(session).into_response())
}

/// `POST /api/signout`: revokes the calling device.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    auth::revoke(&state.db, &me, &me.device_id, now_ms()).await?;
    state.hub.revoke(&me.device_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/devices`.
pub async fn devices(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    Ok(Json(auth::list_devices(&state.db, &me).await?).into_response())
}

/// `POST /api/devices/{id}/revoke`: signs a device out; its open connections close now.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device_id): Path<String>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    auth::revoke(&state.db, &me, &device_id, now_ms()).await?;
    let closed = state.hub.revoke(&device_id);
    tracing::info!(device = %device_id, by = %me.device_id, closed, "device revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}
