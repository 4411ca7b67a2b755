//! Typed manifests: deserialize with serde, report problems as diagnostics
//! that carry the JSON pointer of the offending field.

use crate::diag::{Diagnostic, pointer};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes the effective manifest into `M`. Use
/// `#[serde(deny_unknown_fields)]` on `M` so that a misspelt field is
/// reported (with a "did you mean") instead of silently ignored. A failure
/// points at the field that failed (see [`crate::located`]).
pub fn parse_manifest<M: DeserializeOwned>(manifest: &Value) -> Result<M, Vec<Diagnostic>> {
    crate::located::deserialize::<M>(manifest)
        .map_err(|(error, segments)| vec![diagnostic_from_serde(segments, &error.to_string())])
}

/// `validate` as every plugin writes it: parse, then the plugin's own checks.
pub fn validate_with<M: DeserializeOwned>(
    manifest: &Value,
    check: impl FnOnce(&M) -> Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    match parse_manifest::<M>(manifest) {
        Ok(m) => check(&m),
        Err(diagnostics) => diagnostics,
    }
}

/// `render` as every plugin writes it: parse, run the checks, refuse when
/// any is an error (warnings do not block; `validate` reports them), render.
pub fn render_with<M: DeserializeOwned>(
    manifest: &Value,
    check: impl FnOnce(&M) -> Vec<Diagnostic>,
    render: impl FnOnce(&M) -> crate::Rendered,
) -> Result<crate::Rendered, crate::RenderError> {
    let m: M = parse_manifest(manifest)?;
    let diagnostics = check(&m);
    if diagnostics.iter().any(|d| d.severity == crate::Severity::Error) {
        return Err(crate::RenderError::Invalid(diagnostics));
    }
    Ok(render(&m))
}

fn diagnostic_from_serde(mut segments: Vec<String>, message: &str) -> Diagnostic {
    if let Some(unknown) = between(message, "unknown field `", "`") {
        if segments.last().map(String::as_str) != Some(unknown) {
            segments.push(unknown.to_string());
        }
        let expected = expected_names(message);
        let mut d = Diagnostic::error(pointer(&segments), format!("unknown field `{unknown}`"));
        d.hint = Some(match did_you_mean(unknown, &expected) {
            Some(best) => format!("did you mean `{best}`?"),
            None if !expected.is_empty() => format!("expected one of: {}", expected.join(", ")),
            None => "remove the field".to_string(),
        });
        return d;
    }
    if let Some(missing) = between(message, "missing field `", "`") {
        return Diagnostic::error(pointer(&segments), format!("missing required field `{missing}`"))
            .with_hint(format!("add `{missing}:` here"));
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let (found, expected) = match message.split_once(", expected ") {
            Some((found, expected)) => {
                (found.trim_start_matches("invalid type: ").trim_start_matches("invalid value: "), expected)
            }
            None => (message, ""),
        };
        let mut d = Diagnostic::error(pointer(&segments), format!("wrong type: found {found}"));
        if !expected.is_empty() {
            d.hint = Some(format!("expected {expected}"));
        }
        return d;
    }
    Diagnostic::error(pointer(&segments), message.to_string())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn expected_names(message: &str) -> Vec<String> {
    let Some((_, rest)) = message.split_once("expected one of ") else {
        return match message.split_once("expected `") {
            // serde says "expected `a`" for one field, "expected `a` or `b`" for two.
            Some((_, rest)) => rest.split(" or ").map(|s| s.trim_matches('`').to_string()).collect(),
            None => Vec::new(),
        };
    };
    rest.split(", ").map(|s| s.trim_matches('`').to_string()).collect()
}

/// The closest candidate to `word`, if any is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

/// The JSON Schema of manifest type `M`, for `plugin inspect` and editors.
pub fn schema_for<M: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(M)).unwrap_or(Value::Null)
}

/// A schema written ahead of time by [`check_schema_file`], for `info()`:
/// generating a large manifest's schema in the plugin costs a fifth of its
/// code, reading it costs a string. `include_str!` the file.
pub fn schema_from_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A plugin's test that its `schema.json` (which `info()` reads with
/// [`schema_from_json`]) is the schema of its manifest type `$manifest`
/// (see [`check_schema_file`]).
#[macro_export]
macro_rules! schema_file_test {
    ($manifest:ty) => {
        #[test]
        fn schema_json_is_the_schema_of_the_manifest_types() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.json");
            if let Err(problem) = $crate::manifest::check_schema_file::<$manifest>(path) {
                panic!("{problem}");
            }
        }
    };
}

/// For a plugin's tests: checks that the JSON file at `path` (which
/// [`schema_from_json`] reads) is the schema of manifest type `M`. With
/// `FERRY_UPDATE_SCHEMAS=1` outside CI it rewrites the file instead, as
/// snapshot tests do; review the diff like code.
#[cfg(not(target_arch = "wasm32"))]
pub fn check_schema_file<M: schemars::JsonSchema>(path: &str) -> Result<(), String> {
    let mut expected = serde_json::to_string_pretty(&schema_for::<M>()).map_err(|e| e.to_string())?;
    expected.push('\n');
    let found = std::fs::read_to_string(path).unwrap_or_default();
    if found == expected {
        return Ok(());
    }
    let update = std::env::var("FERRY_UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if update && !ci {
        return std::fs::write(path, expected).map_err(|e| format!("cannot write {path}: {e}"));
    }
    Err(format!(
        "{path} is not the schema of the manifest types (they changed since it was written).\n\
         hint: run the tests with FERRY_UPDATE_SCHEMAS=1 to rewrite it, then review the diff"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Http {
        path: String,
        healthcheck: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct M {
        name: String,
        cpu: Option<u32>,
        http: Option<Http>,
        sidecars: Option<Vec<Http>>,
    }

    #[test]
    fn unknown_field_points_at_field_and_suggests() {
        let v = serde_json::json!({"name": "x", "http": {"path": "/", "helthcheck": "/h"}});
        let d = parse_manifest::<M>(&v).unwrap_err();
        assert_eq!(d[0].path, "/http/helthcheck");
        assert_eq!(d[0].message, "unknown field `helthcheck`");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `healthcheck`?"));
    }

    #[test]
    fn wrong_type_points_at_field() {
        let v = serde_json::json!({"name": "x", "cpu": "lots"});
        let d = parse_manifest::<M>(&v).unwrap_err();
        assert_eq!(d[0].path, "/cpu");
        assert!(d[0].message.contains("found string \"lots\""), "{}", d[0].message);
        assert_eq!(d[0].hint.as_deref(), Some("expected u32"));
    }

    #[test]
    fn list_items_are_indexed() {
        let v = serde_json::json!({"name": "x", "sidecars": [{"path": "/"}, {"path": 3}]});
        let d = parse_manifest::<M>(&v).unwrap_err();
        assert_eq!(d[0].path, "/sidecars/1/path");
    }

    #[test]
    fn missing_field_is_reported_on_parent() {
        let v = serde_json::json!({"name": "x", "http": {}});
        let d = parse_manifest::<M>(&v).unwrap_err();
        assert_eq!(d[0].path, "/http");
        assert_eq!(d[0].message, "missing required field `path`");
    }
}
