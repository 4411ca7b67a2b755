//! Input makers: YAML text mutated the ways hands and tools break it, and
//! JSON values shaped like manifests and templates.

use crate::Rng;
use serde_json::{Map, Value};

/// Fragments that change YAML's structure, not only its scalars.
const YAML_TOKENS: &[&str] = &[
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\n    - ",
    "  ",
    "\t",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "<<: *a\n",
    "? ",
    "|\n  ",
    ">-\n  ",
    "'",
    "\"",
    "\\",
    "#",
    "!Ref ",
    "!GetAtt ",
    "!!binary ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "${",
    "}",
    "${COPILOT_ENVIRONMENT_NAME}",
    "${HOME}",
    "${AWS::Region}",
    "null",
    "~",
    "true",
    "0x1F",
    "1e400",
    "-0",
    ".nan",
    "2m30s",
    "é",
    "\u{1F6A2}",
    "\u{200B}",
    "\r\n",
    "environments:\n  test:\n    ",
    "environments: [",
    "type: ",
];

/// A mutated copy of one corpus text: one to eight edits, some splicing in
/// lines of another file.
pub fn mutate_yaml(rng: &mut Rng, texts: &[String]) -> String {
    let mut text = rng.pick(texts).clone();
    for _ in 0..1 + rng.below(8) {
        let at = char_boundary(&text, rng.below(text.len() + 1));
        match rng.below(9) {
            0 | 1 => {
                let token = YAML_TOKENS[rng.below(YAML_TOKENS.len())];
                text.insert_str(at, token)
            }
            2 => {
                let end = char_boundary(&text, at + rng.below(16));
                text.replace_range(at..end, "");
            }
            3 => text.truncate(at),
            4 => {
                // Duplicate a line (repeated keys, repeated list items).
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let line = lines[rng.below(lines.len())].to_string();
                    text.insert_str(line_start(&text, at), &format!("{line}\n"));
                }
            }
            5 => {
                // Re-indent a line by -2..+4 spaces.
                let start = line_start(&text, at);
                if rng.one_in(2) {
                    text.insert_str(start, &" ".repeat(1 + rng.below(4)));
                } else if text[start..].starts_with("  ") {
                    text.replace_range(start..start + 2, "");
                }
            }
            6 => {
                // Splice lines from another file.
                let other = rng.pick(texts);
                let lines: Vec<&str> = other.lines().collect();
                if !lines.is_empty() {
                    let from = rng.below(lines.len());
                    let to = (from + 1 + rng.below(6)).min(lines.len());
                    let piece = lines[from..to].join("\n");
                    text.insert_str(line_start(&text, at), &format!("{piece}\n"));
                }
            }
            7 => {
                let c = char::from_u32(rng.below(0x3000) as u32).unwrap_or('?');
                text.insert(at, c);
            }
            _ => {
                // Deep nesting: what recursion limits are for.
                let depth = 1 + rng.below(200);
                let open = if rng.one_in(2) { "[" } else { "{a: " };
                text.insert_str(at, &open.repeat(depth));
            }
        }
    }
    text
}

fn char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Keys of Copilot manifests, the override merge's either/or groups among
/// them, and keys that need escaping in JSON pointers.
const MANIFEST_KEYS: &[&str] = &[
    "image",
    "build",
    "location",
    "port",
    "count",
    "range",
    "spot",
    "cpu_percentage",
    "http",
    "path",
    "alias",
    "hosted_zone",
    "healthcheck",
    "sidecars",
    "nginx",
    "storage",
    "volumes",
    "efs",
    "id",
    "uid",
    "secrets",
    "secretsmanager",
    "from_cfn",
    "variables",
    "network",
    "vpc",
    "placement",
    "subnets",
    "logging",
    "destination",
    "environments",
    "test",
    "prod",
    "a/b",
    "~0",
    "",
];

/// Scalars, including strings that interpolation and patch paths treat
/// specially.
const STRINGS: &[&str] = &[
    "",
    "x",
    "${NAME}",
    "${UNSET_VAR}",
    "${A}${B}",
    "${",
    "$${NAME}",
    "${AWS::Region}",
    "${1BAD}",
    "pre-${COPILOT_ENVIRONMENT_NAME}-post",
    "/path/*",
    "é${NAME}é",
];

/// A JSON value shaped like a manifest: maps of manifest keys, lists,
/// scalars, `null`; at most `depth` levels.
pub fn manifest_value(rng: &mut Rng, depth: usize) -> Value {
    let leaf = depth == 0 || rng.one_in(3);
    if leaf {
        return match rng.below(7) {
            0 => Value::Null,
            1 => Value::Bool(rng.one_in(2)),
            2 => Value::from(rng.below(10_000) as i64 - 100),
            3 => Value::from(rng.below(100) as f64 / 7.0),
            4 => Value::Array(Vec::new()),
            _ => Value::String((*rng.pick(STRINGS)).to_string()),
        };
    }
    if rng.one_in(4) {
        let len = rng.below(4);
        return Value::Array((0..len).map(|_| manifest_value(rng, depth - 1)).collect());
    }
    let mut map = Map::new();
    for _ in 0..rng.below(5) {
        map.insert((*rng.pick(MANIFEST_KEYS)).to_string(), manifest_value(rng, depth - 1));
    }
    Value::Object(map)
}

/// A value of the same shape as `base` in places and different in others:
/// overrides that mostly touch what the base has, as real ones do.
pub fn override_of(rng: &mut Rng, base: &Value, depth: usize) -> Value {
    match base {
        Value::Object(map) if depth > 0 && !rng.one_in(5) => {
            let mut out = Map::new();
            for (key, value) in map {
                if rng.one_in(2) {
                    out.insert(key.clone(), override_of(rng, value, depth - 1));
                }
            }
            if rng.one_in(3) {
                out.insert((*rng.pick(MANIFEST_KEYS)).to_string(), manifest_value(rng, depth - 1));
            }
            Value::Object(out)
        }
        _ => manifest_value(rng, depth),
    }
}

/// Every JSON pointer in `value`, depth first (at most `limit`).
pub fn pointers(value: &Value, limit: usize) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>, limit: usize) {
        if out.len() >= limit {
            return;
        }
        out.push(at.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{at}/{}", ferry_core::yaml::escape_segment(k)), out, limit);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{at}/{i}"), out, limit);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out, limit);
    out
}
