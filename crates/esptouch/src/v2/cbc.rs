//! AES-128-CBC with PKCS#7 padding over fixed buffers, on top of the RustCrypto block cipher.
//!
//! The `aes` crate's `zeroize` feature wipes the key schedule when the cipher is dropped.

use aes::Aes128;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};

use super::Key;

const BLOCK: usize = 16;

/// Encrypts `plain` into `out` (PKCS#7, always at least one padding byte); returns the
/// ciphertext length, or `None` if `out` is too small.
pub(crate) fn encrypt(key: &Key, iv: &[u8; 16], plain: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = 16 * (plain.len() / BLOCK + 1);
    let out = out.get_mut(..len)?;
    let pad = (len - plain.len()) as u8;
    for (i, b) in out.iter_mut().enumerate() {
        *b = plain.get(i).copied().unwrap_or(pad);
    }
    let cipher = Aes128::new(&GenericArray::from(*key));
    let mut chain = *iv;
    for chunk in out.chunks_exact_mut(BLOCK) {
        let mut block = GenericArray::from(chain);
        for (b, &p) in block.iter_mut().zip(chunk.iter()) {
            *b ^= p;
        }
        cipher.encrypt_block(&mut block);
        chunk.copy_from_slice(&block);
        chain.copy_from_slice(&block);
    }
    Some(len)
}

/// Decrypts `data` in place and checks PKCS#7 strictly: the padding must be exactly
/// `data.len() − plain_len` bytes (1..=16), each equal to that count. Returns false (and leaves
/// `data` decrypted but unusable) otherwise.
pub(crate) fn decrypt(key: &Key, iv: &[u8; 16], data: &mut [u8], plain_len: usize) -> bool {
    if data.is_empty() || data.len() % BLOCK != 0 {
        return false;
    }
    let cipher = Aes128::new(&GenericArray::from(*key));
    let mut chain = *iv;
    for chunk in data.chunks_exact_mut(BLOCK) {
        let mut block = GenericArray::clone_from_slice(chunk);
        let mut next = [0u8; BLOCK];
        next.copy_from_slice(chunk);
        cipher.decrypt_block(&mut block);
        for ((c, &b), &x) in chunk.iter_mut().zip(block.iter()).zip(chain.iter()) {
            *c = b ^ x;
        }
        chain = next;
    }
    let Some(pad) = data.len().checked_sub(plain_len) else {
        return false;
    };
    (1..=BLOCK).contains(&pad)
        && data
            .get(plain_len..)
            .is_some_and(|tail| tail.iter().all(|&b| usize::from(b) == pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_nist_cbc_vector() {
        // NIST SP 800-38A F.2.1, CBC-AES128.Encrypt, first block (our PKCS#7 block follows).
        let key = [
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
            0x4f, 0x3c,
        ];
        let iv: [u8; 16] = core::array::from_fn(|i| i as u8);
        let plain = [
            0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93,
            0x17, 0x2a,
        ];
        let mut out = [0u8; 32];
        assert_eq!(encrypt(&key, &iv, &plain, &mut out), Some(32));
        assert_eq!(
            out[..16],
            [
                0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46, 0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9,
                0x19, 0x7d
            ]
        );
        assert!(decrypt(&key, &iv, &mut out, 16));
        assert_eq!(out[..16], plain);
        assert_eq!(out[16..], [16u8; 16]);
    }

    #[test]
    fn padding_is_checked_strictly() {
        let key = *b"0123456789abcdef";
        let iv = [0u8; 16];
        let mut out = [0u8; 16];
        assert_eq!(encrypt(&key, &iv, b"secret", &mut out), Some(16));
        let sealed = out;
        assert!(decrypt(&key, &iv, &mut out, 6));
        assert_eq!(&out[..6], b"secret");
        // The right key but another announced length: the padding does not fit.
        let mut again = sealed;
        assert!(!decrypt(&key, &iv, &mut again, 7));
        let mut again = sealed;
        assert!(!decrypt(&key, &iv, &mut again, 16));
        let mut wrong = sealed;
        assert!(!decrypt(b"0123456789abcdeF", &iv, &mut wrong, 6));
        assert!(!decrypt(&key, &iv, &mut [], 0));
        assert!(!decrypt(&key, &iv, &mut [0u8; 15], 0));
        assert_eq!(encrypt(&key, &iv, &[0u8; 16], &mut [0u8; 16]), None);
    }
}
