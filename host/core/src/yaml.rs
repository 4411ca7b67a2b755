//! The one module that reads YAML. Values come from `yaml_serde` (the
//! maintained serde_yaml fork); positions come from a second, event-level pass
//! with `saphyr-parser`, indexed by JSON pointer so any later diagnostic on a
//! manifest path can be reported as `file:line:col`.
//!
//! Limits: a file is at most [`MAX_BYTES`], and its aliases may not expand
//! it past [`MAX_NODES`] nodes (counted on the event stream before any value
//! is built, so a small file of nested aliases cannot take gigabytes).
//! Files that hold secret values are read with [`YamlDoc::read_sensitive`]:
//! their errors give `file:line:col` but never quote the source line.

use crate::error::{Error, Location, Problem};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest YAML file ferry reads (manifests, workspace files, inputs): a
/// Copilot manifest is a few kilobytes.
pub const MAX_BYTES: u64 = 1 << 20;

/// Most nodes a document may have once its aliases are expanded.
pub const MAX_NODES: u64 = 100_000;

/// A parsed YAML document with the position of every node.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    pub path: PathBuf,
    pub text: String,
    pub value: Value,
    positions: HashMap<String, (usize, usize)>,
    /// The file holds secret values: locations never carry its text.
    sensitive: bool,
}

impl YamlDoc {
    /// Reads and parses a YAML file.
    pub fn read(path: &Path) -> Result<YamlDoc, Error> {
        let text = read_capped(path)?;
        YamlDoc::parse(path, text)
    }

    /// Reads a file that holds secret values (`secret init --cli-input-yaml`).
    /// The rule for secret inputs: no error quotes their source text; errors
    /// say `file:line:col` and what is wrong, never the line or the value.
    pub fn read_sensitive(path: &Path) -> Result<YamlDoc, Error> {
        let text = read_capped(path)?;
        let mut doc = YamlDoc::parse(path, text).map_err(without_source_lines)?;
        doc.sensitive = true;
        Ok(doc)
    }

    /// Parses YAML text that came from `path`.
    pub fn parse(path: &Path, text: String) -> Result<YamlDoc, Error> {
        if text.len() as u64 > MAX_BYTES {
            return Err(too_big(path, text.len() as u64));
        }
        check_expansion(path, &text)?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            yaml_serde::from_str(&text).map_err(|e| syntax_problem(path, &text, &e))?
        };
        let positions = index_positions(&text);
        Ok(YamlDoc { path: path.to_path_buf(), text, value, positions, sensitive: false })
    }

    /// The position of the node at `pointer`, or of its nearest ancestor that
    /// exists in the file. Map entries point at their key.
    pub fn locate(&self, pointer: &str) -> Location {
        let mut p = pointer.to_string();
        loop {
            if let Some(&(line, column)) = self.positions.get(&p) {
                return self.location(line, column);
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return self.location(1, 1),
            }
        }
    }

    /// The position of exactly `pointer`, if that node is in the file.
    pub fn locate_exact(&self, pointer: &str) -> Option<Location> {
        self.positions.get(pointer).map(|&(line, column)| self.location(line, column))
    }

    pub fn location(&self, line: usize, column: usize) -> Location {
        let source_line = if self.sensitive { None } else { source_line(&self.text, line) };
        Location { file: self.path.clone(), line, column, source_line }
    }
}

/// Reads a file of at most [`MAX_BYTES`] (checked before reading it whole).
fn read_capped(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut text = String::new();
    file.take(MAX_BYTES + 1).read_to_string(&mut text).map_err(|e| Error::read(path, e))?;
    if text.len() as u64 > MAX_BYTES {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(text.len() as u64);
        return Err(too_big(path, size));
    }
    Ok(text)
}

fn too_big(path: &Path, size: u64) -> Error {
    Error::problem(
        Problem::new(format!(
            "{} is {size} bytes, over ferry's limit of {MAX_BYTES} bytes for a YAML file",
            path.display()
        ))
        .why("manifests and workspace files are a few kilobytes; a larger file is refused before it is parsed")
        .hint("check that this is the file you meant; split large configuration out of the manifest"),
    )
}

/// Drops the quoted source line of every problem (secret inputs).
fn without_source_lines(err: Error) -> Error {
    match err {
        Error::Problems(problems) => Error::Problems(
            problems
                .into_iter()
                .map(|mut p| {
                    if let Some(location) = &mut p.location {
                        location.source_line = None;
                    }
                    p
                })
                .collect(),
        ),
        other => other,
    }
}

