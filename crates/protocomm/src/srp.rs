//! SRP-6a as ESP-IDF's security 2 uses it (spec §3.4): the 3072-bit group of RFC 5054
//! (= RFC 3526 group 15), g = 5, H = SHA-512.
//!
//! | value | definition |
//! |---|---|
//! | k | H(N ‖ PAD(g)) |
//! | x | H(salt ‖ H(username ":" password)) — see [`XDerivation`] |
//! | v | g^x mod N (the verifier the device stores with the salt) |
//! | A | g^a mod N, sent as exactly 384 bytes |
//! | B | (k·v + g^b) mod N, sent minimal big-endian |
//! | u | H(PAD(A) ‖ PAD(B)) |
//! | S | device (A·v^u)^b, client (B − k·v)^(a + u·x), all mod N |
//! | K | H(S minimal big-endian); the AES-256-GCM key is K[0..32] |
//! | M1 | H(H(N) XOR H(PAD(g)) ‖ H(username) ‖ salt ‖ A ‖ B ‖ K) |
//! | M2 | H(A ‖ M1 ‖ K) |
//!
//! A, B and the salt are hashed exactly as they were transmitted. Secret values (a, b, x, S, K)
//! are zeroized when dropped.

use alloc::vec::Vec;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd};
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::Error;

/// Length of N (and of A, PAD(x)) in bytes.
pub const GROUP_BYTES: usize = 384;
/// Length of a SHA-512 digest (M1, M2, K).
pub const DIGEST_BYTES: usize = 64;
const BITS: u32 = 3072;
const GENERATOR: u8 = 5;

/// N: RFC 3526 group 15 / RFC 5054 appendix A, 3072 bits.
const N_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";

/// How x is derived from the username and password: the two reference generators differ for
/// about one password in 256 (spec §3.4.2). A client must use the one that made the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum XDerivation {
    /// ESP-IDF's `esp_srp_gen_salt_verifier`: x = H(salt ‖ H(I:P)) with the full 64-byte inner
    /// digest. Our own `gen-cred` uses this.
    #[default]
    EspIdf,
    /// `esp_prov --sec2_gen_cred`: the inner digest with its leading zero bytes stripped.
    EspProv,
}

/// N as bytes, decoded at compile time.
const N: [u8; GROUP_BYTES] = decode_hex(N_HEX);

const fn decode_hex(hex: &str) -> [u8; GROUP_BYTES] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("N_HEX is upper-case hex"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * GROUP_BYTES, "N_HEX has 768 digits");
    let mut out = [0u8; GROUP_BYTES];
    let mut i = 0;
    while i < GROUP_BYTES {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// The group: N as Montgomery parameters.
struct Group {
    params: BoxedMontyParams,
    modulus: NonZero<BoxedUint>,
}

impl Group {
    fn new() -> Result<Self, Error> {
        const BAD: Error = Error::Crypto("SRP group constant");
        let n = BoxedUint::from_be_slice(&N, BITS).map_err(|_| BAD)?;
        let odd = Option::<Odd<BoxedUint>>::from(Odd::new(n.clone())).ok_or(BAD)?;
        let modulus = Option::<NonZero<BoxedUint>>::from(NonZero::new(n)).ok_or(BAD)?;
        Ok(Self {
            params: BoxedMontyParams::new(odd),
            modulus,
        })
    }

    fn form(&self, value: &BoxedUint) -> BoxedMontyForm {
        let reduced = value.rem(&self.modulus);
        BoxedMontyForm::new(reduced, self.params.clone())
    }

    /// An integer from big-endian bytes (at most 384).
    fn element(&self, bytes: &[u8]) -> Result<BoxedMontyForm, Error> {
        let value = BoxedUint::from_be_slice(bytes, BITS)
            .map_err(|_| Error::InvalidMessage("SRP value longer than 384 bytes"))?;
        Ok(self.form(&value))
    }

    fn generator(&self) -> BoxedMontyForm {
        self.form(&BoxedUint::from(GENERATOR).widen(BITS))
    }

    /// k = H(N ‖ PAD(g)).
    fn k(&self) -> Result<BoxedMontyForm, Error> {
        let digest = Sha512::new()
            .chain_update(N)
            .chain_update(pad(&[GENERATOR]))
            .finalize();
        self.element(&digest)
    }

    /// g^exponent, looking at the exponent's low `bits` bits.
    fn power_of_g(&self, exponent: &BoxedUint, bits: u32) -> BoxedMontyForm {
        self.generator().pow_bounded_exp(exponent, bits)
    }
}

/// Left-pads to 384 bytes (longer input keeps its last 384 bytes; callers check lengths).
fn pad(bytes: &[u8]) -> [u8; GROUP_BYTES] {
    let mut out = [0u8; GROUP_BYTES];
    let take = bytes.len().min(GROUP_BYTES);
    let (_, tail) = out.split_at_mut(GROUP_BYTES - take);
    let (_, source) = bytes.split_at(bytes.len() - take);
    tail.copy_from_slice(source);
    out
}

/// An integer from at most 384 big-endian bytes (digests, secrets).
fn integer(bytes: &[u8]) -> Result<BoxedUint, Error> {
    BoxedUint::from_be_slice(bytes, BITS)
        .map_err(|_| Error::InvalidMessage("SRP value longer than 384 bytes"))
}

/// Minimal big-endian bytes (no leading zeros; zero is one zero byte).
fn minimal(value: &BoxedUint) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes.get(first..).map(<[u8]>::to_vec).unwrap_or_default()
}

