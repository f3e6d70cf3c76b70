//! All of wifiprov's I/O: the protocol crates are sans-IO, this crate talks to the world.
//!
//! * [`capture`]: pcap/pcapng files and live `AF_PACKET` sockets → observations for the sniffing
//!   decoders (radiotap, 802.11 and Ethernet framing).
//! * [`udp`]: the ESP-TOUCH v1 sender with the reference schedule, the provisioner's ack
//!   listener, and the device's ack sender.
//! * [`http`]: a small hardened HTTP/1.1 server and client (threads, no async runtime).
//! * [`provision`]: the provisioner's ESP-IDF unified-provisioning sequence over any [`provision::Link`].
//! * [`softap`]: protocomm over HTTP — the client link and the device server (ESP-IDF's cookie
//!   and failure rules).
//! * [`portal`]: the captive portal's routes (page, OS probes, RFC 8908 API, JSON API).
//! * [`ble`]: Bluetooth LE on BlueZ — protocomm over GATT (both roles).
//! * [`device`]: the Linux device daemon.
//!
//! Errors carry the interface, file or address they concern.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod ble;
pub mod capture;
pub mod device;
pub mod explain;
pub mod front;
pub mod http;
pub mod portal;
pub mod provision;
pub mod softap;
pub mod udp;
