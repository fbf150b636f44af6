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
use serde::Serialize;

use crate::json::{self, FromJson, JsonError};

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

impl<T: FromJson> Decodes<T> for TextJsonEncoding {
    type Error = JsonError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| JsonError {
            what: "not UTF-8".into(),
            at: e.valid_up_to(),
        })?;
        json::from_str(text)
    }
}

/// The answer encoding of every server function the browser calls:
/// `#[server(output = crate::wire::Json)]`.
pub type Json = Post<TextJsonEncoding>;

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
