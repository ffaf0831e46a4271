//! The element form of variable-length byte strings: self-delimiting and order-preserving.
//!
//! ```text
//!   content bytes, each 0x00 written as 0x00 0xFF      terminator
//! +------------------------------------------------+-----------+
//! | b0 b1 ... (0x00 -> 0x00 0xFF)                   | 0x00 0x00 |
//! +------------------------------------------------+-----------+
//! ```
//!
//! Order: two escaped strings first differ either inside both contents (the same byte order
//! as the originals, since 0x00 0xFF sorts where 0x00 did) or where one ends: its terminator's
//! 0x00 0x00 sorts before any continuation (a byte above 0x00, or an escaped 0x00 0xFF), so
//! a string sorts before its extensions.

use std::borrow::Cow;

use crate::DecodeError;

const ESCAPE: u8 = 0xFF;
const END: u8 = 0x00;

/// Appends the element form of `raw` to `out`.
pub(crate) fn encode(raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(raw.len() + 2);
    for part in raw.split_inclusive(|&b| b == 0) {
        out.extend_from_slice(part);
        if part.last() == Some(&0) {
            out.push(ESCAPE);
        }
    }
    out.extend_from_slice(&[0, END]);
}

/// Reads one element form off the front of `bytes`: borrowed when it holds no escaped zero.
pub(crate) fn decode<'a>(bytes: &mut &'a [u8]) -> Result<Cow<'a, [u8]>, DecodeError> {
    let input = *bytes;
    let mut owned: Option<Vec<u8>> = None;
    let mut start = 0;
    let mut i = 0;
    loop {
        let Some(zero) = input[i..].iter().position(|&b| b == 0) else {
            return Err(DecodeError::new("escaped string without its terminator"));
        };
        let at = i + zero;
        match input.get(at + 1) {
            Some(&END) => {
                *bytes = &input[at + 2..];
                return Ok(match owned {
                    None => Cow::Borrowed(&input[..at]),
                    Some(mut buf) => {
                        buf.extend_from_slice(&input[start..at]);
                        Cow::Owned(buf)
                    }
                });
            }
            Some(&ESCAPE) => {
                // Keep the zero, drop the escape byte after it.
                owned
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&input[start..=at]);
                start = at + 2;
                i = at + 2;
            }
            _ => {
                return Err(DecodeError::new(
                    "zero byte in an escaped string not followed by 0x00 or 0xFF",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(raw, &mut out);
        out
    }

    #[test]
    fn zero_bytes_are_escaped_and_the_end_is_marked() {
        assert_eq!(escaped(b""), [0, 0]);
        assert_eq!(escaped(b"ab"), [b'a', b'b', 0, 0]);
        assert_eq!(escaped(b"a\0"), [b'a', 0, 0xFF, 0, 0]);
        assert_eq!(escaped(b"\0\0"), [0, 0xFF, 0, 0xFF, 0, 0]);
    }

    #[test]
    fn a_string_without_zeros_decodes_without_a_copy() {
        let bytes = escaped(b"plain");
        let mut input = &bytes[..];
        assert!(matches!(decode(&mut input), Ok(Cow::Borrowed(b"plain"))));
        assert!(input.is_empty());
    }

    #[test]
    fn damaged_forms_are_errors() {
        for bad in [&b"abc"[..], b"a\0", b"a\0\x01", b"\0\xff"] {
            assert!(decode(&mut &bad[..]).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip_leaves_what_follows(raw in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xFE, 0xFF, b'a']), 0..12), tail in prop::collection::vec(any::<u8>(), 0..4)) {
            let mut bytes = escaped(&raw);
            bytes.extend_from_slice(&tail);
            let mut input = &bytes[..];
            let decoded = decode(&mut input).unwrap();
            prop_assert_eq!(decoded.as_ref(), &raw[..]);
            prop_assert_eq!(input, &tail[..]);
        }

        #[test]
        fn order_is_kept(a in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xFF]), 0..6), b in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xFF]), 0..6)) {
            prop_assert_eq!(a.cmp(&b), escaped(&a).cmp(&escaped(&b)));
        }
    }
}
