//! Accepting connections: HTTP/1.1 with a deadline for each request head, a cap on the
//! connections of one address and on all of them, and graceful shutdown.
//!
//! A connection counts against the caps from accept until its socket closes, including
//! the life of a WebSocket it was upgraded to (the count travels with the socket,
//! [`Counted`]). Over a cap, the connection is answered `503` with the reason and closed;
//! refusals are logged (at most one line every few seconds, with how many there were).
//! Connections from a trusted proxy (`--trusted-proxy`) are not capped per address: they
//! carry many clients.
//!
//! The open-file limit is raised to the hard limit at start ([`raise_open_file_limit`]),
//! and the total cap leaves room under it for the database and accepting: ~1,000 sockets
//! that never sign in once locked out every device, sign-in and health check.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

/// File descriptors kept free of connections (database, accept, logs).
pub const RESERVED_FDS: u64 = 128;

/// The caps and deadlines of [`serve`].
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections of one address (proxies excepted).
    pub per_address: usize,
    /// Open connections in all.
    pub total: usize,
    /// Time a client has to send a request's head (also an idle keep-alive's life).
    pub header_read_timeout: Duration,
    /// Proxies whose forwarding headers are believed and whose connections are not capped
    /// per address.
    pub trusted_proxies: Vec<IpNet>,
}

impl ConnectionLimits {
    /// Whether `address` is a trusted proxy.
    pub fn is_trusted_proxy(&self, address: IpAddr) -> bool {
        is_trusted(&self.trusted_proxies, address)
    }
}

fn is_trusted(proxies: &[IpNet], address: IpAddr) -> bool {
    proxies.iter().any(|net| net.contains(&address))
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
    refused: u64,
    last_report: Option<Instant>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    PerAddress,
    Total,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::PerAddress => "too many connections from this address",
            Refusal::Total => "the relay is at its connection limit",
        }
    }
}

/// Open connections, shared by the accept loop and the sockets' [`Slot`]s.
#[derive(Debug, Clone, Default)]
pub struct Connections(Arc<Mutex<Counts>>);

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// Connections refused since start.
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    fn admit(&self, address: IpAddr, limits: &ConnectionLimits) -> Result<Slot, Refusal> {
        let mut counts = self.lock();
        if counts.total >= limits.total {
            return Err(self.refuse(&mut counts, Refusal::Total, address));
        }
        let of_address = counts.by_address.get(&address).copied().unwrap_or(0);
        if of_address >= limits.per_address && !limits.is_trusted_proxy(address) {
            return Err(self.refuse(&mut counts, Refusal::PerAddress, address));
        }
        counts.total += 1;
        *counts.by_address.entry(address).or_default() += 1;
        Ok(Slot {
            connections: self.clone(),
            address,
        })
    }

    fn refuse(&self, counts: &mut Counts, refusal: Refusal, address: IpAddr) -> Refusal {
        counts.refused += 1;
        let now = Instant::now();
        if counts
            .last_report
            .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(5))
        {
            counts.last_report = Some(now);
            tracing::warn!(
                %address,
                reason = refusal.reason(),
                open = counts.total,
                refused_since_start = counts.refused,
                "connection refused"
            );
        }
        refusal
    }
}

