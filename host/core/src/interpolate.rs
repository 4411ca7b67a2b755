//! `${VAR}` interpolation with Copilot's rules: only string values, names
//! `[A-Za-z_][A-Za-z0-9_]*` (so CloudFormation's `${AWS::Region}` is left
//! alone), and an unset variable is an error at its location, never "".

use serde_json::Value;

/// Variables Copilot defines for every manifest.
pub const APPLICATION_NAME: &str = "COPILOT_APPLICATION_NAME";
pub const ENVIRONMENT_NAME: &str = "COPILOT_ENVIRONMENT_NAME";

/// An unset variable and the JSON pointer of the value that used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unset {
    pub variable: String,
    pub pointer: String,
}

/// Replaces `${VAR}` in every string of `value` (map keys are left alone).
/// `lookup` answers the variable's value. Returns every unset use.
pub fn interpolate(value: &mut Value, pointer: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Unset> {
    let mut unset = Vec::new();
    walk(value, pointer, lookup, &mut unset);
    unset
}

fn walk(value: &mut Value, pointer: &str, lookup: &dyn Fn(&str) -> Option<String>, unset: &mut Vec<Unset>) {
    match value {
        Value::String(s) if s.contains("${") => {
            *s = substitute(s, pointer, lookup, unset);
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{pointer}/{i}"), lookup, unset);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, &format!("{pointer}/{}", crate::yaml::escape_segment(k)), lookup, unset);
            }
        }
        _ => {}
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn substitute(s: &str, pointer: &str, lookup: &dyn Fn(&str) -> Option<String>, unset: &mut Vec<Unset>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                let name = &after[..end];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        unset.push(Unset { variable: name.to_string(), pointer: pointer.to_string() });
                        out.push_str(&rest[start..start + 2 + end + 1]);
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("v1".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_set_variables_in_nested_strings() {
        let mut v =
            json!({"image": {"location": "repo:${TAG}"}, "command": ["run", "--tag=${TAG}${EMPTY}"], "count": 1});
        assert!(interpolate(&mut v, "", &env).is_empty());
        assert_eq!(v, json!({"image": {"location": "repo:v1"}, "command": ["run", "--tag=v1"], "count": 1}));
    }

    #[test]
    fn unset_variables_are_reported_with_pointer() {
        let mut v = json!({"variables": {"A": "${NOPE}", "B": "x"}});
        let unset = interpolate(&mut v, "", &env);
        assert_eq!(unset, vec![Unset { variable: "NOPE".into(), pointer: "/variables/A".into() }]);
    }

    #[test]
    fn cloudformation_pseudo_parameters_and_lone_dollars_are_untouched() {
        let mut v = json!({"a": "${AWS::Region}", "b": "cost $5 ${", "c": "${}"});
        assert!(interpolate(&mut v, "", &env).is_empty());
        assert_eq!(v, json!({"a": "${AWS::Region}", "b": "cost $5 ${", "c": "${}"}));
    }
}
