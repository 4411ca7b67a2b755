//! Static-site uploads: the `s3-upload` host step a plugin declares and
//! returns beside its template (plugin ABI 0.3; plugins cannot read the
//! workspace), checked against the stack it belongs to and turned into the
//! exact set of bucket objects the workspace's files make.
//!
//! What a plugin can make the host do here is bounded: the bucket (and the
//! distribution) are logical IDs of resources the same template creates,
//! resolved from the deployed stack, never names the plugin supplies; every
//! file read is inside the workspace after following links; stale objects
//! are deleted only under the destination prefixes of the step's rules.
//! Template `Metadata["ferry:upload"]` (how plugins asked before 0.3) is
//! ignored: any plugin can write metadata.
//!
//! Filters follow Copilot's (and the AWS CLI's) rules: `*` matches any
//! characters including `/`, `?` one character, `[seq]` and `[!seq]` a class;
//! patterns match the path relative to the rule's `source`; a `reinclude`
//! match overrides an `exclude` match.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde_json::Value;

pub use ferry_plugin_protocol::host_steps::{S3Upload as UploadPlan, UploadRule as FileRule};

/// Where plugins before ABI 0.3 left their plan; now ignored, with a warning.
pub const LEGACY_METADATA_KEY: &str = "ferry:upload";

/// Resource types an upload step may name.
pub const BUCKET_TYPE: &str = "AWS::S3::Bucket";
pub const DISTRIBUTION_TYPE: &str = "AWS::CloudFront::Distribution";

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
    #[error(
        "the plugin's s3-upload step names {what} `{id}`, which is not an `{expected}` resource of the stack it renders{found}"
    )]
    ForeignResource { what: &'static str, id: String, expected: &'static str, found: String },
    #[error("files[{index}].source `{entry}` does not exist in the workspace ({path})")]
    MissingSource { index: usize, entry: String, path: PathBuf },
    #[error("files[{index}].source `{entry}` is a directory; set `recursive: true` to upload its contents")]
    DirectoryNotRecursive { index: usize, entry: String },
    #[error("files[{index}].source `{entry}` leaves the workspace; sources are relative to the workspace root")]
    OutsideWorkspace { index: usize, entry: String },
    #[error(
        "{link} is a symbolic link to {target}, outside the workspace {root}; ferry uploads only files inside the workspace"
    )]
    SymlinkOutside { link: PathBuf, target: PathBuf, root: PathBuf },
    #[error("{path} links back to a directory that contains it; remove the link or exclude it from `files`")]
    SymlinkLoop { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

impl crate::Explain for UploadError {
    fn hint(&self) -> Option<String> {
        match self {
            UploadError::ForeignResource { .. } => Some(
                "a plugin may only upload to a bucket its own template creates; the plugin is wrong, not the manifest"
                    .into(),
            ),
            UploadError::SymlinkOutside { .. } => {
                Some("replace the link with the file itself, or exclude it from `files`".into())
            }
            _ => None,
        }
    }
}

/// True when a template carries a pre-0.3 upload request in its metadata,
/// which is ignored (the caller warns).
pub fn has_legacy_metadata(template: &Value) -> bool {
    template.pointer(&format!("/Metadata/{LEGACY_METADATA_KEY}")).is_some()
}

/// Checks that the step's bucket (and distribution) are resources of the
/// stack's own template, of the right type.
pub fn check_against_template(plan: &UploadPlan, template: &Value) -> Result<(), UploadError> {
    let check = |what: &'static str, id: &str, expected: &'static str| {
        let found = template.get("Resources").and_then(|r| r.get(id)).and_then(|r| r.get("Type"));
        match found.and_then(Value::as_str) {
            Some(t) if t == expected => Ok(()),
            Some(t) => Err(UploadError::ForeignResource {
                what,
                id: id.to_string(),
                expected,
                found: format!(" (it is an `{t}`)"),
            }),
            None => Err(UploadError::ForeignResource {
                what,
                id: id.to_string(),
                expected,
                found: " (the template has no such resource)".into(),
            }),
        }
    };
    check("bucket", &plan.bucket, BUCKET_TYPE)?;
    if let Some(distribution) = &plan.distribution {
        check("distribution", distribution, DISTRIBUTION_TYPE)?;
    }
    Ok(())
}

/// Key prefixes (no leading or trailing `/`; "" is the whole bucket) the
/// step's rules write under: stale objects are deleted only there.
pub fn destination_prefixes(plan: &UploadPlan) -> Vec<String> {
    let mut prefixes: Vec<String> = plan.files.iter().map(|r| r.destination.trim_matches('/').to_string()).collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// True when `key` is under one of `prefixes` (a whole path segment: `assets`
/// covers `assets/a.css`, not `assets2/a.css`).
pub fn under_prefixes(key: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| p.is_empty() || key.strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with('/')))
}

