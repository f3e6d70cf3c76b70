//! The two security generations of BluFi (spec §7.6): the negotiation messages, the DH
//! computation and the frame [`Cipher`].
//!
//! | | [`Generation::V1`] (ESP-IDF ≤ v5.5 example) | [`Generation::V2`] (ESP-IDF v6.0+ example) |
//! |---|---|---|
//! | group | the phone's P, G (≤ 1024 bits); our client sends [`V1_PRIME`], G = 2 | RFC 7919 ffdhe3072 ([`FFDHE3072_PRIME`], G = 2); the device ignores P, G |
//! | public keys | padded to len(P) | exactly 384 bytes |
//! | secret | minimal big-endian (leading zeros stripped) | padded to 384 bytes |
//! | key | MD5(secret) → AES-128 | SHA-256(secret) → AES-256 |
//! | frame cipher | AES-CFB128, IV = `[seq, 0 × 15]`, fresh per frame | AES-CTR, one stream per direction; IVs SHA-256(`"blufi_enc"` \| secret)[..16] for device → phone and SHA-256(`"blufi_dec"` \| secret)[..16] for phone → device |
//!
//! Negotiation (DATA/NEG messages, never encrypted):
//!
//! | step | phone → device | device → phone |
//! |---|---|---|
//! | 1 | `[0x00, len_hi, len_lo]`: the length of the parameter blob (without its type byte) | |
//! | 2 | `[0x01] \| P_len(2, BE) \| P \| G_len(2, BE) \| G \| pub_len(2, BE) \| phone_pub` | |
//! | 3 | | the device's public key, raw |
//!
//! **Interop note:** the Android library strips leading zero bytes from the DH secret in both
//! generations. That matches V1, but in V2 the device hashes the 384-byte padded secret, so
//! about one V2 session in 256 fails with the stock app. This crate pads in V2, as ESP-IDF
//! does, on both sides.
//!
//! Secrets (private exponents, shared secrets, keys) are zeroized when dropped.

use alloc::vec::Vec;
use core::fmt;

use aes::cipher::{AsyncStreamCipher as _, KeyIvInit as _, StreamCipher as _};
use crypto_bigint::modular::{MontyForm, MontyParams};
use crypto_bigint::{NonZero, Odd, U1024, U3072, Uint};
use md5::Md5;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::link::Role;
use crate::message::Version;
use crate::{Error, Result};

type Aes128Cfb = cfb_mode::Encryptor<aes::Aes128>;
type Aes128CfbDecryptor = cfb_mode::Decryptor<aes::Aes128>;
type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// Which security scheme a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// DH over the phone's group, MD5 key, AES-128-CFB per frame.
    V1,
    /// DH over ffdhe3072, SHA-256 key, AES-256-CTR streams.
    V2,
}

impl Generation {
    /// The generation the Android app picks for a device version: V2 from 1.4 on.
    #[must_use]
    pub fn for_version(version: Version) -> Self {
        if version >= Version::new(1, 4) {
            Self::V2
        } else {
            Self::V1
        }
    }

    /// The protocol version a device of this generation reports by default (1.3 for ESP-IDF
    /// v5.1–v5.5, 1.4 for v6.0+).
    #[must_use]
    pub const fn default_version(self) -> Version {
        match self {
            Self::V1 => Version::new(1, 3),
            Self::V2 => Version::new(1, 4),
        }
    }
}

/// The 1024-bit prime the apps send in V1 (spec §7.6), big-endian.
pub const V1_PRIME: [u8; 128] = decode_hex(
    "cf5cf5c38419a724957ff5dd323b9c45c3cdd261eb740f69aa94b8bb1a5c96409153bd76b24222d03274e4725a5406092e9e82e9135c643cae98132b0d95f7d65347c68afc1e677da90e51bbab5f5cf429c291b4ba39c6b2dc5e8c7231e46aa7728e87664532cdf547be20c9a3fa8342be6e34371a27c06f7dc0edddd2f86373",
);

