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
use crate::teams;

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
        // What failed inside (a database error's text) is logged, never sent.
        let message = match &self.0 {
            AuthError::Internal(_) => "the relay failed; try again in a moment".into(),
            other => other.to_string(),
        };
        let (status, code) = match &self.0 {
            AuthError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            AuthError::WrongCredentials => (StatusCode::UNAUTHORIZED, "wrong_credentials"),
            AuthError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AuthError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AuthError::Revoked => (StatusCode::UNAUTHORIZED, "revoked"),
            AuthError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AuthError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AuthError::LastAdmin => (StatusCode::CONFLICT, "last_admin"),
            AuthError::InviteUnknown => (StatusCode::NOT_FOUND, "invite_unknown"),
            AuthError::Invite(status) => (
                StatusCode::GONE,
                match status {
                    shared::sync::team::InviteStatus::Expired => "invite_expired",
                    shared::sync::team::InviteStatus::Revoked => "invite_revoked",
                    _ => "invite_used_up",
                },
            ),
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
        let mut body = serde_json::json!({ "error": code, "message": message, "fields": fields });
        if let AuthError::RateLimited(seconds) = &self.0 {
            body["retry_after"] = (*seconds).into();
        }
        let body = Json(body);
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

/// `POST /api/signup`. Creating accounts is limited per address. An email that already
/// has an account is not announced (`email_taken` told anyone which emails have
/// accounts): the request is treated as a sign-in, throttled like one — the right
/// password signs in, a wrong one gets "wrong email or password".
pub async fn sign_up(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    input: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    if let Err(err) = limit(&state.address_limiter, format!("signup:{client}")) {
        tracing::warn!(%client, "sign-up refused: too many from this address");
        state.metrics.signin_refused("signup_limit");
        return Err(err);
    }
    match auth::sign_up(
        &state.db,
        &input.email,
        &input.password,
        &input.device_name,
        now_ms(),
    )
    .await
    {
        Ok(session) => {
            tracing::info!(account = %session.account_id, device = %session.device_id, "account created");
            Ok((StatusCode::CREATED, Json(session)).into_response())
        }
        Err(AuthError::EmailTaken) => {
            let session = throttled_sign_in(&state, client, &input).await?;
            Ok(Json(session).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /api/signin`. Failures slow further attempts for the account and from the
/// address, with growing delays ([`crate::throttle`]).
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    input: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    let session = throttled_sign_in(&state, client, &input).await?;
    Ok(Json(session).into_response())
}

/// A sign-in, unless the account or the address must wait; failures and successes are
/// counted.
async fn throttled_sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    input: &Credentials,
) -> Result<shared::sync::account::Session, ApiError> {
    use crate::throttle::Subject;
    let account = auth::normalize_email(&input.email);
    let address = client.to_string();
    let now = now_ms();
    for (subject, key) in [(Subject::Account, &account), (Subject::Address, &address)] {
        if let Some(wait) = state
            .throttle
            .wait(subject, key, now)
            .await
            .map_err(AuthError::from)?
        {
            tracing::warn!(?subject, %client, wait_s = wait, "sign-in refused: wait after failed attempts");
            state.metrics.signin_refused("throttled");
            return Err(AuthError::RateLimited(wait).into());
        }
    }
    match auth::sign_in(
        &state.db,
        &input.email,
        &input.password,
        &input.device_name,
        now,
    )
    .await
    {
        Ok(session) => {
            state
                .throttle
                .succeeded(Subject::Account, &account)
                .await
                .map_err(AuthError::from)?;
            tracing::info!(account = %session.account_id, device = %session.device_id, "device signed in");
            Ok(session)
        }
        Err(AuthError::WrongCredentials) => {
            for (subject, key) in [(Subject::Account, &account), (Subject::Address, &address)] {
                state
                    .throttle
                    .failed(subject, key, now)
                    .await
                    .map_err(AuthError::from)?;
            }
            tracing::info!(%client, "sign-in refused: wrong email or password");
            state.metrics.signin_refused("wrong_credentials");
            Err(AuthError::WrongCredentials.into())
        }
        Err(err) => Err(err.into()),
    }
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
    page: Result<axum::extract::Query<auth::DevicePage>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    let axum::extract::Query(mut page) = page.map_err(|rejection| {
        ApiError(AuthError::Invalid(vec![("query", rejection.body_text())]))
    })?;
    page.limit = page.limit.clamp(1, auth::MAX_DEVICE_PAGE);
    let (devices, total) = auth::list_devices(&state.db, &me, page).await?;
    // The page as a JSON array (as before), the account's count in a header.
    Ok((
        [(
            axum::http::HeaderName::from_static("x-total-count"),
            total.to_string(),
        )],
        Json(devices),
    )
        .into_response())
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

/// `POST /api/teams` input.
#[derive(Debug, Deserialize)]
pub struct NewTeam {
    name: String,
    /// The first territory's name ("All customers" if not given).
    #[serde(default)]
    territory: Option<String>,
}

/// `POST /api/teams`: a new team, the caller its admin.
pub async fn create_team(
    State(state): State<AppState>,
    headers: HeaderMap,
    input: Result<Json<NewTeam>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    let territory = input.territory.as_deref().unwrap_or("All customers");
    let team = teams::create_team(&state.db, &me, &input.name, territory, now_ms()).await?;
    tracing::info!(team = %team.id, by = %me.account_id, "team created");
    Ok((StatusCode::CREATED, Json(team)).into_response())
}

/// `GET /api/teams`: the caller's teams with the spaces her devices sync.
pub async fn teams(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    Ok(Json(teams::my_teams(&state.db, &me).await?).into_response())
}

/// `POST /api/teams/{team}/territories` input.
#[derive(Debug, Deserialize)]
pub struct NewTerritory {
    name: String,
}

/// `POST /api/teams/{team}/territories` (admin).
pub async fn add_territory(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
    input: Result<Json<NewTerritory>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    let territory = teams::add_territory(&state.db, &me, &team, &input.name, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(territory)).into_response())
}

/// `POST /api/teams/{team}/moves` (admin, manager): customers go to another territory
/// (`crate::handover`); answers which moved and which stayed, with why.
pub async fn move_customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
    input: Result<Json<shared::sync::handover::MoveRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    let outcome = crate::handover::move_customers(
        &state.db,
        &state.hub,
        state.store.relay(),
        &me,
        &team,
        input,
        now_ms(),
    )
    .await?;
    Ok(Json(outcome).into_response())
}

/// `GET /api/teams/{team}/members` (any member).
pub async fn members(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    Ok(Json(teams::members(&state.db, &me, &team).await?).into_response())
}

/// `PATCH /api/teams/{team}/members/{account}` input: what to change.
#[derive(Debug, Deserialize)]
pub struct MemberChange {
    #[serde(default)]
    role: Option<shared::sync::team::Role>,
    #[serde(default)]
    territories: Option<Vec<String>>,
}

/// `PATCH /api/teams/{team}/members/{account}` (admin): role and territories. Her open
/// connections to the team's spaces close; her devices reconnect under the new rules.
pub async fn change_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((team, account)): Path<(String, String)>,
    input: Result<Json<MemberChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    teams::set_member(
        &state.db,
        state.store.relay(),
        &me,
        &team,
        &account,
        input.role,
        input.territories,
    )
    .await?;
    let closed = state.hub.access_changed(&team, &account);
    tracing::info!(%team, %account, by = %me.account_id, closed, "member changed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/teams/{team}/members/{account}` (admin, or the member herself leaving).
pub async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((team, account)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    teams::remove_member(&state.db, state.store.relay(), &me, &team, &account).await?;
    let closed = state.hub.access_changed(&team, &account);
    tracing::info!(%team, %account, by = %me.account_id, closed, "member removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/teams/{team}/invites` (admin): a new invite; its code and secret are in this
/// answer only.
pub async fn create_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
    input: Result<Json<teams::InviteRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    let invite = teams::create_invite(&state.db, &me, &team, input, now_ms()).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(invite),
    )
        .into_response())
}

/// `GET /api/teams/{team}/invites` (admin).
pub async fn invites(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    Ok(Json(teams::invites(&state.db, &me, &team, now_ms()).await?).into_response())
}

/// `DELETE /api/teams/{team}/invites/{id}` (admin).
pub async fn revoke_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((team, invite)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let me = bearer(&state, &headers).await?;
    teams::revoke_invite(&state.db, &me, &team, &invite, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/invites/accept`: joins the invite's team. Limited per address and per
/// account like sign-in, so codes cannot be guessed by trying many.
pub async fn accept_invite(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    input: Result<Json<teams::AcceptRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = json_input(input)?;
    let me = bearer(&state, &headers).await?;
    let client = crate::listen::client_address(peer, &headers, &state.trusted_proxies);
    limit(&state.address_limiter, format!("invite:{client}"))?;
    limit(
        &state.address_limiter,
        format!("invite-account:{}", me.account_id),
    )?;
    let team = teams::accept_invite(&state.db, &me, &input, now_ms()).await?;
    tracing::info!(team = %team.id, account = %me.account_id, "invite accepted");
    Ok(Json(team).into_response())
}
