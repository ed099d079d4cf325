//! Accounts and devices: sign-up, sign-in, tokens, device lists and revocation.
//!
//! Passwords are hashed with argon2id (on the blocking pool: it is deliberately slow).
//! Every sign-in creates a device with its own random 256-bit token; only its SHA-256 is
//! stored, so a copy of the data file does not hold usable tokens. A revoked device's
//! token is refused from then on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use shared::sync::protocol::{ErrorCode, SpaceId};
use shared::sync::team::SpaceAccess;

use crate::db::{Database, Dialect};
use crate::with_db;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 input stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest device name kept.
pub const MAX_DEVICE_NAME_CHARS: usize = 80;

/// Why an auth operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input fields are invalid; field → message.
    #[error("invalid input")]
    Invalid(Vec<(&'static str, String)>),
    /// The email already has an account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Wrong email or password (never saying which).
    #[error("wrong email or password")]
    WrongCredentials,
    /// Too many attempts.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// The token is missing or unknown.
    #[error("this device is not signed in")]
    Unauthorized,
    /// The token's device was revoked.
    #[error("this device was signed out from another device")]
    Revoked,
    /// The device may not touch what it asked for.
    #[error("this device may not access that")]
    Forbidden,
    /// What was asked for does not exist (a member, an invite of the team).
    #[error("not found")]
    NotFound,
    /// The change would leave a team without an admin.
    #[error("a team needs at least one admin: make someone else admin first")]
    LastAdmin,
    /// No invite has this code or link.
    #[error("no invite has this code or link; check it with the person who invited you")]
    InviteUnknown,
    /// The invite cannot be used any more.
    #[error("{}", invite_message(*.0))]
    Invite(shared::sync::team::InviteStatus),
    /// Something failed inside the relay.
    #[error("internal error: {0}")]
    Internal(String),
}

fn invite_message(status: shared::sync::team::InviteStatus) -> &'static str {
    use shared::sync::team::InviteStatus;
    match status {
        InviteStatus::Open => "the invite is open",
        InviteStatus::UsedUp => {
            "this invite was already used as many times as it allows; ask for a new one"
        }
        InviteStatus::Expired => "this invite has expired; ask for a new one",
        InviteStatus::Revoked => "this invite was withdrawn; ask for a new one",
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        AuthError::Internal(err.to_string())
    }
}

impl AuthError {
    /// The protocol's error code for a refused WebSocket session.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Revoked => ErrorCode::Revoked,
            AuthError::Forbidden => ErrorCode::Forbidden,
            AuthError::Internal(_) => ErrorCode::Internal,
            _ => ErrorCode::Unauthorized,
        }
    }
}

pub use shared::sync::account::{DeviceInfo, Session};

/// The device a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device.
    pub device_id: String,
    /// Its account.
    pub account_id: String,
}

fn random_hex(bytes: usize) -> Result<String, AuthError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|err| AuthError::Internal(err.to_string()))?;
    Ok(hex::encode(buffer))
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks sign-up (`new_password`) or sign-in input.
fn check_input(
    email: &str,
    password: &str,
    device_name: &str,
    new_password: bool,
) -> Result<(), AuthError> {
    let mut errors = Vec::new();
    if let Err(message) = shared::model::validation::check_email(email) {
        errors.push(("email", message));
    }
    let chars = password.chars().count();
    if new_password && chars < MIN_PASSWORD_CHARS {
        errors.push((
            "password",
            format!("Use at least {MIN_PASSWORD_CHARS} characters."),
        ));
    } else if chars == 0 {
        errors.push(("password", "Enter your password.".to_string()));
    } else if chars > MAX_PASSWORD_CHARS {
        errors.push((
            "password",
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if device_name.chars().any(char::is_control) {
        errors.push((
            "device_name",
            "Use letters, digits and punctuation only.".into(),
        ));
    } else if device_name.trim().is_empty() {
        errors.push((
            "device_name",
            "Name this device, e.g. \"Work phone\".".into(),
        ));
    } else if device_name.chars().count() > MAX_DEVICE_NAME_CHARS {
        errors.push((
            "device_name",
            format!("Use at most {MAX_DEVICE_NAME_CHARS} characters."),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AuthError::Invalid(errors))
    }
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Argon2 runs on one dedicated thread per core, never more at once: each hash takes
/// ~19 MiB and a core for tens of milliseconds, so a burst of sign-ins queues instead of
/// multiplying the relay's memory — and on the same few threads, whose allocator arenas are
/// reused (on the blocking pool, every one of dozens of threads kept its own ~19 MiB: 450 MiB
/// after 200 sign-ins).
fn hashers() -> &'static std::sync::mpsc::Sender<HashJob> {
    static JOBS: std::sync::OnceLock<std::sync::mpsc::Sender<HashJob>> = std::sync::OnceLock::new();
    JOBS.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<HashJob>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        for n in 0..cores {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(cause = %err, "cannot start a password hashing thread");
            }
        }
        sender
    })
}

/// Runs `work` on a hashing thread.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    let (done, result) = tokio::sync::oneshot::channel();
    hashers()
        .send(Box::new(move || {
            let _ = done.send(work());
        }))
        .map_err(|_| AuthError::Internal("password hashing is unavailable".into()))?;
    result
        .await
        .map_err(|_| AuthError::Internal("password hashing stopped".into()))
}