/// Counts the nodes of the first document with every alias expanded, from
/// the event stream (linear in the file), and refuses a document past
/// [`MAX_NODES`]: nested aliases grow exponentially (billion laughs) or, with
/// many aliases of one large node, quadratically, while the file stays small.
/// A syntax error stops the count: the parse after reports it.
fn check_expansion(path: &Path, text: &str) -> Result<(), Error> {
    use saphyr_parser::{Event, Parser};
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    // (anchor id, nodes so far) of the open collections.
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut total: u64 = 0;
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    let limit_hit = |at: (usize, usize), total: u64| {
        Error::problem(
            Problem::new(format!(
                "this YAML expands to more than {MAX_NODES} nodes through its aliases (`*name`), {total} so far"
            ))
            .at(Some(Location { file: path.to_path_buf(), line: at.0, column: at.1, source_line: None }))
            .why("each alias repeats its anchored node; ferry refuses documents whose expansion passes the limit, so a small file cannot take gigabytes of memory")
            .hint("write the repeated values out, or anchor smaller nodes; a manifest needs far fewer nodes than this"),
        )
    };
    while let Some(Ok((event, span))) = parser.next_event() {
        let at = (span.start.line(), span.start.col() + 1);
        let finished: Option<(usize, u64)> = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    break;
                }
                None
            }
            Event::Scalar(_, _, anchor, _) => Some((anchor, 1)),
            Event::Alias(id) => Some((0, sizes.get(&id).copied().unwrap_or(1))),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                open.push((anchor, 1));
                None
            }
            Event::MappingEnd | Event::SequenceEnd => open.pop(),
            _ => None,
        };
        let Some((anchor, size)) = finished else { continue };
        if anchor > 0 {
            sizes.insert(anchor, size);
        }
        match open.last_mut() {
            Some((_, count)) => *count = count.saturating_add(size),
            None => total = total.saturating_add(size),
        }
        let so_far = total.saturating_add(open.iter().fold(0u64, |a, (_, c)| a.saturating_add(*c)));
        if so_far > MAX_NODES {
            return Err(limit_hit(at, so_far));
        }
    }
    Ok(())
}

fn source_line(text: &str, line: usize) -> Option<String> {
    text.lines().nth(line.checked_sub(1)?).map(str::to_string)
}

fn syntax_problem(path: &Path, text: &str, err: &yaml_serde::Error) -> Error {
    let location = err.location().map(|l| Location {
        file: path.to_path_buf(),
        line: l.line(),
        column: l.column(),
        source_line: source_line(text, l.line()),
    });
    let mut message = err.to_string();
    // yaml_serde appends " at line L column C"; the location says that already.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    let hint = if message.contains("mapping values are not allowed") {
        "check the indentation and that a `key: value` line is not missing its newline"
    } else if message.contains("found character that cannot start any token") && text.contains('\t') {
        "YAML does not allow tabs for indentation; use spaces"
    } else if message.contains("invalid type") {
        "map keys in a manifest must be strings"
    } else if message.contains("repetition limit exceeded") {
        "the file's aliases (`*name`) repeat nodes too many times; write the values out"
    } else if message.contains("recursion limit exceeded") {
        "the file nests too deeply; flatten it"
    } else {
        "check the YAML syntax near this position (indentation, quotes, colons)"
    };
    Error::problem(Problem::new(format!("invalid YAML: {message}")).at(location).hint(hint))
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Map { pointer: String, pending_key: Option<String> },
    Seq { pointer: String, index: usize },
}

