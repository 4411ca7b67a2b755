//! CloudFormation builders: a template with ordered sections, resources with
//! human descriptions (shown while deploying), and the intrinsic functions.

use crate::json;
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// A CloudFormation template fragment. Sections keep insertion order so the
/// rendered JSON reads in the order the plugin built it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub description: Option<String>,
    pub metadata: IndexMap<String, Value>,
    pub parameters: IndexMap<String, Value>,
    pub mappings: IndexMap<String, Value>,
    pub conditions: IndexMap<String, Value>,
    pub resources: IndexMap<String, Value>,
    pub outputs: IndexMap<String, Value>,
    descriptions: IndexMap<String, String>,
}

impl Template {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a parameter (`Type` plus any extra keys such as `Default`).
    pub fn parameter(&mut self, name: &str, parameter: Parameter) -> &mut Self {
        self.parameters.insert(name.to_string(), parameter.into_json());
        self
    }

    pub fn condition(&mut self, name: &str, condition: Value) -> &mut Self {
        self.conditions.insert(name.to_string(), condition);
        self
    }

    /// Adds a resource; its description is what deploy progress shows.
    pub fn resource(&mut self, logical_id: &str, resource: Resource) -> &mut Self {
        if let Some(description) = &resource.description {
            self.descriptions.insert(logical_id.to_string(), description.clone());
        }
        self.resources.insert(logical_id.to_string(), resource.into_json());
        self
    }

    pub fn has_resource(&self, logical_id: &str) -> bool {
        self.resources.contains_key(logical_id)
    }

    /// Adds an output; `export` names a cross-stack export.
    pub fn output(&mut self, name: &str, value: Value, export: Option<Value>) -> &mut Self {
        let mut out = Map::new();
        out.insert("Value".into(), value);
        if let Some(export) = export {
            out.insert("Export".into(), json!({ "Name": export }));
        }
        self.outputs.insert(name.to_string(), Value::Object(out));
        self
    }

    /// Like [`Template::output`], only present when `condition` holds.
    pub fn conditional_output(
        &mut self,
        name: &str,
        condition: &str,
        value: Value,
        export: Option<Value>,
    ) -> &mut Self {
        self.output(name, value, export);
        if let Some(Value::Object(out)) = self.outputs.get_mut(name) {
            out.insert("Condition".into(), Value::String(condition.to_string()));
        }
        self
    }

    /// Resource descriptions as (logical id, description).
    pub fn descriptions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.descriptions.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The template as JSON (a copy; see [`Template::into_json`]).
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// The template as JSON, moving its sections instead of copying them.
    pub fn into_json(self) -> Value {
        let mut out = Map::new();
        out.insert("AWSTemplateFormatVersion".into(), json!(FORMAT_VERSION));
        if let Some(description) = self.description {
            out.insert("Description".into(), Value::String(description));
        }
        let sections = [
            ("Metadata", self.metadata),
            ("Parameters", self.parameters),
            ("Mappings", self.mappings),
            ("Conditions", self.conditions),
            ("Resources", self.resources),
            ("Outputs", self.outputs),
        ];
        for (name, section) in sections {
            if !section.is_empty() {
                out.insert(name.into(), Value::Object(section.into_iter().collect()));
            }
        }
        Value::Object(out)
    }

    /// The template as compact JSON text, written straight from its
    /// sections (no intermediate [`Value`] tree): the same text as
    /// `into_json().to_string()`.
    pub fn to_json_string(&self) -> String {
        // A rendered service template is tens of kilobytes: start big so the
        // buffer is grown rarely.
        let mut out = Vec::with_capacity(64 << 10);
        // Writing maps of strings and JSON values to memory cannot fail.
        let _ = serde_json::to_writer(&mut out, self);
        // serde_json writes UTF-8 only.
        String::from_utf8(out).unwrap_or_default()
    }
}

const FORMAT_VERSION: &str = "2010-09-09";

/// Serialises exactly as [`Template::into_json`] would: the format version,
/// the description, then each non-empty section in CloudFormation's order.
impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("AWSTemplateFormatVersion", FORMAT_VERSION)?;
        if let Some(description) = &self.description {
            map.serialize_entry("Description", description)?;
        }
        let sections = [
            ("Metadata", &self.metadata),
            ("Parameters", &self.parameters),
            ("Mappings", &self.mappings),
            ("Conditions", &self.conditions),
            ("Resources", &self.resources),
            ("Outputs", &self.outputs),
        ];
        for (name, section) in sections {
            if !section.is_empty() {
                map.serialize_entry(name, section)?;
            }
        }
        map.end()
    }
}

