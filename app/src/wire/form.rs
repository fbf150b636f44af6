//! Server functions' arguments as a form (`application/x-www-form-urlencoded`), read in
//! one pass when the form is flat.
//!
//! server_fn's `PostUrl` decodes every form with `serde_qs`, which walks the body one
//! byte at a time through a parser built for nested keys (`a[b][0]=…`); for a write
//! with a 200-character description that was 16k of the write's 277k instructions
//! (ARCHITECTURE, "The write path", fourteenth session). The forms the app posts are
//! flat (`name=value&…`), so [`decode`] reads those itself: it splits on `&` and `=`,
//! turns `+` into spaces and `%XX` into bytes only in a value that has them, and hands
//! each value to the argument's type as `serde_qs` would. Anything else (a nested or
//! repeated-index key, an empty pair, a key with an escape) goes to `serde_qs` as
//! before.
//!
//! "As `serde_qs` would" is exact, not approximate, for a form read as a struct (every
//! server function's arguments) or a map: the same values, the same defaults, the same
//! errors with the same messages (a repeated key, a number that does not parse, an
//! empty value for an `Option`, a unit enum's name, fields the function does not
//! take). The tests below hold the two decoders to the same result over hand-written
//! forms and generated ones. What is mirrored is `serde_qs` 0.15 in
//! server_fn's configuration (depth 5, not strict), the version server_fn 0.8 uses.

use std::borrow::Cow;
use std::fmt;

use memchr::{memchr, memchr2};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

/// Why a form did not decode: the message `serde_qs` gives for the same form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(String);

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormError {}

impl de::Error for FormError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FormError(msg.to_string())
    }
}

/// `body` as `T`: read here when the form is flat, by `serde_qs` otherwise.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FormError> {
    // server_fn's `PostUrl` takes the body as a `String` first.
    let text = std::str::from_utf8(body).map_err(de::Error::custom)?;
    match Flat::parse(text) {
        Some(flat) => T::deserialize(flat),
        None => serde_qs::Config::new(5, false)
            .deserialize_str(text)
            .map_err(de::Error::custom),
    }
}

/// A flat form's pairs, each name once, in the order first seen.
struct Flat<'a> {
    pairs: Vec<(&'a str, Value<'a>)>,
    /// The struct's fields not yet given, in declaration order (`serde_qs` gives the
    /// fields it has in that order, then the other names in sorted order).
    fields: &'static [&'static str],
    /// The value of the name last given, until it is asked for.
    value: Option<Value<'a>>,
}

/// One name's value.
enum Value<'a> {
    /// Decoded (`+` a space, `%XX` a byte, then UTF-8 with replacement characters, as
    /// `serde_qs` in server_fn's non-strict mode).
    Text(Cow<'a, str>),
    /// The name came more than once: an error wherever it is read.
    Repeated(String),
    /// A unit variant has no fields: what is read through it is this error.
    UnitOnly,
}

const UNIT_ONLY: &str = "this value can only deserialize to a UnitVariant";

