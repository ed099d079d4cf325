//! The built client: precompressed once at start, served with the right cache headers.
//!
//! Every compressible file gets a `.br` (brotli, quality 11) and a `.gz` (gzip, level 9)
//! sibling, written only when missing or older than the file. `ServeDir` then answers with
//! the smallest encoding the browser accepts and spends no CPU per request; on-the-fly
//! compression at such levels would cost seconds per request for the wasm file.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Request},
    middleware::Next,
    response::Response,
};

/// Extensions worth compressing.
const COMPRESSIBLE: &[&str] = &[
    "wasm",
    "js",
    "css",
    "html",
    "svg",
    "json",
    "webmanifest",
    "txt",
    "ico",
    "map",
];

/// What [`precompress_dir`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PrecompressReport {
    /// Compressible files found.
    pub n_files: usize,
    /// Files (re)compressed now; the rest were up to date.
    pub n_compressed: usize,
}

/// Writes `.br` and `.gz` siblings for every compressible file under `dir` that lacks an
/// up-to-date one.
pub fn precompress_dir(dir: &Path) -> io::Result<PrecompressReport> {
    let mut report = PrecompressReport::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let compressible = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| COMPRESSIBLE.contains(&ext));
            if !compressible {
                continue;
            }
            report.n_files += 1;
            let source_modified = fs::metadata(&path)?.modified()?;
            let mut compressed_any = false;
            for (suffix, compress) in [
                ("br", compress_brotli as fn(&[u8]) -> io::Result<Vec<u8>>),
                ("gz", compress_gzip),
            ] {
                let mut target = path.clone().into_os_string();
                target.push(".");
                target.push(suffix);
                let target = std::path::PathBuf::from(target);
                let up_to_date = fs::metadata(&target)
                    .and_then(|meta| meta.modified())
                    .is_ok_and(|modified| modified >= source_modified);
                if up_to_date {
                    continue;
                }
                let compressed = compress(&fs::read(&path)?)?;
                // Write beside, then rename: a reader never sees half a file.
                let mut partial = target.clone().into_os_string();
                partial.push(".partial");
                fs::write(&partial, compressed)?;
                fs::rename(&partial, &target)?;
                compressed_any = true;
            }
            report.n_compressed += usize::from(compressed_any);
        }
    }
    Ok(report)
}

fn compress_brotli(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut io::Cursor::new(bytes), &mut out, &params)?;
    Ok(out)
}

fn compress_gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Sets `Cache-Control`: content-hashed build outputs are immutable; everything else (the
/// HTML shell, which names the current hashes) must be revalidated so a new deployment is
/// picked up; errors are not stored at all.
pub async fn cache_headers(request: Request<Body>, next: Next) -> Response {
    let immutable = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let value = if !response.status().is_success() {
        // A 404 for a file of another build must not be remembered either.
        "no-store"
    } else if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Whether a file name carries Trunk's content hash (`name-<16 hex digits>.ext`).
fn is_content_hashed(path: &str) -> bool {
    let file_name = path.rsplit('/').next().unwrap_or_default();
    let stem = file_name.split('.').next().unwrap_or_default();
    // wasm-bindgen names the module `name-<hash>_bg.wasm`.
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashes() {
        assert!(is_content_hashed(
            "/fieldbook-client-3f2a9c0d1e4b5a6f_bg.wasm"
        ));
        assert!(is_content_hashed("/fieldbook-client-3f2a9c0d1e4b5a6f.js"));
        assert!(is_content_hashed("/style-0123456789abcdef.css"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/customers/abc"));
    }
}
