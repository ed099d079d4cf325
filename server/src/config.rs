//! The relay's configuration: command-line flags, each falling back to a `FIELDBOOK_*`
//! environment variable, then to a default.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;
use shared::sync::RelayLimits;

use crate::db::DatabaseTarget;

/// Fieldbook relay: serves the app and stores each space's change log.
#[derive(Debug, Clone, Parser)]
#[command(name = "fieldbook-server", version, about)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "FIELDBOOK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the SQLite data file (created if missing; unused with a
    /// PostgreSQL `--database-url`).
    #[arg(long, env = "FIELDBOOK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://user@host:port/database` for several relays sharing one
    /// PostgreSQL, or `sqlite:///path/file.sqlite`. Without it: the SQLite file
    /// `fieldbook.sqlite` in the data directory.
    #[arg(long, env = "FIELDBOOK_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory holding the built client (Trunk's output). Without it: the client built
    /// into this binary (written once into the data directory), else `./dist`.
    #[arg(long, env = "FIELDBOOK_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Largest sync frame accepted, in bytes (at most 4 MiB).
    #[arg(long, env = "FIELDBOOK_MAX_FRAME_BYTES", default_value_t = 4 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024))]
    pub max_frame_bytes: u32,

    /// Largest change or snapshot accepted, in bytes.
    #[arg(long, env = "FIELDBOOK_MAX_BLOB_BYTES", default_value_t = 1024 * 1024)]
    pub max_blob_bytes: u32,

    /// Most changes in one push.
    #[arg(long, env = "FIELDBOOK_MAX_PUSH_BLOBS", default_value_t = 1000)]
    pub max_push_blobs: u32,

    /// Storage quota of each space (a rep's book), in MiB of stored changes and snapshots.
    /// A push past it is refused with `QuotaExceeded`; the device keeps its changes.
    #[arg(long, env = "FIELDBOOK_SPACE_QUOTA_MB", default_value_t = 1024)]
    pub space_quota_mb: u64,

    /// Failed sign-ins per account (ten times as many per address) before each further
    /// attempt waits, doubling from 1 s to 30 s (15 min per address); also sign-ups per
    /// address in 15 minutes, times ten.
    #[arg(long, env = "FIELDBOOK_SIGNIN_ATTEMPTS", default_value_t = 10)]
    pub signin_attempts: u32,

    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for connections to finish what they
    /// started before closing them whatever the clients do.
    #[arg(long, env = "FIELDBOOK_SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_secs: u64,

    /// Most open connections in all (default: what the open-file limit, raised to its hard
    /// limit at start, leaves after 128 for the database and accepting).
    #[arg(long, env = "FIELDBOOK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Most open connections from one address (trusted proxies excepted).
    #[arg(
        long,
        env = "FIELDBOOK_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,

    /// Seconds a client has to send a request's head (and an idle keep-alive lives), and
    /// a sync connection has to sign in (Hello) after the upgrade.
    #[arg(long, env = "FIELDBOOK_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_secs: u64,

    /// Reverse proxies (addresses or networks, comma-separated: `10.0.0.0/8,::1`) whose
    /// `Forwarded`/`X-Forwarded-For` headers name the real client: sign-in limits then
    /// apply to that client, and the proxy's own connections are not capped per address.
    #[arg(long, env = "FIELDBOOK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxy: Vec<ipnet::IpNet>,

    /// Addresses or networks allowed to read `GET /metrics` (comma-separated).
    #[arg(
        long,
        env = "FIELDBOOK_METRICS_ALLOW",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1/128"
    )]
    pub metrics_allow: Vec<ipnet::IpNet>,

    /// Log format: `text` (plain, coloured on a terminal) or `json` (one object per line).
    #[arg(long, env = "FIELDBOOK_LOG_FORMAT", default_value = "text",
          value_parser = ["text", "json"])]
    pub log_format: String,

    /// The relay is reached over HTTPS (behind a TLS-terminating proxy): answers carry
    /// `Strict-Transport-Security`.
    #[arg(long, env = "FIELDBOOK_HSTS")]
    pub hsts: bool,

    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    #[arg(
        long,
        env = "FIELDBOOK_LOG",
        default_value = "server=info,fieldbook_server=info,tower_http=info"
    )]
    pub log: String,
}