/// RFC 7919 ffdhe3072: p = 2^3072 − 2^3008 + (⌊2^2942 · e⌋ + 2625351) · 2^64 − 1, big-endian.
/// Checked against that formula, against OpenSSL's built-in group, and for p and (p − 1)/2 being
/// probable primes (see `tests/data/blufi-derived.json`).
pub const FFDHE3072_PRIME: [u8; 384] = decode_hex(concat!(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9",
    "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935",
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB",
    "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61",
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA",
    "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C",
    "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D",
    "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF",
));

/// The generator of both groups our client uses.
pub const GENERATOR: u8 = 2;

/// Bytes of a V2 public key and shared secret.
pub const V2_KEY_BYTES: usize = 384;

/// Label of the device → phone IV in V2.
pub const DEVICE_ENCRYPT_LABEL: &[u8] = b"blufi_enc";
/// Label of the phone → device IV in V2.
pub const DEVICE_DECRYPT_LABEL: &[u8] = b"blufi_dec";

/// NEG message type: the parameter length.
pub const NEGOTIATION_PARAMETER_LENGTH: u8 = 0x00;
/// NEG message type: the parameters.
pub const NEGOTIATION_PARAMETERS: u8 = 0x01;

/// Integer size for V1 groups (P ≤ 1024 bits).
const V1_LIMBS: usize = U1024::LIMBS;
/// Integer size for ffdhe3072.
const V2_LIMBS: usize = U3072::LIMBS;
/// Private exponent size for ffdhe3072. RFC 7919 §5.2 allows short exponents for its safe-prime
/// groups and asks for at least 275 bits for ffdhe3072; 320 bits make a handshake ~10× cheaper
/// than a full-size exponent (mbedtls draws a full-size one; peers cannot tell the difference).
const V2_EXPONENT_BITS: u32 = 320;

/// Decodes hex at compile time; a bad digit or length fails the build.
#[allow(clippy::indexing_slicing)] // const evaluation: out of bounds is a compile error
const fn decode_hex<const N: usize>(hex: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        let valid = c.is_ascii_hexdigit();
        assert!(valid, "not a hex digit");
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * N, "wrong hex length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// The phone's DH parameters (the blob after the type byte `0x01`), as transmitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameters<'a> {
    /// P, big-endian.
    pub prime: &'a [u8],
    /// G, big-endian.
    pub generator: &'a [u8],
    /// The phone's public key, big-endian.
    pub public: &'a [u8],
}

impl<'a> Parameters<'a> {
    /// Parses `P_len(2, BE) | P | G_len(2, BE) | G | pub_len(2, BE) | pub`, nothing after.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if a field is truncated or bytes follow.
    pub fn parse(blob: &'a [u8]) -> Result<Self> {
        fn field<'b>(rest: &mut &'b [u8]) -> Result<&'b [u8]> {
            let [high, low, ref tail @ ..] = **rest else {
                return Err(Error::InvalidMessage("DH parameter length truncated"));
            };
            let (value, next) = tail
                .split_at_checked(usize::from(u16::from_be_bytes([high, low])))
                .ok_or(Error::InvalidMessage("DH parameter truncated"))?;
            *rest = next;
            Ok(value)
        }
        let mut rest = blob;
        let prime = field(&mut rest)?;
        let generator = field(&mut rest)?;
        let public = field(&mut rest)?;
        if !rest.is_empty() {
            return Err(Error::InvalidMessage("bytes after the DH parameters"));
        }
        Ok(Self {
            prime,
            generator,
            public,
        })
    }

    /// The blob (without the type byte).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a field is longer than 65535 bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out =
            Vec::with_capacity(6 + self.prime.len() + self.generator.len() + self.public.len());
        for value in [self.prime, self.generator, self.public] {
            let len = u16::try_from(value.len())
                .map_err(|_| Error::ApiMisuse("DH parameter longer than 65535 bytes"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(value);
        }
        Ok(out)
    }
}

