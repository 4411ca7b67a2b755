//! Assembling a plugin's fragment into the stack ferry deploys: the
//! host-owned parameters, Copilot's tags, the addons nested stack and the
//! user's `cfn.patches.yml`. Plugins cannot forget or fake any of these.

use crate::addons::Addons;
use crate::error::{Error, Problem};
use crate::naming::{self, tags};
use crate::patches::{self, Patch};
use ferry_plugin_protocol::host_owned;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// A complete stack: name, template, parameter values and tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: String,
    pub template: Value,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
}

impl Stack {
    /// The `<name>.params.json` body: CloudFormation's template
    /// configuration format, which CodePipeline deploy actions read too.
    pub fn configuration(&self) -> Value {
        json!({ "Parameters": self.parameters, "Tags": self.tags })
    }
}

/// What a workload stack is made of.
pub struct WorkloadStackInput<'a> {
    pub app: &'a str,
    pub env: &'a str,
    pub workload: &'a str,
    /// The plugin's fragment and parameter values.
    pub fragment: Value,
    pub parameters: Map<String, Value>,
    pub addons: Option<&'a Addons>,
    /// Where the addons template was uploaded; empty offline.
    pub addons_url: Option<String>,
    pub patches: &'a [Patch],
    /// App tags and `--resource-tags`, applied after Copilot's own.
    pub extra_tags: &'a IndexMap<String, String>,
}

/// Builds the `<app>-<env>-<workload>` stack.
pub fn workload_stack(input: WorkloadStackInput<'_>) -> Result<Stack, Error> {
    let WorkloadStackInput { app, env, workload, fragment, parameters, addons, addons_url, patches, extra_tags } =
        input;
    let mut template = check_fragment(fragment)?;
    let host_params = [
        (host_owned::APP_NAME, "Name of the application", app.to_string()),
        (host_owned::ENV_NAME, "Name of the environment", env.to_string()),
        (host_owned::WORKLOAD_NAME, "Name of the service or job", workload.to_string()),
        (
            host_owned::ADDONS_TEMPLATE_URL,
            "URL of the addons nested stack template; empty when there are none",
            addons_url.unwrap_or_default(),
        ),
    ];
    let mut values = declare_host_parameters(&mut template, &host_params)?;

    let sections = template.as_object_mut().ok_or_else(|| Problem::new("internal: template is not a map"))?;
    let conditions = section(sections, "Conditions");
    conditions.insert(
        host_owned::HAS_ADDONS.into(),
        json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": host_owned::ADDONS_TEMPLATE_URL }, ""] }] }),
    );
    let mut addon_parameters = Map::new();
    addon_parameters.insert("App".into(), json!({ "Ref": host_owned::APP_NAME }));
    addon_parameters.insert("Env".into(), json!({ "Ref": host_owned::ENV_NAME }));
    addon_parameters.insert("Name".into(), json!({ "Ref": host_owned::WORKLOAD_NAME }));
    if let Some(addons) = addons {
        addon_parameters.extend(addons.parameters.clone());
    }
    let resources = section(sections, "Resources");
    resources.insert(
        host_owned::ADDONS_STACK.into(),
        json!({
            "Type": "AWS::CloudFormation::Stack",
            "Condition": host_owned::HAS_ADDONS,
            "Properties": { "Parameters": addon_parameters, "TemplateURL": { "Ref": host_owned::ADDONS_TEMPLATE_URL } }
        }),
    );
    add_plugin_values(&mut values, parameters, &template)?;
    patches::apply(&mut template, patches)?;

    let mut stack_tags = IndexMap::new();
    stack_tags.insert(tags::APPLICATION.to_string(), app.to_string());
    stack_tags.insert(tags::ENVIRONMENT.to_string(), env.to_string());
    stack_tags.insert(tags::SERVICE.to_string(), workload.to_string());
    merge_tags(&mut stack_tags, extra_tags);
    Ok(Stack { name: naming::workload_stack(app, env, workload), template, parameters: values, tags: stack_tags })
}

