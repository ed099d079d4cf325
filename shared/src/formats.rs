//! Files other tools read and write: CSV and vCard import and export, iCalendar.
//!
//! # Layout
//!
//! - [`import`]: CSV import: parsing, recognised layouts, rows to customers, duplicates.
//! - [`vcard`]: vCard read and write.
//! - [`csv_export`]: summaries to CSV in a layout the import reads back.
//! - [`ics`]: follow-ups as an iCalendar file.
//! - [`text`]: a file's bytes as text (encoding detection), quoted-printable.

pub mod csv_export;
pub mod ics;
pub mod import;
pub mod text;
pub mod vcard;
