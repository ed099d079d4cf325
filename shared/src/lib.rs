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
//! - [`customer`]: the document schema ([`Customer`] and its parts), mapped with autosurgeon.
//! - [`customer_doc`]: one Automerge document per customer: create, load, update, save.
//! - [`conflicts`]: fields written concurrently on two devices, listed and resolved.
//! - [`validation`]: the rules a customer must satisfy before it is stored, with messages.
//! - [`summary`]: the projection record kept beside each document.
//! - [`book`]: the in-memory set of projections; search, filters, sorting and counts.
//! - [`seed`]: a deterministic generator of realistic books for tests and benchmarks.
//! - [`protocol`]: the versioned binary messages between devices and the relay.
//! - [`account`]: the JSON records of the relay's account API.
//! - [`sync`]: the sans-IO sync engines of the device and the relay.
//! - [`tab_protocol`]: the messages between the writer tab of a browser profile and its
//!   other tabs.
//!
//! # Invariants
//!
//! No IO, no clock, no randomness: the current time ([`Timestamp`]) and fresh identifiers are
//! passed in by the runtime (`std::time::SystemTime::now()` panics on wasm32).
#![deny(missing_docs)]

pub mod account;
pub mod book;
pub mod book_doc;
pub mod conflicts;
pub mod csv_export;
pub mod customer;
pub mod customer_doc;
pub mod customer_id;
pub mod duplicates;
pub mod facts;
pub mod follow_ups;
pub mod ics;
pub mod import;
pub mod kpi;
pub mod merge;
pub mod pipeline;
pub mod protocol;
pub mod records;
pub mod seed;
pub mod segments;
pub mod suggestions;
pub mod summary;
pub mod sync;
pub mod tab_protocol;
pub mod timestamp;
pub mod validation;
pub mod vcard;

pub use book::{Book, ListQuery, QueryResult, SortOrder};
pub use conflicts::{ConflictValue, FieldConflict};
pub use customer::{
    Address, CalendarDate, Channel, ContactPoint, ContactPointId, Customer, LifecycleStage, TagSet,
};
pub use customer_doc::{CustomerDoc, DocError};
pub use customer_id::CustomerId;
pub use summary::CustomerSummary;
pub use timestamp::Timestamp;
pub use validation::{FieldError, ValidationErrors};
