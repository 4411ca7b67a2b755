//! Typed manifests: deserialize with serde, report problems as diagnostics
//! that carry the JSON pointer of the offending field.

use crate::diag::{Diagnostic, pointer};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes the effective manifest into `M`. Use
/// `#[serde(deny_unknown_fields)]` on `M` so that a misspelt field is
/// reported (with a "did you mean") instead of silently ignored.
pub fn parse_manifest<M: DeserializeOwned>(manifest: &Value) -> Result<M, Vec<Diagnostic>> {
    serde_path_to_error::deserialize::<_, M>(manifest).map_err(|err| {
        let mut segments: Vec<String> = Vec::new();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => segments.push(index.to_string()),
                serde_path_to_error::Segment::Map { key } => segments.push(key.clone()),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = err.inner().to_string();
        vec![diagnostic_from_serde(segments, &inner)]
    })
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
