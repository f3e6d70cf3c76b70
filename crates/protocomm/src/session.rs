//! One type per side for all three security schemes, chosen at run time.
//!
//! [`ClientSession`] drives the handshake from the client's configuration; [`DeviceSession`]
//! answers it. Both hand out the [`Cipher`] for the endpoints once established.

use alloc::vec::Vec;

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::sec2::Patch;
use crate::srp::XDerivation;
use crate::{Cipher, Error, Next, sec0, sec1, sec2};

/// What the client proves, per scheme.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientSecurity {
    /// Security 0: nothing.
    Sec0,
    /// Security 1 with a proof of possession (empty = none).
    Sec1 {
        /// The PoP.
        pop: Zeroizing<Vec<u8>>,
    },
    /// Security 2: SRP-6a with a username and password.
    Sec2 {
        /// The username (1..65535 bytes).
        username: Vec<u8>,
        /// The password.
        password: Zeroizing<Vec<u8>>,
        /// The device's data encryption (`sec_patch_ver` from `proto-ver`).
        patch: Patch,
        /// How the device's verifier was generated.
        derivation: XDerivation,
    },
}

impl core::fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Sec0 => f.write_str("Sec0"),
            Self::Sec1 { pop } => f
                .debug_struct("Sec1")
                .field("pop", &!pop.is_empty())
                .finish(),
            Self::Sec2 {
                username,
                patch,
                derivation,
                ..
            } => f
                .debug_struct("Sec2")
                .field(
                    "username",
                    &alloc::string::String::from_utf8_lossy(username),
                )
                .field("patch", patch)
                .field("derivation", derivation)
                .finish_non_exhaustive(),
        }
    }
}

impl ClientSecurity {
    /// The scheme number (`sec_ver`).
    #[must_use]
    pub fn version(&self) -> u8 {
        match self {
            Self::Sec0 => 0,
            Self::Sec1 { .. } => 1,
            Self::Sec2 { .. } => 2,
        }
    }
}

#[derive(Debug)]
enum ClientInner {
    Sec0(sec0::Client),
    Sec1(sec1::Client),
    Sec2(sec2::Client),
}

/// A client session of any scheme.
#[derive(Debug)]
pub struct ClientSession(ClientInner);

impl ClientSession {
    /// Starts the handshake: the first `prov-session` request.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for an invalid security-2 username.
    pub fn start(
        security: &ClientSecurity,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Self, Next), Error> {
        Ok(match security {
            ClientSecurity::Sec0 => {
                let (client, next) = sec0::Client::start();
                (Self(ClientInner::Sec0(client)), next)
            }
            ClientSecurity::Sec1 { pop } => {
                let (client, next) = sec1::Client::start(pop, rng);
                (Self(ClientInner::Sec1(client)), next)
            }
            ClientSecurity::Sec2 {
                username,
                password,
                patch,
                derivation,
            } => {
                let (client, next) =
                    sec2::Client::start(username, password, *patch, *derivation, rng)?;
                (Self(ClientInner::Sec2(client)), next)
            }
        })
    }

    /// Handles the device's `prov-session` reply.
    ///
    /// # Errors
    /// As the scheme's `handle_reply`.
    pub fn handle_reply(&mut self, reply: &[u8]) -> Result<Next, Error> {
        match &mut self.0 {
            ClientInner::Sec0(c) => c.handle_reply(reply),
            ClientInner::Sec1(c) => c.handle_reply(reply),
            ClientInner::Sec2(c) => c.handle_reply(reply),
        }
    }

    /// The cipher for every other endpoint, once established.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] before the handshake completed.
    pub fn cipher(&mut self) -> Result<&mut Cipher, Error> {
        match &mut self.0 {
            ClientInner::Sec0(c) => c.cipher(),
            ClientInner::Sec1(c) => c.cipher(),
            ClientInner::Sec2(c) => c.cipher(),
        }
    }
}

