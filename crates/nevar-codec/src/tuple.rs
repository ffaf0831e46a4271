//! Tuples of up to four keys, ordered element by element.
//!
//! ```text
//! (a, b, c): +----------------+----------------+-----------------+
//!            | a element form | b element form | c plain bytes   |
//!            +----------------+----------------+-----------------+
//! ```
//!
//! Every element but the last is in its self-delimiting element form ([`Key`]), so the
//! encodings compare element by element; the last runs to the end of the key, so it is
//! stored plainly and a last `&str` or `&[u8]` reads without a copy. As a tuple element
//! itself, a tuple puts all its elements in element form.

use crate::{DecodeError, Key, Value};

macro_rules! tuple {
    ($($init:ident $init_v:ident),* ; $last:ident $last_v:ident) => {
        impl<$($init: Key,)* $last: Key> Value for ($($init,)* $last,) {
            type Write<'a> = ($($init::Write<'a>,)* $last::Write<'a>,);
            type Read<'a> = ($($init::Element<'a>,)* $last::Read<'a>,);
            type Owned = ($($init::Owned,)* $last::Owned,);
            type Bytes<'a> = Vec<u8>;

            fn type_name() -> String {
                let names: &[String] = &[$($init::type_name(),)* $last::type_name()];
                format!("({})", names.join(","))
            }

            fn encode(value: &Self::Write<'_>) -> Vec<u8> {
                let ($($init_v,)* $last_v,) = value;
                let mut out = Vec::new();
                $($init::encode_element($init_v, &mut out);)*
                out.extend_from_slice($last::encode($last_v).as_ref());
                out
            }

            fn decode(bytes: &[u8]) -> Result<Self::Read<'_>, DecodeError> {
                #[allow(unused_mut)] // a 1-tuple has no element form to advance past
                let mut rest = bytes;
                $(let $init_v = $init::decode_element(&mut rest)?;)*
                Ok(($($init_v,)* $last::decode(rest)?,))
            }

            fn to_owned(value: Self::Read<'_>) -> Self::Owned {
                let ($($init_v,)* $last_v,) = value;
                ($($init::element_to_owned($init_v),)* $last::to_owned($last_v),)
            }

            fn as_write(value: &Self::Owned) -> Self::Write<'_> {
                let ($($init_v,)* $last_v,) = value;
                ($($init::as_write($init_v),)* $last::as_write($last_v),)
            }
        }

        impl<$($init: Key,)* $last: Key> Key for ($($init,)* $last,) {
            type Element<'a> = ($($init::Element<'a>,)* $last::Element<'a>,);

            fn encode_element(value: &Self::Write<'_>, out: &mut Vec<u8>) {
                let ($($init_v,)* $last_v,) = value;
                $($init::encode_element($init_v, out);)*
                $last::encode_element($last_v, out);
            }

            fn decode_element<'a>(bytes: &mut &'a [u8]) -> Result<Self::Element<'a>, DecodeError> {
                $(let $init_v = $init::decode_element(bytes)?;)*
                Ok(($($init_v,)* $last::decode_element(bytes)?,))
            }

            fn element_to_owned(element: Self::Element<'_>) -> Self::Owned {
                let ($($init_v,)* $last_v,) = element;
                ($($init::element_to_owned($init_v),)* $last::element_to_owned($last_v),)
            }
        }
    };
}

tuple!(; A a);
tuple!(A a; B b);
tuple!(A a, B b; C c);
tuple!(A a, B b, C c; D d);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: &str, b: i32) -> Vec<u8> {
        <(&str, i32)>::encode(&(a, b))
    }

    #[test]
    fn a_shorter_string_sorts_first_whatever_follows() {
        assert!(key("a", 2) < key("ab", 1));
        assert!(key("a", i32::MAX) < key("a\0", i32::MIN));
        assert!(key("", 5) < key("\0", 0));
    }

    #[test]
    fn the_last_string_reads_without_a_copy_and_earlier_ones_when_unescaped() {
        let bytes = <(&str, &str)>::encode(&("tenant", "user/1"));
        let (first, last) = <(&str, &str)>::decode(&bytes).unwrap();
        assert!(matches!(first, std::borrow::Cow::Borrowed("tenant")));
        assert_eq!(last, "user/1");
    }

    #[test]
    fn nested_tuples_and_trailing_garbage() {
        type Nested = ((u8, &'static str), u16);
        let bytes = Nested::encode(&((7, "x"), 9));
        assert_eq!(bytes, [7, b'x', 0, 0, 0, 9]);
        let ((a, b), c) = Nested::decode(&bytes).unwrap();
        assert_eq!((a, b.as_ref(), c), (7, "x", 9));
        assert!(Nested::decode(&bytes[..5]).is_err());
        assert!(<(u8, u16)>::decode(&[1, 2, 3, 4]).is_err());
        assert_eq!(Nested::type_name(), "((u8,str),u16)");
    }
}