impl<'a> Flat<'a> {
    /// The pairs of `text` when every one is `name=value` with a name of ASCII letters,
    /// digits and `_`; `None` for anything else (`serde_qs` then reads it).
    fn parse(text: &'a str) -> Option<Flat<'a>> {
        if text.is_empty() {
            return None;
        }
        let mut pairs: Vec<(&'a str, Value<'a>)> = Vec::new();
        let mut rest = text;
        loop {
            // `memchr` looks at many bytes at a time: a value may be long.
            let (pair, more) = match memchr(b'&', rest.as_bytes()) {
                Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                None => (rest, None),
            };
            let (name, value) = pair.split_at(memchr(b'=', pair.as_bytes())?);
            let value = &value[1..];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            match pairs.iter_mut().find(|(n, _)| *n == name) {
                Some((_, seen)) => {
                    *seen = Value::Repeated(format!("Multiple values for one key: \"{name}\""))
                }
                None => pairs.push((name, Value::Text(unescape(value)))),
            }
            match more {
                Some(more) => rest = more,
                None => break,
            }
        }
        Some(Flat {
            pairs,
            fields: &[],
            value: None,
        })
    }

    /// The next pair to give: a declared field while any is left, then the rest by name.
    fn next_pair(&mut self) -> Option<(&'a str, Value<'a>)> {
        while let Some((field, rest)) = self.fields.split_first() {
            self.fields = rest;
            if let Some(at) = self.pairs.iter().position(|(n, _)| n == field) {
                return Some(self.pairs.remove(at));
            }
        }
        let first = self
            .pairs
            .iter()
            .enumerate()
            .min_by_key(|(_, (n, _))| *n)
            .map(|(at, _)| at)?;
        Some(self.pairs.remove(first))
    }
}

/// `+` as a space and `%XX` as its byte; a `%` without two hex digits stays as it is.
/// The bytes between them are copied a run at a time.
fn unescape(value: &str) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    let Some(first) = memchr2(b'+', b'%', bytes) else {
        return Cow::Borrowed(value);
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut at = first;
    while at < bytes.len() {
        // `at` is at a `+` or a `%`.
        if bytes[at] == b'+' {
            out.push(b' ');
            at += 1;
        } else {
            match (
                bytes.get(at + 1).and_then(|h| hex(*h)),
                bytes.get(at + 2).and_then(|l| hex(*l)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    at += 3;
                }
                _ => {
                    out.push(b'%');
                    at += 1;
                }
            }
        }
        let run = memchr2(b'+', b'%', &bytes[at..]).unwrap_or(bytes.len() - at);
        out.extend_from_slice(&bytes[at..at + run]);
        at += run;
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// A flat form read as a struct (a server function's arguments) or a map. Anything else
/// at the top of a form is refused with `serde_qs`' words for a primitive: no server
/// function's arguments are one.
impl<'de> de::Deserializer<'de> for Flat<'de> {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FormError> {
        Err(FormError(
            "cannot deserialize primitive at the top level.Try deserializing into a struct.".into(),
        ))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FormError> {
        self.fields = fields;
        visitor.visit_map(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string unit option
        bytes byte_buf unit_struct newtype_struct seq tuple tuple_struct enum
        identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for Flat<'de> {
    type Error = FormError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FormError> {
        let Some((name, value)) = self.next_pair() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(Name(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, FormError> {
        let value = self.value.take().ok_or_else(|| {
            FormError("Somehow the map was empty after a non-empty key was returned".into())
        })?;
        seed.deserialize(value)
    }
}

/// A name, or a unit variant's name: text that numbers and `true`/`false` parse from.
struct Name<'a>(&'a str);

macro_rules! parse_as {
    ($($method:ident => $ty:ty,)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
                match self.text()?.parse::<$ty>() {
                    Ok(parsed) => {
                        de::Deserializer::$method(IntoDeserializer::<FormError>::into_deserializer(parsed), visitor)
                    }
                    Err(e) => Err(de::Error::custom(e)),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Name<'_> {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        // `serde_qs` hands a name over as an owned-or-borrowed `Cow`, which serde gives
        // visitors as a plain `&str`.
        visitor.visit_str(self.0)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FormError> {
        visitor.visit_enum(Value::Text(Cow::Owned(self.0.to_owned())))
    }

    parse_as! {
        deserialize_bool => bool, deserialize_u8 => u8, deserialize_u16 => u16,
        deserialize_u32 => u32, deserialize_u64 => u64, deserialize_i8 => i8,
        deserialize_i16 => i16, deserialize_i32 => i32, deserialize_i64 => i64,
        deserialize_f32 => f32, deserialize_f64 => f64,
    }

    serde::forward_to_deserialize_any! {
        map struct seq option char str string unit bytes byte_buf unit_struct
        newtype_struct tuple_struct identifier tuple ignored_any
    }
}

impl Name<'_> {
    /// What `parse_as!` parses, as for a [`Value`] (a name is always text).
    fn text(&self) -> Result<&str, FormError> {
        Ok(self.0)
    }
}

impl<'de> Value<'de> {
    fn text(&self) -> Result<&str, FormError> {
        match self {
            Value::Text(text) => Ok(text),
            Value::Repeated(message) => Err(FormError(message.clone())),
            Value::UnitOnly => Err(FormError(UNIT_ONLY.into())),
        }
    }

    /// How `serde_qs` names the value in some errors (its `Debug`).
    fn debug(&self) -> String {
        match self {
            Value::Text(text) => format!("Flat({text:?})"),
            Value::Repeated(message) => format!("Invalid({message:?})"),
            Value::UnitOnly => format!("Invalid({UNIT_ONLY:?})"),
        }
    }
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match self {
            Value::Text(Cow::Borrowed(text)) => visitor.visit_borrowed_str(text),
            Value::Text(Cow::Owned(text)) => visitor.visit_string(text),
            other => Err(other.text().unwrap_err()),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, FormError> {
        match self {
            Value::Text(_) => Err(FormError(format!(
                "could not convert {} to QsDeserializer<'a>",
                self.debug()
            ))),
            other => Err(other.text().unwrap_err()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match &self {
            Value::Text(text) if text.is_empty() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match &self {
            Value::Text(text) if text.is_empty() => visitor.visit_unit(),
            _ => Err(FormError("expected unit".into())),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FormError> {
        match self {
            Value::Text(_) => visitor.visit_enum(self),
            other => Err(FormError(format!(
                "{} does not appear to be an enum",
                other.debug()
            ))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FormError> {
        match self {
            Value::Text(_) => visitor.visit_seq(One(Some(self))),
            other => Err(other.text().unwrap_err()),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        self.deserialize_any(visitor)
    }

    parse_as! {
        deserialize_bool => bool, deserialize_u8 => u8, deserialize_u16 => u16,
        deserialize_u32 => u32, deserialize_u64 => u64, deserialize_i8 => i8,
        deserialize_i16 => i16, deserialize_i32 => i32, deserialize_i64 => i64,
        deserialize_f32 => f32, deserialize_f64 => f64,
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit_struct tuple_struct identifier tuple
        ignored_any seq
    }
}

/// A value read as a unit variant's name; what the variant holds can only be nothing.
impl<'de> de::EnumAccess<'de> for Value<'de> {
    type Error = FormError;
    type Variant = Value<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Value<'de>), FormError> {
        match self {
            Value::Text(text) => {
                let variant = seed.deserialize(Name(&text))?;
                Ok((variant, Value::UnitOnly))
            }
            _ => Err(FormError(UNIT_ONLY.into())),
        }
    }
}

impl<'de> de::VariantAccess<'de> for Value<'de> {
    type Error = FormError;

    fn unit_variant(self) -> Result<(), FormError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, FormError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FormError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FormError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

/// A newtype struct's one value, as `serde_qs` gives it: a sequence of one.
struct One<'a>(Option<Value<'a>>);

impl<'de> de::SeqAccess<'de> for One<'de> {
    type Error = FormError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FormError> {
        self.0
            .take()
            .map(|value| seed.deserialize(value))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    /// What server_fn's `PostUrl` makes of a form.
    fn by_serde_qs<T: DeserializeOwned>(form: &str) -> Result<T, String> {
        serde_qs::Config::new(5, false)
            .deserialize_str(form)
            .map_err(|e| e.to_string())
    }

    fn by_decode<T: DeserializeOwned>(form: &str) -> Result<T, String> {
        decode(form.as_bytes()).map_err(|e| e.to_string())
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(transparent)]
    struct Id(i64);

    #[derive(Debug, PartialEq, Deserialize)]
    struct Plain(i64);

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Sort {
        Newest,
        Amount,
        #[allow(dead_code)]
        Held(i64),
    }

    /// Shaped as `expenses/create`'s arguments.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Create {
        workspace_id: Id,
        amount: String,
        description: String,
        date: String,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Numbers {
        id: i64,
        ratio: f64,
        month: Option<String>,
        limit: Option<u32>,
        #[serde(default)]
        on: bool,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Shapes {
        sort: Sort,
        kind: Option<Sort>,
        n: Plain,
        #[serde(default)]
        ids: Vec<i64>,
        #[serde(default)]
        nothing: (),
        #[serde(default)]
        tag: Option<char>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        id: i64,
        #[serde(default)]
        note: String,
    }

    /// Both decoders' results for `form`, read as every type above, side by side.
    fn both(form: &str) -> Vec<(String, String)> {
        fn pair<T: DeserializeOwned + fmt::Debug>(form: &str) -> (String, String) {
            (
                format!("{:?}", by_serde_qs::<T>(form)),
                format!("{:?}", by_decode::<T>(form)),
            )
        }
        vec![
            pair::<Create>(form),
            pair::<Numbers>(form),
            pair::<Shapes>(form),
            pair::<Strict>(form),
            pair::<BTreeMap<String, String>>(form),
        ]
    }

    #[test]
    fn a_write_form_reads_as_serde_qs_reads_it() {
        let form = "workspace_id=7&amount=12.50&description=Lunch+with+%C3%A9quipe+%26+co%2B&date=2026-12-07";
        assert!(Flat::parse(form).is_some(), "a flat form is read here");
        let read: Create = by_decode(form).unwrap();
        assert_eq!(
            read,
            Create {
                workspace_id: Id(7),
                amount: "12.50".into(),
                description: "Lunch with équipe & co+".into(),
                date: "2026-12-07".into(),
            }
        );
        assert_eq!(by_serde_qs::<Create>(form), Ok(read));
    }

    #[test]
    fn hand_picked_forms_read_the_same_both_ways() {
        let forms = [
            // Repeated names, read and unread; an empty value for an `Option`.
            "id=1&id=2&ratio=1",
            "id=1&ratio=2&x=1&x=2",
            "id=1&ratio=2&month=&limit=",
            "id=-5&ratio=1e3&month=2026-12&limit=4294967296&on=true",
            "id=1&ratio=nan&on=yes",
            // Escapes: good, broken, a `+` escaped, bytes that are not UTF-8.
            "amount=%zz&description=%4+2%&date=%&workspace_id=1",
            "amount=%e9&description=%C3&date=%2B%2b&workspace_id=%31",
            // Enums, newtypes, units, chars, sequences.
            "sort=newest&kind=amount&n=3",
            "sort=held&n=3",
            "sort=Newest&n=x",
            "sort=newest&n=3&nothing=&tag=%E2%82%AC",
            "sort=newest&n=3&nothing=x&tag=ab",
            "sort=newest&n=3&ids=4",
            "sort=newest&n=3&ids[0]=4&ids[1]=5",
            "sort=newest&n=3&ids%5B0%5D=4",
            "sort=newest&sort=amount&n=1",
            // Unknown names, refused or not.
            "id=1&other=2",
            "unit=&id=2",
            "id=7",
            "note=hi+there",
            // Not flat: left to serde_qs.
            "",
            "&id=1",
            "id=1&",
            "id",
            "=1",
            "id=1&&ratio=2",
            "i%64=1&ratio=2",
            "a[b]=1&id=2",
        ];
        for form in forms {
            for (expected, got) in both(form) {
                assert_eq!(got, expected, "the form {form:?}");
            }
        }
    }

    /// A small generator (xorshift), so the forms are the same on every run.
    struct Forms(u64);

    impl Forms {
        fn next(&mut self, below: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % below as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next(from.len())]
        }

        fn form(&mut self) -> String {
            const NAMES: &[&str] = &[
                "workspace_id",
                "amount",
                "description",
                "date",
                "id",
                "ratio",
                "month",
                "limit",
                "on",
                "sort",
                "kind",
                "n",
                "ids",
                "nothing",
                "tag",
                "note",
                "unit",
                "x",
                "ids[0]",
                "i%64",
            ];
            const PIECES: &[&str] = &[
                "",
                "1",
                "-3",
                "1.5",
                "7",
                "abc",
                "+",
                "%41",
                "%zz",
                "%e9",
                "%C3%A9",
                "%",
                "true",
                "false",
                "newest",
                "amount",
                "held",
                "=",
                "%2B",
                "é",
                "%26",
                "99999999999",
            ];
            let mut form = String::new();
            for at in 0..self.next(6) {
                if at > 0 {
                    form.push('&');
                }
                form.push_str(self.pick(NAMES));
                if self.next(12) > 0 {
                    form.push('=');
                }
                for _ in 0..self.next(3) {
                    form.push_str(self.pick(PIECES));
                }
            }
            form
        }
    }

    #[test]
    fn generated_forms_read_the_same_both_ways() {
        let mut forms = Forms(0x9e37_79b9_7f4a_7c15);
        let (mut flat, mut read, mut refused) = (0, 0, 0);
        for _ in 0..20_000 {
            let form = forms.form();
            if Flat::parse(&form).is_some() {
                flat += 1;
            }
            for (expected, got) in both(&form) {
                assert_eq!(got, expected, "the form {form:?}");
                if expected.starts_with("Ok") {
                    read += 1;
                } else {
                    refused += 1;
                }
            }
        }
        // The comparison means something only if many forms took the flat path (9,707
        // of these 20,000) and both outcomes were common.
        assert!(flat > 8_000, "{flat} of 20,000 forms were flat");
        assert!(
            read > 5_000 && refused > 5_000,
            "{read} read, {refused} refused"
        );
    }
}