async fn hash_password(password: String) -> Result<String, AuthError> {
    on_hasher(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| AuthError::Internal(err.to_string()))
    })
    .await?
}

async fn verify_password(password: String, stored: String) -> Result<bool, AuthError> {
    on_hasher(move || {
        let parsed =
            PasswordHash::new(&stored).map_err(|err| AuthError::Internal(err.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// A fixed hash to verify against when the email is unknown, so that answering takes as
/// long as for a known email.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn create_device(
    db: &Database,
    account_id: &str,
    device_name: &str,
    now: i64,
) -> Result<(String, String), AuthError> {
    let device_id = random_hex(16)?;
    let token = format!("fb1_{}", random_hex(32)?);
    with_db!(db, pool => sqlx::query(
        "INSERT INTO devices (id, account, name, token_hash, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&device_id)
    .bind(account_id)
    .bind(device_name.trim())
    .bind(token_hash(&token))
    .bind(now)
    .execute(pool)
    .await
    .map(drop)?);
    Ok((device_id, token))
}

/// Creates a device of the account and returns its session (with the token, shown once).
async fn sign_device_in(
    db: &Database,
    account_id: String,
    email: String,
    space_id: String,
    device_name: &str,
    now: i64,
) -> Result<Session, AuthError> {
    let (device_id, token) = create_device(db, &account_id, device_name, now).await?;
    Ok(Session {
        account_id,
        email,
        space_id,
        device_id,
        device_name: device_name.trim().to_string(),
        token,
    })
}

/// Creates an account with its space and signs this device in.
pub async fn sign_up(
    db: &Database,
    email: &str,
    password: &str,
    device_name: &str,
    now: i64,
) -> Result<Session, AuthError> {
    check_input(email, password, device_name, true)?;
    let email = normalize_email(email);
    let password_hash = hash_password(password.to_string()).await?;
    let account_id = random_hex(16)?;
    let space_id = random_hex(16)?;
    with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&account_id)
        .bind(&email)
        .bind(&password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(AuthError::EmailTaken);
        }
        sqlx::query("INSERT INTO spaces (id, owner, created_at) VALUES ($1, $2, $3)")
            .bind(&space_id)
            .bind(&account_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    sign_device_in(db, account_id, email, space_id, device_name, now).await
}

/// Checks email and password and signs a new device in.
pub async fn sign_in(
    db: &Database,
    email: &str,
    password: &str,
    device_name: &str,
    now: i64,
) -> Result<Session, AuthError> {
    check_input(email, password, device_name, false)?;
    let email = normalize_email(email);
    let row: Option<(String, String)> = with_db!(db, pool =>
        sqlx::query_as("SELECT id, password_hash FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await?);
    let Some((account_id, stored)) = row else {
        let dummy = match DUMMY_HASH.get() {
            Some(hash) => hash.clone(),
            None => {
                let hash = hash_password("not a real password".into()).await?;
                DUMMY_HASH.get_or_init(|| hash).clone()
            }
        };
        verify_password(password.to_string(), dummy).await?;
        return Err(AuthError::WrongCredentials);
    };
    if !verify_password(password.to_string(), stored).await? {
        return Err(AuthError::WrongCredentials);
    }
    let space_id: String = with_db!(db, pool =>
        sqlx::query_scalar("SELECT id FROM spaces WHERE owner = $1 ORDER BY created_at LIMIT 1")
            .bind(&account_id)
            .fetch_one(pool)
            .await?);
    sign_device_in(db, account_id, email, space_id, device_name, now).await
}

/// The device a token belongs to, refusing unknown and revoked tokens.
pub async fn device_for_token(db: &Database, token: &str) -> Result<DeviceAuth, AuthError> {
    let row: Option<(String, String, Option<i64>)> = with_db!(db, pool =>
        sqlx::query_as("SELECT id, account, revoked_at FROM devices WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(pool)
            .await?);
    match row {
        None => Err(AuthError::Unauthorized),
        Some((_, _, Some(_))) => Err(AuthError::Revoked),
        Some((device_id, account_id, None)) => Ok(DeviceAuth {
            device_id,
            account_id,
        }),
    }
}

/// Checks that `token` may sync `space`: its device, what it may do there, and the team
/// the space belongs to (`None` for an account's own book).
pub async fn authorize_space(
    db: &Database,
    token: &str,
    space: &SpaceId,
) -> Result<(DeviceAuth, SpaceAccess, Option<String>), AuthError> {
    let device = device_for_token(db, token).await?;
    let (access, team) = crate::teams::space_access(db, &device.account_id, &space.0).await?;
    Ok((device, access, team))
}

/// Records that the relay heard from a device.
pub async fn touch(db: &Database, device_id: &str, now: i64) -> Result<(), AuthError> {
    with_db!(db, pool =>
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
            .bind(now)
            .bind(device_id)
            .execute(pool)
            .await
            .map(drop)?);
    Ok(())
}

/// The account's devices, most recently seen first.
pub async fn list_devices(
    db: &Database,
    me: &DeviceAuth,
    page: DevicePage,
) -> Result<(Vec<DeviceInfo>, i64), AuthError> {
    let rows: Vec<(String, String, i64, i64, Option<i64>)> = with_db!(db, pool =>
        sqlx::query_as(
            "SELECT id, name, created_at, last_seen_at, revoked_at FROM devices \
             WHERE account = $1 ORDER BY revoked_at IS NOT NULL, last_seen_at DESC, id \
             LIMIT $2 OFFSET $3",
        )
        .bind(&me.account_id)
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(pool)
        .await?);
    let total: i64 = with_db!(db, pool =>
        sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE account = $1")
            .bind(&me.account_id)
            .fetch_one(pool)
            .await?);
    let devices = rows
        .into_iter()
        .map(
            |(id, name, created_at, last_seen_at, revoked_at)| DeviceInfo {
                current: id == me.device_id,
                id,
                name,
                created_at,
                last_seen_at,
                revoked_at,
            },
        )
        .collect();
    Ok((devices, total))
}

/// Which page of an account's devices to list (`?limit=&offset=`): signed-in devices
/// first, then by last seen.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct DevicePage {
    /// At most this many (1 to [`MAX_DEVICE_PAGE`]).
    #[serde(default = "default_device_page")]
    pub limit: u32,
    /// Skipping this many.
    #[serde(default)]
    pub offset: u32,
}

/// Most devices in one answer.
pub const MAX_DEVICE_PAGE: u32 = 200;

fn default_device_page() -> u32 {
    100
}

/// Revokes one of the account's devices (a device may revoke itself: signing out).
pub async fn revoke(
    db: &Database,
    me: &DeviceAuth,
    device_id: &str,
    now: i64,
) -> Result<(), AuthError> {
    with_db!(db, pool => {
        let mut tx = pool.begin_with(<Db as Dialect>::BEGIN).await?;
        let changed = sqlx::query(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account = $3",
        )
        .bind(now)
        .bind(device_id)
        .bind(&me.account_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(AuthError::Forbidden);
        }
        if <Db as Dialect>::NOTIFIES {
            // Delivered to every relay on commit: each closes the device's sockets.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::fanout::CHANNEL)
                .bind(crate::fanout::revoked_payload(device_id))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Counts recent attempts per key (an email, an IP address) in a sliding window.
#[derive(Debug)]
pub struct RateLimiter {
    window: Duration,
    max: usize,
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// At most `max` attempts per key within `window`.
    pub fn new(max: usize, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Records an attempt for `key`; refuses with the seconds to wait when over the limit.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if attempts.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget expired windows.
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let times = attempts.entry(key.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}
