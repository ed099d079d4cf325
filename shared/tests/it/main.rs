//! The one integration-test binary of `shared`: documents end to end, through the public API.
// Native only (never in a wasm): the standard sorts are fine here (see `shared::order`).
#![allow(clippy::disallowed_methods)]

mod channels_sim;
mod customer_doc;
mod history;
mod imports;
mod sync_sim;
