//! Security 2: SRP-6a (3072-bit group, SHA-512, see [`crate::srp`]) with the username and
//! password, then AES-256-GCM with key K[0..32] (spec §3.4).
//!
//! | step | client → device | device → client |
//! |---|---|---|
//! | 0 | `S2SessionCmd0 { username, A (384 B) }` | `S2SessionResp0 { B, salt }` |
//! | 1 | `S2SessionCmd1 { M1 }` | `S2SessionResp1 { M2, device_nonce }` |
//!
//! The device nonce fixes the data encryption: 12 bytes (`sec_patch_ver` 1) = 8-byte session id
//! ‖ a big-endian counter starting at 1 that both sides advance after every message; 16 bytes
//! (patch 0, older firmware) = one IV reused for every message.

use alloc::boxed::Box;
use alloc::vec::Vec;

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::proto::protocomm::session_data::Proto;
use crate::proto::protocomm::{
    S2SessionCmd0, S2SessionCmd1, S2SessionResp0, S2SessionResp1, Sec2MsgType, Sec2Payload,
    SecSchemeVersion, sec2_payload::Payload,
};
use crate::srp::{self, ClientStart, Transcript, XDerivation};
use crate::{Cipher, Error, Next, envelope};

const VERSION: SecSchemeVersion = SecSchemeVersion::SecScheme2;

fn encode(msg: Sec2MsgType, payload: Payload) -> Vec<u8> {
    envelope::encode(
        VERSION,
        Proto::Sec2(Sec2Payload {
            msg: msg as i32,
            payload: Some(payload),
        }),
    )
}

fn decode(bytes: &[u8]) -> Result<(i32, Payload), Error> {
    let Proto::Sec2(payload) = envelope::decode(bytes, VERSION)? else {
        return Err(Error::PeerMisbehaved("another security scheme"));
    };
    let inner = payload
        .payload
        .ok_or(Error::InvalidMessage("Sec2Payload without a payload"))?;
    Ok((payload.msg, inner))
}

/// Which data encryption a security-2 session uses (`sec_patch_ver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Patch {
    /// `sec_patch_ver` 0 or absent: a 16-byte IV used for every message (firmware before
    /// ESP-IDF v5.0.9 / v5.1.7 / v5.2.6 / v5.3.3 / v5.4.1).
    Legacy,
    /// `sec_patch_ver` 1: session id ‖ shared 32-bit counter.
    #[default]
    Counter,
}

impl Patch {
    /// From the `sec_patch_ver` number (absent = 0).
    #[must_use]
    pub fn from_version(version: Option<u32>) -> Self {
        match version {
            None | Some(0) => Self::Legacy,
            Some(_) => Self::Counter,
        }
    }

    /// The `sec_patch_ver` number.
    #[must_use]
    pub fn version(self) -> u8 {
        match self {
            Self::Legacy => 0,
            Self::Counter => 1,
        }
    }

    fn nonce_len(self) -> usize {
        match self {
            Self::Legacy => 16,
            Self::Counter => 12,
        }
    }
}

enum ClientState {
    ExpectResp0 {
        srp: ClientStart,
        username: Vec<u8>,
        password: Zeroizing<Vec<u8>>,
    },
    ExpectResp1 {
        transcript: Transcript,
    },
    Established(Box<Cipher>),
    Poisoned,
}

/// The client side.
pub struct Client {
    state: ClientState,
    patch: Patch,
    derivation: XDerivation,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            ClientState::ExpectResp0 { .. } => "ExpectResp0",
            ClientState::ExpectResp1 { .. } => "ExpectResp1",
            ClientState::Established(_) => "Established",
            ClientState::Poisoned => "Poisoned",
        };
        f.debug_struct("sec2::Client")
            .field("state", &state)
            .field("patch", &self.patch)
            .finish()
    }
}

