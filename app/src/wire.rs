//! How server functions' answers (and their `AppError`s) are encoded: JSON, as
//! server_fn's own `Json`, but decoded from text in the browser.
//!
//! The WASM client decodes JSON from two kinds of input: text (the islands' props,
//! the socket's frames) and server functions' answers, which server_fn's `Json`
//! decodes from bytes. serde_json compiles a type's decoder once per kind of input,
//! so every type that arrived both ways (a list: in the page, then reloaded) was in the
//! module twice. Decoding answers from text too keeps one of each (about 90 KB of
//! code before optimisation, 2026-12-04). The bytes on the wire do not change.

use leptos::server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON decoded from text: see the module's documentation.
pub struct TextJsonEncoding;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// The answer encoding of every server function the browser calls:
/// `#[server(output = crate::wire::Json)]`.
pub type Json = Post<TextJsonEncoding>;

/// A field an internally tagged enum's variant needs, read through a flat struct of
/// optional fields (`AppError`, `protocol::ServerFrame`): the derived reader of such an
/// enum buffers the whole object into serde's `Content` before it picks the variant,
/// and that machinery (with the float formatting its errors bring) was about 50 KB of
/// the WASM client's code, 10.7 KB of its brotli, for those two types alone
/// (2026-12-06). A flat struct reads the object once, in any key order.
pub fn required<T, E: serde::de::Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_decodes_to_the_same_value() {
        let value = vec![("café".to_owned(), 12_i64)];
        let bytes = <TextJsonEncoding as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&value).unwrap());
        let back: Vec<(String, i64)> = TextJsonEncoding::decode(bytes).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_not_a_panic() {
        let decoded: Result<String, _> = TextJsonEncoding::decode(Bytes::from_static(b"\"\xff\""));
        assert!(decoded.is_err());
    }
}
