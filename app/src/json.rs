//! The browser's JSON reader: what the WASM client decodes (islands' props, server
//! functions' answers, the socket's frames) is read here, not by serde.
//!
//! serde's derived readers compile a visitor, a field identifier and their error paths
//! per type and per input kind; in the client they were the largest single kind of code
//! (about a fifth of it, 2026-12-06). Here one small reader serves every type, and each
//! type's `FromJson` is a loop over its keys (`json_struct!`), a match over names
//! (`json_enum!`) or a few lines by hand. The server still writes everything with serde;
//! each type's tests read what serde writes, so the two cannot drift apart unnoticed.
//!
//! What it accepts is JSON as `serde_json` writes it and as RFC 8259 defines it; what it
//! refuses: trailing input, numbers out of the target's range, a fraction or exponent
//! where an integer is expected, unpaired surrogate escapes, nesting deeper than
//! `MAX_DEPTH`. Unknown keys are skipped (a later server may add fields).

use std::{borrow::Cow, fmt};

/// Containers nested deeper than this are refused (serde_json's limit too).
const MAX_DEPTH: u32 = 128;

/// Why a text could not be read: what was expected, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub what: Cow<'static, str>,
    pub at: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for JsonError {}

pub type JsonResult<T> = Result<T, JsonError>;

