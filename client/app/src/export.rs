//! "Export unsynced changes": a file holding every change of this device the relay has not
//! acknowledged, to keep or send when the device cannot reach the relay; importing it (on
//! this device after a wipe, or on another one) merges the changes back and queues them.

use serde::{Deserialize, Serialize};
use shared::sync::protocol::{decode, encode, Upload};

/// The file's `format` field.
pub const FORMAT: &str = "fieldbook-unsynced-changes";
/// The `format` of a full backup: the same file, holding every document whole.
pub const BACKUP_FORMAT: &str = "fieldbook-backup";

/// The exported file.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// Milliseconds since the epoch.
    pub exported_at: i64,
    /// The device the changes were made on.
    pub device: String,
    /// Each change as hex of its protocol encoding.
    pub changes: Vec<String>,
}

/// The file's text.
pub fn to_file(uploads: &[Upload], device: &str, exported_at: i64) -> String {
    to_file_as(FORMAT, uploads, device, exported_at)
}

/// The file's text with the given `format` ([`FORMAT`] or [`BACKUP_FORMAT`]).
pub fn to_file_as(format: &str, uploads: &[Upload], device: &str, exported_at: i64) -> String {
    let file = ExportFile {
        format: format.into(),
        version: 1,
        exported_at,
        device: device.into(),
        changes: uploads.iter().map(|u| hex::encode(encode(u))).collect(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// The changes of a file, or why it cannot be read.
pub fn from_file(text: &str) -> Result<Vec<Upload>, String> {
    let file: ExportFile = serde_json::from_str(text)
        .map_err(|err| format!("this is not a Fieldbook export: {err}"))?;
    if file.format != FORMAT && file.format != BACKUP_FORMAT {
        return Err(format!(
            "this is not a Fieldbook export (format {:?})",
            file.format
        ));
    }
    if file.version != 1 {
        return Err(format!(
            "this export is version {}; this app reads version 1",
            file.version
        ));
    }
    file.changes
        .iter()
        .enumerate()
        .map(|(i, change)| {
            let bytes = hex::decode(change).map_err(|err| format!("change {}: {err}", i + 1))?;
            decode::<Upload>(&bytes).map_err(|err| format!("change {}: {err}", i + 1))
        })
        .collect()
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, text: &str) -> Result<(), String> {
    download_as(name, text, "application/json")
}

/// Offers `text` as a file named `name` of the media type `mime`.
pub fn download_as(name: &str, text: &str, mime: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|err| format!("{err:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|err| format!("{err:?}"))?;
    let document = leptos::prelude::document();
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|err| format!("{err:?}"))?
        .unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Downloads every change of this device the relay has not acknowledged as a file named
/// "fieldbook-unsynced-<date>.json"; returns what to tell the rep.
pub async fn export_unsynced(repo: crate::repo::Repo, device: &str) -> Result<String, String> {
    let uploads = repo.unsynced_changes().await?;
    if uploads.is_empty() {
        return Ok("Nothing to export: every change of this device is backed up.".to_string());
    }
    let at = crate::time::now();
    download(
        &format!("fieldbook-unsynced-{}.json", crate::time::day(at)),
        &to_file(&uploads, device, at.0),
    )?;
    Ok(format!("Exported {} unsynced changes.", uploads.len()))
}
