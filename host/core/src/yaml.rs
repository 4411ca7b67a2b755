//! The one module that reads YAML. Values come from `yaml_serde` (the
//! maintained serde_yaml fork); positions come from a second, event-level pass
//! with `saphyr-parser`, indexed by JSON pointer so any later diagnostic on a
//! manifest path can be reported as `file:line:col`.

use crate::error::{Error, Location, Problem};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A parsed YAML document with the position of every node.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    pub path: PathBuf,
    pub text: String,
    pub value: Value,
    positions: HashMap<String, (usize, usize)>,
}

impl YamlDoc {
    /// Reads and parses a YAML file.
    pub fn read(path: &Path) -> Result<YamlDoc, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        YamlDoc::parse(path, text)
    }

    /// Parses YAML text that came from `path`.
    pub fn parse(path: &Path, text: String) -> Result<YamlDoc, Error> {
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            yaml_serde::from_str(&text).map_err(|e| syntax_problem(path, &text, &e))?
        };
        let positions = index_positions(&text);
        Ok(YamlDoc { path: path.to_path_buf(), text, value, positions })
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
        Location { file: self.path.clone(), line, column, source_line: source_line(&self.text, line) }
    }
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
    fn empty_document_is_null() {
        assert_eq!(doc("# only a comment\n").value, Value::Null);
    }
}
