//! The one integration-test binary of the relay: a real server on a loopback port, real
//! SQLite file, real HTTP.

mod crash;
mod measure;
mod relay;
mod serving;
mod sync;
