//! Finding customers: the in-memory book of summaries with search, filters and sorting, and
//! likely duplicates.
//!
//! # Layout
//!
//! - [`book`]: `Book`: summaries in memory; search, filters, sort orders, counts.
//! - [`duplicates`]: likely duplicates of a lead, and every likely pair of the book.
//! - [`first_screen`]: `FirstScreen`: the top of the list as a start shows it, stored beside
//!   the snapshot so a start draws it before the whole book is built.

pub mod book;
pub mod duplicates;
pub mod first_screen;