/// Strips leading zero bytes.
fn strip(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// A DH group: P as Montgomery parameters, in fixed-size integers of `L` limbs (no `Arc`, so
/// it builds for targets without atomics such as `riscv32imc`).
struct Group<const L: usize> {
    params: MontyParams<L>,
    modulus: NonZero<Uint<L>>,
    /// P − 1.
    upper: Uint<L>,
    /// P − 3, the range of a full-size private key above 2.
    span: NonZero<Uint<L>>,
    /// Size of private exponents in bits.
    exponent_bits: u32,
    /// Minimal byte length of P: the length public keys are padded to.
    len: usize,
}

impl<const L: usize> Group<L> {
    /// A group from P, which must be odd, above 3 and fit in `L` limbs; private exponents are
    /// drawn from [2, P − 2].
    fn new(prime: &[u8]) -> Result<Self> {
        let prime = strip(prime);
        if prime.len() > Uint::<L>::BYTES {
            return Err(Error::Unsupported("DH prime longer than supported"));
        }
        let value = Self::decode(prime)?;
        let three = Uint::<L>::from_u8(3);
        if value <= three {
            return Err(Error::PeerMisbehaved("DH prime too small"));
        }
        let odd = Option::<Odd<Uint<L>>>::from(Odd::new(value))
            .ok_or(Error::PeerMisbehaved("DH prime is even"))?;
        let span = Option::<NonZero<Uint<L>>>::from(NonZero::new(value.wrapping_sub(&three)))
            .ok_or(Error::PeerMisbehaved("DH prime too small"))?;
        let modulus = Option::<NonZero<Uint<L>>>::from(NonZero::new(value))
            .ok_or(Error::PeerMisbehaved("DH prime is zero"))?;
        Ok(Self {
            // Variable time in the modulus only, which is public.
            params: MontyParams::new_vartime(odd),
            modulus,
            upper: value.wrapping_sub(&Uint::ONE),
            span,
            exponent_bits: Uint::<L>::BITS,
            len: prime.len(),
        })
    }

    /// Big-endian bytes (leading zeros allowed) as an integer.
    fn decode(bytes: &[u8]) -> Result<Uint<L>> {
        let bytes = strip(bytes);
        let skip = Uint::<L>::BYTES
            .checked_sub(bytes.len())
            .ok_or(Error::InvalidMessage("DH value longer than the group"))?;
        let mut padded = Zeroizing::new(alloc::vec![0u8; Uint::<L>::BYTES]);
        if let Some(tail) = padded.get_mut(skip..) {
            tail.copy_from_slice(bytes);
        }
        Ok(Uint::from_be_slice(&padded))
    }

    /// The integer as exactly `Uint::<L>::BYTES` big-endian bytes.
    fn encode(value: &Uint<L>) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Uint::<L>::BYTES));
        for word in value.as_words().iter().rev() {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// A received public key: 1 < value < P − 1.
    fn peer(&self, bytes: &[u8]) -> Result<Uint<L>> {
        if strip(bytes).len() > self.len {
            return Err(Error::InvalidMessage("DH public key longer than P"));
        }
        let value = Self::decode(bytes)?;
        if !self.in_range(&value) {
            return Err(Error::PeerMisbehaved("DH public key out of range"));
        }
        Ok(value)
    }

    /// Whether 1 < value < P − 1, the range of a valid public key (and generator).
    fn in_range(&self, value: &Uint<L>) -> bool {
        *value > Uint::ONE && *value < self.upper
    }

    /// base^exponent mod P for a private exponent (at most `exponent_bits` bits).
    fn power(&self, base: &Uint<L>, exponent: &Uint<L>) -> Zeroizing<Uint<L>> {
        let reduced = base.rem(&self.modulus);
        let form = MontyForm::new(&reduced, self.params);
        Zeroizing::new(
            form.pow_bounded_exp(exponent, self.exponent_bits)
                .retrieve(),
        )
    }

    /// A private exponent: for full-size exponents uniformly-ish in [2, P − 2] (reduced from
    /// as many random bytes as the integer holds); for short ones exactly `exponent_bits`
    /// bits long (top bit set).
    fn private_key(&self, rng: &mut (impl RngCore + CryptoRng)) -> Zeroizing<Uint<L>> {
        if self.exponent_bits < Uint::<L>::BITS {
            let mut bytes = Zeroizing::new(alloc::vec![0u8; (self.exponent_bits / 8) as usize]);
            rng.fill_bytes(&mut bytes);
            if let Some(top) = bytes.first_mut() {
                *top |= 0x80;
            }
            return Zeroizing::new(Self::decode(&bytes).unwrap_or(Uint::ONE));
        }
        let mut bytes = Zeroizing::new(alloc::vec![0u8; Uint::<L>::BYTES]);
        rng.fill_bytes(&mut bytes);
        let random = Zeroizing::new(Self::decode(&bytes).unwrap_or(Uint::ZERO));
        let reduced = Zeroizing::new(random.rem(&self.span));
        Zeroizing::new(reduced.wrapping_add(&Uint::from_u8(2)))
    }

    /// The value as exactly `len` big-endian bytes.
    fn padded(&self, value: &Uint<L>) -> Zeroizing<Vec<u8>> {
        let bytes = Self::encode(value);
        let skip = bytes.len().saturating_sub(self.len);
        Zeroizing::new(bytes.get(skip..).unwrap_or_default().to_vec())
    }
}

