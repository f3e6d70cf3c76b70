//! CRC-8/MAXIM (Dallas 1-Wire): reflected polynomial 0x8C, init 0x00, no final XOR.

#[allow(clippy::indexing_slicing)] // const evaluation: i < 256
const TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8C
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-8/MAXIM of `data` (check value over `"123456789"`: `0xA1`).
#[must_use]
pub fn crc8(data: &[u8]) -> u8 {
    let mut crc = Crc8::new();
    crc.update(data);
    crc.finish()
}

/// Incremental CRC-8/MAXIM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crc8(u8);

impl Crc8 {
    /// A CRC with the initial value 0.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.push(b);
        }
    }

    /// Feeds one byte.
    #[allow(clippy::indexing_slicing)] // a u8 index into a 256-entry table
    pub fn push(&mut self, b: u8) {
        self.0 = TABLE[usize::from(self.0 ^ b)];
    }

    /// The CRC of everything fed so far.
    #[must_use]
    pub const fn finish(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8]) -> u8 {
        let mut crc = 0u8;
        for &b in data {
            crc ^= b;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0x8C
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_values_from_the_spec() {
        assert_eq!(crc8(b"123456789"), 0xA1);
        assert_eq!(crc8(b"TestAP"), 0xE4);
        assert_eq!(crc8(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]), 0x12);
        assert_eq!(&TABLE[..4], &[0x00, 0x5E, 0xBC, 0xE2]);
    }

    #[test]
    fn table_matches_bitwise_definition() {
        let mut data = [0u8; 3];
        for a in 0..=255u8 {
            data[0] = a;
            data[1] = a.wrapping_mul(7);
            data[2] = a ^ 0x5a;
            assert_eq!(crc8(&data), bitwise(&data));
        }
    }
}
