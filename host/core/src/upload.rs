//! Static-site uploads: the plan a plugin leaves in its template's
//! `Metadata["ferry:upload"]` (plugins cannot read the workspace), turned
//! into the exact set of bucket objects the workspace's files make.
//!
//! Filters follow Copilot's (and the AWS CLI's) rules: `*` matches any
//! characters including `/`, `?` one character, `[seq]` and `[!seq]` a class;
//! patterns match the path relative to the rule's `source`; a `reinclude`
//! match overrides an `exclude` match.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::Value;

/// Where the plan sits in a rendered template's `Metadata`.
pub const UPLOAD_METADATA_KEY: &str = "ferry:upload";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadPlan {
    /// Stack output holding the bucket name.
    pub bucket_output: String,
    /// Stack output holding the CloudFront distribution to invalidate.
    #[serde(default)]
    pub distribution_output: Option<String>,
    pub files: Vec<FileRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileRule {
    /// File or directory, relative to the workspace root.
    pub source: String,
    /// Key prefix in the bucket (`/` = the root).
    pub destination: String,
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub reinclude: Vec<String>,
}

/// One object the bucket must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedObject {
    pub key: String,
    pub path: PathBuf,
    /// Hex MD5 of the content: what S3 reports as the ETag of a
    /// single-part, SSE-S3 object, so unchanged files are found from one
    /// listing without reading objects back.
    pub md5: String,
    pub size: u64,
    pub content_type: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload plan in the template is malformed: {0}")]
    BadPlan(String),
    #[error("files[{index}].source `{entry}` does not exist in the workspace ({path})")]
    MissingSource { index: usize, entry: String, path: PathBuf },
    #[error("files[{index}].source `{entry}` is a directory; set `recursive: true` to upload its contents")]
    DirectoryNotRecursive { index: usize, entry: String },
    #[error("files[{index}].source `{entry}` leaves the workspace; sources are relative to the workspace root")]
    OutsideWorkspace { index: usize, entry: String },
    #[error("{path} links back to a directory that contains it; remove the link or exclude it from `files`")]
    SymlinkLoop { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

/// The plan of a rendered template, if the plugin left one.
pub fn plan_of(template: &Value) -> Result<Option<UploadPlan>, UploadError> {
    match template.pointer(&format!("/Metadata/{UPLOAD_METADATA_KEY}")) {
        None => Ok(None),
        Some(plan) => serde_json::from_value(plan.clone()).map(Some).map_err(|e| UploadError::BadPlan(e.to_string())),
    }
}

/// Every object the plan asks for, keyed by object key (a later rule wins
/// when two rules produce the same key, as later copies would overwrite).
pub fn collect(plan: &UploadPlan, workspace_root: &Path) -> Result<BTreeMap<String, PlannedObject>, UploadError> {
    let mut objects = BTreeMap::new();
    for (index, rule) in plan.files.iter().enumerate() {
        let relative = Path::new(&rule.source);
        if relative.is_absolute() || relative.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(UploadError::OutsideWorkspace { index, entry: rule.source.clone() });
        }
        let source = workspace_root.join(relative);
        let meta = std::fs::metadata(&source).map_err(|_| UploadError::MissingSource {
            index,
            entry: rule.source.clone(),
            path: source.clone(),
        })?;
        let prefix = rule.destination.trim_matches('/');
        let mut files = Vec::new();
        if meta.is_dir() {
            if !rule.recursive {
                return Err(UploadError::DirectoryNotRecursive { index, entry: rule.source.clone() });
            }
            walk(&source, "", &mut Vec::new(), &mut files)?;
        } else {
            let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((name, source.clone()));
        }
        for (rel, path) in files {
            let excluded = rule.exclude.iter().any(|p| glob_match(p, &rel));
            if excluded && !rule.reinclude.iter().any(|p| glob_match(p, &rel)) {
                continue;
            }
            let key = if prefix.is_empty() { rel.clone() } else { format!("{prefix}/{rel}") };
            let bytes = std::fs::read(&path).map_err(|source| UploadError::Read { path: path.clone(), source })?;
            objects.insert(
                key.clone(),
                PlannedObject {
                    key,
                    md5: hex(&Md5::digest(&bytes)),
                    size: bytes.len() as u64,
                    content_type: content_type(&rel),
                    path,
                },
            );
        }
    }
    Ok(objects)
}

/// Files under `dir`, as (`/`-separated relative path, full path), sorted.
/// `ancestors` holds the real paths of the directories being walked, so a
/// symlink back to one of them is an error instead of endless recursion.
fn walk(
    dir: &Path,
    rel: &str,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), UploadError> {
    let read = |e| UploadError::Read { path: dir.to_path_buf(), source: e };
    let real = std::fs::canonicalize(dir).map_err(read)?;
    if ancestors.contains(&real) {
        return Err(UploadError::SymlinkLoop { path: dir.to_path_buf() });
    }
    ancestors.push(real);
    let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(read)?.collect::<Result<_, _>>().map_err(read)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let path = entry.path();
        // Follows symlinks: a linked file uploads its content.
        if std::fs::metadata(&path).map_err(|source| UploadError::Read { path: path.clone(), source })?.is_dir() {
            walk(&path, &child_rel, ancestors, out)?;
        } else {
            out.push((child_rel, path));
        }
    }
    ancestors.pop();
    Ok(())
}

