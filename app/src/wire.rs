//! How server functions' arguments and answers (and their `AppError`s) are encoded.
//!
//! Arguments: a form, as server_fn's `PostUrl` sends it, read on the server by
//! [`form::decode`] (`input = crate::wire::Form`). Answers: JSON, as server_fn's own
//! `Json`, but decoded from text in the browser (`output = crate::wire::Json`).
//!
//! The WASM client decodes JSON from two kinds of input: text (the islands' props,
//! the socket's frames) and server functions' answers, which server_fn's `Json`
//! decodes from bytes. serde_json compiles a type's decoder once per kind of input,
//! so every type that arrived both ways (a list: in the page, then reloaded) was in the
//! module twice. Decoding answers from text too keeps one of each (about 90 KB of
//! code before optimisation, 2026-12-04). The bytes on the wire do not change.

mod form;

use leptos::server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

pub use form::FormError;

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

/// A form, `application/x-www-form-urlencoded`: written by `serde_qs` as server_fn's
/// `PostUrl` writes it, read by [`form::decode`].
pub struct FormEncoding;

impl ContentType for FormEncoding {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

impl FormatType for FormEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for FormEncoding {
    type Error = serde_qs::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_qs::to_string(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for FormEncoding {
    type Error = FormError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        form::decode(&bytes)
    }
}

/// The argument encoding of the server functions that take a form, other than those
/// Leptos' `<ActionForm>` posts to (it asks for `PostUrl`, the same bytes):
/// `#[server(input = crate::wire::Form)]`.
pub type Form = Post<FormEncoding>;

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