fn digest_array(digest: impl AsRef<[u8]>) -> [u8; DIGEST_BYTES] {
    let mut out = [0u8; DIGEST_BYTES];
    for (o, d) in out.iter_mut().zip(digest.as_ref()) {
        *o = *d;
    }
    out
}

/// u = H(PAD(A) ‖ PAD(B)); zero aborts the handshake.
fn scrambler(a: &[u8], b: &[u8]) -> Result<BoxedUint, Error> {
    let digest = Sha512::new()
        .chain_update(pad(a))
        .chain_update(pad(b))
        .finalize();
    let u = integer(&digest)?;
    if bool::from(u.is_zero()) {
        return Err(Error::PeerMisbehaved("SRP scrambler u is zero"));
    }
    Ok(u)
}

/// x = H(salt ‖ H(username ":" password)).
fn private_x(
    salt: &[u8],
    username: &[u8],
    password: &[u8],
    derivation: XDerivation,
) -> Result<Zeroizing<BoxedUint>, Error> {
    let inner = Zeroizing::new(digest_array(
        Sha512::new()
            .chain_update(username)
            .chain_update(b":")
            .chain_update(password)
            .finalize(),
    ));
    let skip = match derivation {
        XDerivation::EspIdf => 0,
        XDerivation::EspProv => inner.iter().take_while(|b| **b == 0).count(),
    };
    let outer = Zeroizing::new(digest_array(
        Sha512::new()
            .chain_update(salt)
            .chain_update(inner.get(skip..).unwrap_or_default())
            .finalize(),
    ));
    Ok(Zeroizing::new(integer(&outer[..])?))
}

/// K = H(S minimal big-endian).
fn session_key(s: &BoxedMontyForm) -> Zeroizing<[u8; DIGEST_BYTES]> {
    let value = Zeroizing::new(s.retrieve());
    let bytes = Zeroizing::new(minimal(&value));
    Zeroizing::new(digest_array(Sha512::digest(&bytes[..])))
}

/// M1 = H(H(N) XOR H(PAD(g)) ‖ H(username) ‖ salt ‖ A ‖ B ‖ K).
fn client_proof(
    username: &[u8],
    salt: &[u8],
    a: &[u8],
    b: &[u8],
    key: &[u8],
) -> [u8; DIGEST_BYTES] {
    let hn = Sha512::digest(N);
    let hg = Sha512::digest(pad(&[GENERATOR]));
    let mut mixed = [0u8; DIGEST_BYTES];
    for ((m, n), g) in mixed.iter_mut().zip(hn.iter()).zip(hg.iter()) {
        *m = n ^ g;
    }
    digest_array(
        Sha512::new()
            .chain_update(mixed)
            .chain_update(Sha512::digest(username))
            .chain_update(salt)
            .chain_update(a)
            .chain_update(b)
            .chain_update(key)
            .finalize(),
    )
}

