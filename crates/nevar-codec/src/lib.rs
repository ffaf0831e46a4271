//! nevar's typed keys and values: the [`Key`] and [`Value`] traits and the byte encodings of
//! the built-in types.
//!
//! A tree stores bytes and orders keys bytewise, so a key encoding is *order-preserving*: for
//! any two keys `a < b` of a type, `encode(a) < encode(b)` as byte strings. Every encoding is
//! written out byte by byte in `docs/encodings.md`, so programs in other languages can read a
//! nevar file's typed keys.
//!
//! | type | encoding |
//! | --- | --- |
//! | `u8` … `u128`, `usize` | big-endian (`usize` as 8 bytes) |
//! | `i8` … `i128`, `isize` | big-endian with the sign bit flipped (`isize` as 8 bytes) |
//! | `bool` | one byte, 0 or 1 |
//! | `char` | its scalar value as a big-endian `u32` |
//! | `()` | no bytes |
//! | `&str`, `String` | the UTF-8 bytes |
//! | `&[u8]`, `Vec<u8>` | the bytes |
//! | `[u8; N]` | the N bytes |
//! | tuples of up to 4 keys | the elements in order; each element before the last in its *element* form |
//! | `Option<T>` (values only) | `0x00`, or `0x01` and `T`'s encoding |
//! | `Serde<T>` (values only, feature `serde`) | postcard |
//!
//! An element form is self-delimiting: fixed-width types are as above; strings and byte
//! strings are escaped (`0x00` becomes `0x00 0xFF`) and end with `0x00 0x00`, which keeps the
//! order (`("a", 2) < ("ab", 1)`) and lets an element without a zero byte decode without a
//! copy.
#![forbid(unsafe_code)]

mod bytes;
mod escape;
mod int;
mod option;
#[cfg(feature = "serde")]
mod serde;
mod tuple;

use std::borrow::Cow;

#[cfg(feature = "serde")]
pub use crate::serde::Serde;

/// Stored bytes that do not decode as the type they are read as.
///
/// ```
/// use nevar_codec::Value;
///
/// let error = bool::decode(&[7]).unwrap_err();
/// assert_eq!(error.to_string(), "bool byte 0x07, not 0 or 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}")]
pub struct DecodeError {
    /// What is wrong with the bytes.
    pub what: Cow<'static, str>,
}

impl DecodeError {
    /// An error saying `what`.
    pub fn new(what: impl Into<Cow<'static, str>>) -> DecodeError {
        DecodeError { what: what.into() }
    }
}

/// A type stored as a tree's value (and, through [`Key`], as its key).
///
/// Three forms of the type meet the tree: writes take [`Write`](Value::Write), reads return
/// [`Read`](Value::Read), which borrows the memory map where the encoding allows (`&str` out
/// of a `&str` value), and operations that remove an entry return
/// [`Owned`](Value::Owned), since the pages they read from are freed.
///
/// ```
/// use nevar_codec::{DecodeError, Value};
///
/// /// A temperature in tenths of a degree, stored as a little-endian i16.
/// struct Celsius;
///
/// impl Value for Celsius {
///     type Write<'a> = f32;
///     type Read<'a> = f32;
///     type Owned = f32;
///     type Bytes<'a> = [u8; 2];
///
///     fn type_name() -> String {
///         "celsius-tenths".into()
///     }
///     fn encode(value: &f32) -> [u8; 2] {
///         ((value * 10.0).round() as i16).to_le_bytes()
///     }
///     fn decode(bytes: &[u8]) -> Result<f32, DecodeError> {
///         let raw: [u8; 2] = bytes.try_into().map_err(|_| DecodeError::new("not 2 bytes"))?;
///         Ok(f32::from(i16::from_le_bytes(raw)) / 10.0)
///     }
///     fn to_owned(value: f32) -> f32 {
///         value
///     }
///     fn as_write(value: &f32) -> f32 {
///         *value
///     }
/// }
///
/// assert_eq!(Celsius::decode(&Celsius::encode(&21.5)), Ok(21.5));
/// ```
pub trait Value {
    /// What writes take: the type itself, or its borrowed form (`&str` for `String`).
    type Write<'a>;
    /// What reads return: borrows the stored bytes where the encoding allows.
    type Read<'a>;
    /// What removing operations return.
    type Owned;
    /// One encoded value: an array for fixed-width types, a borrow where the bytes are the
    /// value's own.
    type Bytes<'a>: AsRef<[u8]>;

    /// Names the encoding; the catalog records it, and opening a tree with a type of another
    /// name is refused. Types that share an encoding share a name (`&str` and `String` are
    /// both `str`).
    fn type_name() -> String;

    /// The bytes stored for `value`.
    fn encode<'a>(value: &'a Self::Write<'_>) -> Self::Bytes<'a>;

    /// Reads a value from exactly its stored bytes.
    fn decode(bytes: &[u8]) -> Result<Self::Read<'_>, DecodeError>;

    /// Turns a read value into an owned one.
    fn to_owned(value: Self::Read<'_>) -> Self::Owned;

    /// Borrows an owned value as the form writes take.
    fn as_write(value: &Self::Owned) -> Self::Write<'_>;
}

/// A type that can be a tree's key: its encoding sorts bytewise in the type's own order, and
/// it has a self-delimiting *element* form for use inside tuples before the last position.
///
/// For a key type to be correct, for all values `a` and `b`: `a < b` exactly when
/// `encode(a) < encode(b)` bytewise, and likewise for the element forms. The element form of
/// a fixed-width type is its plain encoding.
///
/// ```
/// use nevar_codec::{Key, Value};
///
/// // Signed integers sort by value, strings before their extensions, tuples by element.
/// assert!(i32::encode(&-5) < i32::encode(&3));
/// assert!(<(&str, u8)>::encode(&("a", 9)) < <(&str, u8)>::encode(&("ab", 0)));
/// // The element form delimits a string inside a tuple.
/// let mut out = Vec::new();
/// <&str>::encode_element(&"ab", &mut out);
/// assert_eq!(out, [b'a', b'b', 0, 0]);
/// let mut rest = &out[..];
/// assert_eq!(<&str>::decode_element(&mut rest).unwrap(), "ab");
/// assert!(rest.is_empty());
/// ```
pub trait Key: Value {
    /// What reads return for this type as a tuple element before the last: a copy where the
    /// element form is escaped.
    type Element<'a>;

    /// Appends the element form of `value` to `out`.
    fn encode_element(value: &Self::Write<'_>, out: &mut Vec<u8>);

    /// Reads one element form from the front of `bytes`, advancing past it.
    fn decode_element<'a>(bytes: &mut &'a [u8]) -> Result<Self::Element<'a>, DecodeError>;

    /// Turns a read element into an owned value.
    fn element_to_owned(element: Self::Element<'_>) -> Self::Owned;
}

/// Takes the first `n` bytes off the front of `bytes`.
pub(crate) fn take_front<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if bytes.len() < n {
        return Err(DecodeError::new(format!(
            "{} bytes where an element needs {n}",
            bytes.len()
        )));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}
