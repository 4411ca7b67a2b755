//! The pipeline manifest: its typed form, where it lives, and how it is read.

use super::{LEGACY_MANIFEST, PIPELINES_DIR};
use crate::error::{Error, Problem, did_you_mean};
use crate::workspace::Workspace;
use crate::yaml::{YamlDoc, escape_segment};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

/// `build:` of a pipeline manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub image: Option<String>,
    pub buildspec: Option<String>,
    pub additional_policy: Option<AdditionalPolicy>,
}

/// `build.additional_policy`: an IAM policy document for the build role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdditionalPolicy {
    #[serde(rename = "PolicyDocument")]
    pub policy_document: Value,
}

/// One entry of `deployments:` (every field optional: `api:` alone is fine).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub stack_name: Option<String>,
    pub template_path: Option<String>,
    pub template_config: Option<String>,
}

/// One entry of `pre_deployments:` / `post_deployments:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub buildspec: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// One element of `stages:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    #[serde(default)]
    pub requires_approval: bool,
    #[serde(default)]
    pub test_commands: Vec<String>,
    #[serde(default)]
    pub pre_deployments: IndexMap<String, Option<Action>>,
    #[serde(default)]
    pub post_deployments: IndexMap<String, Option<Action>>,
    /// Absent: every workload of the workspace, deployed together.
    pub deployments: Option<IndexMap<String, Option<Deployment>>>,
}

/// The typed manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub version: Option<u32>,
    /// Read by the provider plugin, not the host.
    pub source: Value,
    #[serde(default)]
    pub build: Build,
    pub stages: Vec<Stage>,
}

/// A pipeline manifest read from disk.
#[derive(Debug, Clone)]
pub struct PipelineManifest {
    /// `name:` (for the directory layout, also its directory's name).
    pub name: String,
    pub doc: YamlDoc,
    pub spec: Spec,
    /// The directory of the manifest (where `buildspec.yml` sits).
    pub dir: PathBuf,
    /// True for `copilot/pipeline.yml`.
    pub legacy: bool,
}

impl PipelineManifest {
    /// `source.provider`, when it is a string.
    pub fn provider(&self) -> Option<&str> {
        self.spec.source.get("provider").and_then(Value::as_str)
    }

    /// A located problem at `pointer`.
    pub fn problem(&self, pointer: &str, what: impl Into<String>) -> Problem {
        Problem::new(what).at(Some(self.doc.locate(pointer))).pointer(pointer)
    }

    /// The buildspec path CodeBuild reads, relative to the repository root.
    pub fn buildspec_path(&self) -> String {
        if let Some(path) = &self.spec.build.buildspec {
            return path.trim_start_matches("./").to_string();
        }
        if self.legacy {
            "copilot/buildspec.yml".into()
        } else {
            format!("copilot/pipelines/{}/buildspec.yml", self.name)
        }
    }
}

impl Workspace {
    /// Names of every pipeline: `copilot/pipelines/<name>/` directories and
    /// the legacy `copilot/pipeline.yml` (by its `name:`), sorted.
    pub fn pipeline_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.copilot_dir.join(PIPELINES_DIR))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("manifest.yml").is_file())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(name) = self.legacy_pipeline_name() {
            names.push(name);
        }
        names.sort();
        names.dedup();
        names
    }

    fn legacy_pipeline_name(&self) -> Option<String> {
        let doc = YamlDoc::read(&self.copilot_dir.join(LEGACY_MANIFEST)).ok()?;
        doc.value.get("name").and_then(Value::as_str).map(str::to_string)
    }

    /// Reads the pipeline `name`; [`check`] then checks it against the
    /// workspace (the source is the provider plugin's to check).
    pub fn load_pipeline(&self, name: &str) -> Result<PipelineManifest, Error> {
        let known = self.pipeline_names();
        if !known.iter().any(|k| k == name) {
            let hint = match did_you_mean(name, known.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if known.is_empty() => "create one with `ferry pipeline init`".to_string(),
                None => format!("pipelines in this workspace: {}", known.join(", ")),
            };
            return Err(Problem::new(format!("no pipeline named `{name}`"))
                .why("ferry reads copilot/pipelines/<name>/manifest.yml and copilot/pipeline.yml")
                .hint(hint)
                .into());
        }
        let dir = self.copilot_dir.join(PIPELINES_DIR).join(name);
        let (path, legacy) = if dir.join("manifest.yml").is_file() {
            (dir.join("manifest.yml"), false)
        } else {
            (self.copilot_dir.join(LEGACY_MANIFEST), true)
        };
        let doc = YamlDoc::read(&path)?;
        let spec = parse_spec(&doc)?;
        Ok(PipelineManifest {
            name: name.to_string(),
            dir: path.parent().map(PathBuf::from).unwrap_or_default(),
            doc,
            spec,
            legacy,
        })
    }
}

fn parse_spec(doc: &YamlDoc) -> Result<Spec, Error> {
    serde_path_to_error::deserialize::<_, Spec>(&doc.value).map_err(|err| {
        let mut pointer = String::new();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => pointer.push_str(&format!("/{}", escape_segment(key))),
                _ => {}
            }
        }
        let message = err.inner().to_string();
        let (what, hint) = if let Some(field) = between(&message, "unknown field `", "`") {
            if !pointer.ends_with(&format!("/{}", escape_segment(field))) {
                pointer.push_str(&format!("/{}", escape_segment(field)));
            }
            let expected: Vec<&str> = message
                .split_once("expected ")
                .map(|(_, rest)| {
                    rest.trim_start_matches("one of ").split([',', ' ']).map(|s| s.trim_matches('`')).collect()
                })
                .unwrap_or_default();
            let expected: Vec<&str> = expected.into_iter().filter(|s| !s.is_empty() && *s != "or").collect();
            let hint = match did_you_mean(field, expected.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("expected one of: {}", expected.join(", ")),
            };
            (format!("unknown field `{field}`"), hint)
        } else if let Some(field) = between(&message, "missing field `", "`") {
            (format!("missing required field `{field}`"), format!("add `{field}:` here"))
        } else {
            (message.clone(), "see the pipeline manifest reference (docs/pipelines.md)".to_string())
        };
        Problem::new(what).at(Some(doc.locate(&pointer))).pointer(pointer).hint(hint).into()
    })
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}