/// A connection's place under the caps, given back when its socket closes.
#[derive(Debug)]
struct Slot {
    connections: Connections,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.connections.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// A socket with its [`Slot`]: the slot is freed when the socket is dropped, whether it
/// served HTTP or a WebSocket.
#[derive(Debug)]
pub struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `router` on `listener` until `stop` is cancelled, then stops accepting, asks
/// every HTTP connection to finish its request and returns once they have. (Upgraded
/// WebSockets are tracked by their handler.)
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    connections: Connections,
    stop: CancellationToken,
) {
    let tracker = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors (or another transient failure): wait a
                    // moment instead of spinning, then accept again.
                    tracing::error!(cause = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = match connections.admit(peer.ip(), &limits) {
            Ok(slot) => slot,
            Err(refusal) => {
                tokio::spawn(refuse(stream, refusal));
                continue;
            }
        };
        // Sync frames are small and latency-bound: send them at once instead of waiting
        // for the peer's delayed ACK (Nagle), which cost ~40 ms per wake-up and pull.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(cause = %err, "could not set TCP_NODELAY");
        }
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(Body::new)
            },
        ));
        let stop = stop.clone();
        let timeout = limits.header_read_timeout;
        tracker.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeout);
            let connection = builder.serve_connection(io, service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(cause = %err, %peer, "connection ended with an error");
                    }
                    return;
                }
                () = stop.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(err) = connection.await {
                tracing::debug!(cause = %err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// Answers a refused connection with a short 503 and closes it.
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let body = refusal.reason();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 10\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        Some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// The total cap for an open-file limit: what is left after [`RESERVED_FDS`], and no more
/// than `configured` when set.
pub fn total_cap(open_files: Option<u64>, configured: Option<usize>) -> usize {
    let room = open_files.map_or(usize::MAX, |limit| {
        limit.saturating_sub(RESERVED_FDS).max(16) as usize
    });
    configured.map_or(room, |configured| configured.min(room))
}

/// The address of `peer` as the relay should treat it: the client named by a trusted
/// proxy's `X-Forwarded-For` (the last address the proxy appended) or `Forwarded`
/// header, else the peer itself.
pub fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    trusted_proxies: &[IpNet],
) -> IpAddr {
    if !is_trusted(trusted_proxies, peer.ip()) {
        return peer.ip();
    }
    // Walk from the nearest hop back while hops are trusted proxies themselves.
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("forwarded") {
        for element in value.to_str().unwrap_or_default().split(',') {
            for pair in element.split(';') {
                if let Some((key, value)) = pair.trim().split_once('=') {
                    if key.eq_ignore_ascii_case("for") {
                        if let Some(ip) = parse_forwarded_address(value) {
                            hops.push(ip);
                        }
                    }
                }
            }
        }
    }
    if hops.is_empty() {
        for value in headers.get_all("x-forwarded-for") {
            for part in value.to_str().unwrap_or_default().split(',') {
                if let Some(ip) = parse_forwarded_address(part) {
                    hops.push(ip);
                }
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(trusted_proxies, *ip))
        .unwrap_or(peer.ip())
}

/// `203.0.113.7`, `"[2001:db8::1]:4711"`, `203.0.113.7:4711`.
fn parse_forwarded_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize, total: usize, proxies: &[&str]) -> ConnectionLimits {
        ConnectionLimits {
            per_address,
            total,
            header_read_timeout: Duration::from_secs(10),
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn caps_per_address_and_in_all_and_slots_come_back_when_dropped() {
        let connections = Connections::default();
        let limits = limits(2, 3, &["10.0.0.0/8"]);
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let first = connections.admit(a, &limits).unwrap();
        let _second = connections.admit(a, &limits).unwrap();
        assert_eq!(
            connections.admit(a, &limits).unwrap_err(),
            Refusal::PerAddress
        );
        let _third = connections.admit(b, &limits).unwrap();
        assert_eq!(connections.admit(b, &limits).unwrap_err(), Refusal::Total);
        drop(first);
        assert_eq!(connections.open(), 2);
        let _again = connections.admit(a, &limits).unwrap();
        assert_eq!(connections.refused(), 2);
        // A trusted proxy carries many clients: only the total applies.
        let limits = super::tests::limits(1, 10, &["10.0.0.0/8"]);
        let connections = Connections::default();
        let _p1 = connections.admit(proxy, &limits).unwrap();
        let _p2 = connections.admit(proxy, &limits).unwrap();
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let limits = limits(10, 10, &["10.0.0.0/8"]);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "192.0.2.99, 203.0.113.7".parse().unwrap(),
        );
        let proxy: SocketAddr = "10.0.0.5:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        // The proxy appended 203.0.113.7 (its peer); 192.0.2.99 is what the client claimed.
        assert_eq!(
            client_address(proxy, &headers, &limits.trusted_proxies),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_address(stranger, &headers, &limits.trusted_proxies),
            stranger.ip()
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "forwarded",
            "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            client_address(proxy, &headers, &limits.trusted_proxies),
            "2001:db8:cafe::17".parse::<IpAddr>().unwrap()
        );
        assert_eq!(total_cap(Some(1024), None), 896);
        assert_eq!(total_cap(Some(1024), Some(100)), 100);
        assert_eq!(total_cap(Some(100), None), 16);
    }
}
