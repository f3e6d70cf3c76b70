//! CRC-16/GENIBUS, the BluFi frame checksum (spec §7.3).
//!
//! Parameters: width 16, polynomial 0x1021, initial value 0xFFFF, no reflection, final XOR
//! 0xFFFF; check value ("123456789") 0xD64E. ESP-IDF computes it with the ROM's
//! `esp_crc16_be(0, …)`, which inverts before and after; the Android app uses a table with
//! `~crc` in and out. Both are this CRC.
//!
//! A frame's checksum covers `sequence | data_len | plaintext data` and is stored
//! little-endian after the data, never encrypted.

const POLYNOMIAL: u16 = 0x1021;

#[allow(clippy::indexing_slicing)] // const evaluation: out of bounds is a compile error
const TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLYNOMIAL
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// An incremental CRC-16/GENIBUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc16 {
    state: u16,
}

impl Default for Crc16 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc16 {
    /// A CRC over no bytes yet.
    #[must_use]
    pub const fn new() -> Self {
        Self { state: 0xFFFF }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            let index = usize::from((self.state >> 8) as u8 ^ byte);
            let entry = TABLE.get(index).copied().unwrap_or_default();
            self.state = (self.state << 8) ^ entry;
        }
    }

    /// The CRC of everything added.
    #[must_use]
    pub const fn finish(&self) -> u16 {
        self.state ^ 0xFFFF
    }
}

/// CRC-16/GENIBUS of `bytes`.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut crc = Crc16::new();
    crc.update(bytes);
    crc.finish()
}

/// The checksum of a frame: CRC over `sequence | data_len | data`, where `data` is the
/// plaintext data field. `data_len` is the low byte of `data.len()` (a frame holds at most
/// 255 bytes).
#[must_use]
pub fn frame_checksum(sequence: u8, data: &[u8]) -> u16 {
    let mut crc = Crc16::new();
    crc.update(&[sequence, data.len() as u8]);
    crc.update(data);
    crc.finish()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests {
    use super::*;

    /// A bit-at-a-time CRC straight from the parameters, to check the table against.
    fn bitwise(bytes: &[u8]) -> u16 {
        let mut crc: u16 = 0xFFFF;
        for byte in bytes {
            crc ^= u16::from(*byte) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLYNOMIAL
                } else {
                    crc << 1
                };
            }
        }
        crc ^ 0xFFFF
    }

    #[test]
    fn check_value_is_d64e() {
        assert_eq!(checksum(b"123456789"), 0xD64E);
    }

    #[test]
    fn empty_input_is_zero() {
        // init 0xFFFF xor 0xFFFF.
        assert_eq!(checksum(b""), 0x0000);
    }

    #[test]
    fn table_matches_bitwise_on_seeded_inputs() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let bytes: alloc::vec::Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            assert_eq!(checksum(&bytes), bitwise(&bytes), "len {len}");
        }
    }

    #[test]
    fn incremental_equals_one_shot() {
        let mut crc = Crc16::new();
        crc.update(b"1234");
        crc.update(b"56789");
        assert_eq!(crc.finish(), 0xD64E);
    }

    #[test]
    fn set_security_mode_example_checksum() {
        // spec §7.3: `04 02 03 01 03 61 69` — CRC over seq 3, len 1, data 03 = 0x6961.
        assert_eq!(frame_checksum(3, &[0x03]), 0x6961);
    }
}