/// Walks the YAML events once and records, for each node's JSON pointer, the
/// 1-based line and column where it starts (for map entries: their key).
fn index_positions(text: &str) -> HashMap<String, (usize, usize)> {
    use saphyr_parser::{Event, Parser};
    let mut positions = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;

    // Pointer of the node that starts now, given the enclosing frame; for a
    // map frame this consumes the pending key.
    fn child_pointer(stack: &mut [Frame]) -> Option<String> {
        match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { pointer, index }) => {
                let p = format!("{pointer}/{index}");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { pointer, pending_key }) => {
                pending_key.take().map(|key| format!("{pointer}/{}", escape_segment(&key)))
            }
        }
    }

    while let Some(Ok((event, span))) = parser.next_event() {
        let at = (span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    break;
                }
            }
            Event::Scalar(value, ..) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { pending_key: None, .. }));
                if is_key {
                    if let Some(Frame::Map { pointer, pending_key }) = stack.last_mut() {
                        let p = format!("{pointer}/{}", escape_segment(&value));
                        positions.entry(p).or_insert(at);
                        *pending_key = Some(value.to_string());
                    }
                } else if let Some(p) = child_pointer(&mut stack) {
                    positions.entry(p).or_insert(at);
                }
            }
            Event::Alias(_) => {
                if let Some(p) = child_pointer(&mut stack) {
                    positions.entry(p).or_insert(at);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { pending_key: None, .. }));
                // A complex (non-scalar) key: index nothing below it.
                let pointer = if is_key { None } else { child_pointer(&mut stack) };
                let pointer = pointer.unwrap_or_else(|| "\u{0}".to_string());
                positions.entry(pointer.clone()).or_insert(at);
                if matches!(event, Event::MappingStart(..)) {
                    stack.push(Frame::Map { pointer, pending_key: None });
                } else {
                    stack.push(Frame::Seq { pointer, index: 0 });
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> YamlDoc {
        YamlDoc::parse(Path::new("m.yml"), text.to_string()).unwrap()
    }

    #[test]
    fn positions_of_keys_and_items() {
        let d = doc("name: api\nhttp:\n  path: /\n  healthcheck:\n    path: /h\nsidecars:\n  - a\n  - name: b\n");
        let at = |p: &str| {
            let l = d.locate(p);
            (l.line, l.column)
        };
        assert_eq!(at("/name"), (1, 1));
        assert_eq!(at("/http/path"), (3, 3));
        assert_eq!(at("/http/healthcheck/path"), (5, 5));
        assert_eq!(at("/sidecars/0"), (7, 5));
        assert_eq!(at("/sidecars/1/name"), (8, 5));
        // A pointer into a node that does not exist falls back to its parent.
        assert_eq!(at("/http/healthcheck/port"), (4, 3));
        assert_eq!(d.locate("/http/path").source_line.as_deref(), Some("  path: /"));
    }

    #[test]
    fn flow_style_and_escaped_keys() {
        let d = doc("variables: {A: 1, \"x/y\": 2}\nlist: [1, 2]\n");
        assert_eq!(d.locate("/variables/x~1y").column, 19);
        assert_eq!(d.locate("/list/1").column, 11);
    }

    #[test]
    fn syntax_error_has_location_and_hint() {
        let err = YamlDoc::parse(Path::new("m.yml"), "name: a\nhttp:\n  path: /\n bad: [\n".into()).unwrap_err();
        let p = &err.problems()[0];
        assert!(p.what.starts_with("invalid YAML"), "{}", p.what);
        let loc = p.location.as_ref().unwrap();
        assert_eq!(loc.file, Path::new("m.yml"));
        assert!(loc.line >= 3, "{loc}");
        assert!(p.hint.is_some());
    }

    #[test]
    fn quadratic_alias_expansion_is_refused_with_the_limit_named() {
        // One anchored list of 1,000 items, aliased 1,000 times: ~26 KB of
        // text, a million nodes expanded.
        let items: String = (0..1000).map(|i| format!("  - v{i}\n")).collect();
        let aliases: String = (0..1000).map(|i| format!("  k{i}: *a\n")).collect();
        let text = format!("name: api\nbase: &a\n{items}copies:\n{aliases}");
        assert!(text.len() < 30_000, "{}", text.len());
        let started = std::time::Instant::now();
        let err = YamlDoc::parse(Path::new("m.yml"), text).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let p = &err.problems()[0];
        assert!(p.what.contains("more than 100000 nodes through its aliases"), "{}", p.what);
        assert!(!p.what.contains("check the YAML syntax") && !p.hint.as_deref().unwrap_or("").contains("syntax"));
        assert!(p.location.as_ref().unwrap().line > 1000);
    }

    #[test]
    fn billion_laughs_names_the_limit_not_the_syntax() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"].windows(2).map(|w| (w[0], w[1])) {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = YamlDoc::parse(Path::new("m.yml"), text).unwrap_err();
        assert!(err.problems()[0].what.contains("through its aliases"), "{err}");
    }

    #[test]
    fn reasonable_aliases_and_large_files() {
        let d = doc("base: &b {cpu: 256, memory: 512}\nenvironments:\n  test: *b\n  prod: *b\n");
        assert_eq!(d.value["environments"]["prod"]["memory"], 512);
        let big = format!("name: x\n# {}\n", "x".repeat(MAX_BYTES as usize));
        let err = YamlDoc::parse(Path::new("m.yml"), big).unwrap_err();
        assert!(err.problems()[0].what.contains("over ferry's limit of 1048576 bytes"), "{err}");
    }

    #[test]
    fn sensitive_files_never_quote_their_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.yml");
        std::fs::write(&path, "db:\n  test: hunter2\n  prod: \"unterminated s3cr3t\n").unwrap();
        let err = YamlDoc::read_sensitive(&path).unwrap_err();
        let p = &err.problems()[0];
        assert!(p.location.as_ref().unwrap().source_line.is_none(), "{p:?}");
        assert!(!format!("{err} {p:?}").contains("s3cr3t"), "{p:?}");
        std::fs::write(&path, "db:\n  test: hunter2\n").unwrap();
        let d = YamlDoc::read_sensitive(&path).unwrap();
        assert!(d.locate("/db/test").source_line.is_none());
        assert!(YamlDoc::read(&path).unwrap().locate("/db/test").source_line.is_some());
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(doc("# only a comment\n").value, Value::Null);
    }
}
