//! Files other tools read and write: CSV and vCard import and export, iCalendar.
//!
//! # Layout
//!
//! - [`import`]: CSV import: parsing, recognised layouts, rows to customers, duplicates.
//! - [`vcard`]: vCard read and write.
//! - [`csv_export`]: summaries to CSV in a layout the import reads back.
//! - [`ics`]: follow-ups as an iCalendar file.

pub mod csv_export;
pub mod ics;
pub mod import;
pub mod vcard;
