//! What to build, read from a workload's effective manifest the way Copilot
//! reads it: `image.build` is a Dockerfile path, or a map of `dockerfile`,
//! `context`, `target`, `args` and `cache_from`; paths are relative to the
//! workspace root (the directory holding `copilot/`).

use indexmap::IndexMap;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One image build: the one typed reading of `image.build` that `svc deploy`,
/// `package --upload-assets` and the pipeline's buildspec share.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBuild {
    pub dockerfile: PathBuf,
    pub context: PathBuf,
    pub target: Option<String>,
    pub args: IndexMap<String, String>,
    pub cache_from: Vec<String>,
    /// `os/arch` for the engine's `--platform`, e.g. `linux/amd64`.
    pub platform: Option<String>,
}

/// A manifest value ferry cannot build from, at a JSON pointer the caller
/// maps back to file:line:col.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub pointer: String,
    pub message: String,
    pub hint: Option<String>,
}

impl SpecError {
    fn new(pointer: &str, message: impl Into<String>, hint: Option<&str>) -> Self {
        SpecError { pointer: pointer.into(), message: message.into(), hint: hint.map(str::to_string) }
    }
}

/// Every image a workload's (effective) manifest builds: the main
/// container's `image.build` and each sidecar's `sidecars.<name>.image.build`.
/// Copilot pushes them all to the workload's ECR repository, sidecars under
/// tags prefixed with their name ([`sidecar_tag`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkloadBuilds {
    pub main: Option<ImageBuild>,
    pub sidecars: IndexMap<String, ImageBuild>,
}

impl WorkloadBuilds {
    /// The builds of an effective manifest; `image.location` (of the main
    /// container or of a sidecar) wins over `build`: that image is deployed as written.
    pub fn from_manifest(root: &Path, manifest: &Value) -> Result<WorkloadBuilds, SpecError> {
        let located = |image: Option<&Value>| image.and_then(|i| i.get("location")).is_some_and(|v| !v.is_null());
        let main = if located(manifest.get("image")) { None } else { ImageBuild::from_manifest(root, manifest)? };
        let mut sidecars = IndexMap::new();
        for name in built_sidecars(manifest) {
            let at = format!("/sidecars/{}/image/build", name.replace('~', "~0").replace('/', "~1"));
            let build = &manifest["sidecars"][name.as_str()]["image"]["build"];
            sidecars.insert(name, ImageBuild::read(root, build, &at, manifest)?);
        }
        Ok(WorkloadBuilds { main, sidecars })
    }

    /// True when nothing is built.
    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.sidecars.is_empty()
    }
}