/// Builds the `<app>-<env>` environment stack.
pub fn environment_stack(
    app: &str,
    env: &str,
    fragment: Value,
    parameters: Map<String, Value>,
    extra_tags: &IndexMap<String, String>,
) -> Result<Stack, Error> {
    let mut template = check_fragment(fragment)?;
    let host_params = [
        (host_owned::APP_NAME, "Name of the application", app.to_string()),
        (host_owned::environment::ENVIRONMENT_NAME, "Name of the environment", env.to_string()),
    ];
    let mut values = declare_host_parameters(&mut template, &host_params)?;
    add_plugin_values(&mut values, parameters, &template)?;
    let mut stack_tags = IndexMap::new();
    stack_tags.insert(tags::APPLICATION.to_string(), app.to_string());
    stack_tags.insert(tags::ENVIRONMENT.to_string(), env.to_string());
    merge_tags(&mut stack_tags, extra_tags);
    Ok(Stack { name: naming::environment_stack(app, env), template, parameters: values, tags: stack_tags })
}

/// Adds the environment's addons (`copilot/environments/addons/`) to its
/// stack as Copilot's environment template does: the nested `AddonsStack`
/// given `App`, `Env` and `addons.parameters.yml`'s values. Its template
/// URL is the `AddonsTemplateURL` parameter, which deploy fills in after
/// uploading the template (left empty offline, by `env package`). Unlike
/// Copilot's, the resource has no `aws:copilot:description`: that metadata
/// marks a stack Copilot deployed (see `adopt::origin`).
pub fn add_environment_addons(stack: &mut Stack, addons: &Addons) -> Result<(), Error> {
    let url = host_owned::ADDONS_TEMPLATE_URL;
    let id = host_owned::ADDONS_STACK;
    let sections = stack.template.as_object_mut().ok_or_else(|| Problem::new("internal: template is not a map"))?;
    for (section_name, name) in [("Parameters", url), ("Resources", id)] {
        if sections.get(section_name).and_then(|s| s.get(name)).is_some() {
            return Err(Problem::new(format!(
                "the environment plugin's template has `{section_name}.{name}`, which ferry adds for copilot/environments/addons/"
            ))
            .hint("this is a bug in the plugin: the name is the host's")
            .into());
        }
    }
    section(sections, "Parameters").insert(
        url.into(),
        json!({ "Type": "String", "Description": "URL of the environment addons nested stack template" }),
    );
    let mut parameters = Map::new();
    parameters.insert("App".into(), json!({ "Ref": host_owned::APP_NAME }));
    parameters.insert("Env".into(), json!({ "Ref": host_owned::environment::ENVIRONMENT_NAME }));
    parameters.extend(addons.parameters.clone());
    section(sections, "Resources").insert(
        id.into(),
        json!({
            "Type": "AWS::CloudFormation::Stack",
            "Properties": { "Parameters": parameters, "TemplateURL": { "Ref": url } }
        }),
    );
    stack.parameters.insert(url.into(), String::new());
    Ok(())
}

fn merge_tags(stack_tags: &mut IndexMap<String, String>, extra: &IndexMap<String, String>) {
    for (k, v) in extra {
        // Copilot's own tags identify the stack; user tags cannot move them.
        if !stack_tags.contains_key(k) {
            stack_tags.insert(k.clone(), v.clone());
        }
    }
}

fn check_fragment(fragment: Value) -> Result<Value, Error> {
    match fragment {
        Value::Object(map) if map.get("Resources").is_some_and(Value::is_object) => Ok(Value::Object(map)),
        _ => Err(Problem::new("the plugin returned a template without a `Resources` map")
            .why("every CloudFormation template needs at least one resource")
            .hint("this is a bug in the plugin; run `ferry plugin inspect` to see which plugin it is")
            .into()),
    }
}

fn section<'a>(sections: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
    let entry = sections.entry(name.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(map) => map,
        _ => unreachable!("just made it a map"),
    }
}

