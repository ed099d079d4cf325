//! The relay's database: the embedded default, one SQLite file in the data directory (WAL,
//! full synchronous commits: a commit that returned is on disk), or PostgreSQL when several
//! relays share one deployment. Chosen by [`DatabaseTarget`], migrated on start.
//!
//! Queries are written once for both where the SQL is the same (`$1` placeholders work in
//! both) and run through [`with_db!`], which expands the expression once per backend.

use std::{path::Path, path::PathBuf, str::FromStr, time::Duration};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Name of the data file inside the data directory.
pub const DB_FILE_NAME: &str = "fieldbook.sqlite";

/// Connections each relay keeps to PostgreSQL (the listener for wake-ups is one more).
pub const PG_POOL_CONNECTIONS: u32 = 16;

/// Where the relay keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file (the default: `fieldbook.sqlite` in the data directory).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl DatabaseTarget {
    /// The target a `--database-url` names, or the data directory's SQLite file without one.
    ///
    /// `postgres://` and `postgresql://` URLs select PostgreSQL; `sqlite://PATH` a SQLite
    /// file at PATH. Anything else is refused with the accepted forms.
    pub fn from_url(url: Option<&str>, data_dir: &Path) -> Result<DatabaseTarget, String> {
        let Some(url) = url.map(str::trim).filter(|url| !url.is_empty()) else {
            return Ok(DatabaseTarget::Sqlite(data_dir.join(DB_FILE_NAME)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url)
                .map_err(|err| format!("invalid PostgreSQL URL: {err}"))?;
            Ok(DatabaseTarget::Postgres(url.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("a sqlite:// URL needs a file path (sqlite:///var/lib/fieldbook/fieldbook.sqlite)".into());
            }
            Ok(DatabaseTarget::Sqlite(PathBuf::from(path)))
        } else {
            Err(format!(
                "unsupported database URL {:?}: use postgres://user@host:port/database or sqlite:///path/to/file.sqlite",
                redact(url)
            ))
        }
    }

    /// A description for logs, without a password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("SQLite {}", path.display()),
            DatabaseTarget::Postgres(url) => format!("PostgreSQL {}", redact(url)),
        }
    }
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// An open database; cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub enum Database {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// Several relays, one database.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool and the type `Db` naming its
/// `sqlx::Database` (for query builders), once per backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => {
                #[allow(unused)]
                type Db = sqlx::Sqlite;
                $body
            }
            $crate::db::Database::Postgres($pool) => {
                #[allow(unused)]
                type Db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// What differs between the backends beyond the pool type (used inside [`with_db!`]).
pub trait Dialect {
    /// Reads a space's head and stored bytes and, in PostgreSQL, locks its row until the transaction ends.
    const LOCK_HEAD: &'static str;
    /// Whether commits announce themselves to other relays (PostgreSQL NOTIFY).
    const NOTIFIES: bool;
    /// How an append transaction begins.
    const BEGIN: &'static str;
    /// What runs after a commit that erased documents, outside the transaction: SQLite
    /// truncates its write-ahead log, whose frames may still hold the erased bytes.
    const AFTER_ERASURE: Option<&'static str>;
}

impl Dialect for sqlx::Sqlite {
    const LOCK_HEAD: &'static str = "SELECT head, stored_bytes FROM spaces WHERE id = $1";
    const NOTIFIES: bool = false;
    // IMMEDIATE: take the write lock up front. A deferred transaction that reads first
    // would fail at once with SQLITE_BUSY when another connection (a device's last-seen
    // update) committed meanwhile, instead of waiting for the busy timeout.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const AFTER_ERASURE: Option<&'static str> = Some("PRAGMA wal_checkpoint(TRUNCATE)");
}

impl Dialect for sqlx::Postgres {
    const LOCK_HEAD: &'static str =
        "SELECT head, stored_bytes FROM spaces WHERE id = $1 FOR UPDATE";
    const NOTIFIES: bool = true;
    const BEGIN: &'static str = "BEGIN";
    // Old row versions stay in the table's files until VACUUM reclaims them (README).
    const AFTER_ERASURE: Option<&'static str> = None;
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database refused to open.
    #[error("cannot open database {target}: {source}")]
    Open {
        /// The file or (redacted) URL.
        target: String,
        /// The underlying error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("cannot migrate database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// Opens (creating if needed) and migrates the database.
pub async fn open(target: &DatabaseTarget) -> Result<Database, DbError> {
    match target {
        DatabaseTarget::Sqlite(path) => open_sqlite(path).await,
        DatabaseTarget::Postgres(url) => open_postgres(url).await,
    }
}

async fn open_sqlite(path: &Path) -> Result<Database, DbError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let open_error = |source| DbError::Open {
        target: path.display().to_string(),
        source,
    };
    let options = SqliteConnectOptions::from_str("sqlite://")
        .map_err(open_error)?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a committed transaction survives power loss, which an acknowledgement promises.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        // An erased customer's bytes are overwritten with zeros where they were, not only
        // unlinked from the tree (`crate::store`, erasures).
        .pragma("secure_delete", "ON")
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(open_error)?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    tracing::info!(path = %path.display(), "database ready (SQLite)");
    Ok(Database::Sqlite(pool))
}

async fn open_postgres(url: &str) -> Result<Database, DbError> {
    let open_error = |source| DbError::Open {
        target: redact(url),
        source,
    };
    let options = PgConnectOptions::from_str(url)
        .map_err(open_error)?
        .application_name("fieldbook-relay");
    let pool = PgPoolOptions::new()
        .max_connections(PG_POOL_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(open_error)?;
    // The migrator holds an advisory lock: relays starting together migrate once.
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    tracing::info!(url = %redact(url), "database ready (PostgreSQL)");
    Ok(Database::Postgres(pool))
}

impl Database {
    /// Checks that the database answers a query.
    pub async fn check(&self) -> Result<(), DbError> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Closes every connection (after the last query finished).
    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }

    /// Which backend this is, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_chooses_the_backend_and_bad_urls_are_refused_clearly() {
        let dir = Path::new("/data");
        assert_eq!(
            DatabaseTarget::from_url(None, dir),
            Ok(DatabaseTarget::Sqlite(PathBuf::from(
                "/data/fieldbook.sqlite"
            )))
        );
        assert_eq!(
            DatabaseTarget::from_url(Some("  "), dir),
            Ok(DatabaseTarget::Sqlite(PathBuf::from(
                "/data/fieldbook.sqlite"
            )))
        );
        assert_eq!(
            DatabaseTarget::from_url(Some("sqlite:///var/fb.sqlite"), dir),
            Ok(DatabaseTarget::Sqlite(PathBuf::from("/var/fb.sqlite")))
        );
        assert_eq!(
            DatabaseTarget::from_url(Some("postgres://fb@10.0.0.5:5432/fieldbook"), dir),
            Ok(DatabaseTarget::Postgres(
                "postgres://fb@10.0.0.5:5432/fieldbook".into()
            ))
        );
        let mysql = DatabaseTarget::from_url(Some("mysql://u:secret@h/db"), dir).unwrap_err();
        assert!(mysql.contains("unsupported database URL"), "{mysql}");
        assert!(!mysql.contains("secret"), "the password stays out: {mysql}");
        assert!(DatabaseTarget::from_url(Some("sqlite://"), dir).is_err());
        assert_eq!(
            DatabaseTarget::Postgres("postgres://fb:hunter2@db:5432/fieldbook".into()).describe(),
            "PostgreSQL postgres://fb:***@db:5432/fieldbook"
        );
    }
}
