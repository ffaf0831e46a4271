//! Fixed-width keys: integers, `bool`, `char` and `()`.
//!
//! Unsigned integers are big-endian, so byte order is numeric order. Signed integers are
//! big-endian with the sign bit flipped, which maps `MIN..=MAX` onto `0..=unsigned MAX` in
//! order. `usize` and `isize` are stored as 8 bytes on every platform.

use crate::{DecodeError, Key, Value, take_front};

/// The `N` bytes of a fixed-width value, or an error naming `what` was expected.
fn exact<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    bytes
        .try_into()
        .map_err(|_| DecodeError::new(format!("{} bytes where {what} needs {N}", bytes.len())))
}

/// Implements [`Value`] and [`Key`] for a fixed-width type by value, given its width, its
/// name and its two conversions.
macro_rules! fixed_width {
    ($ty:ty, $n:expr, $name:expr, |$v:ident| $enc:expr, |$b:ident| $dec:expr) => {
        impl Value for $ty {
            type Write<'a> = $ty;
            type Read<'a> = $ty;
            type Owned = $ty;
            type Bytes<'a> = [u8; $n];

            fn type_name() -> String {
                $name.into()
            }

            #[inline]
            fn encode(value: &$ty) -> [u8; $n] {
                let $v = *value;
                $enc
            }

            #[inline]
            fn decode(bytes: &[u8]) -> Result<$ty, DecodeError> {
                let $b: [u8; $n] = exact(bytes, $name)?;
                $dec
            }

            fn to_owned(value: $ty) -> $ty {
                value
            }

            fn as_write(value: &$ty) -> $ty {
                *value
            }
        }

        impl Key for $ty {
            type Element<'a> = $ty;

            fn encode_element(value: &$ty, out: &mut Vec<u8>) {
                out.extend_from_slice(&<$ty as Value>::encode(value));
            }

            fn decode_element(bytes: &mut &[u8]) -> Result<$ty, DecodeError> {
                <$ty as Value>::decode(take_front(bytes, $n)?)
            }

            fn element_to_owned(element: $ty) -> $ty {
                element
            }
        }
    };
}

macro_rules! unsigned {
    ($($ty:ty),*) => {$(
        fixed_width!($ty, size_of::<$ty>(), stringify!($ty),
            |v| v.to_be_bytes(),
            |b| Ok(<$ty>::from_be_bytes(b)));
    )*};
}

macro_rules! signed {
    ($($ty:ty => $unsigned:ty),*) => {$(
        fixed_width!($ty, size_of::<$ty>(), stringify!($ty),
            |v| ((v as $unsigned) ^ (1 << (<$unsigned>::BITS - 1))).to_be_bytes(),
            |b| Ok((<$unsigned>::from_be_bytes(b) ^ (1 << (<$unsigned>::BITS - 1))) as $ty));
    )*};
}

unsigned!(u8, u16, u32, u64, u128);
signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128);

fixed_width!(usize, 8, "usize", |v| (v as u64).to_be_bytes(), |b| {
    usize::try_from(u64::from_be_bytes(b))
        .map_err(|_| DecodeError::new("usize out of range on this platform"))
});
fixed_width!(
    isize,
    8,
    "isize",
    |v| ((v as i64 as u64) ^ (1 << 63)).to_be_bytes(),
    |b| isize::try_from((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
        .map_err(|_| DecodeError::new("isize out of range on this platform"))
);
fixed_width!(bool, 1, "bool", |v| [u8::from(v)], |b| match b[0] {
    0 => Ok(false),
    1 => Ok(true),
    other => Err(DecodeError::new(format!(
        "bool byte {other:#04x}, not 0 or 1"
    ))),
});
fixed_width!(char, 4, "char", |v| u32::from(v).to_be_bytes(), |b| {
    char::from_u32(u32::from_be_bytes(b)).ok_or(DecodeError::new("not a Unicode scalar value"))
});
fixed_width!(
    (),
    0,
    "()",
    |v| {
        let () = v;
        []
    },
    |b| {
        let [] = b;
        Ok(())
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes<T: for<'a> Value<Write<'a> = T>>(v: T) -> Vec<u8> {
        T::encode(&v).as_ref().to_vec()
    }

    #[test]
    fn signed_integers_flip_the_sign_bit() {
        assert_eq!(bytes(i64::MIN), [0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            bytes(-1i64),
            [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(bytes(0i64), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(i8::MAX), [0xFF]);
        assert_eq!(bytes(258u16), [1, 2]);
    }

    #[test]
    fn bad_widths_and_values_are_errors() {
        assert!(u32::decode(&[1, 2, 3]).is_err());
        assert!(bool::decode(&[2]).is_err());
        assert!(char::decode(&0xD800u32.to_be_bytes()).is_err());
        assert!(<()>::decode(&[0]).is_err());
    }

    proptest! {
        #[test]
        fn i64_order_and_round_trip(a: i64, b: i64) {
            prop_assert_eq!(a.cmp(&b), bytes(a).cmp(&bytes(b)));
            prop_assert_eq!(i64::decode(&bytes(a)), Ok(a));
        }

        #[test]
        fn i16_and_isize_order(a: i16, b: i16, c: isize, d: isize) {
            prop_assert_eq!(a.cmp(&b), bytes(a).cmp(&bytes(b)));
            prop_assert_eq!(c.cmp(&d), bytes(c).cmp(&bytes(d)));
            prop_assert_eq!(isize::decode(&bytes(c)), Ok(c));
        }

        #[test]
        fn char_order_and_round_trip(a: char, b: char) {
            prop_assert_eq!(a.cmp(&b), bytes(a).cmp(&bytes(b)));
            prop_assert_eq!(char::decode(&bytes(a)), Ok(a));
        }
    }
}
