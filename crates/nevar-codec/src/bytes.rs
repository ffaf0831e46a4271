//! Variable-length keys and values: strings and byte strings, stored as their own bytes (in
//! a tuple before the last position, in the escaped element form of `escape.rs`), and
//! fixed-size byte arrays.
//!
//! The borrowed types (`&str`, `&[u8]`) read without a copy; the owned ones (`String`,
//! `Vec<u8>`) have the same encoding and type name, so either opens the other's tree.

use std::borrow::Cow;

use crate::{DecodeError, Key, Value, escape, take_front};

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::new("string bytes are not UTF-8"))
}

impl Value for &str {
    type Write<'a> = &'a str;
    type Read<'a> = &'a str;
    type Owned = String;
    type Bytes<'a> = &'a [u8];

    fn type_name() -> String {
        "str".into()
    }
    #[inline]
    fn encode<'a>(value: &'a &str) -> &'a [u8] {
        value.as_bytes()
    }
    #[inline]
    fn decode(bytes: &[u8]) -> Result<&str, DecodeError> {
        utf8(bytes)
    }
    fn to_owned(value: &str) -> String {
        value.to_owned()
    }
    fn as_write(value: &String) -> &str {
        value
    }
}

impl Key for &str {
    type Element<'a> = Cow<'a, str>;

    fn encode_element(value: &&str, out: &mut Vec<u8>) {
        escape::encode(value.as_bytes(), out)
    }
    fn decode_element<'a>(bytes: &mut &'a [u8]) -> Result<Cow<'a, str>, DecodeError> {
        Ok(match escape::decode(bytes)? {
            Cow::Borrowed(raw) => Cow::Borrowed(utf8(raw)?),
            Cow::Owned(raw) => Cow::Owned(utf8(&raw)?.to_owned()),
        })
    }
    fn element_to_owned(element: Cow<'_, str>) -> String {
        element.into_owned()
    }
}

impl Value for String {
    type Write<'a> = &'a str;
    type Read<'a> = String;
    type Owned = String;
    type Bytes<'a> = &'a [u8];

    fn type_name() -> String {
        "str".into()
    }
    fn encode<'a>(value: &'a &str) -> &'a [u8] {
        value.as_bytes()
    }
    fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
        utf8(bytes).map(str::to_owned)
    }
    fn to_owned(value: String) -> String {
        value
    }
    fn as_write(value: &String) -> &str {
        value
    }
}

impl Key for String {
    type Element<'a> = String;

    fn encode_element(value: &&str, out: &mut Vec<u8>) {
        escape::encode(value.as_bytes(), out)
    }
    fn decode_element(bytes: &mut &[u8]) -> Result<String, DecodeError> {
        <&str as Key>::decode_element(bytes).map(Cow::into_owned)
    }
    fn element_to_owned(element: String) -> String {
        element
    }
}

impl Value for &[u8] {
    type Write<'a> = &'a [u8];
    type Read<'a> = &'a [u8];
    type Owned = Vec<u8>;
    type Bytes<'a> = &'a [u8];

    fn type_name() -> String {
        "bytes".into()
    }
    #[inline]
    fn encode<'a>(value: &'a &[u8]) -> &'a [u8] {
        value
    }
    #[inline]
    fn decode(bytes: &[u8]) -> Result<&[u8], DecodeError> {
        Ok(bytes)
    }
    fn to_owned(value: &[u8]) -> Vec<u8> {
        value.to_vec()
    }
    fn as_write(value: &Vec<u8>) -> &[u8] {
        value
    }
}

impl Key for &[u8] {
    type Element<'a> = Cow<'a, [u8]>;

    fn encode_element(value: &&[u8], out: &mut Vec<u8>) {
        escape::encode(value, out)
    }
    fn decode_element<'a>(bytes: &mut &'a [u8]) -> Result<Cow<'a, [u8]>, DecodeError> {
        escape::decode(bytes)
    }
    fn element_to_owned(element: Cow<'_, [u8]>) -> Vec<u8> {
        element.into_owned()
    }
}

impl Value for Vec<u8> {
    type Write<'a> = &'a [u8];
    type Read<'a> = Vec<u8>;
    type Owned = Vec<u8>;
    type Bytes<'a> = &'a [u8];

    fn type_name() -> String {
        "bytes".into()
    }
    fn encode<'a>(value: &'a &[u8]) -> &'a [u8] {
        value
    }
    fn decode(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        Ok(bytes.to_vec())
    }
    fn to_owned(value: Vec<u8>) -> Vec<u8> {
        value
    }
    fn as_write(value: &Vec<u8>) -> &[u8] {
        value
    }
}

impl Key for Vec<u8> {
    type Element<'a> = Vec<u8>;

    fn encode_element(value: &&[u8], out: &mut Vec<u8>) {
        escape::encode(value, out)
    }
    fn decode_element(bytes: &mut &[u8]) -> Result<Vec<u8>, DecodeError> {
        escape::decode(bytes).map(Cow::into_owned)
    }
    fn element_to_owned(element: Vec<u8>) -> Vec<u8> {
        element
    }
}

impl<const N: usize> Value for [u8; N] {
    type Write<'a> = [u8; N];
    type Read<'a> = [u8; N];
    type Owned = [u8; N];
    type Bytes<'a> = [u8; N];

    fn type_name() -> String {
        format!("[u8;{N}]")
    }
    fn encode(value: &[u8; N]) -> [u8; N] {
        *value
    }
    fn decode(bytes: &[u8]) -> Result<[u8; N], DecodeError> {
        bytes.try_into().map_err(|_| {
            DecodeError::new(format!("{} bytes where [u8; {N}] needs {N}", bytes.len()))
        })
    }
    fn to_owned(value: [u8; N]) -> [u8; N] {
        value
    }
    fn as_write(value: &[u8; N]) -> [u8; N] {
        *value
    }
}

impl<const N: usize> Key for [u8; N] {
    type Element<'a> = [u8; N];

    fn encode_element(value: &[u8; N], out: &mut Vec<u8>) {
        out.extend_from_slice(value)
    }
    fn decode_element(bytes: &mut &[u8]) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::decode(take_front(bytes, N)?)
    }
    fn element_to_owned(element: [u8; N]) -> [u8; N] {
        element
    }
}
