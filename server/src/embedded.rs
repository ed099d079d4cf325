//! The built client inside the relay binary, so a release is one file to copy (plus, at
//! run time, its SQLite file).
//!
//! A release build of the relay embeds `dist/` as Trunk left it (build the client first:
//! `scripts/start.sh` and `scripts/test.sh` do). Without `--static-dir`, the relay writes
//! the embedded files once per build into `<data dir>/client-<hash>/` and serves that
//! folder like any other (precompressed once, the same cache headers); `--static-dir`
//! still points at a folder instead. A debug build reads `dist/` from the disk.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

// The relay writes `.br` and `.gz` siblings into a client folder it serves: they are not
// part of the build (it makes them again from the extracted files).
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../dist/"]
#[allow_missing = true]
#[exclude = "*.br"]
#[exclude = "*.gz"]
struct Client;

/// A fingerprint of the embedded build (its `index.html` names every hashed file), or
/// `None` when this binary was built without a client.
pub fn build_hash() -> Option<String> {
    let index = Client::get("index.html")?;
    Some(hex::encode(&index.metadata.sha256_hash()[..8]))
}

/// Writes the embedded client into `<data_dir>/client-<hash>/` unless it is there already
/// and returns that folder; `Ok(None)` when the binary carries no client. Written into a
/// temporary folder first and renamed, so a crash never leaves half a client served.
pub fn extract(data_dir: &Path) -> io::Result<Option<PathBuf>> {
    let Some(hash) = build_hash() else {
        return Ok(None);
    };
    let target = data_dir.join(format!("client-{hash}"));
    if target.join("index.html").is_file() {
        return Ok(Some(target));
    }
    fs::create_dir_all(data_dir)?;
    let partial = data_dir.join(format!(".client-{hash}.partial"));
    if partial.exists() {
        fs::remove_dir_all(&partial)?;
    }
    for name in Client::iter() {
        let Some(file) = Client::get(&name) else {
            continue;
        };
        let path = partial.join(name.as_ref());
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &file.data)?;
    }
    fs::rename(&partial, &target)?;
    // Clients of earlier builds in the data directory are no longer served.
    for entry in fs::read_dir(data_dir)?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("client-") && entry.path() != target {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_client_is_written_once_and_served_from_the_data_directory() {
        let data = tempfile::tempdir().unwrap();
        let Some(dir) = extract(data.path()).unwrap() else {
            // Built without a client (dist/ absent): nothing to write, and no folder.
            assert_eq!(build_hash(), None);
            assert_eq!(fs::read_dir(data.path()).unwrap().count(), 0);
            return;
        };
        let index = fs::read(dir.join("index.html")).unwrap();
        assert_eq!(index, Client::get("index.html").unwrap().data.as_ref());
        assert_eq!(Client::iter().count(), walk(&dir));
        // A second start finds it; an older build's folder is removed.
        let old = data.path().join("client-0000");
        fs::create_dir_all(&old).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(extract(data.path()).unwrap(), Some(dir.clone()));
        assert!(!old.exists());
        assert_eq!(extract(data.path()).unwrap(), Some(dir));
    }

    fn walk(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
}
