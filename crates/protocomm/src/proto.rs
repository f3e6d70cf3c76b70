//! The protobuf messages (prost, generated from `crates/protocomm/proto/*.proto` by
//! `cargo run -p xtask --features protos -- protos`; the generated files are committed and
//! checked for staleness in CI).

/// `protocomm`: status codes, the `prov-session` envelope and the security 0/1/2 payloads.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod protocomm;

/// `wifi_provisioning`: `prov-config`, `prov-scan`, `prov-ctrl` and their constants.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod wifi_provisioning;