/// AWS CLI filter matching: `*` (anything, `/` included), `?`, `[seq]`, `[!seq]`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(&p, pi, t[ti])
                        && matched
                    {
                        pi = next;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether `c` is in the class starting at `p[start] == '['`, and the index
/// after the class; `None` when the class is unterminated (then `[` is literal).
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (first || p[i] != ']') {
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            matched |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            matched |= p[i] == c;
            i += 1;
        }
    }
    if i >= p.len() {
        return if p[start] == c { Some((true, start + 1)) } else { None };
    }
    Some((matched != negate, i + 1))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Content-Type browsers need to render a site's common files.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "webmanifest" => "application/manifest+json",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_the_aws_cli_rules() {
        assert!(glob_match("*.map", "js/app.js.map"), "`*` crosses `/`");
        assert!(!glob_match("*.map", "app.js"));
        assert!(glob_match("draft?.png", "draft1.png"));
        assert!(!glob_match("draft?.png", "draft12.png"));
        assert!(glob_match("[!a-z]*", "Logo.psd"));
        assert!(!glob_match("[!a-z]*", "logo.psd"));
        assert!(glob_match("[abc]x", "bx"));
        assert!(glob_match("a[", "a["), "an unterminated class is literal");
        assert!(glob_match("*", ""));
        assert!(glob_match("vendor/**", "vendor/a/b.js"));
    }

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("dist/js")).unwrap();
        std::fs::write(root.join("dist/index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(root.join("dist/js/app.js"), "console.log(1)").unwrap();
        std::fs::write(root.join("dist/js/app.js.map"), "{}").unwrap();
        std::fs::write(root.join("dist/js/vendor.js.map"), "{}").unwrap();
        std::fs::write(root.join("robots.txt"), "User-agent: *").unwrap();
        dir
    }

    fn rule(source: &str, destination: &str, recursive: bool) -> FileRule {
        FileRule {
            source: source.into(),
            destination: destination.into(),
            recursive,
            exclude: vec![],
            reinclude: vec![],
        }
    }

    #[test]
    fn collects_keys_hashes_and_types_with_filters() {
        let ws = workspace();
        let mut dist = rule("dist", "/", true);
        dist.exclude = vec!["*.map".into()];
        dist.reinclude = vec!["*vendor.js.map".into()];
        let plan = UploadPlan {
            bucket_output: "BucketName".into(),
            distribution_output: None,
            files: vec![dist, rule("robots.txt", "/meta", false)],
        };
        let objects = collect(&plan, ws.path()).unwrap();
        let keys: Vec<&str> = objects.keys().map(String::as_str).collect();
        assert_eq!(keys, ["index.html", "js/app.js", "js/vendor.js.map", "meta/robots.txt"]);
        let index = &objects["index.html"];
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert_eq!(index.md5, "8097d38e49cc85c6e16e47e447a12142");
        assert_eq!(index.size, 11);
        // MD5 of the empty JSON object, as S3 would report it.
        assert_eq!(objects["js/vendor.js.map"].md5, "99914b932bd37a50b983c5e7c90ae93b");
    }

    #[test]
    fn refuses_missing_sources_non_recursive_dirs_and_escapes() {
        let ws = workspace();
        let plan = |r| UploadPlan { bucket_output: "B".into(), distribution_output: None, files: vec![r] };
        let err = collect(&plan(rule("missing", "/", true)), ws.path()).unwrap_err();
        assert!(matches!(err, UploadError::MissingSource { index: 0, .. }), "{err}");
        let err = collect(&plan(rule("dist", "/", false)), ws.path()).unwrap_err();
        assert!(err.to_string().contains("set `recursive: true`"), "{err}");
        let err = collect(&plan(rule("../etc", "/", true)), ws.path()).unwrap_err();
        assert!(matches!(err, UploadError::OutsideWorkspace { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_back_to_an_ancestor_is_an_error_not_endless_recursion() {
        let ws = workspace();
        std::os::unix::fs::symlink(ws.path().join("dist"), ws.path().join("dist/js/loop")).unwrap();
        let plan =
            UploadPlan { bucket_output: "B".into(), distribution_output: None, files: vec![rule("dist", "/", true)] };
        let err = collect(&plan, ws.path()).unwrap_err();
        assert!(matches!(&err, UploadError::SymlinkLoop { path } if path.ends_with("dist/js/loop")), "{err}");
    }

    #[test]
    fn reads_the_plan_from_template_metadata() {
        let template = serde_json::json!({"Metadata": {"ferry:upload": {
            "bucket_output": "BucketName", "distribution_output": "DistributionId",
            "files": [{"source": "dist", "destination": "/", "recursive": true, "exclude": [], "reinclude": []}]
        }}});
        let plan = plan_of(&template).unwrap().unwrap();
        assert_eq!(plan.distribution_output.as_deref(), Some("DistributionId"));
        assert!(plan_of(&serde_json::json!({"Resources": {}})).unwrap().is_none());
        let bad = serde_json::json!({"Metadata": {"ferry:upload": {"files": 3}}});
        assert!(matches!(plan_of(&bad), Err(UploadError::BadPlan(_))));
    }
}
