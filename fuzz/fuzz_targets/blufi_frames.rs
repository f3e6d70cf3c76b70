//! BluFi codecs and the link layer. Byte 0 picks a mode:
//!
//! * 0: one frame (`Frame::new_checked`, `Repr::parse`, emitted back byte for byte) and the
//!   message parsers on the rest (`Status`, `Version`, the Wi-Fi list, the DH `Parameters`),
//!   each parsed value emitted and parsed again to the same value;
//! * 1: the `Reassembler` fed `[type][fragment][len8][data]` pieces;
//! * 2: a receiving `Link` (either role, optionally with a key of either generation and a
//!   security mode) fed `[len16][frame]` frames, its ACKs drained;
//! * 3: a round trip: a phone `Link` sends `[type][protection][sizing…][len16][payload]`
//!   messages, a device `Link` with the same key receives every frame and must get each
//!   message back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_blufi::link::{Link, Reassembler, Role, Sizing};
use wifiprov_blufi::message::{self, Protection, SecurityMode, Status, Version};
use wifiprov_blufi::security::{Cipher, Generation, Parameters};
use wifiprov_blufi::{ControlSubtype, Frame, Kind, Repr};
use wifiprov_fuzz::Bytes;

fn codecs(data: &[u8]) {
    if let Ok(frame) = Frame::new_checked(data) {
        let _ = (frame.kind(), frame.control(), frame.sequence(), frame.data(), frame.checksum());
        if let Ok(repr) = Repr::parse(&frame) {
            let emitted = repr.to_vec().expect("a parsed frame emits");
            assert_eq!(emitted.as_slice(), &data[..repr.buffer_len()]);
        }
    }
    if let Ok(status) = Status::parse(data) {
        let again = Status::parse(&status.to_vec().expect("a parsed status emits"));
        assert_eq!(again.as_ref(), Ok(&status));
    }
    if let Ok(version) = Version::parse(data) {
        assert_eq!(Version::parse(&version.to_bytes()), Ok(version));
    }
    if let Ok(list) = message::parse_wifi_list(data) {
        if let Ok(bytes) = message::wifi_list_to_vec(&list) {
            assert_eq!(message::parse_wifi_list(&bytes).as_ref(), Ok(&list));
        }
    }
    if let Ok(parameters) = Parameters::parse(data) {
        assert_eq!(parameters.to_vec().expect("parsed parameters emit"), data);
    }
}

fn cipher(bytes: &mut Bytes<'_>, role: Role) -> Option<Cipher> {
    let selector = bytes.u8();
    let secret = bytes.chunk8();
    match selector % 3 {
        0 => None,
        1 => Some(Cipher::new(Generation::V1, secret, role)),
        _ => Some(Cipher::new(Generation::V2, secret, role)),
    }
}

fn receiving_link(bytes: &mut Bytes<'_>) {
    let role = if bytes.u8() & 1 == 0 {
        Role::Device
    } else {
        Role::Phone
    };
    let max_len = usize::from(bytes.u16());
    let mut link = Link::new(role, Sizing::device(u16::from(bytes.u8())), max_len);
    link.set_cipher(cipher(bytes, role));
    link.set_security_mode(SecurityMode::from_bits(bytes.u8()));
    while !bytes.is_empty() {
        if let Ok(Some(message)) = link.handle_frame(bytes.chunk16()) {
            // ACKs are handed over frame by frame, outside the reassembly limit.
            if message.kind != Kind::Control(ControlSubtype::Ack) {
                assert!(message.data.len() <= max_len.max(1));
            }
        }
        while let Some(frame) = link.poll_transmit() {
            assert!(Frame::new_checked(frame.as_slice()).is_ok());
        }
    }
}

fn round_trip(bytes: &mut Bytes<'_>) {
    let selector = bytes.u8();
    let secret = bytes.chunk8();
    let generation = if selector & 1 == 0 {
        Generation::V1
    } else {
        Generation::V2
    };
    let mut phone = Link::new(Role::Phone, Sizing::phone_default(), 1 << 16);
    let mut device = Link::new(Role::Device, Sizing::device(23), 1 << 16);
    if selector & 2 != 0 {
        phone.set_cipher(Some(Cipher::new(generation, secret, Role::Phone)));
        device.set_cipher(Some(Cipher::new(generation, secret, Role::Device)));
    }
    while !bytes.is_empty() {
        let Some(kind) = Kind::from_type_byte(bytes.u8() & !2) else {
            continue;
        };
        let flags = bytes.u8();
        let protection = Protection {
            checksum: flags & 1 != 0,
            encrypt: flags & 2 != 0,
        };
        phone.set_sizing(Sizing::new(
            usize::from(bytes.u8()),
            flags & 4 != 0,
            usize::from(bytes.u8()),
        ));
        let payload = bytes.chunk16();
        if phone.send_with(kind, payload, protection, flags & 8 != 0).is_err() {
            continue;
        }
        let mut received = None;
        while let Some(frame) = phone.poll_transmit() {
            assert!(received.is_none(), "a message completed before its last frame");
            received = device.handle_frame(&frame).expect("the device takes the phone's frame");
            while device.poll_transmit().is_some() {}
        }
        if kind == Kind::Control(ControlSubtype::Ack) {
            // A (fragmented) ACK is handed over frame by frame, not reassembled.
            device = Link::new(Role::Device, Sizing::device(23), 1 << 16);
            if selector & 2 != 0 {
                device.set_cipher(Some(Cipher::new(generation, secret, Role::Device)));
            }
            phone = Link::new(Role::Phone, Sizing::phone_default(), 1 << 16);
            if selector & 2 != 0 {
                phone.set_cipher(Some(Cipher::new(generation, secret, Role::Phone)));
            }
            continue;
        }
        let message = received.expect("the last frame completes the message");
        assert_eq!(message.kind, kind);
        assert_eq!(message.data, payload);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    match bytes.u8() % 4 {
        0 => codecs(bytes.rest()),
        1 => {
            let mut reassembler = Reassembler::new(usize::from(bytes.u16()));
            while !bytes.is_empty() {
                let Some(kind) = Kind::from_type_byte(bytes.u8()) else {
                    continue;
                };
                let fragment = bytes.u8() & 1 != 0;
                if let Ok(Some(message)) = reassembler.push(kind, fragment, bytes.chunk8()) {
                    assert_eq!(message.kind, kind);
                }
                let _ = reassembler.is_idle();
            }
        }
        2 => receiving_link(&mut bytes),
        _ => round_trip(&mut bytes),
    }
});