/// M2 = H(A ‖ M1 ‖ K).
fn device_proof(a: &[u8], m1: &[u8], key: &[u8]) -> [u8; DIGEST_BYTES] {
    digest_array(
        Sha512::new()
            .chain_update(a)
            .chain_update(m1)
            .chain_update(key)
            .finalize(),
    )
}

/// The verifier v = g^x mod N for a salt and credentials: 384 bytes big-endian, what the
/// device stores with the salt (ESP-IDF's example embeds both as C arrays).
///
/// # Errors
/// Only [`Error::Crypto`] if the group constant were invalid (it is not).
pub fn verifier(
    salt: &[u8],
    username: &[u8],
    password: &[u8],
    derivation: XDerivation,
) -> Result<Vec<u8>, Error> {
    let group = Group::new()?;
    let x = private_x(salt, username, password, derivation)?;
    Ok(group
        .power_of_g(&x, 512)
        .retrieve()
        .to_be_bytes()
        .into_vec())
}

/// The values one side of a handshake computed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Transcript {
    /// A as transmitted (384 bytes).
    pub(crate) a: Vec<u8>,
    /// B as transmitted (minimal big-endian).
    pub(crate) b: Vec<u8>,
    /// The session key K (64 bytes; the AES key is its first 32).
    pub(crate) key: Zeroizing<[u8; DIGEST_BYTES]>,
    /// The client's proof M1.
    pub(crate) m1: [u8; DIGEST_BYTES],
    /// The device's proof M2.
    pub(crate) m2: [u8; DIGEST_BYTES],
}

/// The client's first step: the secret a (32 random bytes) and A.
pub(crate) struct ClientStart {
    secret: Zeroizing<BoxedUint>,
    /// A, exactly 384 bytes.
    pub(crate) public: Vec<u8>,
}

impl ClientStart {
    pub(crate) fn new(secret: &[u8; 32]) -> Result<Self, Error> {
        let group = Group::new()?;
        let secret = Zeroizing::new(integer(secret)?);
        let public = group
            .power_of_g(&secret, 256)
            .retrieve()
            .to_be_bytes()
            .into_vec();
        Ok(Self { secret, public })
    }

    /// Given B and the salt as received: K, M1 and the M2 to expect.
    pub(crate) fn finish(
        &self,
        username: &[u8],
        password: &[u8],
        derivation: XDerivation,
        b: &[u8],
        salt: &[u8],
    ) -> Result<Transcript, Error> {
        if b.is_empty() || b.len() > GROUP_BYTES {
            return Err(Error::InvalidMessage(
                "device public key B is not 1..384 bytes",
            ));
        }
        let group = Group::new()?;
        let b_form = group.element(b)?;
        if bool::from(b_form.is_zero()) {
            return Err(Error::PeerMisbehaved("device public key B is 0 mod N"));
        }
        let u = scrambler(&self.public, b)?;
        let x = private_x(salt, username, password, derivation)?;
        let v = group.power_of_g(&x, 512);
        let base = b_form - group.k()? * v;
        // a + u·x < 2^256 + 2^1024: an exponent of 1088 bits (17 limbs) holds it.
        let ux = Zeroizing::new(u.shorten(512).mul(&x.shorten(512)).widen(EXPONENT_BITS));
        let exponent =
            Zeroizing::new(ux.wrapping_add(&self.secret.shorten(256).widen(EXPONENT_BITS)));
        let s = base.pow_bounded_exp(&exponent, EXPONENT_BITS);
        let key = session_key(&s);
        let m1 = client_proof(username, salt, &self.public, b, &key[..]);
        let m2 = device_proof(&self.public, &m1, &key[..]);
        Ok(Transcript {
            a: self.public.clone(),
            b: b.to_vec(),
            key,
            m1,
            m2,
        })
    }
}

const EXPONENT_BITS: u32 = 1088;