/// The validated configuration [`crate::run`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data lives.
    pub database: DatabaseTarget,
    /// Directory of the built client.
    pub static_dir: PathBuf,
    /// Limits of every sync session.
    pub limits: RelayLimits,
    /// Sign-in attempts allowed per email (and per address) in 15 minutes.
    pub signin_attempts: usize,
    /// Bytes each space may hold.
    pub space_quota_bytes: u64,
    /// How long a shutdown waits for connections before closing them.
    pub shutdown_grace: std::time::Duration,
    /// Answers carry `Strict-Transport-Security` (the relay is reached over HTTPS).
    pub hsts: bool,
    /// Connection caps and deadlines (`total`: `None` derives it from the open-file limit).
    pub connections: ConnectionSettings,
    /// Who may read `/metrics`.
    pub metrics_allow: Vec<ipnet::IpNet>,
}

/// Connection caps and deadlines as configured (see [`crate::listen`]).
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Most open connections in all; `None`: from the open-file limit.
    pub total: Option<usize>,
    /// Most open connections of one address.
    pub per_address: usize,
    /// Deadline for a request head, and for Hello after an upgrade.
    pub header_timeout: std::time::Duration,
    /// Trusted reverse proxies.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            total: None,
            per_address: 256,
            header_timeout: std::time::Duration::from_secs(10),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Config {
    /// The defaults, for a data directory (its SQLite file) and a client directory (used
    /// by tests).
    pub fn new(data_dir: PathBuf, static_dir: PathBuf) -> Config {
        Config {
            database: DatabaseTarget::Sqlite(data_dir.join(crate::db::DB_FILE_NAME)),
            static_dir,
            limits: RelayLimits::default(),
            signin_attempts: 10,
            space_quota_bytes: crate::store::DEFAULT_SPACE_QUOTA_BYTES,
            shutdown_grace: std::time::Duration::from_secs(10),
            hsts: false,
            connections: ConnectionSettings::default(),
            metrics_allow: vec![
                ipnet::IpNet::V4(
                    ipnet::Ipv4Net::new(std::net::Ipv4Addr::LOCALHOST, 8).unwrap_or_default(),
                ),
                ipnet::IpNet::V6(
                    ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).unwrap_or_default(),
                ),
            ],
        }
    }
}

impl TryFrom<&Args> for Config {
    type Error = String;

    /// Validates the flags; a bad database URL is refused with the accepted forms.
    fn try_from(args: &Args) -> Result<Config, String> {
        Ok(Config {
            database: DatabaseTarget::from_url(args.database_url.as_deref(), &args.data_dir)?,
            static_dir: match &args.static_dir {
                Some(dir) => dir.clone(),
                None => match crate::embedded::extract(&args.data_dir) {
                    Ok(Some(dir)) => dir,
                    Ok(None) => PathBuf::from("./dist"),
                    Err(err) => {
                        return Err(format!(
                        "cannot write the built-in client into {}: {err} (or pass --static-dir)",
                        args.data_dir.display()
                    ))
                    }
                },
            },
            limits: RelayLimits {
                max_frame_bytes: args.max_frame_bytes as usize,
                max_blob_bytes: args.max_blob_bytes as usize,
                max_uploads_per_push: args.max_push_blobs as usize,
                hello_timeout_ms: args.header_timeout_secs as i64 * 1000,
                ..RelayLimits::default()
            },
            signin_attempts: args.signin_attempts as usize,
            space_quota_bytes: args.space_quota_mb.saturating_mul(1024 * 1024),
            shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace_secs),
            hsts: args.hsts,
            connections: ConnectionSettings {
                total: args.max_connections,
                per_address: args.max_connections_per_address.max(1),
                header_timeout: std::time::Duration::from_secs(args.header_timeout_secs),
                trusted_proxies: args.trusted_proxy.clone(),
            },
            metrics_allow: args.metrics_allow.clone(),
        })
    }
}