/// Names of the sidecars an effective manifest builds (`image.build` set,
/// no `image.location`), in manifest order.
pub fn built_sidecars(manifest: &Value) -> Vec<String> {
    let Some(Value::Object(list)) = manifest.get("sidecars") else { return Vec::new() };
    list.iter()
        .filter(|(_, sidecar)| {
            let image = sidecar.get("image");
            let set = |key: &str| image.and_then(|i| i.get(key)).is_some_and(|v| !v.is_null());
            set("build") && !set("location")
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The tag a sidecar's image gets for `tag`, as Copilot names them
/// (`<sidecar>-<tag>`, in the workload's repository).
pub fn sidecar_tag(sidecar: &str, tag: &str) -> String {
    format!("{sidecar}-{tag}")
}

impl ImageBuild {
    /// The main container's build, or `None` when the manifest has no `image.build`.
    pub fn from_manifest(root: &Path, manifest: &Value) -> Result<Option<ImageBuild>, SpecError> {
        let Some(build) = manifest.pointer("/image/build") else { return Ok(None) };
        ImageBuild::read(root, build, "/image/build", manifest).map(Some)
    }

    /// Reads one `build` value found at JSON pointer `at`; `manifest` gives the
    /// workload's `platform`, which every image of the task shares.
    pub fn read(root: &Path, build: &Value, at: &str, manifest: &Value) -> Result<ImageBuild, SpecError> {
        let (dockerfile, context, target, args, cache_from) = match build {
            Value::String(path) => (Some(path.as_str()), None, None, IndexMap::new(), Vec::new()),
            Value::Object(map) => {
                let text = |key: &str| -> Result<Option<&str>, SpecError> {
                    match map.get(key) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.as_str())),
                        Some(_) => Err(SpecError::new(
                            &format!("{at}/{key}"),
                            format!("`image.build.{key}` must be a non-empty string"),
                            None,
                        )),
                    }
                };
                let mut args = IndexMap::new();
                match map.get("args") {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(values)) => {
                        for (key, value) in values {
                            let value = match value {
                                Value::String(s) => s.clone(),
                                Value::Number(n) => n.to_string(),
                                Value::Bool(b) => b.to_string(),
                                _ => {
                                    return Err(SpecError::new(
                                        &format!("{at}/args/{key}"),
                                        format!("build argument `{key}` must be a string, number or boolean"),
                                        None,
                                    ));
                                }
                            };
                            args.insert(key.clone(), value);
                        }
                    }
                    Some(_) => {
                        return Err(SpecError::new(
                            &format!("{at}/args"),
                            "`image.build.args` must be a map of names to values",
                            Some("e.g. `args: {GO_VERSION: \"1.22\"}`"),
                        ));
                    }
                }
                let cache_from = match map.get("cache_from") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_str().map(str::to_string).ok_or_else(|| {
                                SpecError::new(
                                    &format!("{at}/cache_from/{i}"),
                                    "`image.build.cache_from` entries must be image references",
                                    None,
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => {
                        return Err(SpecError::new(
                            &format!("{at}/cache_from"),
                            "`image.build.cache_from` must be a list of image references",
                            None,
                        ));
                    }
                };
                (text("dockerfile")?, text("context")?, text("target")?, args, cache_from)
            }
            _ => {
                return Err(SpecError::new(
                    at,
                    "`image.build` must be a Dockerfile path or a map",
                    Some("e.g. `build: api/Dockerfile`, or `build: {dockerfile: api/Dockerfile, context: .}`"),
                ));
            }
        };
        let (file_at, context_at) = (format!("{at}/dockerfile"), format!("{at}/context"));
        let pointer = if build.is_string() { at } else { file_at.as_str() };
        let context_pointer = if build.is_string() { at } else { context_at.as_str() };
        if let Some(d) = dockerfile {
            stays_inside(d, pointer, "dockerfile")?;
        }
        if let Some(c) = context {
            stays_inside(c, context_pointer, "context")?;
        }
        // Copilot's rules: the context defaults to the Dockerfile's directory,
        // the Dockerfile to `Dockerfile` in the context.
        let (dockerfile, context) = match (dockerfile, context) {
            (Some(d), Some(c)) => (root.join(d), root.join(c)),
            (Some(d), None) => {
                let d = root.join(d);
                let c = d.parent().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                (d, c)
            }
            (None, Some(c)) => (root.join(c).join("Dockerfile"), root.join(c)),
            (None, None) => {
                return Err(SpecError::new(
                    at,
                    "`image.build` names neither a Dockerfile nor a context",
                    Some("add `dockerfile: <path>` or `context: <dir>`"),
                ));
            }
        };
        if !dockerfile.is_file() {
            return Err(SpecError::new(
                pointer,
                format!("Dockerfile {} does not exist", dockerfile.display()),
                Some("paths in `image.build` are relative to the workspace root (the directory holding copilot/)"),
            ));
        }
        if !context.is_dir() {
            let at = context_pointer;
            return Err(SpecError::new(
                at,
                format!("build context {} is not a directory", context.display()),
                Some("paths in `image.build` are relative to the workspace root (the directory holding copilot/)"),
            ));
        }
        // Links are followed by the engine: the real paths must stay inside too.
        real_inside(root, &dockerfile, pointer)?;
        real_inside(root, &context, context_pointer)?;
        Ok(ImageBuild {
            dockerfile,
            context,
            target: target.map(str::to_string),
            args,
            cache_from,
            platform: platform(manifest)?,
        })
    }
}

const INSIDE_HINT: &str =
    "paths in `image.build` are relative to the workspace root (the directory holding copilot/) and stay inside it";

/// Refuses an absolute path, or one whose `..` climbs out of the workspace.
fn stays_inside(path: &str, pointer: &str, field: &str) -> Result<(), SpecError> {
    use std::path::Component;
    let p = Path::new(path);
    if p.is_absolute() || p.components().any(|c| matches!(c, Component::Prefix(_) | Component::RootDir)) {
        return Err(SpecError::new(
            pointer,
            format!("`image.build` {field} `{path}` is an absolute path; ferry builds only from inside the workspace"),
            Some(INSIDE_HINT),
        ));
    }
    let mut depth: i64 = 0;
    for c in p.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Err(SpecError::new(
                pointer,
                format!("`image.build` {field} `{path}` leaves the workspace"),
                Some(INSIDE_HINT),
            ));
        }
    }
    Ok(())
}

