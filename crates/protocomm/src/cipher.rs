//! The encryption of every endpoint after the handshake (never `proto-ver`).

use alloc::vec::Vec;

use aes::Aes256;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, Nonce};
use ctr::cipher::{KeyIvInit, StreamCipher};

use crate::Error;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// The established session's cipher: security 0 passes bytes through, security 1 continues one
/// AES-256-CTR keystream across all messages in both directions (in strict request/response
/// order), security 2 uses AES-256-GCM (16-byte tag appended) with either the counter nonce of
/// `sec_patch_ver` 1 (one counter for both directions, +1 after every encryption and decryption)
/// or the fixed 16-byte IV of patch 0.
pub struct Cipher(Inner);

enum Inner {
    Plain,
    Ctr(Aes256Ctr),
    GcmCounter {
        cipher: AesGcm<Aes256, U12>,
        session_id: [u8; 8],
        counter: u32,
    },
    GcmFixed {
        cipher: AesGcm<Aes256, U16>,
        nonce: [u8; 16],
    },
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the key or keystream state.
        let scheme = match &self.0 {
            Inner::Plain => "plain",
            Inner::Ctr(_) => "aes-256-ctr",
            Inner::GcmCounter { .. } => "aes-256-gcm (counter nonce)",
            Inner::GcmFixed { .. } => "aes-256-gcm (fixed 16-byte nonce)",
        };
        f.debug_tuple("Cipher").field(&scheme).finish()
    }
}

impl Cipher {
    pub(crate) fn plain() -> Self {
        Self(Inner::Plain)
    }

    pub(crate) fn ctr(key: &[u8; 32], initial_counter: &[u8; 16]) -> Self {
        Self(Inner::Ctr(Aes256Ctr::new(
            key.into(),
            initial_counter.into(),
        )))
    }

    /// Security 2: a 12-byte device nonce is session id ‖ big-endian counter (patch 1); a
    /// 16-byte one is the fixed IV of patch 0.
    pub(crate) fn gcm(key: &[u8], device_nonce: &[u8]) -> Result<Self, Error> {
        let key: &[u8; 32] =
            key.get(..32)
                .and_then(|k| k.try_into().ok())
                .ok_or(Error::InvalidMessage(
                    "AES-256-GCM key shorter than 32 bytes",
                ))?;
        match device_nonce.len() {
            12 => {
                let mut session_id = [0u8; 8];
                session_id.copy_from_slice(&device_nonce[..8]);
                let mut counter = [0u8; 4];
                counter.copy_from_slice(&device_nonce[8..]);
                let counter = u32::from_be_bytes(counter);
                if counter == 0 {
                    return Err(Error::PeerMisbehaved("the nonce counter starts at 0"));
                }
                Ok(Self(Inner::GcmCounter {
                    cipher: AesGcm::new(key.into()),
                    session_id,
                    counter,
                }))
            }
            16 => {
                let mut nonce = [0u8; 16];
                nonce.copy_from_slice(device_nonce);
                Ok(Self(Inner::GcmFixed {
                    cipher: AesGcm::new(key.into()),
                    nonce,
                }))
            }
            _ => Err(Error::InvalidMessage(
                "device nonce is neither 12 nor 16 bytes",
            )),
        }
    }

    /// True for security 0 (no encryption).
    #[must_use]
    pub fn is_plain(&self) -> bool {
        matches!(self.0, Inner::Plain)
    }

    /// The nonce the next GCM operation uses (diagnostics and tests); `None` for other schemes.
    #[must_use]
    pub fn next_nonce(&self) -> Option<Vec<u8>> {
        match &self.0 {
            Inner::GcmCounter {
                session_id,
                counter,
                ..
            } => Some(counter_nonce(session_id, *counter).to_vec()),
            Inner::GcmFixed { nonce, .. } => Some(nonce.to_vec()),
            _ => None,
        }
    }

    /// Encrypts one message (request on the client, response on the device).
    ///
    /// # Errors
    /// [`Error::Crypto`] if the nonce counter is exhausted or the cipher fails.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        match &mut self.0 {
            Inner::Plain => Ok(plaintext.to_vec()),
            Inner::Ctr(stream) => {
                let mut data = plaintext.to_vec();
                stream
                    .try_apply_keystream(&mut data)
                    .map_err(|_| Error::Crypto("AES-CTR keystream exhausted"))?;
                Ok(data)
            }
            Inner::GcmCounter {
                cipher,
                session_id,
                counter,
            } => {
                let nonce = counter_nonce(session_id, *counter);
                *counter = next_counter(*counter)?;
                cipher
                    .encrypt(Nonce::<U12>::from_slice(&nonce), plaintext)
                    .map_err(|_| Error::Crypto("AES-GCM encryption failed"))
            }
            Inner::GcmFixed { cipher, nonce } => cipher
                .encrypt(Nonce::<U16>::from_slice(nonce), plaintext)
                .map_err(|_| Error::Crypto("AES-GCM encryption failed")),
        }
    }

    /// Decrypts one message (response on the client, request on the device).
    ///
    /// # Errors
    /// [`Error::Crypto`] if authentication fails (wrong key, wrong nonce mode, tampering) or the
    /// counter is exhausted; [`Error::InvalidMessage`] if a GCM message is shorter than its tag.
    pub fn decrypt(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        match &mut self.0 {
            Inner::Plain => Ok(data.to_vec()),
            Inner::Ctr(stream) => {
                let mut plain = data.to_vec();
                stream
                    .try_apply_keystream(&mut plain)
                    .map_err(|_| Error::Crypto("AES-CTR keystream exhausted"))?;
                Ok(plain)
            }
            Inner::GcmCounter {
                cipher,
                session_id,
                counter,
            } => {
                if data.len() < 16 {
                    return Err(Error::InvalidMessage("shorter than the GCM tag"));
                }
                let nonce = counter_nonce(session_id, *counter);
                *counter = next_counter(*counter)?;
                cipher
                    .decrypt(Nonce::<U12>::from_slice(&nonce), data)
                    .map_err(|_| Error::Crypto("AES-GCM authentication failed"))
            }
            Inner::GcmFixed { cipher, nonce } => {
                if data.len() < 16 {
                    return Err(Error::InvalidMessage("shorter than the GCM tag"));
                }
                cipher
                    .decrypt(Nonce::<U16>::from_slice(nonce), data)
                    .map_err(|_| Error::Crypto("AES-GCM authentication failed"))
            }
        }
    }
}

fn counter_nonce(session_id: &[u8; 8], counter: u32) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(session_id);
    nonce[8..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

fn next_counter(counter: u32) -> Result<u32, Error> {
    counter
        .checked_add(1)
        .ok_or(Error::Crypto("AES-GCM nonce counter exhausted"))
}
