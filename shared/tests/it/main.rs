//! The one integration-test binary of `shared`: documents end to end, through the public API.

mod channels_sim;
mod customer_doc;
mod history;
mod imports;
mod sync_sim;
