//! The one integration-test binary of the relay: real servers on loopback ports, a real
//! SQLite file or a real PostgreSQL (the cluster `scripts/test.sh` starts; its admin URL
//! in `FIELDBOOK_TEST_PG_URL`), real HTTP and WebSockets.

mod crash;
mod faults;
mod measure;
mod relay;
mod relays;
mod serving;
mod sync;
mod teams;
