//! Security 1: X25519 key agreement, the proof of possession (PoP) folded into the key with
//! SHA-256, and one AES-256-CTR keystream for the whole session (spec §3.3).
//!
//! key = X25519(own secret, peer public) XOR SHA-256(PoP) (no XOR without a PoP); the stream's
//! initial counter block is the device's 16 random bytes. The client proves the key by
//! encrypting the device's public key (keystream bytes 0..32), the device by encrypting the
//! client's (32..64); the same stream then carries every later message in both directions.

use alloc::vec::Vec;

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::proto::protocomm::session_data::Proto;
use crate::proto::protocomm::{
    Sec1MsgType, Sec1Payload, SecSchemeVersion, SessionCmd0, SessionCmd1, SessionResp0,
    SessionResp1, sec1_payload::Payload,
};
use crate::{Cipher, Error, Next, envelope};

const VERSION: SecSchemeVersion = SecSchemeVersion::SecScheme1;

fn encode(msg: Sec1MsgType, payload: Payload) -> Vec<u8> {
    envelope::encode(
        VERSION,
        Proto::Sec1(Sec1Payload {
            msg: msg as i32,
            payload: Some(payload),
        }),
    )
}

fn decode(bytes: &[u8]) -> Result<(i32, Payload), Error> {
    let Proto::Sec1(payload) = envelope::decode(bytes, VERSION)? else {
        return Err(Error::PeerMisbehaved("another security scheme"));
    };
    let inner = payload
        .payload
        .ok_or(Error::InvalidMessage("Sec1Payload without a payload"))?;
    Ok((payload.msg, inner))
}

/// The session key: the X25519 shared secret, XORed with SHA-256(PoP) when there is a PoP.
fn session_key(secret: &StaticSecret, peer: [u8; 32], pop: &[u8]) -> Zeroizing<[u8; 32]> {
    let shared = secret.diffie_hellman(&PublicKey::from(peer));
    let mut key = Zeroizing::new(*shared.as_bytes());
    if !pop.is_empty() {
        let digest = Sha256::digest(pop);
        for (k, d) in key.iter_mut().zip(digest.iter()) {
            *k ^= d;
        }
    }
    key
}

fn array32(bytes: &[u8], what: &'static str) -> Result<[u8; 32], Error> {
    bytes.try_into().map_err(|_| Error::InvalidMessage(what))
}

enum ClientState {
    ExpectResp0 {
        secret: StaticSecret,
        public: [u8; 32],
        pop: Zeroizing<Vec<u8>>,
    },
    ExpectResp1 {
        cipher: Cipher,
        public: [u8; 32],
    },
    Established(Cipher),
    Poisoned,
}

/// The client side.
pub struct Client {
    state: ClientState,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            ClientState::ExpectResp0 { .. } => "ExpectResp0",
            ClientState::ExpectResp1 { .. } => "ExpectResp1",
            ClientState::Established(_) => "Established",
            ClientState::Poisoned => "Poisoned",
        };
        f.debug_struct("sec1::Client")
            .field("state", &state)
            .finish()
    }
}

impl Client {
    /// Starts a session with the proof of possession `pop` (empty = none): `SessionCmd0`.
    pub fn start(pop: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> (Self, Next) {
        let secret = StaticSecret::random_from_rng(&mut *rng);
        let public = PublicKey::from(&secret).to_bytes();
        let command = encode(
            Sec1MsgType::SessionCommand0,
            Payload::Sc0(SessionCmd0 {
                client_pubkey: public.to_vec(),
            }),
        );
        let state = ClientState::ExpectResp0 {
            secret,
            public,
            pop: Zeroizing::new(pop.to_vec()),
        };
        (Self { state }, Next::Send(command))
    }

    /// Handles the device's reply: `SessionResp0` gives `SessionCmd1`, `SessionResp1` establishes.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for bad bytes, [`Error::PeerMisbehaved`] for a failure status, an
    /// out-of-order message or a device proof that does not verify (wrong PoP gives this or, on
    /// a real device, no reply at all); the session is then unusable.
    pub fn handle_reply(&mut self, reply: &[u8]) -> Result<Next, Error> {
        match core::mem::replace(&mut self.state, ClientState::Poisoned) {
            ClientState::ExpectResp0 {
                secret,
                public,
                pop,
            } => {
                let (msg, payload) = decode(reply)?;
                let Payload::Sr0(SessionResp0 {
                    status,
                    device_pubkey,
                    device_random,
                }) = payload
                else {
                    return Err(Error::PeerMisbehaved("expected SessionResp0"));
                };
                if msg != Sec1MsgType::SessionResponse0 as i32 {
                    return Err(Error::PeerMisbehaved("expected SessionResp0"));
                }
                envelope::check_status(status)?;
                let device_public = array32(&device_pubkey, "device public key is not 32 bytes")?;
                let random: [u8; 16] = device_random
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::InvalidMessage("device random is not 16 bytes"))?;
                let key = session_key(&secret, device_public, &pop);
                let mut cipher = Cipher::ctr(&key, &random);
                let verify = cipher.encrypt(&device_public)?;
                self.state = ClientState::ExpectResp1 { cipher, public };
                Ok(Next::Send(encode(
                    Sec1MsgType::SessionCommand1,
                    Payload::Sc1(SessionCmd1 {
                        client_verify_data: verify,
                    }),
                )))
            }
            ClientState::ExpectResp1 { mut cipher, public } => {
                let (msg, payload) = decode(reply)?;
                let Payload::Sr1(SessionResp1 {
                    status,
                    device_verify_data,
                }) = payload
                else {
                    return Err(Error::PeerMisbehaved("expected SessionResp1"));
                };
                if msg != Sec1MsgType::SessionResponse1 as i32 {
                    return Err(Error::PeerMisbehaved("expected SessionResp1"));
                }
                envelope::check_status(status)?;
                if device_verify_data.len() != 32 {
                    return Err(Error::InvalidMessage("device verify data is not 32 bytes"));
                }
                let proof = cipher.decrypt(&device_verify_data)?;
                if !bool::from(proof.ct_eq(&public)) {
                    return Err(Error::PeerMisbehaved(
                        "the device's proof does not verify (wrong proof of possession?)",
                    ));
                }
                self.state = ClientState::Established(cipher);
                Ok(Next::Established)
            }
            other => {
                self.state = other;
                Err(Error::ApiMisuse("reply outside the handshake"))
            }
        }
    }

