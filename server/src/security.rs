//! Headers every response carries: a Content Security Policy that still lets the app run
//! (its wasm needs `'wasm-unsafe-eval'`; its two inline scripts in `index.html` — Trunk's
//! loader and the early read of the stored book — are allowed by their SHA-256 hashes,
//! taken from the built `index.html` at start), `X-Content-Type-Options`,
//! `Referrer-Policy`, no framing, and HSTS when the relay is configured as reached over
//! HTTPS. API answers (tokens among them) are never stored by a cache.

use std::path::Path;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderName, HeaderValue, Request},
    middleware::Next,
    response::Response,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The headers added to every response.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    hsts: bool,
}

impl SecurityHeaders {
    /// The policy for the client built into `static_dir` (its inline scripts' hashes);
    /// `hsts` when the relay is reached over HTTPS.
    pub fn for_client(static_dir: &Path, hsts: bool) -> SecurityHeaders {
        let hashes = std::fs::read_to_string(static_dir.join("index.html"))
            .map(|html| inline_script_hashes(&html))
            .unwrap_or_default();
        SecurityHeaders {
            csp: HeaderValue::from_str(&policy(&hashes))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            hsts,
        }
    }
}

/// The Content Security Policy with `script_hashes` (`'sha256-…'` sources) allowed.
fn policy(script_hashes: &[String]) -> String {
    let mut scripts = String::from("'self' 'wasm-unsafe-eval'");
    for hash in script_hashes {
        scripts.push(' ');
        scripts.push_str(hash);
    }
    // Styles: the screens set `style` attributes (progress bars, charts).
    format!(
        "default-src 'self'; script-src {scripts}; worker-src 'self'; connect-src 'self'; \
         img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self'; \
         manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// `'sha256-…'` of every inline `<script>` (one without `src`) of `html`, as CSP needs
/// them: the hash of the exact text between the tags.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..tag_end];
        let body_and_more = &rest[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body_and_more.as_bytes()[..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_and_more[close..];
    }
    hashes
}

/// Middleware: the security headers on every response; `no-store` on API answers.
pub async fn headers(
    State(security): State<SecurityHeaders>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, security.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if security.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_scripts_with_src_are_not() {
        let html = "<head><script>let a = 1;</script>\n<script type=\"module\">\nimport x from '/x.js';\n</script><script src=\"/y.js\"></script></head>";
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        let expected = |text: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
            )
        };
        assert_eq!(hashes[0], expected("let a = 1;"));
        assert_eq!(hashes[1], expected("\nimport x from '/x.js';\n"));
        let csp = policy(&hashes);
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(csp.contains(&hashes[1]));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("'unsafe-eval'"));
    }
}
