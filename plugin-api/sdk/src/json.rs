//! `json!`, as `serde_json::json!` writes it, but moving what it is given.
//!
//! `serde_json::json!` serialises every interpolated expression into a new
//! tree (`to_value(&expr)`), so a template assembled from parts built
//! elsewhere was copied once per level it was nested in. This macro moves a
//! `Value`, `String`, `Vec<Value>` or `Map` into place and clones a
//! `&Value`; anything else is serialised as before. The syntax is the same
//! (a key is a string literal, a constant or a parenthesised expression).

use serde::Serialize;
pub use serde_json::Map;
use serde_json::Value;

/// Holds an interpolated expression so the method call below picks the
/// moving conversion when there is one (by value) and serialisation
/// otherwise (by reference): method resolution tries `Wrap<T>` before
/// `&Wrap<T>`.
#[doc(hidden)]
pub struct Wrap<T>(pub T);

#[doc(hidden)]
pub trait ByMove {
    fn into_value(self) -> Value;
}

impl ByMove for Wrap<Value> {
    fn into_value(self) -> Value {
        self.0
    }
}

impl ByMove for Wrap<&Value> {
    fn into_value(self) -> Value {
        self.0.clone()
    }
}

impl ByMove for Wrap<String> {
    fn into_value(self) -> Value {
        Value::String(self.0)
    }
}

impl ByMove for Wrap<&String> {
    fn into_value(self) -> Value {
        Value::String(self.0.clone())
    }
}

impl ByMove for Wrap<&str> {
    fn into_value(self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl ByMove for Wrap<Vec<Value>> {
    fn into_value(self) -> Value {
        Value::Array(self.0)
    }
}

impl ByMove for Wrap<&Vec<Value>> {
    fn into_value(self) -> Value {
        Value::Array(self.0.clone())
    }
}

impl ByMove for Wrap<Map<String, Value>> {
    fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[doc(hidden)]
pub trait BySerialize {
    fn into_value(self) -> Value;
}

impl<T: Serialize> BySerialize for &Wrap<T> {
    fn into_value(self) -> Value {
        // As `serde_json::json!`: a value JSON cannot hold (a map whose keys
        // are not strings or numbers) is a bug in the plugin, so it panics,
        // which the host reports with the plugin's name, rather than
        // rendering `null` into a template unnoticed.
        match serde_json::to_value(&self.0) {
            Ok(value) => value,
            Err(error) => panic!("json!: a value JSON cannot hold: {error}"),
        }
    }
}

/// Builds a `serde_json::Value` from JSON syntax: see the module docs.
#[macro_export]
macro_rules! json {
    ($($tokens:tt)+) => {
        $crate::__json!($($tokens)+)
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __json {
    // ---- arrays: elements are gathered, then made into one vec.
    (@array [$($elems:expr,)*]) => {
        ::std::vec![$($elems,)*]
    };
    (@array [$($elems:expr,)*] , $($rest:tt)*) => {
        $crate::__json!(@array [$($elems,)*] $($rest)*)
    };
    (@array [$($elems:expr,)*] null $($rest:tt)*) => {
        $crate::__json!(@array [$($elems,)* $crate::Value::Null,] $($rest)*)
    };
    (@array [$($elems:expr,)*] [$($array:tt)*] $($rest:tt)*) => {
        $crate::__json!(@array [$($elems,)* $crate::__json!([$($array)*]),] $($rest)*)
    };
    (@array [$($elems:expr,)*] {$($map:tt)*} $($rest:tt)*) => {
        $crate::__json!(@array [$($elems,)* $crate::__json!({$($map)*}),] $($rest)*)
    };
    (@array [$($elems:expr,)*] $next:expr , $($rest:tt)*) => {
        $crate::__json!(@array [$($elems,)* $crate::__json!($next),] $($rest)*)
    };
    (@array [$($elems:expr,)*] $last:expr) => {
        $crate::__json!(@array [$($elems,)* $crate::__json!($last),])
    };

    // ---- objects: one entry at a time into `$map`.
    (@object $map:ident) => {};
    (@object $map:ident , $($rest:tt)*) => {
        $crate::__json!(@object $map $($rest)*)
    };
    (@object $map:ident $key:tt : null $($rest:tt)*) => {
        $map.insert(::std::string::String::from($key), $crate::Value::Null);
        $crate::__json!(@object $map $($rest)*)
    };
    (@object $map:ident $key:tt : [$($array:tt)*] $($rest:tt)*) => {
        $map.insert(::std::string::String::from($key), $crate::__json!([$($array)*]));
        $crate::__json!(@object $map $($rest)*)
    };
    (@object $map:ident $key:tt : {$($inner:tt)*} $($rest:tt)*) => {
        $map.insert(::std::string::String::from($key), $crate::__json!({$($inner)*}));
        $crate::__json!(@object $map $($rest)*)
    };
    (@object $map:ident $key:tt : $value:expr , $($rest:tt)*) => {
        $map.insert(::std::string::String::from($key), $crate::__json!($value));
        $crate::__json!(@object $map $($rest)*)
    };
    (@object $map:ident $key:tt : $value:expr) => {
        $map.insert(::std::string::String::from($key), $crate::__json!($value));
    };

    // ---- values.
    (null) => {
        $crate::Value::Null
    };
    ([]) => {
        $crate::Value::Array(::std::vec::Vec::new())
    };
    ([ $($tt:tt)+ ]) => {
        $crate::Value::Array($crate::__json!(@array [] $($tt)+))
    };
    ({}) => {
        $crate::Value::Object($crate::json::Map::new())
    };
    ({ $($tt:tt)+ }) => {{
        let mut map = $crate::json::Map::new();
        $crate::__json!(@object map $($tt)+);
        $crate::Value::Object(map)
    }};
    ($other:expr) => {{
        #[allow(unused_imports)]
        use $crate::json::{ByMove as _, BySerialize as _};
        $crate::json::Wrap($other).into_value()
    }};
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn builds_what_serde_json_builds() {
        let part = serde_json::json!({"Ref": "X"});
        let name = String::from("n");
        let list = vec![Value::from(1), Value::from("a")];
        let ours = crate::json!({
            "a": null, "b": [1, -2, 3.5, "s", null, [], {}], "c": {"d": part.clone(), "e": &part},
            "f": name.clone(), "g": &name, "h": "lit", "i": list.clone(), "j": Some(4), "k": None::<u8>,
            "l": true, "m": [part.clone(), {"n": [null]}], "o": 7u64,
        });
        let theirs = serde_json::json!({
            "a": null, "b": [1, -2, 3.5, "s", null, [], {}], "c": {"d": part.clone(), "e": &part},
            "f": name, "g": "n", "h": "lit", "i": list, "j": Some(4), "k": None::<u8>,
            "l": true, "m": [part, {"n": [null]}], "o": 7u64,
        });
        assert_eq!(ours, theirs);
        assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap(), "key order kept");
        assert_eq!(crate::json!(null), Value::Null);
        assert_eq!(crate::json!([]), serde_json::json!([]));
        assert_eq!(crate::json!(1 + 2), serde_json::json!(3));
    }

    #[test]
    #[should_panic(expected = "json!: a value JSON cannot hold")]
    fn a_value_json_cannot_hold_panics_as_serde_jsons_macro_does() {
        let keyed_by_lists: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let _ = crate::json!({ "a": keyed_by_lists });
    }
}