/// A template parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    body: Map<String, Value>,
}

impl Parameter {
    pub fn string() -> Self {
        Self::of_type("String")
    }

    pub fn number() -> Self {
        Self::of_type("Number")
    }

    pub fn of_type(ty: &str) -> Self {
        let mut body = Map::new();
        body.insert("Type".into(), json!(ty));
        Parameter { body }
    }

    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.body.insert("Default".into(), value.into());
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.body.insert("Description".into(), json!(text));
        self
    }

    pub fn allowed(mut self, values: &[&str]) -> Self {
        self.body.insert("AllowedValues".into(), json!(values));
        self
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.body)
    }
}

/// A resource under construction.
#[derive(Debug, Clone)]
pub struct Resource {
    ty: String,
    properties: Map<String, Value>,
    condition: Option<String>,
    depends_on: Vec<String>,
    deletion_policy: Option<String>,
    update_replace_policy: Option<String>,
    metadata: Option<Value>,
    description: Option<String>,
}

impl Resource {
    pub fn new(ty: &str) -> Self {
        Resource {
            ty: ty.to_string(),
            properties: Map::new(),
            condition: None,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata: None,
            description: None,
        }
    }

    /// Sets a property; `Value::Null` is skipped so optional values can be
    /// passed straight through.
    pub fn prop(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        if !value.is_null() {
            self.properties.insert(key.to_string(), value);
        }
        self
    }

    /// Sets a property only when `value` is `Some`.
    pub fn opt_prop<V: Into<Value>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.prop(key, v),
            None => self,
        }
    }

    pub fn condition(mut self, name: &str) -> Self {
        self.condition = Some(name.to_string());
        self
    }

    pub fn depends_on(mut self, logical_id: &str) -> Self {
        self.depends_on.push(logical_id.to_string());
        self
    }

    pub fn deletion_policy(mut self, policy: &str) -> Self {
        self.deletion_policy = Some(policy.to_string());
        self.update_replace_policy = Some(policy.to_string());
        self
    }

    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// What this resource is, in words a user reads during a deploy.
    pub fn describe(mut self, description: &str) -> Self {
        self.description = Some(description.to_string());
        self
    }

    pub fn into_json(self) -> Value {
        let mut out = Map::new();
        out.insert("Type".into(), json!(self.ty));
        if let Some(condition) = self.condition {
            out.insert("Condition".into(), json!(condition));
        }
        match self.depends_on.len() {
            0 => {}
            1 => {
                out.insert("DependsOn".into(), json!(&self.depends_on[0]));
            }
            _ => {
                out.insert("DependsOn".into(), json!(self.depends_on));
            }
        }
        if let Some(policy) = self.deletion_policy {
            out.insert("DeletionPolicy".into(), json!(policy));
        }
        if let Some(policy) = self.update_replace_policy {
            out.insert("UpdateReplacePolicy".into(), json!(policy));
        }
        if let Some(metadata) = self.metadata {
            out.insert("Metadata".into(), metadata);
        }
        if !self.properties.is_empty() {
            out.insert("Properties".into(), Value::Object(self.properties));
        }
        Value::Object(out)
    }
}

// ---- intrinsic functions -------------------------------------------------
//
// Built by moving their arguments into place: `json!` would serialise each
// interpolated `Value` into a deep copy, and these run thousands of times a
// render.