/// What the device checks, per scheme.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceSecurity {
    /// Security 0.
    Sec0,
    /// Security 1 with a proof of possession (empty = none).
    Sec1 {
        /// The PoP.
        pop: Zeroizing<Vec<u8>>,
    },
    /// Security 2 with a stored salt and verifier.
    Sec2 {
        /// The salt.
        salt: Vec<u8>,
        /// The verifier (384 bytes).
        verifier: Zeroizing<Vec<u8>>,
        /// The data encryption to use.
        patch: Patch,
    },
}

impl core::fmt::Debug for DeviceSecurity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Sec0 => f.write_str("Sec0"),
            Self::Sec1 { pop } => f
                .debug_struct("Sec1")
                .field("pop", &!pop.is_empty())
                .finish(),
            Self::Sec2 { patch, .. } => f
                .debug_struct("Sec2")
                .field("patch", patch)
                .finish_non_exhaustive(),
        }
    }
}

impl DeviceSecurity {
    /// The scheme number (`sec_ver`).
    #[must_use]
    pub fn version(&self) -> u8 {
        match self {
            Self::Sec0 => 0,
            Self::Sec1 { .. } => 1,
            Self::Sec2 { .. } => 2,
        }
    }

    /// `sec_patch_ver` as a device advertises it: 1 for patched security 2, 0 otherwise,
    /// `None` (omitted, like firmware from before the patch) for legacy security 2.
    #[must_use]
    pub fn advertised_patch(&self) -> Option<u8> {
        match self {
            Self::Sec2 {
                patch: Patch::Legacy,
                ..
            } => None,
            Self::Sec2 { .. } => Some(1),
            _ => Some(0),
        }
    }

    /// True for security 1 with a PoP (the `no_pop` capability is its absence).
    #[must_use]
    pub fn has_pop(&self) -> bool {
        match self {
            Self::Sec1 { pop } => !pop.is_empty(),
            _ => true,
        }
    }
}

#[derive(Debug)]
enum DeviceInner {
    Sec0(sec0::Device),
    Sec1(sec1::Device),
    Sec2(sec2::Device),
}

/// A device session of any scheme.
#[derive(Debug)]
pub struct DeviceSession(DeviceInner);

impl DeviceSession {
    /// A fresh session for `security`.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for an invalid salt or verifier.
    pub fn new(security: &DeviceSecurity) -> Result<Self, Error> {
        Ok(Self(match security {
            DeviceSecurity::Sec0 => DeviceInner::Sec0(sec0::Device::new()),
            DeviceSecurity::Sec1 { pop } => DeviceInner::Sec1(sec1::Device::new(pop)),
            DeviceSecurity::Sec2 {
                salt,
                verifier,
                patch,
            } => DeviceInner::Sec2(sec2::Device::new(salt, verifier, *patch)?),
        }))
    }

    /// Handles a `prov-session` request.
    ///
    /// # Errors
    /// As the scheme's `handle_request`: the transport closes without a response.
    pub fn handle_request(
        &mut self,
        request: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, Error> {
        match &mut self.0 {
            DeviceInner::Sec0(d) => d.handle_request(request),
            DeviceInner::Sec1(d) => d.handle_request(request, rng),
            DeviceInner::Sec2(d) => d.handle_request(request, rng),
        }
    }

    /// The cipher for every other endpoint, once established (security 0: always).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] before the handshake.
    pub fn cipher(&mut self) -> Result<&mut Cipher, Error> {
        match &mut self.0 {
            DeviceInner::Sec0(d) => Ok(d.cipher()),
            DeviceInner::Sec1(d) => d.cipher(),
            DeviceInner::Sec2(d) => d.cipher(),
        }
    }

    /// True once a security 1/2 handshake completed (security 0: always).
    #[must_use]
    pub fn is_established(&self) -> bool {
        match &self.0 {
            DeviceInner::Sec0(_) => true,
            DeviceInner::Sec1(d) => d.is_established(),
            DeviceInner::Sec2(d) => d.is_established(),
        }
    }
}