/// One side's key pair in a group.
struct KeyPair<const L: usize> {
    group: Group<L>,
    secret: Zeroizing<Uint<L>>,
    /// The public key, padded to len(P).
    public: Vec<u8>,
}

impl<const L: usize> KeyPair<L> {
    fn generate(
        group: Group<L>,
        generator: &Uint<L>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let secret = group.private_key(rng);
        let public = group.padded(&group.power(generator, &secret)).to_vec();
        Self {
            group,
            secret,
            public,
        }
    }

    /// The shared secret with a validated peer key, padded to len(P).
    fn agree(&self, peer: &Uint<L>) -> Zeroizing<Vec<u8>> {
        self.group.padded(&self.group.power(peer, &self.secret))
    }
}

/// The shared secret bytes for the cipher: minimal in V1, padded to 384 bytes in V2.
fn secret_bytes(generation: Generation, padded: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
    match generation {
        Generation::V1 => Zeroizing::new(strip(&padded).to_vec()),
        Generation::V2 => padded,
    }
}

/// The device's answer to the parameters: its public key and the installed cipher.
pub(crate) struct DeviceResponse {
    pub(crate) public: Vec<u8>,
    pub(crate) cipher: Cipher,
}

/// The device's side of the DH exchange: V1 uses the phone's P and G (checked), V2 ignores
/// them for ffdhe3072.
pub(crate) fn device_respond(
    generation: Generation,
    parameters: &Parameters<'_>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<DeviceResponse> {
    let (public, shared) = match generation {
        Generation::V1 => {
            let group = Group::<V1_LIMBS>::new(parameters.prime)?;
            let generator = Group::<V1_LIMBS>::decode(parameters.generator)?;
            if !group.in_range(&generator) {
                return Err(Error::PeerMisbehaved("DH generator out of range"));
            }
            let peer = group.peer(parameters.public)?;
            let pair = KeyPair::generate(group, &generator, rng);
            let shared = pair.agree(&peer);
            (pair.public, shared)
        }
        Generation::V2 => {
            if parameters.public.len() != V2_KEY_BYTES {
                return Err(Error::InvalidMessage("V2 public key is not 384 bytes"));
            }
            let group = ffdhe3072()?;
            let peer = group.peer(parameters.public)?;
            let pair = KeyPair::generate(group, &Uint::from_u8(GENERATOR), rng);
            let shared = pair.agree(&peer);
            (pair.public, shared)
        }
    };
    let bytes = secret_bytes(generation, shared);
    let cipher = Cipher::new(generation, &bytes, Role::Device);
    Ok(DeviceResponse { public, cipher })
}

