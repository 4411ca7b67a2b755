//! `copilot/<workload>/addons/` and `copilot/environments/addons/`: extra
//! CloudFormation deployed as the nested `AddonsStack` of the workload's or
//! the environment's stack. All `*.yml`/`*.yaml` templates merge into one;
//! the optional `addons.parameters.yml` passes extra parameters. Outputs are
//! classified the way Copilot wires them into the workload.

use crate::cfn_yaml;
use crate::error::{Error, Problem};
use ferry_plugin_protocol::AddonsOutputs;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Parameters every addons template receives from the workload stack.
pub const REQUIRED_PARAMETERS: &[&str] = &["App", "Env", "Name"];
/// Parameters environment addons receive from the environment stack
/// (Copilot's environment template passes no `Name`).
pub const ENVIRONMENT_PARAMETERS: &[&str] = &["App", "Env"];
const PARAMETERS_FILE: &str = "addons.parameters.yml";
const SECTIONS: &[&str] = &["Parameters", "Mappings", "Conditions", "Resources", "Outputs"];

/// A workload's addons, merged.
#[derive(Debug, Clone)]
pub struct Addons {
    /// One template holding every addons file's sections.
    pub template: Value,
    /// Extra parameters from `addons.parameters.yml` (beyond App/Env/Name).
    pub parameters: Map<String, Value>,
    pub outputs: AddonsOutputs,
    pub files: Vec<PathBuf>,
}

/// Loads `<workload_dir>/addons/` if it holds any template.
pub fn load(workload_dir: &Path) -> Result<Option<Addons>, Error> {
    load_with(workload_dir, REQUIRED_PARAMETERS, "the workload stack always passes App, Env and Name to its addons")
}

/// Loads `copilot/environments/addons/` (given `copilot/environments`) if
/// it holds any template: the same format, with `App` and `Env` passed.
pub fn load_environment(environments_dir: &Path) -> Result<Option<Addons>, Error> {
    load_with(environments_dir, ENVIRONMENT_PARAMETERS, "the environment stack always passes App and Env to its addons")
}

fn load_with(parent: &Path, required: &[&str], why: &str) -> Result<Option<Addons>, Error> {
    let dir = parent.join("addons");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
            .filter(|p| p.file_name().and_then(|n| n.to_str()) != Some(PARAMETERS_FILE))
            .collect(),
        Err(_) => return Ok(None),
    };
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();

    let mut merged = Map::new();
    merged.insert("AWSTemplateFormatVersion".into(), Value::String("2010-09-09".into()));
    let mut origin: std::collections::HashMap<(String, String), PathBuf> = Default::default();
    for file in &files {
        let (doc, template) = cfn_yaml::read(file)?;
        let Some(template) = template.as_object() else {
            return Err(Problem::new("an addons template must be a YAML map").at(Some(doc.locate(""))).into());
        };
        for section in SECTIONS {
            let Some(entries) = template.get(*section) else {
                continue;
            };
            let Some(entries) = entries.as_object() else {
                return Err(Problem::new(format!("`{section}` must be a map"))
                    .at(Some(doc.locate(&format!("/{section}"))))
                    .into());
            };
            let target = merged.entry(section.to_string()).or_insert_with(|| Value::Object(Map::new()));
            let Some(target) = target.as_object_mut() else {
                continue;
            };
            for (name, value) in entries {
                let key = (section.to_string(), name.clone());
                if let Some(existing) = target.get(name) {
                    // Shared parameters (App, Env, Name) may repeat when identical.
                    if *section == "Parameters" && existing == value {
                        continue;
                    }
                    let first = origin.get(&key).map(|p| p.display().to_string()).unwrap_or_default();
                    return Err(Problem::new(format!("`{section}.{name}` is defined in two addons templates"))
                        .at(Some(doc.locate(&format!("/{section}/{name}"))))
                        .why(format!("it is also defined in {first}"))
                        .hint("rename one of them: all addons templates are merged into one stack")
                        .into());
                }
                origin.insert(key, file.clone());
                target.insert(name.clone(), value.clone());
            }
        }
    }
    let template = Value::Object(merged);
    for name in required {
        if template.pointer(&format!("/Parameters/{name}")).is_none() {
            return Err(Problem::new(format!("the addons templates do not declare parameter `{name}`"))
                .at(None)
                .why(why)
                .hint(format!("add to Parameters: `{name}: {{Type: String}}` in {}", files[0].display()))
                .into());
        }
    }
    let parameters = load_parameters(&dir, required)?;
    let outputs = classify_outputs(&template);
    Ok(Some(Addons { template, parameters, outputs, files }))
}

