//! Serving the client and the health check.

use std::{io::Read, path::Path};

use reqwest::header;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

struct TestServer {
    base_url: String,
    data_dir: tempfile::TempDir,
    _static_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), server::ServerError>>,
}

const WASM_NAME: &str = "fieldbook-client-0123456789abcdef_bg.wasm";

fn big_compressible_payload() -> Vec<u8> {
    (0..200_000u32)
        .flat_map(|n| format!("chunk {} ", n % 977).into_bytes())
        .collect()
}

async fn start() -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let static_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        static_dir.path().join("index.html"),
        "<!doctype html><title>Fieldbook</title><script>window.early = 1;</script><p>shell</p>",
    )
    .unwrap();
    std::fs::write(
        static_dir.path().join(WASM_NAME),
        big_compressible_payload(),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let config = server::Config::new(
        data_dir.path().join("data"),
        static_dir.path().to_path_buf(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::run(listener, config, async {
        let _ = stopped.await;
    }));
    // The listener is bound, so requests queue until the server accepts them.
    TestServer {
        base_url,
        data_dir,
        _static_dir: static_dir,
        stop: Some(stop),
        task,
    }
}

impl TestServer {
    async fn get(&self, path: &str, accept_encoding: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base_url))
            .header(header::ACCEPT_ENCODING, accept_encoding)
            .send()
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn healthz_reports_the_database() {
    let server = start().await;
    let response = server.get("/healthz", "identity").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    let db_path = server
        .data_dir
        .path()
        .join("data")
        .join(server::db::DB_FILE_NAME);
    assert!(
        db_path.is_file(),
        "the SQLite file exists under the data dir"
    );
    server.stop().await;
}

#[tokio::test]
async fn wasm_is_served_brotli_or_gzip_and_decodes_to_the_original() {
    let server = start().await;
    let original = big_compressible_payload();

    let response = server
        .get(&format!("/{WASM_NAME}"), "gzip, deflate, br")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let body = response.bytes().await.unwrap();
    assert!(
        body.len() < original.len() / 5,
        "brotli body is {} bytes",
        body.len()
    );
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&body[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, original);

    let response = server.get(&format!("/{WASM_NAME}"), "gzip").await;
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let body = response.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, original);

    let response = server.get(&format!("/{WASM_NAME}"), "identity").await;
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(response.bytes().await.unwrap(), original);
    server.stop().await;
}

#[tokio::test]
async fn client_routes_fall_back_to_the_app_shell() {
    let server = start().await;
    for path in ["/", "/customers/3f6c", "/customers/new"] {
        let response = server.get(path, "identity").await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-cache",
            "{path}"
        );
        assert!(
            response.text().await.unwrap().contains("<p>shell</p>"),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn missing_files_are_404s_never_the_shell_and_every_answer_carries_security_headers() {
    let server = start().await;
    // A hashed asset of another build (a rolling deploy), robots-like files, source maps.
    for path in [
        "/fieldbook-client-fedcba9876543210_bg.wasm",
        "/fieldbook-client-fedcba9876543210.js",
        "/favicon.ico",
        "/customers/3f6c/photo.png",
    ] {
        let response = server.get(path, "identity").await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-store",
            "{path}"
        );
        assert!(!response.text().await.unwrap().contains("shell"), "{path}");
    }
    let response = server.get("/robots.txt", "identity").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "User-agent: *\nDisallow: /\n"
    );

    // An unknown API path is a JSON 404, not the shell; API answers are never cached.
    let response = server.get("/api/nothing/here", "identity").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let response = reqwest::Client::new()
        .post(format!("{}/api/signin", server.base_url))
        .json(&serde_json::json!({ "email": "a@example.com", "password": "wrong wrong", "device_name": "Phone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");

    // Security headers everywhere; the shell's inline script is allowed by its hash.
    for path in [
        "/",
        "/healthz",
        &format!("/{WASM_NAME}"),
        "/nope.js",
        "/api/devices",
    ] {
        let response = server.get(path, "identity").await;
        let headers = response.headers();
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{path}: {csp}"
        );
        assert!(csp.contains("connect-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "not configured"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn restart_reuses_the_data_file() {
    let data_dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let target = server::db::DatabaseTarget::from_url(None, data_dir.path()).unwrap();
        let db = server::db::open(&target).await.unwrap();
        let server::db::Database::Sqlite(pool) = &db else {
            panic!("the default is SQLite")
        };
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode.0, "wal");
        db.close().await;
    }
    assert!(Path::new(&data_dir.path().join(server::db::DB_FILE_NAME)).is_file());
}