/// A pull reader over one JSON text.
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// An error at the current position.
    pub fn error(&self, what: impl Into<Cow<'static, str>>) -> JsonError {
        JsonError {
            what: what.into(),
            at: self.pos,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not white space, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                return Some(b);
            }
        }
        None
    }

    fn eat(&mut self, byte: u8) -> JsonResult<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(match byte {
                b'{' => "expected an object",
                b'[' => "expected an array",
                b'"' => "expected a string",
                b':' => "expected ':'",
                _ => "unexpected character",
            }))
        }
    }

    fn word(&mut self, word: &str) -> bool {
        self.peek();
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes a `null` if one is next.
    pub fn null(&mut self) -> bool {
        self.word("null")
    }

    pub fn bool(&mut self) -> JsonResult<bool> {
        if self.word("true") {
            Ok(true)
        } else if self.word("false") {
            Ok(false)
        } else {
            Err(self.error("expected true or false"))
        }
    }

    /// An integer, as its sign and magnitude (a fraction or an exponent is an error).
    fn integer(&mut self) -> JsonResult<(bool, u64)> {
        self.peek();
        let negative = self.sign();
        let start = self.int_part()?;
        if matches!(self.bytes().get(self.pos), Some(b'.' | b'e' | b'E')) {
            return Err(self.error("expected an integer, found a fraction"));
        }
        let mut value: u64 = 0;
        for &b in &self.bytes()[start..self.pos] {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| self.error("number out of range"))?;
        }
        Ok((negative, value))
    }

    /// Consumes a `-` if one is next.
    fn sign(&mut self) -> bool {
        let negative = self.bytes().get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        negative
    }

    /// The digits of a number's integer part (at least one, no leading zero); returns
    /// where they start.
    fn int_part(&mut self) -> JsonResult<usize> {
        let start = self.pos;
        let digits = self.digits();
        if digits == 0 || (digits > 1 && self.bytes()[start] == b'0') {
            return Err(self.error("expected a number"));
        }
        Ok(start)
    }

    /// Consumes ASCII digits; returns how many.
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.bytes().get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    pub fn i64(&mut self) -> JsonResult<i64> {
        match self.integer()? {
            (false, v) => i64::try_from(v).map_err(|_| self.error("number out of range")),
            (true, v) if v <= i64::MAX as u64 + 1 => Ok((v as i64).wrapping_neg()),
            (true, _) => Err(self.error("number out of range")),
        }
    }

    pub fn u64(&mut self) -> JsonResult<u64> {
        match self.integer()? {
            (false, v) => Ok(v),
            (true, 0) => Ok(0),
            (true, _) => Err(self.error("expected a number of 0 or more")),
        }
    }

    /// A string, borrowed from the text when it holds no escape.
    pub fn str(&mut self) -> JsonResult<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.bytes();
        // Fast path: up to the closing quote, no escape.
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return Err(self.error("control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let unit = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&unit) {
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return Err(self.error("unpaired surrogate"));
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(self.error("unpaired surrogate"));
                                }
                                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                unit
                            };
                            out.push(
                                char::from_u32(code)
                                    .ok_or_else(|| self.error("unpaired surrogate"))?,
                            );
                            continue;
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    out.push(escaped);
                    self.pos += 1;
                }
                Some(&b) if b < 0x20 => return Err(self.error("control character in a string")),
                Some(_) => {
                    // Copy up to the next quote or escape (whole UTF-8 sequences).
                    let from = self.pos;
                    while let Some(&b) = bytes.get(self.pos) {
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.text[from..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> JsonResult<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("bad \\u escape"))?;
        let unit = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(unit)
    }

    fn enter(&mut self, open: u8) -> JsonResult<()> {
        self.eat(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        Ok(())
    }

    /// Reads an object, handing each key to `field`, which must read (or `skip`) its
    /// value.
    pub fn object(
        &mut self,
        field: &mut dyn FnMut(&mut Reader<'a>, &str) -> JsonResult<()>,
    ) -> JsonResult<()> {
        self.container(b'{', b'}', &mut |r| {
            let key = r.str()?;
            r.eat(b':')?;
            field(r, &key)
        })
    }

    /// Reads an array, calling `item` to read each element.
    pub fn array(
        &mut self,
        item: &mut dyn FnMut(&mut Reader<'a>) -> JsonResult<()>,
    ) -> JsonResult<()> {
        self.container(b'[', b']', item)
    }

    /// `open`, then the members separated by commas (each read by `member`), then
    /// `close`: the frame of both objects and arrays.
    fn container(
        &mut self,
        open: u8,
        close: u8,
        member: &mut dyn FnMut(&mut Reader<'a>) -> JsonResult<()>,
    ) -> JsonResult<()> {
        self.enter(open)?;
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                member(self)?;
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b) if b == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or the container's end")),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Reads past one value of any kind, checking that it is well formed.
    pub fn skip(&mut self) -> JsonResult<()> {
        match self.peek() {
            Some(b'{') => self.object(&mut |r, _| r.skip()),
            Some(b'[') => self.array(&mut |r| r.skip()),
            Some(b'"') => self.str().map(drop),
            Some(b't' | b'f') => self.bool().map(drop),
            Some(b'n') if self.null() => Ok(()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    /// Reads past a number of any size and form.
    fn number(&mut self) -> JsonResult<()> {
        self.sign();
        self.int_part()?;
        if self.bytes().get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        if matches!(self.bytes().get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes().get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        Ok(())
    }

    /// One value's text, as it stands (for a value whose type is known only later).
    pub fn raw(&mut self) -> JsonResult<&'a str> {
        self.peek();
        let start = self.pos;
        self.skip()?;
        Ok(&self.text[start..self.pos])
    }

    /// Checks that nothing but white space follows.
    pub fn end(&mut self) -> JsonResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }
}

/// A type the browser reads from JSON.
pub trait FromJson: Sized {
    fn read(r: &mut Reader<'_>) -> JsonResult<Self>;

    /// What a missing field of this type reads as; `None`: it is an error.
    fn absent() -> Option<Self> {
        None
    }
}

/// Reads a whole text as a `T`.
pub fn from_str<T: FromJson>(text: &str) -> JsonResult<T> {
    let mut r = Reader::new(text);
    let value = T::read(&mut r)?;
    r.end()?;
    Ok(value)
}

/// A struct's field after its object was read: the value, or what a missing one reads
/// as, or the error naming it.
pub fn field<T: FromJson>(value: Option<T>, name: &'static str) -> JsonResult<T> {
    required(value.or_else(T::absent), name)
}

/// A field a reader written by hand needs: the value, or the error naming it.
pub fn required<T>(value: Option<T>, name: &'static str) -> JsonResult<T> {
    match value {
        Some(value) => Ok(value),
        None => Err(missing(name)),
    }
}

/// Out of line: `required` is compiled once per field type, its error path once.
#[cold]
#[inline(never)]
fn missing(name: &'static str) -> JsonError {
    JsonError {
        what: format!("missing field `{name}`").into(),
        at: 0,
    }
}

/// Reads a string and looks it up: the unit enums' reader (`json_enum!`).
pub fn named<T: Copy>(r: &mut Reader<'_>, names: &[(&str, T)]) -> JsonResult<T> {
    let name = r.str()?;
    match names.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => Ok(*v),
        None => Err(unknown(r, &name)),
    }
}

/// An enum's name the reader does not know (`json_enum!`, and the tags read by hand).
#[cold]
#[inline(never)]
pub fn unknown(r: &Reader<'_>, name: &str) -> JsonError {
    r.error(format!("unknown variant `{name}`"))
}

impl FromJson for i64 {
    fn read(r: &mut Reader<'_>) -> JsonResult<i64> {
        r.i64()
    }
}

impl FromJson for u64 {
    fn read(r: &mut Reader<'_>) -> JsonResult<u64> {
        r.u64()
    }
}

impl FromJson for u32 {
    fn read(r: &mut Reader<'_>) -> JsonResult<u32> {
        let v = r.u64()?;
        u32::try_from(v).map_err(|_| r.error("number out of range"))
    }
}

impl FromJson for usize {
    fn read(r: &mut Reader<'_>) -> JsonResult<usize> {
        let v = r.u64()?;
        usize::try_from(v).map_err(|_| r.error("number out of range"))
    }
}

impl FromJson for u8 {
    fn read(r: &mut Reader<'_>) -> JsonResult<u8> {
        let v = r.u64()?;
        u8::try_from(v).map_err(|_| r.error("number out of range"))
    }
}

impl FromJson for bool {
    fn read(r: &mut Reader<'_>) -> JsonResult<bool> {
        r.bool()
    }
}

impl FromJson for String {
    fn read(r: &mut Reader<'_>) -> JsonResult<String> {
        r.str().map(Cow::into_owned)
    }
}

impl FromJson for () {
    fn read(r: &mut Reader<'_>) -> JsonResult<()> {
        if r.null() {
            Ok(())
        } else {
            Err(r.error("expected null"))
        }
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn read(r: &mut Reader<'_>) -> JsonResult<Option<T>> {
        if r.null() {
            Ok(None)
        } else {
            T::read(r).map(Some)
        }
    }

    fn absent() -> Option<Option<T>> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read(r: &mut Reader<'_>) -> JsonResult<Vec<T>> {
        let mut out = Vec::new();
        r.array(&mut |r| {
            out.push(T::read(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

/// Tuples are arrays of exactly their length, as serde writes them.
macro_rules! tuple {
    ($($t:ident $v:ident),+) => {
        impl<$($t: FromJson),+> FromJson for ($($t,)+) {
            fn read(r: &mut Reader<'_>) -> JsonResult<Self> {
                $( let mut $v = None; )+
                let mut n = 0;
                r.array(&mut |r| {
                    n += 1;
                    let mut i = 0;
                    $(
                        i += 1;
                        if i == n {
                            $v = Some($t::read(r)?);
                            return Ok(());
                        }
                    )+
                    Err(r.error("array too long"))
                })?;
                match ($($v,)+) {
                    ($(Some($v),)+) => Ok(($($v,)+)),
                    _ => Err(r.error("array too short")),
                }
            }
        }
    };
}
tuple!(A a, B b);
tuple!(A a, B b, C c);

/// `FromJson` for a struct with named fields, read as serde's derive writes it: an
/// object with a key per field (any order, unknown keys skipped). A field marked
/// `= default` reads as its type's `Default` when missing (`#[serde(default)]`); an
/// `Option` field reads as `None` when missing, as with serde. Every field must be
/// listed: the struct literal it builds does not compile otherwise.
macro_rules! json_struct {
    ($ty:ident { $($field:ident $(= $default:ident)?),* $(,)? }) => {
        impl $crate::json::FromJson for $ty {
            fn read(__reader: &mut $crate::json::Reader<'_>) -> $crate::json::JsonResult<Self> {
                $( let mut $field = None; )*
                __reader.object(&mut |__reader, __key| {
                    match __key {
                        $( stringify!($field) => $field = Some($crate::json::FromJson::read(__reader)?), )*
                        _ => __reader.skip()?,
                    }
                    Ok(())
                })?;
                Ok($ty {
                    $( $field: $crate::json::json_struct!(@field $field $($default)?), )*
                })
            }
        }
    };
    (@field $field:ident) => { $crate::json::field($field, stringify!($field))? };
    (@field $field:ident default) => { $field.unwrap_or_default() };
}
pub(crate) use json_struct;

/// `FromJson` for a unit enum, by the names serde writes (`"owner"`…).
macro_rules! json_enum {
    ($ty:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $crate::json::FromJson for $ty {
            fn read(r: &mut $crate::json::Reader<'_>) -> $crate::json::JsonResult<Self> {
                $crate::json::named(r, &[$( ($name, $ty::$variant) ),*])
            }
        }
    };
}
pub(crate) use json_enum;

/// `FromJson` for a type serde writes as a string, parsed by `parse` (an `Option`).
macro_rules! json_parsed {
    ($ty:ty, $parse:expr, $what:literal) => {
        impl $crate::json::FromJson for $ty {
            fn read(r: &mut $crate::json::Reader<'_>) -> $crate::json::JsonResult<Self> {
                let text = r.str()?;
                ($parse)(&*text).ok_or_else(|| r.error(concat!("not ", $what)))
            }
        }
    };
}
pub(crate) use json_parsed;

/// serde's `Deserialize` through `FromJson`, for a type read by hand (`AppError`,
/// `Envelope`) that the server reads with serde too: serde_json only cuts out the
/// value's text (`RawValue`) and hands it to this reader, so there is one reader.
macro_rules! serde_via_json {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <Box<serde_json::value::RawValue> as serde::Deserialize>::deserialize(d)?;
                $crate::json::from_str(raw.get()).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_json;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    /// Reads what serde writes for `value`; and the same text pretty-printed (white
    /// space anywhere).
    pub fn round_trip<T: FromJson + Serialize + PartialEq + fmt::Debug>(value: &T) {
        let text = serde_json::to_string(value).unwrap();
        assert_eq!(&from_str::<T>(&text).unwrap(), value, "{text}");
        let pretty = serde_json::to_string_pretty(value).unwrap();
        assert_eq!(&from_str::<T>(&pretty).unwrap(), value, "{pretty}");
    }

    #[test]
    fn scalars_read_as_serde_writes_them() {
        round_trip(&0_i64);
        round_trip(&i64::MIN);
        round_trip(&i64::MAX);
        round_trip(&u64::MAX);
        round_trip(&255_u8);
        round_trip(&true);
        round_trip(&Some(3_i64));
        round_trip(&None::<i64>);
        round_trip(&vec![(String::from("EUR"), -5_i64)]);
        round_trip(&vec![(String::from("a"), String::from("b"), 1_i64)]);
        round_trip(&Vec::<i64>::new());
    }

    #[test]
    fn strings_with_every_escape_read_back() {
        for s in [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "\u{8}\u{c}\n\r\t\u{1}\u{1f}",
            "café ünïcödé 日本 😀 \u{2028}",
            "<script>&amp;</script>",
        ] {
            round_trip(&s.to_owned());
        }
        assert_eq!(
            from_str::<String>(r#""\u00e9\ud83d\ude00\/""#).unwrap(),
            "é😀/"
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "[1,",
            "\"open",
            "\"\\ud83d\"",
            "\"\\ud83d\\u0041\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\u{1}b\"",
            "01",
            "-",
            "1.5",
            "1e3",
            "99999999999999999999",
            "nul",
            "1 2",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
        ] {
            assert!(from_str::<i64>(bad).is_err(), "{bad:?} as i64");
            assert!(from_str::<Vec<i64>>(bad).is_err(), "{bad:?} as Vec");
            assert!(from_str::<String>(bad).is_err(), "{bad:?} as String");
        }
        assert!(from_str::<u8>("256").is_err());
        assert!(from_str::<u64>("-1").is_err());
        assert!(from_str::<i64>("9223372036854775808").is_err());
        assert_eq!(from_str::<i64>("-9223372036854775808").unwrap(), i64::MIN);
        assert!(from_str::<(i64, i64)>("[1]").is_err());
        assert!(from_str::<(i64, i64)>("[1,2,3]").is_err());
    }

    #[test]
    fn nesting_is_limited() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let mut r = Reader::new(&deep);
        assert!(r.skip().is_err());
        let ok = "[".repeat(100) + &"]".repeat(100);
        let mut r = Reader::new(&ok);
        assert!(r.skip().is_ok());
    }

    #[derive(Debug, PartialEq, Serialize)]
    struct Sample {
        id: i64,
        name: String,
        note: Option<String>,
        tags: Vec<String>,
    }
    json_struct!(Sample { id, name, note, tags = default });

    #[test]
    fn structs_skip_unknown_keys_and_fill_missing_ones() {
        round_trip(&Sample {
            id: 1,
            name: "x".into(),
            note: Some("n".into()),
            tags: vec!["a".into()],
        });
        let read: Sample =
            from_str(r#"{"later": {"deep": [1, 2.5e-3, null, true, "s"]}, "name": "y", "id": -4}"#)
                .unwrap();
        assert_eq!(
            read,
            Sample {
                id: -4,
                name: "y".into(),
                note: None,
                tags: vec![],
            }
        );
        let missing = from_str::<Sample>(r#"{"name": "y"}"#).unwrap_err();
        assert!(missing.what.contains("`id`"), "{missing}");
        assert!(from_str::<Sample>(r#"{"id": "1", "name": "y"}"#).is_err());
    }

    #[test]
    fn a_raw_value_is_its_text() {
        let mut r = Reader::new(r#"[ {"a": [1, "]"]} , 2]"#);
        let mut raws = Vec::new();
        r.array(&mut |r| {
            raws.push(r.raw()?);
            Ok(())
        })
        .unwrap();
        assert_eq!(raws, [r#"{"a": [1, "]"]}"#, "2"]);
    }
}