impl Client {
    /// Starts a session (`S2SessionCmd0`) for `username`/`password`, expecting the device's
    /// data encryption `patch` (from its `proto-ver`) and a verifier made the `derivation` way.
    /// Draws 32 random bytes (the secret a).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for an empty username or one longer than 65535 bytes.
    pub fn start(
        username: &[u8],
        password: &[u8],
        patch: Patch,
        derivation: XDerivation,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Self, Next), Error> {
        if username.is_empty() || username.len() > usize::from(u16::MAX) {
            return Err(Error::ApiMisuse("the username must be 1..65535 bytes"));
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut secret[..]);
        let srp = ClientStart::new(&secret)?;
        let command = encode(
            Sec2MsgType::S2SessionCommand0,
            Payload::Sc0(S2SessionCmd0 {
                client_username: username.to_vec(),
                client_pubkey: srp.public.clone(),
            }),
        );
        let state = ClientState::ExpectResp0 {
            srp,
            username: username.to_vec(),
            password: Zeroizing::new(password.to_vec()),
        };
        Ok((
            Self {
                state,
                patch,
                derivation,
            },
            Next::Send(command),
        ))
    }

    /// Handles the device's reply: `S2SessionResp0` gives `S2SessionCmd1`, `S2SessionResp1`
    /// establishes the session.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for bad bytes, [`Error::PeerMisbehaved`] for a failure status,
    /// an out-of-order message, a bad B, a device proof that does not verify, or a nonce that
    /// does not fit the expected patch level; the session is then unusable. (A real device
    /// answers a wrong password by closing the connection, before its proof.)
    pub fn handle_reply(&mut self, reply: &[u8]) -> Result<Next, Error> {
        match core::mem::replace(&mut self.state, ClientState::Poisoned) {
            ClientState::ExpectResp0 {
                srp,
                username,
                password,
            } => {
                let (msg, payload) = decode(reply)?;
                let Payload::Sr0(S2SessionResp0 {
                    status,
                    device_pubkey,
                    device_salt,
                }) = payload
                else {
                    return Err(Error::PeerMisbehaved("expected S2SessionResp0"));
                };
                if msg != Sec2MsgType::S2SessionResponse0 as i32 {
                    return Err(Error::PeerMisbehaved("expected S2SessionResp0"));
                }
                envelope::check_status(status)?;
                let transcript = srp.finish(
                    &username,
                    &password,
                    self.derivation,
                    &device_pubkey,
                    &device_salt,
                )?;
                let command = encode(
                    Sec2MsgType::S2SessionCommand1,
                    Payload::Sc1(S2SessionCmd1 {
                        client_proof: transcript.m1.to_vec(),
                    }),
                );
                self.state = ClientState::ExpectResp1 { transcript };
                Ok(Next::Send(command))
            }
            ClientState::ExpectResp1 { transcript } => {
                let (msg, payload) = decode(reply)?;
                let Payload::Sr1(S2SessionResp1 {
                    status,
                    device_proof,
                    device_nonce,
                }) = payload
                else {
                    return Err(Error::PeerMisbehaved("expected S2SessionResp1"));
                };
                if msg != Sec2MsgType::S2SessionResponse1 as i32 {
                    return Err(Error::PeerMisbehaved("expected S2SessionResp1"));
                }
                envelope::check_status(status)?;
                if !srp::proof_matches(&transcript.m2, &device_proof) {
                    return Err(Error::PeerMisbehaved(
                        "the device's proof does not verify (wrong username or password?)",
                    ));
                }
                if device_nonce.len() != self.patch.nonce_len() {
                    return Err(Error::PeerMisbehaved(match self.patch {
                        Patch::Counter => {
                            "the device's nonce is not 12 bytes, but proto-ver said sec_patch_ver 1"
                        }
                        Patch::Legacy => {
                            "the device's nonce is not 16 bytes, but proto-ver said sec_patch_ver 0"
                        }
                    }));
                }
                let cipher = Cipher::gcm(&transcript.key[..], &device_nonce)?;
                self.state = ClientState::Established(Box::new(cipher));
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
    ExpectCmd1 { transcript: Box<Transcript> },
    Established(Box<Cipher>),
}

/// The device side: holds the salt and verifier (never the password).
pub struct Device {
    salt: Vec<u8>,
    verifier: Zeroizing<Vec<u8>>,
    patch: Patch,
    state: DeviceState,
}

impl core::fmt::Debug for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match self.state {
            DeviceState::ExpectCmd0 => "ExpectCmd0",
            DeviceState::ExpectCmd1 { .. } => "ExpectCmd1",
            DeviceState::Established(_) => "Established",
        };
        f.debug_struct("sec2::Device")
            .field("state", &state)
            .field("patch", &self.patch)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// A device session with the stored `salt` and 384-byte `verifier`, encrypting data the
    /// `patch` way.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if the verifier is not 1..384 bytes or the salt is empty.
    pub fn new(salt: &[u8], verifier: &[u8], patch: Patch) -> Result<Self, Error> {
        if salt.is_empty() || verifier.is_empty() || verifier.len() > srp::GROUP_BYTES {
            return Err(Error::ApiMisuse(
                "security 2 needs a salt and a verifier of at most 384 bytes",
            ));
        }
        Ok(Self {
            salt: salt.to_vec(),
            verifier: Zeroizing::new(verifier.to_vec()),
            patch,
            state: DeviceState::ExpectCmd0,
        })
    }

    /// The patch level (for `proto-ver`).
    #[must_use]
    pub fn patch(&self) -> Patch {
        self.patch
    }

    /// Handles a `prov-session` request and returns the response. An `S2SessionCmd0` restarts
    /// the session in any state. Draws 32 random bytes (b) for `S2SessionCmd0` and the nonce
    /// (8 bytes of session id, or a 16-byte IV) for `S2SessionCmd1`.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for bad bytes or lengths (A must be 384 bytes, M1 64),
    /// [`Error::PeerMisbehaved`] for an out-of-order message, [`Error::WrongProof`] for a client
    /// proof that does not verify (wrong username or password); the caller closes the connection without a
    /// response, and the session starts over.
    pub fn handle_request(
        &mut self,
        request: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, Error> {
        let (msg, payload) = decode(request)?;
        let state = core::mem::replace(&mut self.state, DeviceState::ExpectCmd0);
        match (payload, state) {
            (
                Payload::Sc0(S2SessionCmd0 {
                    client_username,
                    client_pubkey,
                }),
                _,
            ) if msg == Sec2MsgType::S2SessionCommand0 as i32 => {
                if client_username.is_empty() || client_username.len() > usize::from(u16::MAX) {
                    return Err(Error::InvalidMessage("username is not 1..65535 bytes"));
                }
                let mut secret = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(&mut secret[..]);
                let transcript = srp::device_respond(
                    &client_username,
                    &self.salt,
                    &self.verifier,
                    &client_pubkey,
                    &secret,
                )?;
                let response = encode(
                    Sec2MsgType::S2SessionResponse0,
                    Payload::Sr0(S2SessionResp0 {
                        status: 0,
                        device_pubkey: transcript.b.clone(),
                        device_salt: self.salt.clone(),
                    }),
                );
                self.state = DeviceState::ExpectCmd1 {
                    transcript: Box::new(transcript),
                };
                Ok(response)
            }
            (
                Payload::Sc1(S2SessionCmd1 { client_proof }),
                DeviceState::ExpectCmd1 { transcript },
            ) if msg == Sec2MsgType::S2SessionCommand1 as i32 => {
                if client_proof.len() != srp::DIGEST_BYTES {
                    return Err(Error::InvalidMessage("client proof is not 64 bytes"));
                }
                if !srp::proof_matches(&transcript.m1, &client_proof) {
                    return Err(Error::WrongProof(
                        "the client's proof does not verify (wrong username or password)",
                    ));
                }
                let nonce = match self.patch {
                    Patch::Counter => {
                        let mut nonce = [0u8; 12];
                        rng.fill_bytes(&mut nonce[..8]);
                        nonce[11] = 1;
                        nonce.to_vec()
                    }
                    Patch::Legacy => {
                        let mut nonce = [0u8; 16];
                        rng.fill_bytes(&mut nonce);
                        nonce.to_vec()
                    }
                };
                let cipher = Cipher::gcm(&transcript.key[..], &nonce)?;
                let response = encode(
                    Sec2MsgType::S2SessionResponse1,
                    Payload::Sr1(S2SessionResp1 {
                        status: 0,
                        device_proof: transcript.m2.to_vec(),
                        device_nonce: nonce,
                    }),
                );
                self.state = DeviceState::Established(Box::new(cipher));
                Ok(response)
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
