//! Finding customers: the in-memory book of summaries with search, filters and sorting, and
//! likely duplicates.
//!
//! # Layout
//!
//! - [`book`]: `Book`: summaries in memory; search, filters, sort orders, counts.
//! - [`duplicates`]: likely duplicates of a lead, and every likely pair of the book.

pub mod book;
pub mod duplicates;