/// Refuses an existing path whose real location (links followed) is outside `root`.
fn real_inside(root: &Path, path: &Path, pointer: &str) -> Result<(), SpecError> {
    let (Ok(real_root), Ok(real)) = (std::fs::canonicalize(root), std::fs::canonicalize(path)) else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        return Ok(());
    }
    Err(SpecError::new(
        pointer,
        format!("{} leads outside the workspace (to {}) through a symbolic link", path.display(), real.display()),
        Some(INSIDE_HINT),
    ))
}

/// `platform` (Copilot's top-level field, or `image.platform`) as `os/arch`.
fn platform(manifest: &Value) -> Result<Option<String>, SpecError> {
    let (pointer, value) = match (manifest.pointer("/image/platform"), manifest.get("platform")) {
        (Some(v), _) if !v.is_null() => ("/image/platform", v),
        (_, Some(v)) if !v.is_null() => ("/platform", v),
        _ => return Ok(None),
    };
    let (os, arch) = match value {
        Value::String(s) => match s.split_once('/') {
            Some((os, arch)) => (os.to_ascii_lowercase(), arch.to_ascii_lowercase()),
            None => return Err(SpecError::new(pointer, format!("`{s}` is not a platform"), Some(PLATFORMS))),
        },
        Value::Object(map) => {
            let os = map.get("osfamily").and_then(Value::as_str).unwrap_or("linux").to_ascii_lowercase();
            let arch = map.get("architecture").and_then(Value::as_str).unwrap_or("x86_64").to_ascii_lowercase();
            (if os.starts_with("windows") { "windows".into() } else { os }, arch)
        }
        _ => return Err(SpecError::new(pointer, "`platform` must be a string such as linux/amd64", Some(PLATFORMS))),
    };
    let arch = match arch.as_str() {
        "x86_64" | "amd64" => "amd64",
        "arm64" | "aarch64" => "arm64",
        other => {
            return Err(SpecError::new(
                pointer,
                format!("ferry cannot build for architecture `{other}`"),
                Some(PLATFORMS),
            ));
        }
    };
    if os != "linux" && os != "windows" {
        return Err(SpecError::new(pointer, format!("unknown operating system `{os}`"), Some(PLATFORMS)));
    }
    Ok(Some(format!("{os}/{arch}")))
}

const PLATFORMS: &str = "use linux/amd64 (or linux/x86_64) or linux/arm64";

/// The git short SHA of the workspace's commit when the tree is clean, the
/// tag Copilot gives images; `None` outside git or with uncommitted changes.
pub fn source_tag(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let status = git(&["status", "--porcelain"])?;
    if !status.is_empty() {
        return None;
    }
    git(&["rev-parse", "--short", "HEAD"]).filter(|sha| !sha.is_empty())
}