/// ffdhe3072, with [`V2_EXPONENT_BITS`]-bit private exponents.
fn ffdhe3072() -> Result<Group<V2_LIMBS>> {
    let mut group = Group::new(&FFDHE3072_PRIME)?;
    group.exponent_bits = V2_EXPONENT_BITS;
    Ok(group)
}

/// Boxed: a key pair holds several kilobytes of group constants.
enum PhoneKeys {
    V1(alloc::boxed::Box<KeyPair<V1_LIMBS>>),
    V2(alloc::boxed::Box<KeyPair<V2_LIMBS>>),
}

/// The phone's side of the DH exchange, between sending its parameters and receiving the
/// device's public key.
pub(crate) struct Handshake {
    keys: PhoneKeys,
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Handshake {
    /// Draws the private key; returns the two NEG messages to send (length, parameters).
    pub(crate) fn start(
        generation: Generation,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Self, [Vec<u8>; 2])> {
        let generator = [GENERATOR];
        let (keys, prime): (PhoneKeys, &[u8]) = match generation {
            Generation::V1 => {
                let group = Group::new(&V1_PRIME)?;
                let pair = KeyPair::generate(group, &Uint::from_u8(GENERATOR), rng);
                (PhoneKeys::V1(alloc::boxed::Box::new(pair)), &V1_PRIME)
            }
            Generation::V2 => {
                let pair = KeyPair::generate(ffdhe3072()?, &Uint::from_u8(GENERATOR), rng);
                (
                    PhoneKeys::V2(alloc::boxed::Box::new(pair)),
                    &FFDHE3072_PRIME,
                )
            }
        };
        let public = match &keys {
            PhoneKeys::V1(pair) => &pair.public,
            PhoneKeys::V2(pair) => &pair.public,
        };
        let blob = Parameters {
            prime,
            generator: &generator,
            public,
        }
        .to_vec()?;
        let len = u16::try_from(blob.len())
            .map_err(|_| Error::ApiMisuse("DH parameters longer than 65535 bytes"))?;
        let [high, low] = len.to_be_bytes();
        let mut parameters = Vec::with_capacity(1 + blob.len());
        parameters.push(NEGOTIATION_PARAMETERS);
        parameters.extend_from_slice(&blob);
        let messages = [
            alloc::vec![NEGOTIATION_PARAMETER_LENGTH, high, low],
            parameters,
        ];
        Ok((Self { keys }, messages))
    }

    /// The generation in use.
    pub(crate) const fn generation(&self) -> Generation {
        match self.keys {
            PhoneKeys::V1(_) => Generation::V1,
            PhoneKeys::V2(_) => Generation::V2,
        }
    }

    /// The cipher, from the device's public key.
    pub(crate) fn finish(&self, device_public: &[u8]) -> Result<Cipher> {
        let shared = match &self.keys {
            PhoneKeys::V1(pair) => pair.agree(&pair.group.peer(device_public)?),
            PhoneKeys::V2(pair) => pair.agree(&pair.group.peer(device_public)?),
        };
        let generation = self.generation();
        let bytes = secret_bytes(generation, shared);
        Ok(Cipher::new(generation, &bytes, Role::Phone))
    }
}

/// V1 key: MD5 of the (minimal) shared secret.
#[must_use]
pub fn v1_key(secret: &[u8]) -> Zeroizing<[u8; 16]> {
    Zeroizing::new(Md5::digest(secret).into())
}

/// V2 key: SHA-256 of the (padded) shared secret.
#[must_use]
pub fn v2_key(secret: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(Sha256::digest(secret).into())
}

/// A V2 IV: SHA-256(label | secret)[..16], label [`DEVICE_ENCRYPT_LABEL`] or
/// [`DEVICE_DECRYPT_LABEL`].
#[must_use]
pub fn v2_iv(label: &[u8], secret: &[u8]) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(label)
        .chain_update(secret)
        .finalize();
    let mut iv = [0u8; 16];
    for (out, byte) in iv.iter_mut().zip(digest.iter()) {
        *out = *byte;
    }
    iv
}

/// The two AES-256-CTR streams of V2 (boxed: the key schedules are large).
struct Streams {
    outgoing: Aes256Ctr,
    incoming: Aes256Ctr,
}

