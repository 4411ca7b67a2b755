//! A deserializer over a [`Value`] that remembers where it failed.
//!
//! A manifest error must name its field (`/http/healthcheck/path`). Wrapping
//! every visitor to track the path (as `serde_path_to_error` does) compiles
//! a second copy of each manifest type's deserializer: a sixth of a
//! plugin's code. Here the path lives beside the deserializer instead: a
//! map entry or list item pushes its segment before its value is read and
//! pops it once the value is read, so after a failure the stack holds the
//! path to the value that failed. Visitors are the plain ones, compiled
//! once.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;

/// Why a value did not deserialize; the message serde's own types write.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

/// A segment of the path to the value being read.
#[derive(Debug, Clone, Copy)]
enum Segment<'de> {
    Key(&'de str),
    Index(usize),
}

/// Deserializes `T` from `value`; on failure, the message and the path to
/// the value that failed, a segment per map key or list index (empty for
/// the root).
pub fn deserialize<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, (Error, Vec<String>)> {
    let path = RefCell::new(Vec::new());
    T::deserialize(Located { value, path: &path }).map_err(|error| {
        let segments = path.into_inner().into_iter().map(|segment| match segment {
            Segment::Key(key) => key.to_string(),
            Segment::Index(index) => index.to_string(),
        });
        (error, segments.collect())
    })
}

/// One value and the shared path stack.
#[derive(Clone, Copy)]
struct Located<'de, 'p> {
    value: &'de Value,
    path: &'p RefCell<Vec<Segment<'de>>>,
}

impl<'de, 'p> Located<'de, 'p> {
    /// Reads `seed` from `value`, found at `segment`: the segment stays on
    /// the stack if it fails.
    fn child<S: DeserializeSeed<'de>>(
        &self,
        segment: Segment<'de>,
        value: &'de Value,
        seed: S,
    ) -> Result<S::Value, Error> {
        self.enter(segment);
        let read = seed.deserialize(Located { value, path: self.path })?;
        self.leave();
        Ok(read)
    }

    // Kept out of line: every type's deserializer calls them, and inlined
    // they were a copy each.
    #[inline(never)]
    fn enter(&self, segment: Segment<'de>) {
        self.path.borrow_mut().push(segment);
    }

    #[inline(never)]
    fn leave(&self) {
        self.path.borrow_mut().pop();
    }

    /// The value, refused as not what `expected` reads.
    #[inline(never)]
    fn refuse(&self, expected: &dyn de::Expected) -> Error {
        let unexpected = match self.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(n) => match number(n) {
                Number::Unsigned(u) => de::Unexpected::Unsigned(u),
                Number::Signed(i) => de::Unexpected::Signed(i),
                Number::Float(f) => de::Unexpected::Float(f),
            },
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        };
        de::Error::invalid_type(unexpected, expected)
    }

    fn visit_number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Number(n) => match number(n) {
                Number::Unsigned(u) => visitor.visit_u64(u),
                Number::Signed(i) => visitor.visit_i64(i),
                Number::Float(f) => visitor.visit_f64(f),
            },
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn visit_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let Value::Array(items) = self.value else { return Err(self.refuse(&visitor)) };
        let mut access = Items { at: self, items: items.iter().enumerate() };
        let read = visitor.visit_seq(&mut access)?;
        match access.items.len() {
            0 => Ok(read),
            _ => Err(too_long(items.len())),
        }
    }

    fn visit_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let Value::Object(map) = self.value else { return Err(self.refuse(&visitor)) };
        let mut access = Entries { at: self, entries: map.iter(), value: None };
        let read = visitor.visit_map(&mut access)?;
        match access.entries.len() {
            0 => Ok(read),
            _ => Err(too_long(map.len())),
        }
    }
}

/// Number types read a number and nothing else.
macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.visit_number(visitor)
        }
    )*};
}

/// A JSON number as the widest type that holds it.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

#[inline(never)]
fn number(n: &serde_json::Number) -> Number {
    if let Some(u) = n.as_u64() {
        Number::Unsigned(u)
    } else if let Some(i) = n.as_i64() {
        Number::Signed(i)
    } else {
        Number::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

#[cold]
#[inline(never)]
fn too_long(len: usize) -> Error {
    de::Error::invalid_length(len, &"fewer items")
}

impl<'de, 'p> de::Deserializer<'de> for Located<'de, 'p> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(_) => self.visit_number(visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(_) => self.visit_seq(visitor),
            Value::Object(_) => self.visit_map(visitor),
        }
    }

    // Each type is read by the one visit it can take (as serde_json's own
    // value deserializer does), so a type's visitor is not compiled for
    // shapes it refuses anyway.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.refuse(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.visit_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.visit_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.visit_map(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::String(variant) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(variant)),
            Value::Object(map) if map.len() == 1 => {
                let (variant, value) = map.iter().next().expect("one entry");
                visitor.visit_enum(Variant { at: self, variant, value })
            }
            _ => Err(self.refuse(&"a string or a map with one key")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    numbers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
    deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    deserialize_f32 deserialize_f64 }
}