    /// The session cipher once established.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] before (or after a failed) handshake.
    pub fn cipher(&mut self) -> Result<&mut Cipher, Error> {
        match &mut self.state {
            ClientState::Established(cipher) => Ok(cipher),
            _ => Err(Error::ApiMisuse("the session is not established")),
        }
    }
}

enum DeviceState {
    ExpectCmd0,
    ExpectCmd1 {
        cipher: Cipher,
        device_public: [u8; 32],
        client_public: [u8; 32],
    },
    Established(Cipher),
}

/// The device side.
pub struct Device {
    pop: Zeroizing<Vec<u8>>,
    state: DeviceState,
}

impl core::fmt::Debug for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            DeviceState::ExpectCmd0 => "ExpectCmd0",
            DeviceState::ExpectCmd1 { .. } => "ExpectCmd1",
            DeviceState::Established(_) => "Established",
        };
        f.debug_struct("sec1::Device")
            .field("state", &state)
            .field("pop", &!self.pop.is_empty())
            .finish()
    }
}

impl Device {
    /// A device session with the proof of possession `pop` (empty = none).
    #[must_use]
    pub fn new(pop: &[u8]) -> Self {
        Self {
            pop: Zeroizing::new(pop.to_vec()),
            state: DeviceState::ExpectCmd0,
        }
    }

    /// Handles a `prov-session` request and returns the response. A `SessionCmd0` restarts the
    /// session in any state (as ESP-IDF does).
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for bad bytes, [`Error::PeerMisbehaved`] for an out-of-order
    /// message, [`Error::WrongProof`] for a client proof that does not verify (a wrong PoP); the caller closes the
    /// connection without a response, and the session starts over.
    pub fn handle_request(
        &mut self,
        request: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, Error> {
        let (msg, payload) = decode(request)?;
        // A message that parses but fails restarts the session (ESP-IDF closes it too).
        let state = core::mem::replace(&mut self.state, DeviceState::ExpectCmd0);
        match (payload, state) {
            (Payload::Sc0(SessionCmd0 { client_pubkey }), _)
                if msg == Sec1MsgType::SessionCommand0 as i32 =>
            {
                let client_public = array32(&client_pubkey, "client public key is not 32 bytes")?;
                let secret = StaticSecret::random_from_rng(&mut *rng);
                let device_public = PublicKey::from(&secret).to_bytes();
                let mut random = [0u8; 16];
                rng.fill_bytes(&mut random);
                let key = session_key(&secret, client_public, &self.pop);
                self.state = DeviceState::ExpectCmd1 {
                    cipher: Cipher::ctr(&key, &random),
                    device_public,
                    client_public,
                };
                Ok(encode(
                    Sec1MsgType::SessionResponse0,
                    Payload::Sr0(SessionResp0 {
                        status: 0,
                        device_pubkey: device_public.to_vec(),
                        device_random: random.to_vec(),
                    }),
                ))
            }
            (
                Payload::Sc1(SessionCmd1 { client_verify_data }),
                DeviceState::ExpectCmd1 {
                    mut cipher,
                    device_public,
                    client_public,
                },
            ) if msg == Sec1MsgType::SessionCommand1 as i32 => {
                if client_verify_data.len() != 32 {
                    return Err(Error::InvalidMessage("client verify data is not 32 bytes"));
                }
                let proof = cipher.decrypt(&client_verify_data)?;
                if !bool::from(proof.ct_eq(&device_public)) {
                    return Err(Error::WrongProof(
                        "the client's proof does not verify (wrong proof of possession)",
                    ));
                }
                let device_verify_data = cipher.encrypt(&client_public)?;
                self.state = DeviceState::Established(cipher);
                Ok(encode(
                    Sec1MsgType::SessionResponse1,
                    Payload::Sr1(SessionResp1 {
                        status: 0,
                        device_verify_data,
                    }),
                ))
            }
            _ => Err(Error::PeerMisbehaved(
                "unexpected message for the session state",
            )),
        }
    }

    /// True once the handshake completed.
    #[must_use]
    pub fn is_established(&self) -> bool {
        matches!(self.state, DeviceState::Established(_))
    }

    /// The session cipher once established.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] before the handshake (ESP-IDF then refuses the request).
    pub fn cipher(&mut self) -> Result<&mut Cipher, Error> {
        match &mut self.state {
            DeviceState::Established(cipher) => Ok(cipher),
            _ => Err(Error::ApiMisuse("the session is not established")),
        }
    }
}
