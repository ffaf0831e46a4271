//! `Option<T>` as a value: a tag byte, then the inner value's encoding.
//!
//! ```text
//! None:    +------+
//!          | 0x00 |
//!          +------+
//! Some(v): +------+---------------------+
//!          | 0x01 | v's encoding        |
//!          +------+---------------------+
//! ```

use crate::{DecodeError, Value};

const NONE: u8 = 0;
const SOME: u8 = 1;

impl<T: Value> Value for Option<T> {
    type Write<'a> = Option<T::Write<'a>>;
    type Read<'a> = Option<T::Read<'a>>;
    type Owned = Option<T::Owned>;
    type Bytes<'a> = Vec<u8>;

    fn type_name() -> String {
        format!("Option<{}>", T::type_name())
    }
    fn encode(value: &Self::Write<'_>) -> Vec<u8> {
        match value {
            None => vec![NONE],
            Some(inner) => {
                let bytes = T::encode(inner);
                let mut out = Vec::with_capacity(1 + bytes.as_ref().len());
                out.push(SOME);
                out.extend_from_slice(bytes.as_ref());
                out
            }
        }
    }
    fn decode(bytes: &[u8]) -> Result<Self::Read<'_>, DecodeError> {
        match bytes.split_first() {
            Some((&NONE, [])) => Ok(None),
            Some((&SOME, inner)) => T::decode(inner).map(Some),
            Some((&NONE, _)) => Err(DecodeError::new("bytes after an Option's None tag")),
            Some((tag, _)) => Err(DecodeError::new(format!(
                "Option tag {tag:#04x}, not 0 or 1"
            ))),
            None => Err(DecodeError::new("an Option needs its tag byte")),
        }
    }
    fn to_owned(value: Self::Read<'_>) -> Self::Owned {
        value.map(T::to_owned)
    }
    fn as_write(value: &Self::Owned) -> Self::Write<'_> {
        value.as_ref().map(T::as_write)
    }
}
