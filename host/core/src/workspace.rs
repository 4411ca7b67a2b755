//! Finding and reading a Copilot workspace: `copilot/.workspace`, workload
//! manifests `copilot/<name>/manifest.yml`, environments
//! `copilot/environments/<env>/manifest.yml`.

use crate::error::{Error, Problem, did_you_mean};
use crate::yaml::YamlDoc;
use ferry_plugin_protocol::WorkloadSummary;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Directories under `copilot/` that are not workloads.
const RESERVED_DIRS: &[&str] = &["environments", "pipelines", "plugins"];

/// A Copilot workspace on disk.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The directory that holds `copilot/`.
    pub root: PathBuf,
    /// `<root>/copilot`.
    pub copilot_dir: PathBuf,
    /// `application:` from `.workspace`.
    pub app: String,
    /// `domain:` from `.workspace` (a ferry extension Copilot ignores).
    pub domain: Option<String>,
}

/// One manifest file, parsed.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Workload or environment name (its directory name).
    pub name: String,
    /// Manifest `type:`.
    pub kind: String,
    pub doc: YamlDoc,
    /// The directory holding `manifest.yml`.
    pub dir: PathBuf,
}

impl Workspace {
    /// Walks up from `start` to the first directory with `copilot/.workspace`.
    pub fn discover(start: &Path) -> Result<Workspace, Error> {
        for dir in start.ancestors() {
            if dir.join("copilot").join(".workspace").is_file() {
                return Workspace::open(dir);
            }
        }
        Err(Problem::new(format!("no Copilot workspace found in {} or any parent directory", start.display()))
            .why("ferry looks for copilot/.workspace to know which application you work on")
            .hint("cd into your project, or create one with `ferry app init <app>`")
            .into())
    }

    /// Opens the workspace whose `copilot/` is directly under `root`.
    pub fn open(root: &Path) -> Result<Workspace, Error> {
        let copilot_dir = root.join("copilot");
        let file = copilot_dir.join(".workspace");
        let doc = YamlDoc::read(&file)?;
        let app = match doc.value.get("application") {
            Some(Value::String(app)) if !app.is_empty() => app.clone(),
            Some(_) => {
                return Err(Problem::new("`application` must be a non-empty string")
                    .at(Some(doc.locate("/application")))
                    .hint("write `application: <app name>`")
                    .into());
            }
            None => {
                return Err(Problem::new("copilot/.workspace does not name the application")
                    .at(Some(doc.locate("")))
                    .hint("add a line `application: <app name>`")
                    .into());
            }
        };
        if let Err(why) = crate::naming::check_name(&app) {
            return Err(Problem::new(format!("invalid application name `{app}`"))
                .at(Some(doc.locate("/application")))
                .why(why)
                .into());
        }
        let domain = doc.value.get("domain").and_then(Value::as_str).map(str::to_string);
        Ok(Workspace { root: root.to_path_buf(), copilot_dir, app, domain })
    }

    fn manifest_dirs(dir: &Path) -> Vec<(String, PathBuf)> {
        let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("manifest.yml").is_file())
                    .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// Names of all services and jobs, sorted.
    pub fn workload_names(&self) -> Vec<String> {
        Self::manifest_dirs(&self.copilot_dir)
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !RESERVED_DIRS.contains(&name.as_str()))
            .collect()
    }

    /// Names of all environments with a manifest, sorted.
    pub fn environment_names(&self) -> Vec<String> {
        Self::manifest_dirs(&self.copilot_dir.join("environments")).into_iter().map(|(name, _)| name).collect()
    }

    /// Loads `copilot/<name>/manifest.yml`.
    pub fn load_workload(&self, name: &str) -> Result<Manifest, Error> {
        if RESERVED_DIRS.contains(&name) || !has_manifest(&self.copilot_dir, name) {
            let known = self.workload_names();
            return Err(unknown("service or job", name, &known, "ferry svc init").into());
        }
        check_dir_name("service or job", name, &self.copilot_dir.join(name))?;
        load_manifest(name, &self.copilot_dir.join(name))
    }

    /// Loads `copilot/environments/<name>/manifest.yml`.
    pub fn load_environment(&self, name: &str) -> Result<Manifest, Error> {
        if !has_manifest(&self.copilot_dir.join("environments"), name) {
            let known = self.environment_names();
            return Err(unknown("environment", name, &known, "ferry env init").into());
        }
        check_dir_name("environment", name, &self.copilot_dir.join("environments").join(name))?;
        load_manifest(name, &self.copilot_dir.join("environments").join(name))
    }

    /// Refuses a workspace another user could have planted or can change:
    /// the project directory, `copilot/`, `copilot/plugins/` and
    /// `copilot/plugins.lock` must be owned by the current user and not
    /// writable by group or others. Reading manifests does not need this;
    /// anything that runs a workspace's plugins or writes into it does.
    pub fn check_private(&self) -> Result<(), Error> {
        let lock = self.copilot_dir.join("plugins.lock");
        let plugins = self.copilot_dir.join("plugins");
        for path in [&self.root, &self.copilot_dir, &plugins, &lock] {
            if let Err(why) = check_private_path(path) {
                return Err(Problem::new(format!("refusing to use the workspace {}", self.root.display()))
                    .why(format!("{}: {why}; a workspace another user can write could make ferry run code or change what it deploys", path.display()))
                    .hint(format!(
                        "if this project is yours, fix its owner and permissions (`chmod go-w {}`); otherwise copy it to a directory you own",
                        path.display()
                    ))
                    .into());
            }
        }
        Ok(())
    }
}

