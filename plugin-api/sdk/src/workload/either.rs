//! Either/or manifest fields (`count: 3` vs `count: {range: ...}`).
//!
//! serde's untagged enums report "data did not match any variant", which
//! tells a user nothing. These fields implement [`OneOf`] instead: a visitor
//! dispatches on the YAML shape and says what each shape may be. Maps and
//! lists are read through the *same* deserializer, so a failure inside
//! them is still located (`/count/range/min`, see [`crate::located`]).

use schemars::JsonSchema;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A field that accepts several YAML shapes. Each method handles one shape;
/// the defaults refuse it with [`OneOf::EXPECTING`] in the message.
pub trait OneOf: Sized {
    /// Shown after "expected": name every accepted form.
    const EXPECTING: &'static str;

    fn from_str<E: de::Error>(value: &str) -> Result<Self, E> {
        Err(E::invalid_type(Unexpected::Str(value), &Self::EXPECTING))
    }
    fn from_u64<E: de::Error>(value: u64) -> Result<Self, E> {
        Err(E::invalid_type(Unexpected::Unsigned(value), &Self::EXPECTING))
    }
    fn from_i64<E: de::Error>(value: i64) -> Result<Self, E> {
        Err(E::invalid_type(Unexpected::Signed(value), &Self::EXPECTING))
    }
    fn from_f64<E: de::Error>(value: f64) -> Result<Self, E> {
        Err(E::invalid_type(Unexpected::Float(value), &Self::EXPECTING))
    }
    fn from_bool<E: de::Error>(value: bool) -> Result<Self, E> {
        Err(E::invalid_type(Unexpected::Bool(value), &Self::EXPECTING))
    }
    fn from_map<'de, A: MapAccess<'de>>(_map: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Map, &Self::EXPECTING))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(_seq: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Seq, &Self::EXPECTING))
    }
}

/// Reads a map shape as `M`, keeping the error path.
pub fn map_as<'de, M: Deserialize<'de>, A: MapAccess<'de>>(map: A) -> Result<M, A::Error> {
    M::deserialize(MapAccessDeserializer::new(map))
}

/// Reads a list shape as `M`, keeping the error path.
pub fn seq_as<'de, M: Deserialize<'de>, A: SeqAccess<'de>>(seq: A) -> Result<M, A::Error> {
    M::deserialize(SeqAccessDeserializer::new(seq))
}

struct OneOfVisitor<T>(PhantomData<T>);

impl<'de, T: OneOf> Visitor<'de> for OneOfVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_str(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::from_i64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        T::from_f64(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        T::from_bool(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Err(E::invalid_type(Unexpected::Unit, &T::EXPECTING))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
}

/// Deserializes any [`OneOf`] type; use from a `Deserialize` impl.
pub fn deserialize_one_of<'de, T: OneOf, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(OneOfVisitor::<T>(PhantomData))
}

/// Implements `Deserialize` for a [`OneOf`] type.
#[macro_export]
macro_rules! impl_one_of_deserialize {
    ($ty:ty) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::workload::either::deserialize_one_of(d)
            }
        }
    };
}

/// `command: "npm start"` or `command: ["npm", "start"]`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum StringOrList {
    String(String),
    List(Vec<String>),
}

impl OneOf for StringOrList {
    const EXPECTING: &'static str = "a string (split like a shell would) or a list of strings";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(StringOrList::String(v.to_string()))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(StringOrList::List)
    }
}
impl_one_of_deserialize!(StringOrList);

impl StringOrList {
    /// The arguments: the list as written, or the string split into words.
    pub fn to_args(&self) -> Result<Vec<String>, String> {
        match self {
            StringOrList::List(items) => Ok(items.clone()),
            StringOrList::String(text) => split_words(text),
        }
    }
}

pub use ferry_plugin_protocol::shell::split_words;

/// A Go-style duration (`30s`, `2m`, `1h30m`, `500ms`), as Copilot writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub millis: u64,
}

impl Duration {
    pub fn from_secs(secs: u64) -> Self {
        Duration { millis: secs * 1000 }
    }

    /// Whole seconds, rounding down.
    pub fn secs(self) -> u64 {
        self.millis / 1000
    }

    pub fn is_whole_seconds(self) -> bool {
        self.millis.is_multiple_of(1000)
    }

    pub fn parse(text: &str) -> Result<Duration, String> {
        Self::parse_units(text, false)
    }

    /// [`Duration::parse`] that also reads days (`5d`), as Copilot's queue
    /// settings are written (`retention: 5d`).
    pub fn parse_with_days(text: &str) -> Result<Duration, String> {
        Self::parse_units(text, true)
    }

    fn parse_units(text: &str, days: bool) -> Result<Duration, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration".into());
        }
        if text == "0" {
            return Ok(Duration { millis: 0 });
        }
        let mut millis: f64 = 0.0;
        let mut rest = text;
        while !rest.is_empty() {
            let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            if number_len == 0 {
                return Err(format!("`{text}` is not a duration"));
            }
            let number: f64 = rest[..number_len].parse().map_err(|_| format!("`{text}` is not a duration"))?;
            rest = &rest[number_len..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "ms" => 1.0,
                "s" => 1000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                "d" if days => 86_400_000.0,
                "us" | "µs" => 0.001,
                "ns" => 0.000_001,
                "" => return Err(format!("`{text}` has a number without a unit")),
                unit => return Err(format!("`{text}` has an unknown unit `{unit}`")),
            };
            millis += number * factor;
            rest = &rest[unit_len..];
        }
        Ok(Duration { millis: millis.round() as u64 })
    }
}

impl OneOf for Duration {
    const EXPECTING: &'static str = "a duration such as `30s`, `2m` or `1h30m`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Duration::parse(v).map_err(|why| E::invalid_value(Unexpected::Str(v), &why.as_str()))
    }
}
impl_one_of_deserialize!(Duration);

/// A duration that may also be written in days (`4d`, `1d12h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayDuration(pub Duration);

impl JsonSchema for DayDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DayDuration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9.]+(ms|s|m|h|d))+$|^0$",
            "description": "A duration such as 30s, 96h or 4d"
        })
    }
}

impl OneOf for DayDuration {
    const EXPECTING: &'static str = "a duration such as `30s`, `96h` or `4d`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Duration::parse_with_days(v).map(DayDuration).map_err(|why| E::invalid_value(Unexpected::Str(v), &why.as_str()))
    }
}
impl_one_of_deserialize!(DayDuration);

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9.]+(ms|s|m|h))+$|^0$",
            "description": "A duration such as 30s, 2m or 1h30m"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(Duration::parse("15s").unwrap().millis, 15_000);
        assert_eq!(Duration::parse("2m").unwrap().secs(), 120);
        assert_eq!(Duration::parse("1h30m").unwrap().secs(), 5400);
        assert_eq!(Duration::parse("500ms").unwrap().millis, 500);
        assert_eq!(Duration::parse("1.5s").unwrap().millis, 1500);
        assert!(Duration::parse("15").is_err());
        assert!(Duration::parse("15d").is_err());
        assert_eq!(Duration::parse_with_days("5d").unwrap().secs(), 432_000);
        assert_eq!(Duration::parse_with_days("1d12h").unwrap().secs(), 129_600);
        assert_eq!(Duration::parse("1500us").unwrap().millis, 2);
        assert!(Duration::parse("s").is_err());
    }
}
