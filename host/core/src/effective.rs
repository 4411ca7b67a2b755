//! The manifest a plugin sees for one environment: the base manifest with
//! `environments.<env>` applied on top and `${VAR}` replaced. Pointers into it
//! map back to the line that set the value (the override when it did).

use crate::error::{Error, Location, Problem};
use crate::interpolate::{self, Unset};
use crate::overrides;
use crate::workspace::Manifest;
use crate::yaml::escape_segment;
use serde_json::Value;

/// A manifest for one environment, ready for a plugin.
#[derive(Debug, Clone)]
pub struct EffectiveManifest<'a> {
    pub manifest: &'a Manifest,
    pub env: String,
    pub value: Value,
}

impl Manifest {
    /// Applies the `environments.<env>` override and interpolates `${VAR}`
    /// (`lookup` reads the process environment in production).
    pub fn effective<'a>(
        &'a self,
        app: &str,
        env: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<EffectiveManifest<'a>, Error> {
        let doc = &self.doc;
        let mut base = doc.value.clone();
        let overrides = match base.as_object_mut().and_then(|m| m.remove("environments")) {
            None | Some(Value::Null) => None,
            Some(Value::Object(envs)) => envs.get(env).cloned(),
            Some(_) => {
                return Err(Problem::new("`environments` must be a map of environment name to overrides")
                    .at(Some(doc.locate("/environments")))
                    .pointer("/environments")
                    .hint("for example:\nenvironments:\n  prod:\n    count: 3")
                    .into());
            }
        };
        let predefined = |name: &str| match name {
            interpolate::APPLICATION_NAME => Some(app.to_string()),
            interpolate::ENVIRONMENT_NAME => Some(env.to_string()),
            _ => lookup(name),
        };
        let mut unset: Vec<Unset> = interpolate::interpolate(&mut base, "", &predefined);
        let value = match overrides {
            Some(mut over) => {
                if !(over.is_object() || over.is_null()) {
                    let pointer = format!("/environments/{}", escape_segment(env));
                    return Err(Problem::new(format!("the override for environment `{env}` must be a map"))
                        .at(Some(doc.locate(&pointer)))
                        .pointer(pointer)
                        .into());
                }
                unset.extend(interpolate::interpolate(
                    &mut over,
                    &format!("/environments/{}", escape_segment(env)),
                    &predefined,
                ));
                overrides::merge(&base, &over)
            }
            None => base,
        };
        if !unset.is_empty() {
            let problems = unset
                .into_iter()
                .map(|u| {
                    Problem::new(format!("environment variable `{}` is not set", u.variable))
                        .at(Some(doc.locate(&u.pointer)))
                        .pointer(u.pointer)
                        .why("ferry replaces ${NAME} in manifests from the environment and never with an empty string")
                        .hint(format!("export {}=<value> before running ferry", u.variable))
                })
                .collect();
            return Err(Error::Problems(problems));
        }
        Ok(EffectiveManifest { manifest: self, env: env.to_string(), value })
    }
}

impl EffectiveManifest<'_> {
    /// Where the value at `pointer` was set: in the environment's override if
    /// it set it, else in the base manifest (or the nearest parent that is).
    pub fn locate(&self, pointer: &str) -> Location {
        let doc = &self.manifest.doc;
        let override_pointer = format!("/environments/{}{pointer}", escape_segment(&self.env));
        doc.locate_exact(&override_pointer).or_else(|| doc.locate_exact(pointer)).unwrap_or_else(|| doc.locate(pointer))
    }

    /// A problem a plugin reported at `pointer`, located in the file.
    pub fn problem(&self, pointer: &str, message: &str, hint: Option<String>, warning: bool) -> Problem {
        let mut problem = Problem::new(message).at(Some(self.locate(pointer))).pointer(pointer).hint_opt(hint);
        problem.warning = warning;
        problem
    }
}

#[cfg(test)]
mod tests {
    use crate::workspace::Workspace;
    use serde_json::json;

    fn workspace(manifest: &str) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("copilot/api")).unwrap();
        std::fs::write(dir.path().join("copilot/.workspace"), "application: chat\n").unwrap();
        std::fs::write(dir.path().join("copilot/api/manifest.yml"), manifest).unwrap();
        let ws = Workspace::discover(dir.path()).unwrap();
        (dir, ws)
    }

    const MANIFEST: &str = "name: api\ntype: Backend Service\ncpu: 256\nvariables:\n  APP: ${COPILOT_APPLICATION_NAME}\n  ENV: ${COPILOT_ENVIRONMENT_NAME}\nenvironments:\n  prod:\n    cpu: 1024\n    variables:\n      TAG: ${TAG}\n";

    #[test]
    fn override_applies_only_to_its_env_and_predefined_vars_resolve() {
        let (_d, ws) = workspace(MANIFEST);
        let m = ws.load_workload("api").unwrap();
        let lookup = |n: &str| (n == "TAG").then(|| "v1".to_string());
        let test = m.effective("chat", "test", &lookup).unwrap();
        assert_eq!(
            test.value,
            json!({"name": "api", "type": "Backend Service", "cpu": 256, "variables": {"APP": "chat", "ENV": "test"}})
        );
        let prod = m.effective("chat", "prod", &lookup).unwrap();
        assert_eq!(prod.value["cpu"], json!(1024));
        assert_eq!(prod.value["variables"], json!({"APP": "chat", "ENV": "prod", "TAG": "v1"}));
        // The override's line is reported for a field it set, the base's otherwise.
        assert_eq!(prod.locate("/cpu").line, 9);
        assert_eq!(test.locate("/cpu").line, 3);
        assert_eq!(prod.locate("/variables/APP").line, 5);
    }

    #[test]
    fn unset_variable_is_an_error_with_location() {
        let (_d, ws) = workspace(MANIFEST);
        let m = ws.load_workload("api").unwrap();
        // TAG is only used in prod's override.
        assert!(m.effective("chat", "test", &|_| None).is_ok());
        let err = m.effective("chat", "prod", &|_| None).unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.what, "environment variable `TAG` is not set");
        let loc = p.location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (11, 7));
        assert_eq!(p.pointer.as_deref(), Some("/environments/prod/variables/TAG"));
    }
}