/// Declares the host's parameters first (replacing any a plugin declared
/// itself) and returns their values.
fn declare_host_parameters(
    template: &mut Value,
    params: &[(&str, &str, String)],
) -> Result<IndexMap<String, String>, Error> {
    let sections = template.as_object_mut().ok_or_else(|| Problem::new("internal: template is not a map"))?;
    let existing = sections.remove("Parameters").and_then(|v| match v {
        Value::Object(m) => Some(m),
        _ => None,
    });
    let mut declared = Map::new();
    let mut values = IndexMap::new();
    for (name, description, value) in params {
        declared.insert(name.to_string(), json!({ "Type": "String", "Description": description }));
        values.insert(name.to_string(), value.clone());
    }
    for (name, decl) in existing.into_iter().flatten() {
        declared.entry(name).or_insert(decl);
    }
    // Keep the conventional section order: Parameters right after the header.
    let mut reordered = Map::new();
    for key in ["AWSTemplateFormatVersion", "Description", "Metadata"] {
        if let Some(v) = sections.remove(key) {
            reordered.insert(key.to_string(), v);
        }
    }
    reordered.insert("Parameters".into(), Value::Object(declared));
    reordered.extend(std::mem::take(sections));
    *sections = reordered;
    Ok(values)
}

/// Adds the plugin's parameter values (as strings, which is what
/// CloudFormation takes); a value for an undeclared parameter is a plugin bug.
fn add_plugin_values(
    values: &mut IndexMap<String, String>,
    parameters: Map<String, Value>,
    template: &Value,
) -> Result<(), Error> {
    for (name, value) in parameters {
        if values.contains_key(&name) {
            continue;
        }
        if template.pointer(&format!("/Parameters/{name}")).is_none() {
            return Err(Problem::new(format!(
                "the plugin gave a value for parameter `{name}`, which its template does not declare"
            ))
            .hint("this is a bug in the plugin")
            .into());
        }
        let text = match value {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        values.insert(name, text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment() -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"TaskCount": {"Type": "Number"}, "AppName": {"Type": "Number"}},
            "Resources": {"LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/copilot/${AppName}"}}}}
        })
    }

    /// The `api` workload of app `chat` in `test`, from [`fragment`].
    fn api_stack(parameters: Map<String, Value>, extra_tags: &IndexMap<String, String>) -> Result<Stack, Error> {
        workload_stack(WorkloadStackInput {
            app: "chat",
            env: "test",
            workload: "api",
            fragment: fragment(),
            parameters,
            addons: None,
            addons_url: None,
            patches: &[],
            extra_tags,
        })
    }

    #[test]
    fn workload_stack_has_host_parameters_addons_and_tags() {
        let mut params = Map::new();
        params.insert("TaskCount".into(), json!(2));
        let extra =
            IndexMap::from([("team".to_string(), "web".to_string()), ("copilot-service".to_string(), "x".to_string())]);
        let stack = api_stack(params, &extra).unwrap();
        assert_eq!(stack.name, "chat-test-api");
        let keys: Vec<_> = stack.template["Parameters"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["AppName", "EnvName", "WorkloadName", "AddonsTemplateURL", "TaskCount"]);
        // The host's declaration wins over a plugin's.
        assert_eq!(stack.template["Parameters"]["AppName"]["Type"], "String");
        assert_eq!(stack.parameters["TaskCount"], "2");
        assert_eq!(stack.parameters["AddonsTemplateURL"], "");
        assert_eq!(stack.template["Resources"]["AddonsStack"]["Condition"], "HasAddons");
        assert_eq!(
            stack.configuration()["Tags"],
            json!({"copilot-application": "chat", "copilot-environment": "test", "copilot-service": "api", "team": "web"})
        );
    }

    #[test]
    fn value_for_undeclared_parameter_is_a_plugin_bug() {
        let mut params = Map::new();
        params.insert("Nope".into(), json!("x"));
        let err = api_stack(params, &IndexMap::new()).unwrap_err();
        assert!(err.to_string().contains("`Nope`"));
    }

    #[test]
    fn fragment_without_resources_is_refused() {
        let err = environment_stack("chat", "test", json!({"Outputs": {}}), Map::new(), &IndexMap::new()).unwrap_err();
        assert!(err.to_string().contains("Resources"));
    }
}
