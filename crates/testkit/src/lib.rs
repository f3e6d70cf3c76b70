//! Test support for wifiprov (not published).
//!
//! * [`shared`]: locate and load the reference data in `../shared/vectors` and `../shared/captures`,
//!   read in place (never copied into the repository);
//! * [`air`]: a seeded air simulator that turns UDP payload lengths into [`Observation`]s with
//!   overhead, loss, duplicates, retries, reordering and foreign frames.
//!
//! [`Observation`]: wifiprov_sniff::Observation

pub mod air;
pub mod shared;
