//! The relay binary: parse flags, set up logging, bind, run until Ctrl-C or SIGTERM.

use clap::Parser;
use server::config::Args;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fixed_mmap_threshold();
    let args = Args::parse();
    let subscriber = tracing_subscriber::fmt().with_env_filter(EnvFilter::try_new(&args.log)?);
    if args.log_format == "json" {
        subscriber.json().init();
    } else {
        // Colours only on a terminal: a log file or journald gets plain text.
        subscriber
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init();
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", args.listen))?;
    let config = server::Config::try_from(&args).map_err(|err| anyhow::anyhow!(err))?;
    server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(cause = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Allocations of 1 MiB and more are always their own mapping, returned to the system when
/// freed. glibc otherwise raises that threshold after the first large free, and the ~19 MiB
/// that every argon2 password hash allocates then stays in the heap, fragmented: measured,
/// the relay's memory grew by ~9 MiB per sign-in (377 MiB after 40), and stays at ~8 MiB
/// with the threshold fixed.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tuning parameter of glibc's allocator; it is called
    // once, at start, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
