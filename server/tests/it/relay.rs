//! Helpers: a relay on a loopback port (in-process or as a child process) and a scripted
//! device speaking the real protocol over a real WebSocket.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shared::sync::protocol::{
    decode, encode, BlobKind, ClientMessage, DocumentId, Seq, ServerMessage, SpaceId, Upload,
    SUPPORTED_VERSIONS,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A relay running inside the test process.
pub struct Relay {
    pub base_url: String,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), server::ServerError>>,
}

/// Which database a relay under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the relay's temporary data directory.
    Sqlite,
    /// A fresh database in the test cluster that `scripts/test.sh` starts.
    Postgres,
}

/// The environment variable naming the test cluster (an admin URL).
pub const PG_URL_VAR: &str = "FIELDBOOK_TEST_PG_URL";

/// A new, empty database in the PostgreSQL test cluster; its URL.
///
/// The cluster is a real PostgreSQL started by `scripts/test.sh` (or by hand:
/// `scripts/pg.sh start DIR PORT`); without it the PostgreSQL tests fail and say so.
pub async fn fresh_pg_database() -> String {
    use sqlx::Connection;
    let admin = std::env::var(PG_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{PG_URL_VAR} is not set: the PostgreSQL tests need a real server. Run scripts/test.sh, \
             or start one with `scripts/pg.sh start /tmp/fbpg 55432` and set \
             {PG_URL_VAR}=postgres://fieldbook@127.0.0.1:55432/postgres"
        )
    });
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("fb_test_{}", hex::encode(bytes));
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|err| panic!("cannot reach the PostgreSQL test cluster at {admin}: {err}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// A relay on `backend` (PostgreSQL: a fresh database), adjusted.
pub async fn start_on(backend: Backend, adjust: impl FnOnce(&mut server::Config)) -> Relay {
    match backend {
        Backend::Sqlite => start_with(adjust).await,
        Backend::Postgres => {
            let url = fresh_pg_database().await;
            start_with(move |config| {
                config.database = server::db::DatabaseTarget::Postgres(url);
                adjust(config);
            })
            .await
        }
    }
}

/// Runs each named `async fn(Backend)` scenario as two tests, `sqlite::name` and
/// `postgres::name`: the same behaviour suite against both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::relay::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::relay::Backend::Postgres).await
                }
            )*
        }
    };
}

pub async fn start_with(adjust: impl FnOnce(&mut server::Config)) -> Relay {
    let data_dir = tempfile::tempdir().unwrap();
    start_in(data_dir, adjust).await
}

pub async fn start_in(
    data_dir: tempfile::TempDir,
    adjust: impl FnOnce(&mut server::Config),
) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let mut config =
        server::Config::new(data_dir.path().to_path_buf(), PathBuf::from("/nonexistent"));
    adjust(&mut config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::run(listener, config, async {
        let _ = stopped.await;
    }));
    Relay {
        base_url,
        data_dir,
        stop: Some(stop),
        task,
    }
}

impl Relay {
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap().unwrap();
        self.data_dir
    }
}

/// What sign-up and sign-in return.
pub type Account = shared::sync::account::Session;

