//! The Automerge documents: one per customer, one per book (catalog, pipeline, segments), and
//! the concurrent values they keep.
//!
//! # Layout
//!
//! - [`customer_doc`]: one Automerge document per customer: create, load, update, save, merge.
//! - [`book_doc`]: the book document: catalog, pipeline, saved segments.
//! - [`conflicts`]: fields written concurrently on two devices, listed and resolved.
//! - [`history`]: a customer's changes in words, a field's values over time, "Put this back".

pub mod book_doc;
pub mod conflicts;
pub mod customer_doc;
pub mod history;
