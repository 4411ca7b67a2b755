//! The "Static Site" manifest, in Copilot's format.

use ferry_plugin_sdk::Value;
pub use ferry_plugin_sdk::workload::either::StringOrList;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub http: Option<Http>,
    /// Static assets uploaded to the site's bucket.
    pub files: Option<Vec<FileUpload>>,
    /// Per-environment overrides: the host has already applied them.
    pub environments: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// HTTPS domain alias of the site.
    pub alias: Option<String>,
    /// ARN of an ACM certificate in us-east-1 covering the alias.
    pub certificate: Option<String>,
}

/// One `files` entry: a file or directory of the workspace to upload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUpload {
    /// Path relative to the workspace root.
    pub source: Option<String>,
    /// Key prefix in the bucket (default: the bucket root).
    pub destination: Option<String>,
    /// Upload a directory's subdirectories too (default: true).
    pub recursive: Option<bool>,
    /// Patterns of files to leave out.
    pub exclude: Option<StringOrList>,
    /// Patterns of excluded files to upload after all.
    pub reinclude: Option<StringOrList>,
}

/// Patterns as a list; a single string is one pattern (not split on spaces).
pub fn patterns(value: &Option<StringOrList>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(StringOrList::String(s)) => vec![s.clone()],
        Some(StringOrList::List(l)) => l.clone(),
    }
}