enum Inner {
    V1 { key: Zeroizing<[u8; 16]> },
    V2(alloc::boxed::Box<Streams>),
}

/// The frame cipher of an established connection, for one side.
pub struct Cipher {
    inner: Inner,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Cipher {
    /// A cipher from the shared secret bytes exactly as hashed: minimal big-endian for V1,
    /// padded to 384 bytes for V2. `role` picks which V2 stream encrypts.
    #[must_use]
    pub fn new(generation: Generation, secret: &[u8], role: Role) -> Self {
        match generation {
            Generation::V1 => Self {
                inner: Inner::V1 {
                    key: v1_key(secret),
                },
            },
            Generation::V2 => {
                let key = v2_key(secret);
                let device_encrypt = v2_iv(DEVICE_ENCRYPT_LABEL, secret);
                let device_decrypt = v2_iv(DEVICE_DECRYPT_LABEL, secret);
                let (outgoing, incoming) = match role {
                    Role::Device => (device_encrypt, device_decrypt),
                    Role::Phone => (device_decrypt, device_encrypt),
                };
                Self {
                    inner: Inner::V2(alloc::boxed::Box::new(Streams {
                        outgoing: Aes256Ctr::new(key.as_ref().into(), &outgoing.into()),
                        incoming: Aes256Ctr::new(key.as_ref().into(), &incoming.into()),
                    })),
                }
            }
        }
    }

    /// The generation.
    #[must_use]
    pub const fn generation(&self) -> Generation {
        match self.inner {
            Inner::V1 { .. } => Generation::V1,
            Inner::V2(_) => Generation::V2,
        }
    }

    /// Encrypts a frame's data field in place (V1: fresh CFB with IV `[sequence, 0…]`; V2: the
    /// next bytes of the outgoing stream).
    pub fn encrypt(&mut self, sequence: u8, data: &mut [u8]) {
        match &mut self.inner {
            Inner::V1 { key } => {
                Aes128Cfb::new(key.as_ref().into(), &v1_iv(sequence).into()).encrypt(data);
            }
            Inner::V2(streams) => apply(&mut streams.outgoing, data),
        }
    }

    /// Decrypts a frame's data field in place.
    pub fn decrypt(&mut self, sequence: u8, data: &mut [u8]) {
        match &mut self.inner {
            Inner::V1 { key } => {
                Aes128CfbDecryptor::new(key.as_ref().into(), &v1_iv(sequence).into()).decrypt(data);
            }
            Inner::V2(streams) => apply(&mut streams.incoming, data),
        }
    }
}

/// Applies the CTR keystream. A 128-bit counter cannot run out within a connection; if it did,
/// the data would be left as it is and fail its checksum.
fn apply(stream: &mut Aes256Ctr, data: &mut [u8]) {
    let _ = stream.try_apply_keystream(data);
}

fn v1_iv(sequence: u8) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[0] = sequence;
    iv
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests {
    use super::*;
    use alloc::vec;
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;

    type Small = Group<V1_LIMBS>;

    fn int(value: u32) -> Uint<V1_LIMBS> {
        Uint::from_u32(value)
    }

    #[test]
    fn primes_have_the_expected_shape() {
        assert_eq!(FFDHE3072_PRIME[..8], [0xff; 8], "ffdhe top 64 bits");
        assert_eq!(FFDHE3072_PRIME[376..], [0xff; 8], "ffdhe bottom 64 bits");
        assert_eq!(V1_PRIME[0], 0xcf);
        assert_eq!(V1_PRIME[127], 0x73);
        assert!(Small::new(&V1_PRIME).is_ok());
        assert!(ffdhe3072().is_ok());
    }

    #[test]
    fn parameters_round_trip() {
        let blob = [0, 2, 0x0b, 0x01, 0, 1, 2, 0, 1, 7];
        let parameters = Parameters::parse(&blob).expect("parses");
        assert_eq!(parameters.prime, &[0x0b, 0x01]);
        assert_eq!(parameters.generator, &[2]);
        assert_eq!(parameters.public, &[7]);
        assert_eq!(parameters.to_vec().expect("emits"), blob);
        for n in 0..blob.len() {
            assert!(Parameters::parse(&blob[..n]).is_err(), "prefix {n}");
        }
        let mut long = blob.to_vec();
        long.push(0);
        assert!(Parameters::parse(&long).is_err());
    }

    #[test]
    fn encodes_and_decodes_integers() {
        let value = Small::decode(&[0, 0, 1, 2, 3]).expect("decodes");
        assert_eq!(value, int(0x010203));
        let bytes = Small::encode(&value);
        assert_eq!(bytes.len(), 128);
        assert_eq!(&bytes[125..], &[1, 2, 3]);
        assert!(bytes[..125].iter().all(|b| *b == 0));
        assert!(Small::decode(&[1; 129]).is_err());
        assert_eq!(Small::decode(&[]).expect("empty is zero"), Uint::ZERO);
    }

    #[test]
    fn small_group_key_agreement() {
        // P = 23, G = 5: the textbook example, by hand.
        let group = Small::new(&[23]).expect("group");
        assert_eq!(*group.power(&int(5), &int(6)), int(8));
        assert_eq!(*group.power(&int(5), &int(15)), int(19));
        let from_a = group.power(&int(19), &int(6));
        assert_eq!(*from_a, int(2));
        assert_eq!(group.padded(&from_a).as_slice(), &[2]);
    }

    #[test]
    fn rejects_bad_groups_and_keys() {
        assert!(Small::new(&[22]).is_err(), "even");
        assert!(Small::new(&[3]).is_err(), "too small");
        assert!(Small::new(&[0, 0, 3]).is_err(), "too small, padded");
        assert!(Small::new(&[1; 129]).is_err(), "1032 bits");
        assert!(Small::new(&[0; 130]).is_err(), "zero");
        let mut padded = vec![0u8; 3];
        padded.extend_from_slice(&V1_PRIME);
        assert!(Small::new(&padded).is_ok(), "leading zeros are fine");
        let group = Small::new(&[23]).expect("group");
        for (value, ok) in [
            (0u32, false),
            (1, false),
            (2, true),
            (21, true),
            (22, false),
            (23, false),
        ] {
            assert_eq!(group.in_range(&int(value)), ok, "{value}");
            assert_eq!(group.peer(&[value as u8]).is_ok(), ok, "{value}");
        }
        assert!(group.peer(&[0, 2]).is_ok(), "leading zero");
        assert!(group.peer(&[1, 2]).is_err(), "longer than P");
    }

    #[test]
    fn private_keys_stay_in_range() {
        let group = Small::new(&[23]).expect("group");
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = [false; 23];
        for _ in 0..500 {
            let key = group.private_key(&mut rng);
            let bytes = Small::encode(&key);
            let value = usize::from(*bytes.last().expect("byte"));
            assert!(bytes[..bytes.len() - 1].iter().all(|b| *b == 0));
            assert!((2..=21).contains(&value), "{value}");
            seen[value] = true;
        }
        assert!(seen[2..=21].iter().all(|s| *s), "every key drawn");
    }

    #[test]
    fn v2_private_keys_are_320_bits() {
        let group = ffdhe3072().expect("group");
        let mut rng = StdRng::seed_from_u64(8);
        for _ in 0..20 {
            assert_eq!(group.private_key(&mut rng).bits(), V2_EXPONENT_BITS);
        }
    }

    fn handshake(generation: Generation, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (client, [length, parameters]) = Handshake::start(generation, &mut rng).expect("start");
        let blob = &parameters[1..];
        assert_eq!(length[1..], (blob.len() as u16).to_be_bytes());
        let parsed = Parameters::parse(blob).expect("parses");
        let expected = match generation {
            Generation::V1 => 128,
            Generation::V2 => 384,
        };
        assert_eq!(parsed.public.len(), expected);
        assert_eq!(parsed.prime.len(), expected);
        let mut device = device_respond(generation, &parsed, &mut rng).expect("device");
        assert_eq!(device.public.len(), expected);
        let mut phone = client.finish(&device.public).expect("phone");
        for sequence in 0..3u8 {
            let mut data = b"HomeNet password".to_vec();
            phone.encrypt(sequence, &mut data);
            assert_ne!(&data[..], b"HomeNet password");
            device.cipher.decrypt(sequence, &mut data);
            assert_eq!(&data[..], b"HomeNet password");
            device.cipher.encrypt(sequence, &mut data);
            phone.decrypt(sequence, &mut data);
            assert_eq!(&data[..], b"HomeNet password");
        }
    }

    #[test]
    fn v1_handshake_agrees() {
        handshake(Generation::V1, 1);
    }

    #[test]
    fn v2_handshake_agrees() {
        handshake(Generation::V2, 2);
    }

    #[test]
    fn v1_device_accepts_other_groups() {
        let mut rng = StdRng::seed_from_u64(3);
        // P = 2^127 - 1 (a Mersenne prime), G = 3, phone private key 12345.
        let mut p = [0xff; 16];
        p[0] = 0x7f;
        let group = Small::new(&p).expect("group");
        let phone_secret = int(12345);
        let phone_public = group.padded(&group.power(&int(3), &phone_secret));
        let parameters = Parameters {
            prime: &p,
            generator: &[3],
            public: &phone_public,
        };
        let mut response = device_respond(Generation::V1, &parameters, &mut rng).expect("device");
        assert_eq!(response.public.len(), 16, "padded to len(P)");
        let device_public = group.peer(&response.public).expect("valid");
        let shared = group.padded(&group.power(&device_public, &phone_secret));
        let mut phone = Cipher::new(
            Generation::V1,
            &secret_bytes(Generation::V1, shared),
            Role::Phone,
        );
        let mut data = *b"abc";
        phone.encrypt(9, &mut data);
        response.cipher.decrypt(9, &mut data);
        assert_eq!(&data, b"abc");
    }

    #[test]
    fn device_rejects_bad_parameters() {
        let mut rng = StdRng::seed_from_u64(4);
        let one = [1u8];
        let p_minus_one = {
            let mut v = V1_PRIME;
            v[127] -= 1;
            v
        };
        type Case<'a> = (Generation, &'a [u8], &'a [u8], &'a [u8]);
        let cases: [Case<'_>; 6] = [
            (Generation::V1, &V1_PRIME, &[2], &one),
            (Generation::V1, &V1_PRIME, &[2], &p_minus_one),
            (Generation::V1, &V1_PRIME, &[1], &[5]),
            (Generation::V1, &[1; 129], &[2], &[5]),
            (Generation::V2, &V1_PRIME, &[2], &[5; 128]),
            (Generation::V2, &[], &[], &[0; 384]),
        ];
        for (i, (generation, prime, generator, public)) in cases.into_iter().enumerate() {
            let parameters = Parameters {
                prime,
                generator,
                public,
            };
            assert!(
                device_respond(generation, &parameters, &mut rng).is_err(),
                "case {i}"
            );
        }
    }

    #[test]
    fn v2_secret_keeps_leading_zeros_and_v1_strips_them() {
        let group = ffdhe3072().expect("group");
        let v2 = secret_bytes(Generation::V2, group.padded(&Uint::from_u16(0x1234)));
        assert_eq!(v2.len(), 384);
        assert_eq!(&v2[382..], &[0x12, 0x34]);
        let group = Small::new(&V1_PRIME).expect("group");
        let v1 = secret_bytes(Generation::V1, group.padded(&int(0x1234)));
        assert_eq!(v1.as_slice(), &[0x12, 0x34]);
    }

    #[test]
    fn generation_follows_version() {
        assert_eq!(Generation::for_version(Version::new(1, 3)), Generation::V1);
        assert_eq!(Generation::for_version(Version::new(1, 4)), Generation::V2);
        assert_eq!(Generation::for_version(Version::new(2, 0)), Generation::V2);
    }
}