struct Items<'de, 'p> {
    at: Located<'de, 'p>,
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
}

impl<'de> de::SeqAccess<'de> for Items<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            Some((index, item)) => self.at.child(Segment::Index(index), item, seed).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'de, 'p> {
    at: Located<'de, 'p>,
    entries: serde_json::map::Iter<'de>,
    /// The entry whose key was read and whose value is next.
    value: Option<(&'de str, &'de Value)>,
}

impl<'de> de::MapAccess<'de> for Entries<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some((key, value));
        // A key refused (an unknown field) is reported at that key.
        self.at.enter(Segment::Key(key));
        let read = seed.deserialize(BorrowedStrDeserializer::<Error>::new(key))?;
        self.at.leave();
        Ok(Some(read))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) =
            self.value.take().ok_or_else(|| <Error as de::Error>::custom("a map value before its key"))?;
        self.at.child(Segment::Key(key), value, seed)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Variant<'de, 'p> {
    at: Located<'de, 'p>,
    variant: &'de str,
    value: &'de Value,
}

impl<'de, 'p> de::EnumAccess<'de> for Variant<'de, 'p> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let read = seed.deserialize(BorrowedStrDeserializer::<Error>::new(self.variant))?;
        Ok((read, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            Value::Null => Ok(()),
            _ => Err(self.at_value().refuse(&"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        self.at.child(Segment::Key(self.variant), self.value, seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let at = self.at;
        at.child(Segment::Key(self.variant), self.value, AnySeed(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        // Read like a tuple variant: by the shape of its value.
        self.tuple_variant(0, visitor)
    }
}

impl<'de, 'p> Variant<'de, 'p> {
    fn at_value(&self) -> Located<'de, 'p> {
        Located { value: self.value, path: self.at.path }
    }
}

/// A visitor handed on as a seed: the variant's content is read by the
/// deserializer at the variant's path.
struct AnySeed<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for AnySeed<V> {
    type Value = V::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Port {
        port: u16,
        #[serde(default)]
        protocol: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Count {
        Fixed(u32),
        Range { min: u32, max: u32 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Web,
        Worker { queue: String },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Manifest {
        name: String,
        ports: Vec<Port>,
        count: Option<Count>,
        kind: Option<Kind>,
        #[serde(default)]
        ratio: f64,
    }

    fn fail(value: Value) -> (String, Vec<String>) {
        let (error, path) = deserialize::<Manifest>(&value).unwrap_err();
        (error.to_string(), path)
    }

    #[test]
    fn a_good_value_reads_like_serde_json_reads_it() {
        let value = json!({"name": "api", "ports": [{"port": 80}], "count": {"min": 1, "max": 3}, "kind": {"worker": {"queue": "q"}}, "ratio": 2});
        let read: Manifest = deserialize(&value).unwrap();
        assert_eq!(read, serde_json::from_value::<Manifest>(value).unwrap());
        assert_eq!(read.kind, Some(Kind::Worker { queue: "q".into() }));
        assert_eq!(read.ratio, 2.0);
        let unit: Manifest = deserialize(&json!({"name": "x", "ports": [], "kind": "web"})).unwrap();
        assert_eq!(unit.kind, Some(Kind::Web));
    }

    #[test]
    fn a_failure_names_the_path_to_the_value_that_failed() {
        let (message, path) = fail(json!({"name": "api", "ports": [{"port": 80}, {"port": "http"}]}));
        assert_eq!(path, ["ports", "1", "port"]);
        assert_eq!(message, "invalid type: string \"http\", expected u16");
        let (message, path) = fail(json!({"name": "api", "ports": [{"prot": 80}]}));
        assert_eq!(path, ["ports", "0", "prot"]);
        assert!(message.starts_with("unknown field `prot`, expected `port` or `protocol`"), "{message}");
        let (message, path) = fail(json!({"name": "api", "ports": [{"protocol": "tcp"}]}));
        assert_eq!(path, ["ports", "0"]);
        assert_eq!(message, "missing field `port`");
        let (_, path) = fail(json!({"name": 3, "ports": []}));
        assert_eq!(path, ["name"]);
        let (message, path) = fail(json!({"ports": []}));
        assert!(path.is_empty());
        assert_eq!(message, "missing field `name`");
    }

    #[test]
    fn an_untagged_or_tagged_value_that_fails_is_named_by_its_key() {
        let (message, path) = fail(json!({"name": "api", "ports": [], "count": {"min": 1}}));
        assert_eq!(path, ["count"]);
        assert!(message.contains("did not match any variant"), "{message}");
        let (_, path) = fail(json!({"name": "api", "ports": [], "kind": {"worker": {"queue": 7}}}));
        assert_eq!(path, ["kind", "worker", "queue"]);
    }
}