pub async fn post(
    base: &str,
    path: &str,
    body: serde_json::Value,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub async fn sign_up(base: &str, email: &str, device: &str) -> Account {
    let response = post(
        base,
        "/api/signup",
        serde_json::json!({ "email": email, "password": "correct horse", "device_name": device }),
        None,
    )
    .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

pub async fn sign_in(base: &str, email: &str, device: &str) -> Account {
    let response = post(
        base,
        "/api/signin",
        serde_json::json!({ "email": email, "password": "correct horse", "device_name": device }),
        None,
    )
    .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    response.json().await.unwrap()
}

/// Sending a message, reporting failure instead of panicking.
pub trait SendWith {
    async fn send_with(&mut self, message: &ClientMessage) -> bool;
}

impl SendWith for Socket {
    async fn send_with(&mut self, message: &ClientMessage) -> bool {
        self.send(Message::Binary(encode(message).into()))
            .await
            .is_ok()
    }
}

/// A device connection speaking the protocol.
pub struct Device {
    pub socket: Socket,
    pub next_request: u64,
}

pub async fn connect(base: &str) -> Socket {
    let url = format!("{}/sync", base.replace("http://", "ws://"));
    // Like browsers, with Nagle off (TCP_NODELAY).
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .unwrap();
    socket
}

impl Device {
    /// Connects and completes the handshake; returns the device and the welcome's head.
    pub async fn join(base: &str, account: &Account) -> (Device, Seq) {
        let mut device = Device {
            socket: connect(base).await,
            next_request: 1,
        };
        device
            .send(&ClientMessage::Hello {
                supported_versions: SUPPORTED_VERSIONS.to_vec(),
                space: SpaceId(account.space_id.clone()),
                token: account.token.clone(),
            })
            .await;
        match device.recv().await {
            ServerMessage::Welcome { head, .. } => (device, head),
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.socket
            .send(Message::Binary(encode(message).into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, frame: Vec<u8>) {
        self.socket
            .send(Message::Binary(frame.into()))
            .await
            .unwrap();
    }

    /// The next protocol message (skipping pings), within 10 s.
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("the relay answers within 10 s")
                .expect("the socket is open")
                .expect("the socket works");
            match message {
                Message::Binary(bytes) => return decode(&bytes).expect("a valid server message"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Waits for the relay to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("the relay closes within 10 s")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn push(&mut self, uploads: Vec<Upload>) -> ServerMessage {
        let request_id = self.next_request;
        self.next_request += 1;
        self.send(&ClientMessage::Push {
            request_id,
            uploads,
        })
        .await;
        self.recv_answer(request_id).await
    }

    pub async fn pull(&mut self, since: Seq, max_entries: u32) -> ServerMessage {
        let request_id = self.next_request;
        self.next_request += 1;
        self.send(&ClientMessage::Pull {
            request_id,
            since,
            max_entries,
        })
        .await;
        self.recv_answer(request_id).await
    }

    /// The answer to `request_id`, or `None` if the connection ends first.
    pub async fn try_recv_answer(&mut self, request_id: u64) -> Option<ServerMessage> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .ok()??
                .ok()?;
            let Message::Binary(bytes) = message else {
                continue;
            };
            let message: ServerMessage = decode(&bytes).ok()?;
            match &message {
                ServerMessage::Acked { request_id: id, .. } if *id == request_id => {
                    return Some(message)
                }
                ServerMessage::Wake { .. } => continue,
                _ => return Some(message),
            }
        }
    }

    /// The answer to `request_id`, skipping wake-ups.
    pub async fn recv_answer(&mut self, request_id: u64) -> ServerMessage {
        loop {
            let message = self.recv().await;
            let id = match &message {
                ServerMessage::Acked { request_id, .. }
                | ServerMessage::Rejected { request_id, .. }
                | ServerMessage::Entries { request_id, .. }
                | ServerMessage::ProjectedEntries { request_id, .. }
                | ServerMessage::BootstrapPage { request_id, .. } => Some(*request_id),
                ServerMessage::Wake { .. } => None,
                _ => return message,
            };
            if id == Some(request_id) {
                return message;
            }
        }
    }
}

/// A fresh customer document as a snapshot upload, plus its document.
pub fn new_customer(index: u64) -> (Upload, shared::CustomerDoc) {
    let customer = shared::seed::customer(3, index, shared::Timestamp(1_795_341_600_000));
    let id = customer.id.to_string();
    let mut doc = shared::CustomerDoc::create(
        customer,
        automerge::ActorId::from(vec![9u8; 16]),
        shared::Timestamp(1_795_341_600_000),
    )
    .unwrap();
    (
        Upload {
            document: DocumentId(id),
            kind: BlobKind::Snapshot { covers: Seq(0) },
            bytes: doc.save(),
        },
        doc,
    )
}

/// An edit of `doc` as a change upload.
pub fn edit(doc: &mut shared::CustomerDoc, job: &str) -> Upload {
    doc.update(shared::Timestamp(1_795_341_700_000), |c| {
        c.job_title = job.to_string()
    })
    .unwrap();
    Upload {
        document: DocumentId(doc.customer().id.to_string()),
        kind: BlobKind::Change,
        bytes: doc.last_local_change().unwrap(),
    }
}

pub fn fieldbook_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldbook-server"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A relay process started by a test, killed when dropped: a test that fails half-way
/// (a panicking assertion unwinds past its own `kill`) leaves no relay running.
pub struct RelayProcess(pub Child);

impl std::ops::Deref for RelayProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for RelayProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The real relay binary as a child process on a free loopback port, on the SQLite file
/// of `data_dir`.
pub async fn spawn_relay(data_dir: &std::path::Path) -> (RelayProcess, String) {
    spawn_relay_with(&["--data-dir".as_ref(), data_dir.as_os_str()]).await
}

/// The real relay binary on a free loopback port, sharing the PostgreSQL database `url`.
pub async fn spawn_relay_on(url: &str) -> (RelayProcess, String) {
    spawn_relay_with(&["--database-url".as_ref(), url.as_ref()]).await
}

/// The real relay binary on a free loopback port, with extra flags.
pub async fn spawn_relay_with(flags: &[&std::ffi::OsStr]) -> (RelayProcess, String) {
    let port = free_port();
    let child = Command::new(fieldbook_binary())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(flags)
        .args(["--static-dir", "/nonexistent", "--log", "warn"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = RelayProcess(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await {
            if response.status() == 200 {
                return (child, base);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the relay did not start");
}

/// Acknowledged blobs by sequence number, shared by pushing tasks.
pub type Acked = std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<u64, Vec<u8>>>>;

/// Pushes `uploads` two at a time, recording each acknowledged blob in `acked`, until all
/// are acknowledged or the connection fails (the relay was killed).
pub async fn push_until_the_relay_dies(mut device: Device, uploads: Vec<Upload>, acked: Acked) {
    for chunk in uploads.chunks(2) {
        let request_id = device.next_request;
        device.next_request += 1;
        let sent = device
            .socket
            .send_with(&ClientMessage::Push {
                request_id,
                uploads: chunk.to_vec(),
            })
            .await;
        if !sent {
            return;
        }
        let Some(ServerMessage::Acked { results, .. }) = device.try_recv_answer(request_id).await
        else {
            return;
        };
        let mut acked = acked.lock().unwrap();
        for (result, upload) in results.iter().zip(chunk) {
            acked.insert(result.seq.0, upload.bytes.clone());
        }
    }
}

/// Four devices of one account, each pushing its own 400 customers (`push_until_the_relay_dies`);
/// every device joins before any push, so a kill cannot land in a handshake.
pub struct Pushers {
    pub accounts: Vec<Account>,
    pub uploads: Vec<Vec<Upload>>,
    pub acked: Acked,
    tasks: Vec<JoinHandle<()>>,
}

impl Pushers {
    /// Signs up on `base` and starts pushing.
    pub async fn start(base: &str) -> Pushers {
        Pushers::start_as(base, "rep@example.com").await
    }

    /// Signs up `email` on `base` and starts pushing.
    pub async fn start_as(base: &str, email: &str) -> Pushers {
        let mut accounts = vec![sign_up(base, email, "Device 0").await];
        for i in 1..4 {
            accounts.push(sign_in(base, email, &format!("Device {i}")).await);
        }
        let acked = Acked::default();
        let mut devices = Vec::new();
        let mut all_uploads = Vec::new();
        for (d, account) in accounts.iter().enumerate() {
            let uploads: Vec<Upload> = (0..400)
                .map(|i| new_customer(d as u64 * 10_000 + i).0)
                .collect();
            all_uploads.push(uploads.clone());
            devices.push((Device::join(base, account).await.0, uploads));
        }
        let tasks = devices
            .into_iter()
            .map(|(device, uploads)| {
                tokio::spawn(push_until_the_relay_dies(device, uploads, acked.clone()))
            })
            .collect();
        Pushers {
            accounts,
            uploads: all_uploads,
            acked,
            tasks,
        }
    }

    /// Waits until at least `n` blobs are acknowledged.
    pub async fn until_acked(&self, n: usize) {
        while self.acked.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for every pushing task to end; the acknowledged blobs by seq.
    pub async fn finish(&mut self) -> std::collections::BTreeMap<u64, Vec<u8>> {
        for task in self.tasks.drain(..) {
            task.await.unwrap();
        }
        self.acked.lock().unwrap().clone()
    }
}

/// Every entry of the log from the start, by position.
pub async fn whole_log(device: &mut Device, head: Seq) -> Vec<(u64, Vec<u8>)> {
    let mut log = Vec::new();
    let mut cursor = Seq(0);
    while cursor < head {
        let ServerMessage::Entries { entries, .. } = device.pull(cursor, 1000).await else {
            panic!("expected entries")
        };
        for entry in entries {
            assert_eq!(entry.seq.0, cursor.0 + 1, "the log has a gap");
            cursor = entry.seq;
            log.push((entry.seq.0, entry.bytes));
        }
    }
    log
}
