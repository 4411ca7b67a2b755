//! `copilot/<workload>/overrides/cfn.patches.yml`: JSON-Patch-like edits
//! (`add`, `remove`, `replace`) applied to the rendered template, host-side,
//! so they work for every plugin.

use crate::cfn_yaml;
use crate::error::{Error, Location, Problem};
use serde_json::Value;
use std::path::Path;

/// One patch operation and where it was written.
#[derive(Debug, Clone)]
pub struct Patch {
    pub op: Op,
    pub path: String,
    pub value: Option<Value>,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// Loads `<workload_dir>/overrides/cfn.patches.yml` if present.
pub fn load(workload_dir: &Path) -> Result<Vec<Patch>, Error> {
    let path = workload_dir.join("overrides").join("cfn.patches.yml");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let (doc, value) = cfn_yaml::read(&path)?;
    let Some(items) = value.as_array() else {
        return Err(Problem::new("cfn.patches.yml must be a list of patches")
            .at(Some(doc.locate("")))
            .hint("- op: add\n  path: /Resources/TaskRole/Properties/Policies/-\n  value: {...}")
            .into());
    };
    let mut patches = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| doc.locate(&format!("/{i}{field}"));
        let op = match item.get("op").and_then(Value::as_str) {
            Some("add") => Op::Add,
            Some("remove") => Op::Remove,
            Some("replace") => Op::Replace,
            other => {
                return Err(Problem::new(format!(
                    "unknown patch op {}",
                    other.map_or("(none)".into(), |o| format!("`{o}`"))
                ))
                .at(Some(at("/op")))
                .hint("use `add`, `remove` or `replace`")
                .into());
            }
        };
        let Some(path) = item.get("path").and_then(Value::as_str) else {
            return Err(Problem::new("a patch needs a `path`")
                .at(Some(at("")))
                .hint("for example `path: /Resources/Service/Properties/PlatformVersion`")
                .into());
        };
        if !path.starts_with('/') {
            return Err(Problem::new(format!("patch path `{path}` must start with `/`")).at(Some(at("/path"))).into());
        }
        let value = item.get("value").cloned();
        if op != Op::Remove && value.is_none() {
            return Err(Problem::new("`add` and `replace` patches need a `value`").at(Some(at(""))).into());
        }
        patches.push(Patch { op, path: path.to_string(), value, location: at("") });
    }
    Ok(patches)
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Applies patches in order; a path that does not exist is an error at the
/// patch's line.
pub fn apply(template: &mut Value, patches: &[Patch]) -> Result<(), Error> {
    for patch in patches {
        apply_one(template, patch).map_err(|why| {
            Error::problem(
                Problem::new(format!("cannot apply patch `{:?}` at `{}`", patch.op, patch.path).to_lowercase())
                    .at(Some(patch.location.clone()))
                    .why(why)
                    .hint("run `ferry svc package` without the patch to see the template's paths"),
            )
        })?;
    }
    Ok(())
}

fn apply_one(template: &mut Value, patch: &Patch) -> Result<(), String> {
    let (parent_path, last) = patch.path.rsplit_once('/').unwrap_or(("", &patch.path));
    let last = unescape(last);
    let parent =
        template.pointer_mut(parent_path).ok_or_else(|| format!("`{parent_path}` does not exist in the template"))?;
    match (parent, patch.op) {
        (Value::Object(map), Op::Add) => {
            map.insert(last, patch.value.clone().unwrap_or(Value::Null));
        }
        (Value::Object(map), Op::Replace) => {
            let slot = map.get_mut(&last).ok_or_else(|| format!("`{last}` does not exist in `{parent_path}`"))?;
            *slot = patch.value.clone().unwrap_or(Value::Null);
        }
        (Value::Object(map), Op::Remove) => {
            map.shift_remove(&last).ok_or_else(|| format!("`{last}` does not exist in `{parent_path}`"))?;
        }
        (Value::Array(items), op) => {
            let value = patch.value.clone().unwrap_or(Value::Null);
            if last == "-" && op == Op::Add {
                items.push(value);
                return Ok(());
            }
            let index: usize = last.parse().map_err(|_| format!("`{last}` is not a list index (or `-` to append)"))?;
            match op {
                Op::Add if index <= items.len() => items.insert(index, value),
                Op::Replace if index < items.len() => items[index] = value,
                Op::Remove if index < items.len() => {
                    items.remove(index);
                }
                _ => {
                    return Err(format!("index {index} is out of range (the list has {} items)", items.len()));
                }
            }
        }
        (other, _) => {
            return Err(format!("`{parent_path}` is a {}, not a map or list", kind(other)));
        }
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patches(text: &str) -> Result<Vec<Patch>, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("overrides")).unwrap();
        std::fs::write(dir.path().join("overrides/cfn.patches.yml"), text).unwrap();
        load(dir.path())
    }

    #[test]
    fn add_replace_remove_and_append() {
        let mut t = json!({"Resources": {"Role": {"Properties": {"Policies": [], "Path": "/"}}}});
        let p = patches(
            "- op: add\n  path: /Resources/Role/Properties/Policies/-\n  value:\n    PolicyName: extra\n    Arn: !Ref X\n\
             - op: replace\n  path: /Resources/Role/Properties/Path\n  value: /ferry/\n\
             - op: remove\n  path: /Resources/Role/Properties/Path\n\
             - op: add\n  path: /Resources/Role/Properties/Tags\n  value: []\n",
        )
        .unwrap();
        apply(&mut t, &p).unwrap();
        assert_eq!(
            t,
            json!({"Resources": {"Role": {"Properties": {"Policies": [{"PolicyName": "extra", "Arn": {"Ref": "X"}}], "Tags": []}}}})
        );
    }

    #[test]
    fn missing_path_reports_the_patch_line() {
        let mut t = json!({"Resources": {}});
        let p = patches("- op: replace\n  path: /Resources/Nope/Type\n  value: x\n").unwrap();
        let err = apply(&mut t, &p).unwrap_err();
        let problem = &err.problems()[0];
        assert_eq!(problem.location.as_ref().unwrap().line, 1);
        assert!(problem.why.as_deref().unwrap().contains("/Resources/Nope"));
    }

    #[test]
    fn bad_op_is_located() {
        let err = patches("- op: add\n  path: /a\n  value: 1\n- op: move\n  path: /b\n").unwrap_err();
        let problem = &err.problems()[0];
        assert_eq!(problem.location.as_ref().unwrap().line, 4);
        assert!(problem.what.contains("`move`"));
    }
}
