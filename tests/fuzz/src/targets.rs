//! Each target's input and its checks. A check panics on a finding: a panic
//! inside ferry's code, or a property of Copilot's rules that does not hold.

use crate::generate::{manifest_value, mutate_yaml, override_of, pointers};
use crate::{Corpus, Rng, Target};
use ferry_core::error::Location;
use ferry_core::interpolate::interpolate;
use ferry_core::overrides::merge;
use ferry_core::patches::{Op, Patch, apply};
use ferry_core::workspace::Manifest;
use ferry_core::yaml::YamlDoc;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub enum Input {
    Text(String),
    Value(Value),
    Pair(Value, Value),
    Patches(Value, Vec<(Op, String, Option<Value>)>),
}

impl Input {
    pub fn describe(&self) -> String {
        match self {
            Input::Text(text) => text.clone(),
            Input::Value(value) => value.to_string(),
            Input::Pair(base, over) => json!({ "base": base, "override": over }).to_string(),
            Input::Patches(template, patches) => {
                let patches: Vec<Value> = patches
                    .iter()
                    .map(|(op, path, value)| json!({ "op": format!("{op:?}").to_lowercase(), "path": path, "value": value }))
                    .collect();
                json!({ "template": template, "patches": patches }).to_string()
            }
        }
    }
}

pub fn input(target: Target, corpus: &Corpus, rng: &mut Rng) -> Input {
    match target {
        Target::Manifest => Input::Text(mutate_yaml(rng, &corpus.manifests)),
        Target::Interpolate => Input::Value(manifest_value(rng, 5)),
        Target::Merge => {
            let base = manifest_value(rng, 5);
            let over = override_of(rng, &base, 5);
            Input::Pair(base, over)
        }
        Target::Patches => {
            let template = json!({ "Resources": manifest_value(rng, 4) });
            let paths = pointers(&template, 64);
            let patches = (0..1 + rng.below(4))
                .map(|_| {
                    let op = *rng.pick(&[Op::Add, Op::Remove, Op::Replace]);
                    let path = patch_path(rng, &paths);
                    let value = (op != Op::Remove || rng.one_in(4)).then(|| manifest_value(rng, 2));
                    (op, path, value)
                })
                .collect();
            Input::Patches(template, patches)
        }
    }
}

/// A path near the template's real ones: itself, one level deeper, the
/// array append marker, an index out of range, or escapes.
fn patch_path(rng: &mut Rng, paths: &[String]) -> String {
    let base = rng.pick(paths).clone();
    match rng.below(7) {
        0 => base,
        1 => format!("{base}/new"),
        2 => format!("{base}/-"),
        3 => format!("{base}/{}", rng.below(5)),
        4 => format!("{base}/~2x"),
        5 => format!("{base}//"),
        _ => base.rsplit_once('/').map(|(parent, _)| parent.to_string()).unwrap_or_default(),
    }
}

pub fn check(target: Target, input: &Input, rng: &mut Rng) {
    match (target, input) {
        (Target::Manifest, Input::Text(text)) => manifest(text),
        (Target::Interpolate, Input::Value(value)) => interpolation(value),
        (Target::Merge, Input::Pair(base, over)) => merge_rules(base, over, rng),
        (Target::Patches, Input::Patches(template, patches)) => patching(template, patches),
        _ => unreachable!("input made for another target"),
    }
}

/// Unset when the name's length is odd: both branches are exercised.
fn lookup(name: &str) -> Option<String> {
    name.len().is_multiple_of(2).then(|| format!("<{name}>"))
}

fn assert_location(location: &Location, lines: usize, what: &str) {
    assert!(
        location.line >= 1 && location.line <= lines + 1 && location.column >= 1,
        "{what} located at {}:{} in a text of {lines} lines",
        location.line,
        location.column
    );
    let _ = location.to_string();
}

