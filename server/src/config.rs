//! The relay's configuration: command-line flags, each falling back to a `FIELDBOOK_*`
//! environment variable, then to a default.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;

/// Fieldbook relay: serves the app and stores each space's change log.
#[derive(Debug, Clone, Parser)]
#[command(name = "fieldbook-server", version, about)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "FIELDBOOK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the SQLite data file (created if missing).
    #[arg(long, env = "FIELDBOOK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Directory holding the built client (Trunk's output).
    #[arg(long, env = "FIELDBOOK_STATIC_DIR", default_value = "./dist")]
    pub static_dir: PathBuf,

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
    /// Directory of the SQLite data file.
    pub data_dir: PathBuf,
    /// Directory of the built client.
    pub static_dir: PathBuf,
}

impl From<&Args> for Config {
    fn from(args: &Args) -> Config {
        Config {
            data_dir: args.data_dir.clone(),
            static_dir: args.static_dir.clone(),
        }
    }
}