fn load_parameters(dir: &Path, passed: &[&str]) -> Result<Map<String, Value>, Error> {
    let path = dir.join(PARAMETERS_FILE);
    if !path.is_file() {
        return Ok(Map::new());
    }
    let (doc, value) = cfn_yaml::read(&path)?;
    let Some(params) = value.get("Parameters").and_then(Value::as_object) else {
        return Err(Problem::new("addons.parameters.yml must have a `Parameters` map")
            .at(Some(doc.locate("")))
            .hint("Parameters:\n  DiscoveryServiceArn: !GetAtt DiscoveryService.Arn")
            .into());
    };
    for name in params.keys() {
        if passed.contains(&name.as_str()) {
            return Err(Problem::new(format!("`{name}` is passed to addons by ferry and cannot be overridden"))
                .at(Some(doc.locate(&format!("/Parameters/{name}"))))
                .into());
        }
    }
    Ok(params.clone())
}

/// Sorts outputs by the type of the resource they reference.
pub fn classify_outputs(template: &Value) -> AddonsOutputs {
    let mut outputs = AddonsOutputs::default();
    let Some(entries) = template.get("Outputs").and_then(Value::as_object) else {
        return outputs;
    };
    for (name, output) in entries {
        let referenced = output.pointer("/Value/Ref").and_then(Value::as_str);
        let resource_type =
            referenced.and_then(|r| template.pointer(&format!("/Resources/{r}/Type"))).and_then(Value::as_str);
        match resource_type {
            Some("AWS::IAM::ManagedPolicy") => outputs.managed_policies.push(name.clone()),
            Some("AWS::SecretsManager::Secret") => outputs.secrets.push(name.clone()),
            Some("AWS::EC2::SecurityGroup") => outputs.security_groups.push(name.clone()),
            _ => outputs.variables.push(name.clone()),
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join("addons")).unwrap();
        std::fs::write(dir.join("addons").join(name), text).unwrap();
    }

    const HEADER: &str = "Parameters:\n  App: {Type: String}\n  Env: {Type: String}\n  Name: {Type: String}\n";

    #[test]
    fn merges_files_and_classifies_outputs() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "db.yml",
            &format!(
                "{HEADER}Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n  Policy:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument: {{}}\nOutputs:\n  TableName:\n    Value: !Ref Table\n  AccessPolicy:\n    Value: !Ref Policy\n"
            ),
        );
        write(
            dir.path(),
            "secret.yaml",
            &format!(
                "{HEADER}Resources:\n  Secret:\n    Type: AWS::SecretsManager::Secret\nOutputs:\n  DbSecret:\n    Value: !Ref Secret\n"
            ),
        );
        write(dir.path(), "addons.parameters.yml", "Parameters:\n  Extra: !Ref AWS::Region\n");
        let addons = load(dir.path()).unwrap().unwrap();
        assert_eq!(addons.files.len(), 2);
        assert_eq!(addons.outputs.managed_policies, ["AccessPolicy"]);
        assert_eq!(addons.outputs.secrets, ["DbSecret"]);
        assert_eq!(addons.outputs.variables, ["TableName"]);
        assert_eq!(addons.parameters["Extra"], serde_json::json!({"Ref": "AWS::Region"}));
        assert!(addons.template.pointer("/Resources/Table").is_some());
        assert!(addons.template.pointer("/Resources/Secret").is_some());
    }

    #[test]
    fn duplicate_resource_is_an_error_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.yml", &format!("{HEADER}Resources:\n  T:\n    Type: AWS::SNS::Topic\n"));
        write(dir.path(), "b.yml", &format!("{HEADER}Resources:\n  T:\n    Type: AWS::SQS::Queue\n"));
        let err = load(dir.path()).unwrap_err();
        let p = &err.problems()[0];
        assert!(p.what.contains("Resources.T"));
        assert!(p.why.as_deref().unwrap().contains("a.yml"));
        assert!(p.location.as_ref().unwrap().file.ends_with("b.yml"));
    }

    #[test]
    fn environment_addons_need_app_and_env_only() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bucket.yml",
            "Parameters:\n  App: {Type: String}\n  Env: {Type: String}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
        );
        // A workload's addons must declare Name; an environment's need not.
        assert!(load(dir.path()).is_err());
        let addons = load_environment(dir.path()).unwrap().unwrap();
        assert!(addons.template.pointer("/Resources/B").is_some());
        write(dir.path(), "addons.parameters.yml", "Parameters:\n  Env: prod\n");
        let err = load_environment(dir.path()).unwrap_err();
        assert!(err.problems()[0].what.contains("`Env`"), "{:?}", err.problems());
    }

    #[test]
    fn no_addons_dir_is_none() {
        assert!(load(tempfile::tempdir().unwrap().path()).unwrap().is_none());
    }
}