/// The device's step: from A, the stored salt and verifier and the secret b, compute B and
/// everything after it.
pub(crate) fn device_respond(
    username: &[u8],
    salt: &[u8],
    verifier: &[u8],
    a: &[u8],
    secret: &[u8; 32],
) -> Result<Transcript, Error> {
    if a.len() != GROUP_BYTES {
        return Err(Error::InvalidMessage(
            "client public key A is not 384 bytes",
        ));
    }
    let group = Group::new()?;
    let a_form = group.element(a)?;
    if bool::from(a_form.is_zero()) {
        return Err(Error::PeerMisbehaved("client public key A is 0 mod N"));
    }
    let v = group.element(verifier)?;
    let secret = Zeroizing::new(integer(secret)?);
    let b_public = group.k()? * &v + group.power_of_g(&secret, 256);
    let b = minimal(&b_public.retrieve());
    let u = scrambler(a, &b)?;
    let s = (a_form * v.pow_bounded_exp(&u, 512)).pow_bounded_exp(&secret, 256);
    let key = session_key(&s);
    let m1 = client_proof(username, salt, a, &b, &key[..]);
    let m2 = device_proof(a, &m1, &key[..]);
    Ok(Transcript {
        a: a.to_vec(),
        b,
        key,
        m1,
        m2,
    })
}

/// Constant-time comparison of a received proof with the expected one.
pub(crate) fn proof_matches(expected: &[u8; DIGEST_BYTES], received: &[u8]) -> bool {
    received.len() == DIGEST_BYTES && bool::from(expected.ct_eq(received))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn group_constant_is_the_rfc_3526_prime() {
        assert_eq!(N.first(), Some(&0xff));
        assert_eq!(N.last(), Some(&0xff));
        assert!(Group::new().is_ok());
    }

    #[test]
    fn pad_left_pads() {
        let p = pad(&[1, 2]);
        assert_eq!(&p[382..], &[1, 2]);
        assert!(p[..382].iter().all(|b| *b == 0));
    }

    #[test]
    fn minimal_strips_leading_zeros() {
        let v = integer(&[0, 0, 7, 0]).unwrap();
        assert_eq!(minimal(&v), vec![7, 0]);
        assert_eq!(minimal(&BoxedUint::zero_with_precision(BITS)), vec![0]);
    }

    #[test]
    fn client_and_device_agree() {
        let salt = [9u8; 16];
        let v = verifier(&salt, b"user", b"pw", XDerivation::EspIdf).unwrap();
        let client = ClientStart::new(&[0x11; 32]).unwrap();
        let device = device_respond(b"user", &salt, &v, &client.public, &[0x22; 32]).unwrap();
        let ours = client
            .finish(b"user", b"pw", XDerivation::EspIdf, &device.b, &salt)
            .unwrap();
        assert_eq!(ours.key, device.key);
        assert_eq!(ours.m1, device.m1);
        assert_eq!(ours.m2, device.m2);
        let wrong = client
            .finish(b"user", b"px", XDerivation::EspIdf, &device.b, &salt)
            .unwrap();
        assert_ne!(wrong.m1, device.m1);
    }

    #[test]
    fn rejects_degenerate_public_keys() {
        let salt = [1u8; 16];
        let v = verifier(&salt, b"u", b"p", XDerivation::EspIdf).unwrap();
        // A = 0 and A = N are 0 mod N.
        assert!(device_respond(b"u", &salt, &v, &[0u8; 384], &[1; 32]).is_err());
        assert!(device_respond(b"u", &salt, &v, &N, &[1; 32]).is_err());
        assert!(device_respond(b"u", &salt, &v, &[1u8; 383], &[1; 32]).is_err());
        let client = ClientStart::new(&[3; 32]).unwrap();
        assert!(
            client
                .finish(b"u", b"p", XDerivation::EspIdf, &N, &salt)
                .is_err()
        );
        assert!(
            client
                .finish(b"u", b"p", XDerivation::EspIdf, &[], &salt)
                .is_err()
        );
        assert!(
            client
                .finish(b"u", b"p", XDerivation::EspIdf, &[1u8; 385], &salt)
                .is_err()
        );
    }
}