/// The creation time to stamp images with, so the same sources always give
/// the same digest (and a redeploy of them changes no stack, even built on
/// another machine or with the cache gone): `SOURCE_DATE_EPOCH` when set,
/// else the commit time of a clean git checkout, else the epoch.
pub fn source_time(root: &Path) -> i64 {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse().ok()) {
        return t;
    }
    if source_tag(root).is_none() {
        return 0;
    }
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["log", "-1", "--format=%ct"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// A valid image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("api/src")).unwrap();
        std::fs::write(dir.path().join("api/Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join("api/src/Dockerfile.prod"), "FROM scratch\n").unwrap();
        dir
    }

    #[test]
    fn string_form_builds_in_the_dockerfiles_directory() {
        let dir = root();
        let spec = ImageBuild::from_manifest(
            dir.path(),
            &json!({"image": {"build": "api/Dockerfile"}, "platform": "linux/x86_64"}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(spec.dockerfile, dir.path().join("api/Dockerfile"));
        assert_eq!(spec.context, dir.path().join("api"));
        assert_eq!(spec.platform.as_deref(), Some("linux/amd64"));
    }

    #[test]
    fn map_form_reads_every_field() {
        let dir = root();
        let manifest = json!({"image": {"build": {
            "dockerfile": "api/src/Dockerfile.prod", "context": ".", "target": "runtime",
            "args": {"VERSION": "1.2", "DEBUG": false, "N": 3}, "cache_from": ["a/b:c"]}},
            "platform": {"osfamily": "linux", "architecture": "arm64"}});
        let spec = ImageBuild::from_manifest(dir.path(), &manifest).unwrap().unwrap();
        assert_eq!(spec.dockerfile, dir.path().join("api/src/Dockerfile.prod"));
        assert_eq!(spec.context, dir.path().join("."));
        assert_eq!(spec.target.as_deref(), Some("runtime"));
        assert_eq!(
            spec.args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            ["VERSION=1.2", "DEBUG=false", "N=3"]
        );
        assert_eq!(spec.cache_from, ["a/b:c"]);
        assert_eq!(spec.platform.as_deref(), Some("linux/arm64"));
        let only_context = json!({"image": {"build": {"context": "api"}}});
        let spec = ImageBuild::from_manifest(dir.path(), &only_context).unwrap().unwrap();
        assert_eq!(spec.dockerfile, dir.path().join("api/Dockerfile"));
    }

    #[test]
    fn sidecar_builds_are_read_like_the_main_one() {
        let dir = root();
        let manifest = json!({
            "image": {"location": "nginx"},
            "platform": "linux/arm64",
            "sidecars": {
                "proxy": {"image": {"build": {"dockerfile": "api/src/Dockerfile.prod", "args": {"A": 1}}}},
                "logs": {"image": "fluent/fluent-bit"},
                "named": {"image": {"build": "api/Dockerfile", "location": "x/y"}}
            }
        });
        let builds = WorkloadBuilds::from_manifest(dir.path(), &manifest).unwrap();
        assert_eq!(builds.main, None, "image.location wins");
        assert_eq!(builds.sidecars.keys().collect::<Vec<_>>(), ["proxy"]);
        let proxy = &builds.sidecars["proxy"];
        assert_eq!(proxy.context, dir.path().join("api/src"));
        assert_eq!(proxy.args["A"], "1");
        assert_eq!(proxy.platform.as_deref(), Some("linux/arm64"), "sidecars share the task's platform");
        assert_eq!(sidecar_tag("proxy", "abc1234"), "proxy-abc1234");
        let bad = json!({"sidecars": {"a/b": {"image": {"build": {"dockerfile": "nope"}}}}});
        let err = WorkloadBuilds::from_manifest(dir.path(), &bad).unwrap_err();
        assert_eq!(err.pointer, "/sidecars/a~1b/image/build/dockerfile");
    }

    #[test]
    fn location_is_not_a_build() {
        let dir = root();
        assert_eq!(ImageBuild::from_manifest(dir.path(), &json!({"image": {"location": "nginx"}})).unwrap(), None);
    }

    #[test]
    fn bad_values_point_at_the_field() {
        let dir = root();
        let cases = [
            (json!({"image": {"build": "web/Dockerfile"}}), "/image/build", "does not exist"),
            (json!({"image": {"build": {"dockerfile": "nope"}}}), "/image/build/dockerfile", "does not exist"),
            (json!({"image": {"build": {"args": ["x"]}}}), "/image/build/args", "map"),
            (json!({"image": {"build": {"args": {"A": [1]}}}}), "/image/build/args/A", "string, number"),
            (json!({"image": {"build": 3}}), "/image/build", "Dockerfile path or a map"),
            (json!({"image": {"build": {}}}), "/image/build", "neither"),
            (json!({"image": {"build": "api/Dockerfile"}, "platform": "linux/s390x"}), "/platform", "s390x"),
            (json!({"image": {"build": {"context": "api/Dockerfile"}}}), "/image/build/dockerfile", "does not exist"),
        ];
        for (manifest, pointer, text) in cases {
            let err = ImageBuild::from_manifest(dir.path(), &manifest).unwrap_err();
            assert_eq!(err.pointer, pointer, "{manifest}");
            assert!(err.message.contains(text), "{manifest}: {}", err.message);
        }
    }

    #[test]
    fn paths_must_stay_inside_the_workspace() {
        let dir = root();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let abs = outside.path().join("Dockerfile").display().to_string();
        let cases = [
            (json!({"image": {"build": abs.clone()}}), "/image/build", "absolute path"),
            (json!({"image": {"build": {"dockerfile": abs}}}), "/image/build/dockerfile", "absolute path"),
            (json!({"image": {"build": "../x/Dockerfile"}}), "/image/build", "leaves the workspace"),
            (json!({"image": {"build": {"context": "api/../../.."}}}), "/image/build/context", "leaves the workspace"),
            (
                json!({"image": {"build": {"dockerfile": "api/Dockerfile", "context": "/"}}}),
                "/image/build/context",
                "absolute path",
            ),
        ];
        for (manifest, pointer, text) in cases {
            let err = ImageBuild::from_manifest(dir.path(), &manifest).unwrap_err();
            assert_eq!(err.pointer, pointer, "{manifest}");
            assert!(err.message.contains(text), "{manifest}: {}", err.message);
            assert!(err.hint.as_deref().unwrap_or("").contains("stay inside"), "{manifest}");
        }
        // `..` that stays inside is fine.
        let ok = json!({"image": {"build": {"dockerfile": "api/src/../Dockerfile", "context": "api/src/.."}}});
        assert!(ImageBuild::from_manifest(dir.path(), &ok).is_ok());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path(), dir.path().join("elsewhere")).unwrap();
            let err = ImageBuild::from_manifest(dir.path(), &json!({"image": {"build": "elsewhere/Dockerfile"}}))
                .unwrap_err();
            assert!(err.message.contains("through a symbolic link"), "{}", err.message);
        }
    }

    #[test]
    fn tags() {
        assert!(valid_tag("v1.2-rc_3"));
        assert!(valid_tag("abc1234"));
        for bad in ["", "-x", ".x", "a:b", "a/b", &"x".repeat(129)] {
            assert!(!valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn source_tag_only_for_clean_trees() {
        let dir = root();
        assert_eq!(source_tag(dir.path()), None, "not a git repository");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "x"]);
        let tag = source_tag(dir.path()).expect("a clean tree has a tag");
        let time = source_time(dir.path());
        assert!(time > 1_600_000_000, "the commit's time: {time}");
        assert!(tag.len() >= 7 && tag.chars().all(|c| c.is_ascii_hexdigit()), "{tag}");
        std::fs::write(dir.path().join("api/Dockerfile"), "FROM scratch\nCOPY x /x\n").unwrap();
        assert_eq!(source_tag(dir.path()), None, "a dirty tree has none");
        assert_eq!(source_time(dir.path()), 0);
    }
}
