//! [`CustomerId`]: the identity of one customer and of its Automerge document.

use std::{fmt, str::FromStr, sync::Arc};

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};

/// Identifies a customer, and with it the Automerge document that holds the customer.
///
/// The text is a UUID made by the runtime (the browser's `crypto.randomUUID()`): `shared` has
/// no randomness of its own. It is an `Arc<str>` because lists of ids are cloned on every
/// keystroke of a search.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(Arc<str>);

/// Why a text is not a customer id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid customer id {0:?}: expected 1-64 characters of letters, digits or '-'")]
pub struct ParseCustomerIdError(String);

impl CustomerId {
    /// The id as text, as stored in documents and IndexedDB keys.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CustomerId {
    type Err = ParseCustomerIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(CustomerId(Arc::from(text)))
        } else {
            Err(ParseCustomerIdError(text.to_string()))
        }
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({})", self.0)
    }
}

impl serde::Serialize for CustomerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CustomerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Parsed from the text as the format lends it: serde's `Cow<str>` always copies it
        // into a `String` first, one allocation more per id (10,000 per start).
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = CustomerId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a customer id")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CustomerId, E> {
                text.parse().map_err(E::custom)
            }

            /// UTF-8 bytes as text, as `String` (and so the `Cow<str>` read before) takes them.
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<CustomerId, E> {
                match std::str::from_utf8(bytes) {
                    Ok(text) => self.visit_str(text),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self)),
                }
            }
        }
        deserializer.deserialize_str(Text)
    }
}

impl Reconcile for CustomerId {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(&self.0)
    }
}

impl Hydrate for CustomerId {
    fn hydrate_string(text: &'_ str) -> Result<Self, HydrateError> {
        text.parse()
            .map_err(|_| HydrateError::unexpected("a customer id", text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uuids_and_rejects_garbage() {
        let id: CustomerId = "0b6c2f6e-4a59-4f7e-9a51-2d7c9a1f0c11".parse().unwrap();
        assert_eq!(id.as_str(), "0b6c2f6e-4a59-4f7e-9a51-2d7c9a1f0c11");
        assert!("".parse::<CustomerId>().is_err());
        assert!("a/b".parse::<CustomerId>().is_err());
        assert!("x".repeat(65).parse::<CustomerId>().is_err());
    }

    #[test]
    fn deserializes_from_text_or_utf8_bytes_and_checks_both() {
        use serde::de::{value, Deserialize, IntoDeserializer};
        let from_text =
            CustomerId::deserialize(IntoDeserializer::<value::Error>::into_deserializer("c-1"));
        assert_eq!(from_text.unwrap().as_str(), "c-1");
        let bytes = |b: &'static [u8]| {
            CustomerId::deserialize(value::BytesDeserializer::<value::Error>::new(b))
        };
        assert_eq!(bytes(b"c-2").unwrap().as_str(), "c-2");
        assert!(bytes(b"a/b").is_err(), "not an id");
        assert!(bytes(&[0xff, 0xfe]).is_err(), "not UTF-8");
        let bad_text =
            CustomerId::deserialize(IntoDeserializer::<value::Error>::into_deserializer("a b"));
        assert!(bad_text.is_err());
    }
}