/// One workload's name, type and placement for `env`, read from its parsed
/// manifest (the env's override of `network.vpc.placement` wins).
pub fn workload_summary(manifest: &Manifest, env: &str) -> WorkloadSummary {
    let value = &manifest.doc.value;
    let override_pointer = format!("/environments/{}/network/vpc/placement", crate::yaml::escape_segment(env));
    let placement = value.pointer(&override_pointer).or_else(|| value.pointer("/network/vpc/placement"));
    let private_placement = placement.and_then(Value::as_str) == Some("private");
    let mut summary = WorkloadSummary {
        name: manifest.name.clone(),
        kind: manifest.kind.clone(),
        private_placement,
        ..Default::default()
    };
    fill_environment_needs(&mut summary, value, env);
    summary
}

/// What a workload asks of its environment stack (internal load balancer,
/// managed EFS, App Runner VPC endpoint, CDN aliases), read from its manifest
/// with the environment's override of a section winning, as for placement.
fn fill_environment_needs(summary: &mut WorkloadSummary, manifest: &Value, env: &str) {
    let env_pointer = format!("/environments/{}", crate::yaml::escape_segment(env));
    let field = |pointer: &str| -> Option<&Value> {
        manifest
            .pointer(&format!("{env_pointer}{pointer}"))
            .or_else(|| manifest.pointer(pointer))
            .filter(|v| !v.is_null())
    };
    let enabled = |v: Option<&Value>| v.is_some_and(|v| v != &Value::Bool(false));
    summary.behind_env_alb = behind_env_alb(manifest, env);
    if summary.kind == "Request-Driven Web Service" {
        summary.apprunner_private = enabled(field("/http/private"));
    }
    summary.efs_managed = uses_managed_efs(manifest, env);
    let mut aliases = Vec::new();
    match field("/http/alias") {
        Some(Value::String(alias)) => aliases.push(alias.clone()),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(alias) => aliases.push(alias.clone()),
                    Value::Object(map) => {
                        if let Some(Value::String(alias)) = map.get("name") {
                            aliases.push(alias.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    summary.aliases = aliases;
}

/// Whether a volume of the manifest (the env's override of a volume wins)
/// mounts the environment's managed EFS file system: `efs: true`, or an
/// `efs` map with `uid`/`gid` and no `id`, as Copilot decides it.
fn uses_managed_efs(manifest: &Value, env: &str) -> bool {
    let managed = |efs: &Value| match efs {
        Value::Bool(b) => *b,
        Value::Object(m) => m.get("id").is_none() && (m.contains_key("uid") || m.contains_key("gid")),
        _ => false,
    };
    let base = manifest.pointer("/storage/volumes").and_then(Value::as_object);
    let override_pointer = format!("/environments/{}/storage/volumes", crate::yaml::escape_segment(env));
    let over = manifest.pointer(&override_pointer).and_then(Value::as_object);
    let names = base.into_iter().chain(over).flat_map(|m| m.keys());
    names.into_iter().any(|name| {
        let efs = over
            .and_then(|o| o.get(name))
            .and_then(|v| v.get("efs"))
            .or_else(|| base.and_then(|b| b.get(name)).and_then(|v| v.get("efs")));
        efs.is_some_and(managed)
    })
}

/// The workload's `http` (the env's override winning) routes through the
/// environment's load balancer: a section, not `false`, with no `http.alb`.
fn behind_env_alb(manifest: &Value, env: &str) -> bool {
    let env_http = manifest.pointer(&format!("/environments/{}/http", crate::yaml::escape_segment(env)));
    let http = env_http.filter(|v| !v.is_null()).or_else(|| manifest.get("http"));
    match http {
        Some(Value::Object(fields)) => {
            let alb = |h: Option<&Value>| h.and_then(|h| h.get("alb")).is_some_and(|a| !a.is_null());
            !alb(Some(&Value::Object(fields.clone()))) && !alb(manifest.get("http"))
        }
        _ => false,
    }
}

fn unknown(what: &str, name: &str, known: &[String], init: &str) -> Problem {
    let problem = Problem::new(format!("no {what} named `{name}` in this workspace"));
    let hint = match did_you_mean(name, known.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None if known.is_empty() => format!("there is none yet: create one with `{init}`"),
        None => format!("known: {}", known.join(", ")),
    };
    problem.hint(hint)
}

/// Whether `dir/<name>/manifest.yml` is a file, for a `name` that is one
/// plain path component (so it cannot reach outside `dir`): what listing
/// `dir` would say, for one stat instead of one per directory. Loading
/// every workload of a workspace listed it once per workload (5,000 stats
/// for 50 workloads).
fn has_manifest(dir: &Path, name: &str) -> bool {
    let mut components = Path::new(name).components();
    let single = matches!(components.next(), Some(std::path::Component::Normal(part)) if part == name)
        && components.next().is_none();
    single && dir.join(name).join("manifest.yml").is_file()
}

/// A workload or environment directory's name under Copilot's rule: it
/// becomes a stack, a repository and SSM parameter names.
fn check_dir_name(what: &str, name: &str, dir: &Path) -> Result<(), Error> {
    match crate::naming::check_name(name) {
        Ok(()) => Ok(()),
        Err(why) => {
            let rename = match crate::naming::suggest_name(name) {
                Some(good) => format!("rename the directory (and its `name:`) to `{good}`"),
                None => "rename the directory (and its `name:`)".to_string(),
            };
            Err(Problem::new(format!("invalid {what} name `{name}` ({})", dir.display()))
                .why(format!("{why}; Copilot names stacks, ECR repositories and SSM parameters after it"))
                .hint(format!("{rename}: names are {}", crate::naming::NAME_RULE))
                .into())
        }
    }
}

/// The effective user id of this process.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `path` is not private to the current user: owned by someone else,
/// or writable by group or others. A missing path is fine (nothing to plant
/// there yet); a symlink is judged by what it points to.
#[cfg(unix)]
pub fn check_private_path(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read its owner and mode ({e})")),
    };
    let uid = current_uid();
    if meta.uid() != uid {
        return Err(format!("it is owned by user id {}, not by you (user id {uid})", meta.uid()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        let who = if mode & 0o002 != 0 { "everyone" } else { "its group" };
        return Err(format!("it is writable by {who} (mode {mode:03o})"));
    }
    Ok(())
}

/// Ownership and modes are not checked where they do not exist.
#[cfg(not(unix))]
pub fn check_private_path(_path: &Path) -> Result<(), String> {
    Ok(())
}

fn load_manifest(name: &str, dir: &Path) -> Result<Manifest, Error> {
    let path = dir.join("manifest.yml");
    let doc = YamlDoc::read(&path)?;
    if !doc.value.is_object() {
        return Err(Problem::new("a manifest must be a YAML map of fields")
            .at(Some(doc.locate("")))
            .hint("start with `name: <name>` and `type: <type>`")
            .into());
    }
    let kind = match doc.value.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => {
            return Err(Problem::new("`type` must be a string")
                .at(Some(doc.locate("/type")))
                .pointer("/type")
                .hint("for example `type: Load Balanced Web Service`")
                .into());
        }
        None => {
            return Err(Problem::new("the manifest has no `type`")
                .at(Some(doc.locate("")))
                .hint("add for example `type: Load Balanced Web Service`")
                .into());
        }
    };
    if let Some(Value::String(declared)) = doc.value.get("name")
        && declared != name
    {
        return Err(Problem::new(format!("the manifest's name `{declared}` does not match its directory `{name}`"))
            .at(Some(doc.locate("/name")))
            .pointer("/name")
            .why("Copilot names stacks, ECR repositories and records after the directory")
            .hint(format!("set `name: {name}` or rename the directory"))
            .into());
    }
    Ok(Manifest { name: name.to_string(), kind, doc, dir: dir.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn sample() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "copilot/.workspace", "application: chat\ndomain: example.com\n");
        write(dir.path(), "copilot/api/manifest.yml", "name: api\ntype: Backend Service\n");
        write(dir.path(), "copilot/frontend/manifest.yml", "name: frontend\ntype: Load Balanced Web Service\n");
        write(dir.path(), "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
        write(dir.path(), "copilot/pipelines/release/manifest.yml", "name: release\n");
        dir
    }

    #[test]
    fn discovers_from_a_subdirectory() {
        let dir = sample();
        std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
        let ws = Workspace::discover(&dir.path().join("src/deep")).unwrap();
        assert_eq!(ws.app, "chat");
        assert_eq!(ws.domain.as_deref(), Some("example.com"));
        assert_eq!(ws.workload_names(), ["api", "frontend"]);
        assert_eq!(ws.environment_names(), ["test"]);
        assert_eq!(ws.load_workload("frontend").unwrap().kind, "Load Balanced Web Service");
    }

    #[test]
    fn missing_workspace_has_hint() {
        let dir = tempfile::tempdir().unwrap();
        let err = Workspace::discover(dir.path()).unwrap_err();
        assert!(err.problems()[0].hint.as_deref().unwrap().contains("ferry app init"));
    }

    #[test]
    fn unknown_names_suggest() {
        let dir = sample();
        let ws = Workspace::discover(dir.path()).unwrap();
        let err = ws.load_workload("frontnd").unwrap_err();
        assert_eq!(err.problems()[0].hint.as_deref(), Some("did you mean `frontend`?"));
        let err = ws.load_environment("prod").unwrap_err();
        assert_eq!(err.problems()[0].hint.as_deref(), Some("known: test"));
    }

    #[test]
    fn a_name_that_is_not_one_directory_of_the_workspace_is_unknown() {
        let dir = sample();
        write(dir.path(), "outside/manifest.yml", "name: outside\ntype: Backend Service\n");
        let ws = Workspace::discover(dir.path()).unwrap();
        for name in ["../outside", "environments/test", "pipelines", "environments", "", ".", "api/"] {
            let err = ws.load_workload(name).unwrap_err();
            assert!(err.problems()[0].what.contains("no service or job named"), "{name}: {}", err.problems()[0]);
        }
        for name in ["../../outside", "test/", ".."] {
            assert!(ws.load_environment(name).is_err(), "{name}");
        }
        assert_eq!(ws.load_environment("test").unwrap().name, "test");
    }

    #[test]
    fn invalid_directory_names_are_refused_with_the_rule() {
        let dir = sample();
        write(dir.path(), "copilot/Api_V2/manifest.yml", "type: Backend Service\n");
        let ws = Workspace::discover(dir.path()).unwrap();
        let err = ws.load_workload("Api_V2").unwrap_err();
        let p = &err.problems()[0];
        assert!(p.what.contains("invalid service or job name `Api_V2`"), "{p}");
        assert!(p.hint.as_deref().unwrap().contains("`api-v2`"), "{p}");
    }

    #[cfg(unix)]
    #[test]
    fn a_workspace_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = sample();
        let ws = Workspace::discover(dir.path()).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        ws.check_private().unwrap();
        std::fs::set_permissions(&ws.copilot_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = ws.check_private().unwrap_err();
        let p = &err.problems()[0];
        assert!(p.why.as_deref().unwrap().contains("writable by everyone (mode 777)"), "{p}");
        assert!(p.hint.as_deref().unwrap().contains("chmod go-w"), "{p}");
    }

    #[test]
    fn name_must_match_directory() {
        let dir = sample();
        write(dir.path(), "copilot/api/manifest.yml", "name: backend\ntype: Backend Service\n");
        let ws = Workspace::discover(dir.path()).unwrap();
        let err = ws.load_workload("api").unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.location.as_ref().unwrap().line, 1);
        assert!(p.what.contains("`backend`"));
    }

    #[test]
    fn summaries_say_what_each_workload_needs_of_its_environment() {
        let dir = sample();
        write(
            dir.path(),
            "copilot/api/manifest.yml",
            "name: api\ntype: Backend Service\nhttp:\n  path: /\nstorage:\n  volumes:\n    data:\n      efs: true\n      path: /data\nenvironments:\n  prod:\n    http: false\n",
        );
        write(
            dir.path(),
            "copilot/frontend/manifest.yml",
            "name: frontend\ntype: Load Balanced Web Service\nhttp:\n  alias: [www.example.com, {name: api.example.com}]\n",
        );
        write(
            dir.path(),
            "copilot/site/manifest.yml",
            "name: site\ntype: Request-Driven Web Service\nhttp:\n  private: true\n",
        );
        let ws = Workspace::discover(dir.path()).unwrap();
        let summaries = |env: &str| -> Vec<WorkloadSummary> {
            ws.workload_names().iter().map(|name| workload_summary(&ws.load_workload(name).unwrap(), env)).collect()
        };
        let test = summaries("test");
        assert!(test[0].behind_env_alb && test[0].efs_managed && !test[0].apprunner_private);
        assert_eq!(test[1].aliases, ["www.example.com", "api.example.com"]);
        assert!(test[1].behind_env_alb && !test[1].efs_managed);
        assert!(test[2].apprunner_private);
        // The prod override turns the backend's load balancer off.
        let prod = summaries("prod");
        assert!(!prod[0].behind_env_alb && prod[0].efs_managed);
    }
}
