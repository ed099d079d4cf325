//! The customer as plain data: the document schema, ids and time, the rules an edit must
//! satisfy, and the projections stored beside each document (summary for the list, facts for
//! the dashboards).
//!
//! # Layout
//!
//! - [`customer`]: the customer document schema, mapped onto Automerge with autosurgeon.
//! - [`customer_id`]: the `CustomerId` newtype.
//! - [`custom_fields`]: the book's own fields (definitions, kinds, canonical values, the
//!   kind an imported column suggests).
//! - [`history`]: a customer's history as shown: entries, lines, a field's values, put back.
//! - [`records`]: activities, follow-ups, feedback, purchases and deals inside a customer.
//! - [`timestamp`]: `Timestamp`, always passed in by the runtime.
//! - [`validation`]: the rules a customer must satisfy before it is stored, with messages.
//! - [`summary`]: `CustomerSummary`, the projection the list and search read.
//! - [`facts`]: `CustomerFacts`, the projection the dashboards read.
//! - [`snapshot`]: every customer's summary (or facts) as one stored value, for fast starts.

pub mod custom_fields;
pub mod customer;
pub mod customer_id;
pub mod facts;
pub mod history;
pub mod phone;
pub mod records;
pub mod snapshot;
pub mod summary;
pub mod timestamp;
pub mod validation;