/// Every object the plan asks for, keyed by object key (a later rule wins
/// when two rules produce the same key, as later copies would overwrite).
/// Sources and every file under them are canonicalised and must stay inside
/// the workspace: a symbolic link leading out is an error naming the link.
pub fn collect(plan: &UploadPlan, workspace_root: &Path) -> Result<BTreeMap<String, PlannedObject>, UploadError> {
    let root = std::fs::canonicalize(workspace_root)
        .map_err(|source| UploadError::Read { path: workspace_root.to_path_buf(), source })?;
    let mut objects = BTreeMap::new();
    for (index, rule) in plan.files.iter().enumerate() {
        let relative = Path::new(&rule.source);
        if relative.is_absolute() || relative.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(UploadError::OutsideWorkspace { index, entry: rule.source.clone() });
        }
        let source = root.join(relative);
        let meta = std::fs::metadata(&source).map_err(|_| UploadError::MissingSource {
            index,
            entry: rule.source.clone(),
            path: source.clone(),
        })?;
        inside(&source, &root)?;
        let prefix = rule.destination.trim_matches('/');
        let mut files = Vec::new();
        if meta.is_dir() {
            if !rule.recursive {
                return Err(UploadError::DirectoryNotRecursive { index, entry: rule.source.clone() });
            }
            walk(&source, "", &root, &mut Vec::new(), &mut files)?;
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

/// Refuses a path whose real location (links followed) is outside `root`,
/// naming the first link on the way that leads out.
fn inside(path: &Path, root: &Path) -> Result<(), UploadError> {
    let read = |source| UploadError::Read { path: path.to_path_buf(), source };
    let real = std::fs::canonicalize(path).map_err(read)?;
    if real.starts_with(root) {
        return Ok(());
    }
    // Name the link: the deepest ancestor (or the path) that is a symlink.
    let mut link = path.to_path_buf();
    for candidate in path.ancestors() {
        if !candidate.starts_with(root) || candidate == root {
            break;
        }
        if std::fs::symlink_metadata(candidate).map(|m| m.file_type().is_symlink()).unwrap_or(false) {
            link = candidate.to_path_buf();
            break;
        }
    }
    Err(UploadError::SymlinkOutside { link, target: real, root: root.to_path_buf() })
}

/// Files under `dir`, as (`/`-separated relative path, full path), sorted.
/// `ancestors` holds the real paths of the directories being walked, so a
/// symlink back to one of them is an error instead of endless recursion;
/// a symlink whose target is outside `root` is an error naming it.
fn walk(
    dir: &Path,
    rel: &str,
    root: &Path,
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
        let is_link =
            entry.file_type().map_err(|source| UploadError::Read { path: path.clone(), source })?.is_symlink();
        if is_link {
            // A link is followed only to a target inside the workspace.
            let target =
                std::fs::canonicalize(&path).map_err(|source| UploadError::Read { path: path.clone(), source })?;
            if !target.starts_with(root) {
                return Err(UploadError::SymlinkOutside { link: path, target, root: root.to_path_buf() });
            }
        }
        if std::fs::metadata(&path).map_err(|source| UploadError::Read { path: path.clone(), source })?.is_dir() {
            walk(&path, &child_rel, root, ancestors, out)?;
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

    fn plan(files: Vec<FileRule>) -> UploadPlan {
        UploadPlan { bucket: "Bucket".into(), distribution: None, files }
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
        let objects = collect(&plan(vec![dist, rule("robots.txt", "/meta", false)]), ws.path()).unwrap();
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
        let plan = |r| plan(vec![r]);
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
        let err = collect(&plan(vec![rule("dist", "/", true)]), ws.path()).unwrap_err();
        assert!(matches!(&err, UploadError::SymlinkLoop { path } if path.ends_with("dist/js/loop")), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_leaving_the_workspace_is_an_error_naming_the_link() {
        let ws = workspace();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("credentials"), "[default]\naws_secret_access_key = x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("credentials"), ws.path().join("dist/js/creds.txt")).unwrap();
        let err = collect(&plan(vec![rule("dist", "/", true)]), ws.path()).unwrap_err();
        assert!(
            matches!(&err, UploadError::SymlinkOutside { link, .. } if link.ends_with("dist/js/creds.txt")),
            "{err}"
        );
        assert!(err.to_string().contains("creds.txt"), "{err}");
        // A source that is itself a link out (or sits under one) is refused too.
        std::fs::remove_file(ws.path().join("dist/js/creds.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), ws.path().join("elsewhere")).unwrap();
        let err = collect(&plan(vec![rule("elsewhere/credentials", "/", false)]), ws.path()).unwrap_err();
        assert!(matches!(&err, UploadError::SymlinkOutside { link, .. } if link.ends_with("elsewhere")), "{err}");
        // A link that stays inside the workspace is followed.
        std::os::unix::fs::symlink(ws.path().join("robots.txt"), ws.path().join("dist/robots.txt")).unwrap();
        let objects = collect(&plan(vec![rule("dist", "/", true)]), ws.path()).unwrap();
        assert!(objects.contains_key("robots.txt"));
    }

    #[test]
    fn the_bucket_must_be_a_bucket_of_the_same_template() {
        let template = serde_json::json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "CloudFrontDistribution": {"Type": "AWS::CloudFront::Distribution"},
        }});
        let mut p = plan(vec![]);
        p.distribution = Some("CloudFrontDistribution".into());
        check_against_template(&p, &template).unwrap();
        p.bucket = "victim-bucket".into();
        let err = check_against_template(&p, &template).unwrap_err();
        assert!(
            err.to_string().contains("bucket `victim-bucket`") && err.to_string().contains("no such resource"),
            "{err}"
        );
        p.bucket = "Topic".into();
        let err = check_against_template(&p, &template).unwrap_err();
        assert!(err.to_string().contains("AWS::SNS::Topic"), "{err}");
        p.bucket = "Bucket".into();
        p.distribution = Some("Topic".into());
        assert!(check_against_template(&p, &template).is_err());
    }

    #[test]
    fn deletes_are_limited_to_the_destination_prefixes() {
        let mut p = plan(vec![rule("dist", "/assets/", true), rule("robots.txt", "assets", false)]);
        let prefixes = destination_prefixes(&p);
        assert_eq!(prefixes, ["assets"]);
        assert!(under_prefixes("assets/a.css", &prefixes));
        assert!(!under_prefixes("assets2/a.css", &prefixes));
        assert!(!under_prefixes("index.html", &prefixes));
        p.files.push(rule("dist", "/", true));
        assert!(under_prefixes("index.html", &destination_prefixes(&p)));
        assert!(!under_prefixes("x", &destination_prefixes(&plan(vec![]))), "no rules, no deletes");
    }

    #[test]
    fn legacy_metadata_is_recognised_to_be_ignored() {
        let template = serde_json::json!({"Metadata": {"ferry:upload": {"bucket_output": "BucketName", "files": []}}});
        assert!(has_legacy_metadata(&template));
        assert!(!has_legacy_metadata(&serde_json::json!({"Resources": {}})));
    }
}
