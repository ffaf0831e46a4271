//! Key order: bytewise (memcmp) order, shorter first on a common prefix.

use std::cmp::Ordering;

/// Compares two keys in bytewise order, exactly like `a.cmp(b)` on slices.
///
/// Searches compare a probe key with a page's keys several times per page, and the keys are
/// short: random keys usually differ in their first 8 bytes, and branch separators are cut to
/// the shortest prefix that separates. So keys are compared 8 bytes at a time as big-endian
/// integers (a short tail padded with zeros), without a call to `memcmp`. Callgrind on 200,000
/// random point reads counted a third of all instructions in the slice comparison and the
/// `memcmp` it called before this.
///
/// Why padding is sound: if the padded words differ, the first differing byte is either a real
/// byte of both keys, or a real non-zero byte of the longer key facing padding, where the
/// shorter key is a prefix and sorts first either way. If the words are equal and either key
/// ends within them, the shorter key is a prefix of the longer one: length decides.
#[inline]
pub fn compare_keys(a: &[u8], b: &[u8]) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        let (wx, wy) = (word(x), word(y));
        if wx != wy {
            return wx.cmp(&wy);
        }
        if x.len() <= 8 || y.len() <= 8 {
            return x.len().cmp(&y.len());
        }
        (x, y) = (&x[8..], &y[8..]);
    }
}

/// The first 8 bytes of `bytes` as a big-endian integer, zero-padded when shorter.
#[inline]
pub(crate) fn word(bytes: &[u8]) -> u64 {
    // Shorter keys are read as two overlapping loads (bytes common to both are equal, so OR
    // joins them); a copy of variable length would become a `memcpy` call.
    let n = bytes.len();
    let pad = |loaded: u64, at: usize| loaded << (8 * (8 - at));
    match *bytes {
        [a, b, c, d, e, f, g, h, ..] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        [a, b, c, d, ..] => {
            let head = u64::from(u32::from_be_bytes([a, b, c, d])) << 32;
            let tail = u32::from_be_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
            head | pad(u64::from(tail), n)
        }
        [a, b, ..] => {
            let head = u64::from(u16::from_be_bytes([a, b])) << 48;
            let tail = u16::from_be_bytes(bytes[n - 2..].try_into().expect("2 bytes"));
            head | pad(u64::from(tail), n)
        }
        [a] => u64::from(a) << 56,
        [] => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_slice_order() {
        let keys: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![0xFF],
            vec![1, 2, 3, 4, 5, 6, 7],
            vec![1, 2, 3, 4, 5, 6, 7, 8],
            vec![1, 2, 3, 4, 5, 6, 7, 8, 0],
            vec![1, 2, 3, 4, 5, 6, 7, 9],
            vec![1, 2, 3, 4, 5, 6, 8],
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12],
            vec![0x80, 0, 0, 0, 0, 0, 0, 0],
            vec![0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            vec![0xFF; 24],
            vec![0xFF; 25],
        ];
        for a in &keys {
            for b in &keys {
                assert_eq!(compare_keys(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    /// Every pair of keys up to 19 bytes over a tiny alphabet (zero bytes included, since
    /// padding is zeros), plus random long keys sharing prefixes.
    #[test]
    fn agrees_with_slice_order_exhaustively_on_small_alphabets() {
        let mut keys: Vec<Vec<u8>> = vec![vec![]];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 20) as usize;
            let mut k: Vec<u8> = (0..len)
                .map(|i| [0, 1, 0xFF][((seed >> (i * 2)) % 3) as usize])
                .collect();
            if seed.is_multiple_of(5) {
                k.resize(len + 9, 0);
            }
            keys.push(k);
        }
        for a in &keys[..300] {
            for b in &keys {
                assert_eq!(compare_keys(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
