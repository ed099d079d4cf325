//! Fieldbook's shared core: the domain model, the Automerge document schema, validation,
//! the compact per-customer projection and search. It compiles natively and to wasm32.
//!
//! # Flow
//!
//! A customer lives in one Automerge document ([`CustomerDoc`]). The client edits it by
//! hydrating a [`Customer`], changing plain Rust fields, validating the result
//! ([`validation`]) and reconciling it back ([`CustomerDoc::update`]); autosurgeon turns the
//! difference into fine-grained Automerge operations, so concurrent edits of different fields
//! merge. After every change the document yields a small [`CustomerSummary`] (the projection)
//! which the list, search and counts read through a [`Book`] without loading documents.
//!
//! # Layout
//!
//! Grouped by concern:
//!
//! - [`model`]: the customer as plain data ([`Customer`] and its records, ids, time),
//!   validation, and the projections stored beside each document (summary, facts).
//! - [`documents`]: the Automerge documents — one per customer ([`CustomerDoc`]), one per
//!   book — and their concurrent values (conflicts).
//! - [`sync`]: how changes move — the wire protocol, the sans-IO engines of the device and
//!   the relay, the account API's records, and the messages between tabs of one browser.
//! - [`crm`]: what a CRM computes — KPIs, follow-ups, pipeline, segments, suggestions, merge.
//! - [`search`]: the in-memory book with search, filters and sorting ([`Book`]), and
//!   duplicate matching.
//! - [`formats`]: CSV, vCard and iCalendar files.
//! - [`order`]: the one compiled sort every call site uses (each standard sort call compiles
//!   its own few KB of wasm).
//! - [`seed`]: a deterministic generator of realistic books for tests and benchmarks.
//!
//! # Invariants
//!
//! No IO, no clock, no randomness: the current time ([`Timestamp`]) and fresh identifiers are
//! passed in by the runtime (`std::time::SystemTime::now()` panics on wasm32).
#![deny(missing_docs)]

pub mod crm;
pub mod documents;
pub mod formats;
pub mod model;
pub mod order;
pub mod search;
pub mod seed;
pub mod sync;

pub use documents::conflicts::{ConflictValue, FieldConflict};
pub use documents::customer_doc::{CustomerDoc, DocError, Version};
pub use model::customer::{
    Address, Birthday, CalendarDate, Channel, ContactPoint, ContactPointId, Customer,
    LifecycleStage, TagSet,
};
pub use model::customer_id::CustomerId;
pub use model::history::{field_history, FieldValue, HistoryEntry, HistoryLine};
pub use model::summary::CustomerSummary;
pub use model::timestamp::Timestamp;
pub use model::validation::{FieldError, ValidationErrors};
pub use search::book::{Book, ListQuery, QueryResult, SortOrder};
