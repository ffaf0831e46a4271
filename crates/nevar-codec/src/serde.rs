//! Any serde type as a value, encoded with postcard.
//!
//! postcard is compact (varint integers, no field names), stable in its wire format since
//! 1.0 and well kept; it is what a value with a dozen small fields wants. Values only: its
//! bytes do not sort in the type's order.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{DecodeError, Value};

/// A value of serde type `T`, stored in postcard's encoding: `TreeDef<u64, Serde<User>>`.
///
/// The recorded type name is `serde:` followed by [`std::any::type_name`] of `T`, so a tree
/// written with one struct is refused when opened with another.
///
/// ```
/// use nevar_codec::{Serde, Value};
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Point {
///     x: i32,
///     y: i32,
/// }
///
/// let bytes = Serde::<Point>::encode(&&Point { x: 1, y: -1 });
/// assert_eq!(bytes, [2, 1]); // zigzag varints
/// assert_eq!(Serde::<Point>::decode(&bytes), Ok(Point { x: 1, y: -1 }));
/// ```
pub struct Serde<T>(PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned + 'static> Value for Serde<T> {
    type Write<'a> = &'a T;
    type Read<'a> = T;
    type Owned = T;
    type Bytes<'a> = Vec<u8>;

    fn type_name() -> String {
        format!("serde:{}", std::any::type_name::<T>())
    }
    fn encode(value: &&T) -> Vec<u8> {
        // Serializing into a Vec fails only for types whose Serialize impl itself fails
        // (say, a map with non-string keys in a format that needs them); postcard has no
        // such restriction, and a custom impl's own error is a bug in that impl.
        postcard::to_allocvec(*value).expect("a serde value serializes with postcard")
    }
    fn decode(bytes: &[u8]) -> Result<T, DecodeError> {
        postcard::from_bytes(bytes).map_err(|e| DecodeError::new(format!("postcard: {e}")))
    }
    fn to_owned(value: T) -> T {
        value
    }
    fn as_write(value: &T) -> &T {
        value
    }
}
