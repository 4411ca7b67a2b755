//! CloudFormation YAML (addons, `cfn.patches.yml`) into JSON: the short-form
//! tags `!Ref`, `!Sub`, `!GetAtt a.b`, `!If [...]`, ... become their long
//! forms so one JSON template can hold everything.

use crate::error::{Error, Problem};
use crate::yaml::YamlDoc;
use serde_json::{Map, Value};
use std::path::Path;
use yaml_serde::Value as Yaml;

/// Reads a CloudFormation YAML (or JSON) file. Positions of the result are in
/// the returned document for error reporting.
pub fn read(path: &Path) -> Result<(YamlDoc, Value), Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    // The position index (and syntax errors) come from the shared loader;
    // tags need yaml_serde's own Value, which keeps them.
    let doc = YamlDoc::parse(path, strip_tags_for_index(&text))?;
    let yaml: Yaml = yaml_serde::from_str(&text).map_err(|e| {
        Error::problem(
            Problem::new(format!("invalid CloudFormation YAML: {e}"))
                .at(Some(doc.locate("")))
                .hint("check the YAML syntax and the short-form tags (!Ref, !Sub, ...)"),
        )
    })?;
    let value = to_json(&yaml).map_err(|what| Error::problem(Problem::new(what).at(Some(doc.locate("")))))?;
    Ok((doc, value))
}

/// YamlDoc parses through serde_json values, which cannot hold tags; a copy
/// of the text without them keeps the same positions for the index.
fn strip_tags_for_index(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut rest = line;
        let mut new_line = String::new();
        while let Some(i) = rest.find('!') {
            let (before, after) = rest.split_at(i);
            let tag_len =
                after[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == ':')).map_or(after.len(), |n| n + 1);
            let is_tag = tag_len > 1
                && (before.is_empty() || before.ends_with([' ', '[', ',', '-', ':']))
                && after[1..tag_len].starts_with(|c: char| c.is_ascii_uppercase());
            new_line.push_str(before);
            if is_tag {
                new_line.push_str(&" ".repeat(tag_len));
            } else {
                new_line.push_str(&after[..tag_len.max(1)]);
            }
            rest = &after[tag_len.max(1)..];
        }
        new_line.push_str(rest);
        out.push_str(&new_line);
        out.push('\n');
    }
    out
}

/// Converts a YAML value with CloudFormation tags to JSON.
pub fn to_json(yaml: &Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported map key {other:?}")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(&tagged.value)?;
            match name {
                "Ref" => serde_json::json!({ "Ref": inner }),
                "Condition" => serde_json::json!({ "Condition": inner }),
                "GetAtt" => {
                    let inner = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((resource, attribute)) => serde_json::json!([resource, attribute]),
                            None => {
                                return Err(format!("!GetAtt {s}: expected `Resource.Attribute`"));
                            }
                        },
                        other => other,
                    };
                    serde_json::json!({ "Fn::GetAtt": inner })
                }
                "Base64" | "Cidr" | "FindInMap" | "GetAZs" | "ImportValue" | "Join" | "Select" | "Split" | "Sub"
                | "Transform" | "And" | "Equals" | "If" | "Not" | "Or" | "ToJsonString" | "Length" => {
                    let mut m = Map::new();
                    m.insert(format!("Fn::{name}"), inner);
                    Value::Object(m)
                }
                other => return Err(format!("unknown CloudFormation tag `!{other}`")),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let yaml: Yaml = yaml_serde::from_str(
            "a: !Ref Env\nb: !GetAtt Table.Arn\nc: !Sub '${AppName}-x'\nd: !If [IsProd, 1, 2]\ne: !Join ['', [!Ref A, b]]\n",
        )
        .unwrap();
        assert_eq!(
            to_json(&yaml).unwrap(),
            json!({
                "a": {"Ref": "Env"},
                "b": {"Fn::GetAtt": ["Table", "Arn"]},
                "c": {"Fn::Sub": "${AppName}-x"},
                "d": {"Fn::If": ["IsProd", 1, 2]},
                "e": {"Fn::Join": ["", [{"Ref": "A"}, "b"]]}
            })
        );
    }

    #[test]
    fn tags_are_blanked_for_the_position_index_without_moving_columns() {
        let text = "Resources:\n  T:\n    Value: !Ref Env # not a tag: !important\n";
        let stripped = strip_tags_for_index(text);
        assert_eq!(stripped.lines().nth(2).unwrap(), "    Value:      Env # not a tag: !important");
    }
}