fn manifest(text: &str) {
    let path = Path::new("copilot/svc/manifest.yml");
    let doc = match YamlDoc::parse(path, text.to_string()) {
        Ok(doc) => doc,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let lines = text.lines().count().max(1);
    for pointer in pointers(&doc.value, 256) {
        assert_location(&doc.locate(&pointer), lines, &pointer);
    }
    let mut envs: Vec<String> = doc
        .value
        .get("environments")
        .and_then(Value::as_object)
        .map(|envs| envs.keys().take(3).cloned().collect())
        .unwrap_or_default();
    envs.push("test".into());
    let kind = doc.value.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let manifest = Manifest { name: "svc".into(), kind, doc, dir: PathBuf::from("copilot/svc") };
    for env in &envs {
        match manifest.effective("app", env, &lookup) {
            Ok(effective) => {
                for pointer in pointers(&effective.value, 256) {
                    assert_location(&effective.locate(&pointer), lines, &pointer);
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
}

fn interpolation(value: &Value) {
    let mut once = value.clone();
    let unset = interpolate(&mut once, "", &lookup);
    for u in &unset {
        assert!(
            value.pointer(&u.pointer).is_some(),
            "unset `{}` reported at `{}`, not in the input",
            u.variable,
            u.pointer
        );
        assert!(lookup(&u.variable).is_none(), "`{}` is set but was reported unset", u.variable);
    }
    // Only string values change: the same paths, in the same places.
    assert_eq!(pointers(value, usize::MAX), pointers(&once, usize::MAX), "interpolation changed the structure");
    let mut again = value.clone();
    assert_eq!(interpolate(&mut again, "", &lookup), unset, "interpolation is not deterministic");
    assert_eq!(again, once, "interpolation is not deterministic");
}

/// Copilot's override rules, as properties of every generated pair.
fn merge_rules(base: &Value, over: &Value, rng: &mut Rng) {
    let merged = merge(base, over);
    assert_eq!(&merge(base, base), base, "overriding with the base itself changed it");
    assert_eq!(&merge(base, &Value::Null), base, "a null override changed the base");
    assert_eq!(merge(&merged, over), merged, "applying the same override twice changed the result");
    let (Some(b), Some(o)) = (base.as_object(), over.as_object()) else {
        if !over.is_null() {
            assert_eq!(&merged, over, "a value of another shape did not replace the base");
        }
        return;
    };
    let m = merged.as_object().expect("two maps merge into a map");
    for (key, value) in b {
        if !o.contains_key(key) {
            assert_eq!(m.get(key), Some(value), "unrelated key `{key}` did not survive");
        }
    }
    for (key, value) in o {
        match value {
            Value::Null => assert_eq!(m.get(key), b.get(key), "`{key}: null` did not leave the base alone"),
            Value::Object(_) if b.get(key).is_some_and(Value::is_object) => {}
            other => assert_eq!(m.get(key), Some(other), "`{key}` was not replaced whole"),
        }
    }
    // `[]` clears a list, whatever the base held.
    if let Some(key) = b.keys().nth(rng.below(b.len().max(1))) {
        let mut cleared = o.clone();
        cleared.insert(key.clone(), json!([]));
        let m = merge(base, &Value::Object(cleared));
        assert_eq!(m.get(key), Some(&json!([])), "`{key}: []` did not clear");
    }
}

fn patching(template: &Value, patches: &[(Op, String, Option<Value>)]) {
    let location = Location { file: PathBuf::from("cfn.patches.yml"), line: 1, column: 1, source_line: None };
    let patches: Vec<Patch> = patches
        .iter()
        .map(|(op, path, value)| Patch {
            op: *op,
            path: path.clone(),
            value: value.clone(),
            location: location.clone(),
        })
        .collect();
    let mut patched = template.clone();
    if let Err(error) = apply(&mut patched, &patches) {
        let _ = error.to_string();
    }
    // Adding a new key and removing it again is no change.
    let Some(map_pointer) =
        pointers(template, 64).into_iter().find(|p| template.pointer(p).is_some_and(Value::is_object))
    else {
        return;
    };
    let round_trip = [
        Patch {
            op: Op::Add,
            path: format!("{map_pointer}/FuzzAdded"),
            value: Some(json!(1)),
            location: location.clone(),
        },
        Patch { op: Op::Remove, path: format!("{map_pointer}/FuzzAdded"), value: None, location },
    ];
    let mut copy = template.clone();
    apply(&mut copy, &round_trip).expect("adding then removing a new key");
    assert_eq!(&copy, template, "add then remove of a new key changed the template");
}