/// `{ key: value }`.
fn single(key: &str, value: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(key.to_string(), value);
    Value::Object(map)
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

pub fn ref_(name: &str) -> Value {
    single("Ref", text(name))
}

pub fn sub(template: &str) -> Value {
    single("Fn::Sub", text(template))
}

pub fn sub_with(template: &str, variables: Value) -> Value {
    single("Fn::Sub", Value::Array(vec![text(template), variables]))
}

pub fn get_att(logical_id: &str, attribute: &str) -> Value {
    single("Fn::GetAtt", Value::Array(vec![text(logical_id), text(attribute)]))
}

pub fn import_value(name: Value) -> Value {
    single("Fn::ImportValue", name)
}

/// Imports an environment stack export named `<app>-<env>-<name>`, the
/// Copilot naming every existing environment stack uses.
pub fn env_import(name: &str) -> Value {
    import_value(sub(&format!("${{AppName}}-${{EnvName}}-{name}")))
}

pub fn join(delimiter: &str, values: Value) -> Value {
    single("Fn::Join", Value::Array(vec![text(delimiter), values]))
}

pub fn split(delimiter: &str, value: Value) -> Value {
    single("Fn::Split", Value::Array(vec![text(delimiter), value]))
}

pub fn select(index: usize, list: Value) -> Value {
    single("Fn::Select", Value::Array(vec![Value::String(index.to_string()), list]))
}

pub fn get_azs() -> Value {
    single("Fn::GetAZs", text(""))
}

pub fn cidr(block: Value, count: u32, bits: u32) -> Value {
    single("Fn::Cidr", Value::Array(vec![block, count.into(), bits.into()]))
}

pub fn if_(condition: &str, then: Value, otherwise: Value) -> Value {
    single("Fn::If", Value::Array(vec![text(condition), then, otherwise]))
}

pub fn equals(a: Value, b: Value) -> Value {
    single("Fn::Equals", Value::Array(vec![a, b]))
}

pub fn not(condition: Value) -> Value {
    single("Fn::Not", Value::Array(vec![condition]))
}

pub fn and(conditions: Vec<Value>) -> Value {
    single("Fn::And", Value::Array(conditions))
}

pub fn or(conditions: Vec<Value>) -> Value {
    single("Fn::Or", Value::Array(conditions))
}

pub fn condition(name: &str) -> Value {
    single("Condition", text(name))
}

pub fn no_value() -> Value {
    ref_("AWS::NoValue")
}

pub fn tag(key: &str, value: impl Into<Value>) -> Value {
    let mut map = Map::with_capacity(2);
    map.insert("Key".to_string(), text(key));
    map.insert("Value".to_string(), value.into());
    Value::Object(map)
}

/// An IAM policy document.
pub fn policy_document(statements: Vec<Value>) -> Value {
    let mut map = Map::with_capacity(2);
    map.insert("Version".to_string(), text("2012-10-17"));
    map.insert("Statement".to_string(), Value::Array(statements));
    Value::Object(map)
}

/// A trust policy letting `service` (e.g. `ecs-tasks.amazonaws.com`) assume a role.
pub fn assume_role_policy(service: &str) -> Value {
    policy_document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": service },
        "Action": "sts:AssumeRole"
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_sections_in_order_and_empty_ones_left_out() {
        let mut t = Template::new();
        t.parameter("AppName", Parameter::string());
        t.resource(
            "Cluster",
            Resource::new("AWS::ECS::Cluster").prop("ClusterName", sub("${AppName}")).describe("An ECS cluster"),
        );
        t.output("ClusterId", ref_("Cluster"), Some(sub("${AppName}-ClusterId")));
        let v = t.to_json();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["AWSTemplateFormatVersion", "Parameters", "Resources", "Outputs"]);
        assert_eq!(t.descriptions().collect::<Vec<_>>(), [("Cluster", "An ECS cluster")]);
        assert_eq!(v["Outputs"]["ClusterId"]["Export"]["Name"], json!({"Fn::Sub": "${AppName}-ClusterId"}));
        assert_eq!(t.to_json_string(), v.to_string(), "the streamed text is the tree's text");
        assert_eq!(t.clone().into_json(), v);
    }

    /// The text the export writes straight from the builders is the text of
    /// the JSON tree, for every section and an escaped description.
    #[test]
    fn streamed_text_equals_the_tree_with_every_section() {
        let mut t = Template::new();
        t.description = Some("a \"quoted\" service\n".into());
        t.metadata.insert("Version".into(), json!("v1"));
        t.parameter("Port", Parameter::number().default(80));
        t.mappings.insert("M".into(), json!({"a": {"b": 1}}));
        t.condition("C", equals(ref_("Port"), json!(80)));
        t.resource("R", Resource::new("AWS::SNS::Topic").condition("C"));
        t.conditional_output("O", "C", ref_("R"), None);
        let tree = t.to_json();
        let keys: Vec<_> = tree.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "AWSTemplateFormatVersion",
                "Description",
                "Metadata",
                "Parameters",
                "Mappings",
                "Conditions",
                "Resources",
                "Outputs"
            ]
        );
        assert_eq!(t.to_json_string(), tree.to_string());
        assert_eq!(serde_json::from_str::<Value>(&t.to_json_string()).unwrap(), tree);
    }

    #[test]
    fn null_properties_are_skipped_and_depends_on_shapes() {
        let r = Resource::new("AWS::S3::Bucket").prop("A", Value::Null).depends_on("X").into_json();
        assert_eq!(r, json!({"Type": "AWS::S3::Bucket", "DependsOn": "X"}));
        let r = Resource::new("AWS::S3::Bucket").depends_on("X").depends_on("Y").into_json();
        assert_eq!(r["DependsOn"], json!(["X", "Y"]));
    }
}
