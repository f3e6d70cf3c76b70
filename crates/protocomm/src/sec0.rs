//! Security 0: no security. One plaintext exchange on `prov-session`; nothing is encrypted.

use alloc::vec::Vec;

use crate::proto::protocomm::session_data::Proto;
use crate::proto::protocomm::{
    S0SessionCmd, S0SessionResp, Sec0MsgType, Sec0Payload, SecSchemeVersion, sec0_payload,
};
use crate::{Cipher, Error, Next, envelope};

const VERSION: SecSchemeVersion = SecSchemeVersion::SecScheme0;

/// The client side.
#[derive(Debug)]
pub struct Client {
    cipher: Option<Cipher>,
}

impl Client {
    /// Starts a session: the first (and only) request.
    pub fn start() -> (Self, Next) {
        let command = envelope::encode(
            VERSION,
            Proto::Sec0(Sec0Payload {
                msg: Sec0MsgType::S0SessionCommand as i32,
                payload: Some(sec0_payload::Payload::Sc(S0SessionCmd {})),
            }),
        );
        (Self { cipher: None }, Next::Send(command))
    }

    /// Handles the device's reply.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] / [`Error::PeerMisbehaved`] for anything but a successful
    /// `S0SessionResp`; [`Error::ApiMisuse`] after the session is established.
    pub fn handle_reply(&mut self, reply: &[u8]) -> Result<Next, Error> {
        if self.cipher.is_some() {
            return Err(Error::ApiMisuse("the session is already established"));
        }
        let Proto::Sec0(payload) = envelope::decode(reply, VERSION)? else {
            return Err(Error::PeerMisbehaved("another security scheme"));
        };
        match payload.payload {
            Some(sec0_payload::Payload::Sr(S0SessionResp { status }))
                if payload.msg == Sec0MsgType::S0SessionResponse as i32 =>
            {
                envelope::check_status(status)?;
                self.cipher = Some(Cipher::plain());
                Ok(Next::Established)
            }
            _ => Err(Error::PeerMisbehaved("expected S0SessionResp")),
        }
    }

    /// The (pass-through) cipher once established.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] before the handshake.
    pub fn cipher(&mut self) -> Result<&mut Cipher, Error> {
        self.cipher
            .as_mut()
            .ok_or(Error::ApiMisuse("the session is not established"))
    }
}

/// The device side.
#[derive(Debug)]
pub struct Device {
    cipher: Cipher,
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

impl Device {
    /// A device session (security 0 needs no handshake for data: ESP-IDF passes it through).
    #[must_use]
    pub fn new() -> Self {
        Self {
            cipher: Cipher::plain(),
        }
    }

    /// Handles a `prov-session` request, returning the response.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] / [`Error::PeerMisbehaved`] for anything but `S0SessionCmd`.
    pub fn handle_request(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        let Proto::Sec0(payload) = envelope::decode(request, VERSION)? else {
            return Err(Error::PeerMisbehaved("another security scheme"));
        };
        match payload.payload {
            Some(sec0_payload::Payload::Sc(_))
                if payload.msg == Sec0MsgType::S0SessionCommand as i32 =>
            {
                Ok(envelope::encode(
                    VERSION,
                    Proto::Sec0(Sec0Payload {
                        msg: Sec0MsgType::S0SessionResponse as i32,
                        payload: Some(sec0_payload::Payload::Sr(S0SessionResp { status: 0 })),
                    }),
                ))
            }
            _ => Err(Error::PeerMisbehaved("expected S0SessionCmd")),
        }
    }

    /// The pass-through cipher.
    pub fn cipher(&mut self) -> &mut Cipher {
        &mut self.cipher
    }
}
