//! Taking over stacks Copilot deployed (`ferry adopt`): which stacks are
//! Copilot's, what ferry's template would do to each resource of Copilot's
//! (kept, replaced, removed, added), and which of Copilot's helpers (its
//! Lambda-backed custom resources and the functions, roles and log groups
//! only they use) retire.
//!
//! Retiring a custom resource by removing it from the template runs its
//! Lambda's delete handler: Copilot's environment controller would rewrite
//! the environment stack, its DNS delegation handler would remove records
//! from the parent zone. So adoption first redeploys Copilot's own template
//! with `DeletionPolicy: Retain` on the helpers ([`with_retained_helpers`]):
//! a retained resource leaves the stack without CloudFormation calling
//! anything.
//!
//! Everything here is a pure function of templates; the AWS side (change
//! sets, the replacement guard) is `ferry_aws::adopt`.

mod create_only;

pub use create_only::create_only;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Stack tag ferry writes on a stack it adopted from Copilot (value:
/// `copilot` and Copilot's template version when known). Later deploys keep
/// it, so adoption stays visible on the stack.
pub const ADOPTED_TAG: &str = "ferry:adopted-from";

/// Top-level template metadata ferry adds to Copilot's template in the first
/// step of adoption: the helpers it retained. A stack with it is half
/// adopted and safe for `ferry deploy` (nothing a delete handler could do).
pub const ADOPTION_METADATA: &str = "ferry:adoption";

/// The parameters Copilot's environment controller maintains on the
/// environment stack: which workloads need the load balancers, EFS, NAT
/// gateways, the App Runner endpoint. Whatever they enable exists because
/// of them.
pub const CONTROLLER_PARAMETERS: &[&str] =
    &["ALBWorkloads", "InternalALBWorkloads", "EFSWorkloads", "NATWorkloads", "AppRunnerPrivateWorkloads"];

/// What a resource holds, for deciding what may not be replaced or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    /// Data: replacing or removing it loses it.
    State,
    /// An address or connections: replacing it changes a DNS name or drops
    /// connections.
    Traffic,
    Nothing,
}

/// Resource types that hold data.
const STATEFUL: &[&str] = &[
    "AWS::EFS::FileSystem",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::Route53::HostedZone",
    "AWS::ECR::Repository",
];

/// Resource types that carry traffic.
const TRAFFIC: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ECS::Service",
];

/// What a resource of `resource_type` holds.
pub fn holds(resource_type: &str) -> Holds {
    if STATEFUL.contains(&resource_type) {
        Holds::State
    } else if TRAFFIC.contains(&resource_type) {
        Holds::Traffic
    } else {
        Holds::Nothing
    }
}

/// A Lambda-backed (or SNS-backed) custom resource: removing it calls its
/// handler.
pub fn is_custom_resource(resource_type: &str) -> bool {
    resource_type == "AWS::CloudFormation::CustomResource" || resource_type.starts_with("Custom::")
}

/// Types that may retire with the custom resources they serve.
const HELPER_TYPES: &[&str] = &[
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Logs::LogGroup",
];

/// Who deployed a stack, by its tags and template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "origin")]
pub enum Origin {
    /// Copilot, and ferry has not touched it: `ferry deploy` must not
    /// update it before `ferry adopt`.
    Copilot { version: Option<String> },
    /// Copilot's template with ferry's retained helpers (the first step of
    /// adoption ran): safe to deploy.
    Adopting,
    /// ferry's own template (adopted or not), or not a Copilot app's stack.
    Ferry,
}

/// Reads who deployed a stack: Copilot tags its stacks `copilot-application`
/// (ferry does too, for compatibility), and its templates carry a top-level
/// `Metadata.Version` and `aws:copilot:description` resource metadata, which
/// ferry never writes. (A custom resource alone says nothing: a ferry
/// stack may have one through `cfn.patches.yml`.)
pub fn origin(tags: &IndexMap<String, String>, template: &Value) -> Origin {
    if !tags.contains_key(crate::naming::tags::APPLICATION) {
        return Origin::Ferry;
    }
    let metadata = template.get("Metadata");
    if metadata.and_then(|m| m.get(ADOPTION_METADATA)).is_some() {
        return Origin::Adopting;
    }
    let version = metadata.and_then(|m| m.get("Version")).and_then(Value::as_str).map(str::to_string);
    let resources = resources(template);
    let described = resources.values().any(|r| r.pointer("/Metadata/aws:copilot:description").is_some());
    if version.is_some() || described { Origin::Copilot { version } } else { Origin::Ferry }
}

/// What ferry's template does to one resource of Copilot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Same logical ID, same type, same create-only properties: updated in place.
    Kept,
    /// A new resource replaces the deployed one.
    Replaced,
    /// Deleted, with what it holds.
    Removed,
    /// New in ferry's template.
    Added,
    /// One of Copilot's helpers: retained (no handler runs), then removed
    /// from the stack; ferry deletes what is left of it.
    Retired,
}

/// One resource's fate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourcePlan {
    pub logical_id: String,
    pub resource_type: String,
    pub fate: Fate,
    pub holds: Holds,
    /// For a replacement: the properties that force it (`Type` when the type changes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
}

impl ResourcePlan {
    /// Replaced or removed while holding state or traffic.
    pub fn is_blocking(&self) -> bool {
        matches!(self.fate, Fate::Replaced | Fate::Removed) && self.holds != Holds::Nothing
    }
}

impl std::fmt::Display for ResourcePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = match self.fate {
            Fate::Kept => "kept",
            Fate::Replaced => "replaced",
            Fate::Removed => "removed",
            Fate::Added => "added",
            Fate::Retired => "retired",
        };
        write!(f, "{} ({}) {verb}", self.logical_id, self.resource_type)?;
        if !self.properties.is_empty() {
            write!(f, ": changing {} requires a new resource", self.properties.join(", "))?;
        }
        Ok(())
    }
}

/// The comparison of one stack's templates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StackPlan {
    /// Every resource of either template, Copilot's order first.
    pub resources: Vec<ResourcePlan>,
}

impl StackPlan {
    pub fn count(&self, fate: Fate) -> usize {
        self.resources.iter().filter(|r| r.fate == fate).count()
    }

    /// The logical IDs with this fate.
    pub fn ids(&self, fate: Fate) -> Vec<&str> {
        self.resources.iter().filter(|r| r.fate == fate).map(|r| r.logical_id.as_str()).collect()
    }

    /// Replacements and removals of what holds state or traffic: adoption
    /// refuses while there is one.
    pub fn blocking(&self) -> Vec<&ResourcePlan> {
        self.resources.iter().filter(|r| r.is_blocking()).collect()
    }

    /// The retiring custom resources and helpers.
    pub fn retired(&self) -> Vec<&str> {
        self.ids(Fate::Retired)
    }
}

fn resources(template: &Value) -> Map<String, Value> {
    template.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default()
}

fn type_of(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or_default()
}

/// One side of a comparison: a template and the parameter values its stack
/// has (or would have); a parameter not given takes its `Default`.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub template: &'a Value,
    pub parameters: &'a IndexMap<String, String>,
}

impl Side<'_> {
    /// What each parameter resolves to on this side.
    fn values(&self) -> HashMap<String, String> {
        let mut values: HashMap<String, String> = self
            .template
            .get("Parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, p)| Some((name.clone(), scalar(p.get("Default")?)?)))
            .collect();
        values.extend(self.parameters.iter().map(|(k, v)| (k.clone(), v.clone())));
        values
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compares Copilot's deployed template with ferry's. Values are compared as
/// CloudFormation resolves them: a `Ref` to a parameter (or `${Param}` in
/// `Fn::Sub`) stands for that side's value, so Copilot's literal `Port: 80`
/// and ferry's `!Ref TargetPort` of 80 are one port. `deployed` lists the
/// logical IDs the live stack has (a resource whose condition is false in
/// Copilot's template is not there to replace or remove); `None` takes every
/// resource of Copilot's template as deployed.
pub fn compare(copilot: Side, ferry: Side, deployed: Option<&HashSet<String>>) -> StackPlan {
    let old = resources(copilot.template);
    let new = resources(ferry.template);
    let (old_values, new_values) = (copilot.values(), ferry.values());
    let retired = retiring(&old, &new);
    let is_live = |id: &str| deployed.is_none_or(|live| live.contains(id));
    let mut plan = StackPlan::default();
    for (id, resource) in &old {
        let resource_type = type_of(resource).to_string();
        let (fate, properties) = if retired.contains(id) {
            (Fate::Retired, Vec::new())
        } else {
            match new.get(id) {
                None => (Fate::Removed, Vec::new()),
                Some(theirs) if type_of(theirs) != resource_type => (Fate::Replaced, vec!["Type".to_string()]),
                Some(theirs) => {
                    let forced = forcing_properties(&resource_type, (resource, &old_values), (theirs, &new_values));
                    if forced.is_empty() { (Fate::Kept, forced) } else { (Fate::Replaced, forced) }
                }
            }
        };
        let fate = match fate {
            // Not deployed (its condition is false): nothing to lose.
            Fate::Removed | Fate::Retired if !is_live(id) => continue,
            Fate::Replaced | Fate::Kept if !is_live(id) => Fate::Added,
            fate => fate,
        };
        let holds = holds(&resource_type);
        let properties = if fate == Fate::Replaced { properties } else { Vec::new() };
        plan.resources.push(ResourcePlan { logical_id: id.clone(), resource_type, fate, holds, properties });
    }
    for (id, resource) in &new {
        if !old.contains_key(id) {
            let resource_type = type_of(resource).to_string();
            let holds = holds(&resource_type);
            plan.resources.push(ResourcePlan {
                logical_id: id.clone(),
                resource_type,
                fate: Fate::Added,
                holds,
                properties: Vec::new(),
            });
        }
    }
    plan
}

/// The create-only properties whose values differ between the two
/// definitions of one resource, each resolved with its side's parameters.
fn forcing_properties(
    resource_type: &str,
    (old, old_values): (&Value, &HashMap<String, String>),
    (new, new_values): (&Value, &HashMap<String, String>),
) -> Vec<String> {
    let property =
        |r: &Value, name: &str, values| r.get("Properties").and_then(|p| p.get(name)).map(|v| normalized(v, values));
    create_only(resource_type)
        .iter()
        .filter(|name| property(old, name, old_values) != property(new, name, new_values))
        .map(|name| name.to_string())
        .collect()
}

/// One spelling per meaning for comparing property values: scalars as
/// strings (`80` and `"80"` are one port), a parameter's `Ref` and `${X}` in
/// `Fn::Sub` as the parameter's value, `Fn::Sub` of a lone `${X}` otherwise as
/// `Ref X`, and `Fn::GetAtt` as a list.
fn normalized(value: &Value, parameters: &HashMap<String, String>) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(|v| normalized(v, parameters)).collect()),
        Value::Object(map) => {
            if let (1, Some(Value::String(name))) = (map.len(), map.get("Ref"))
                && let Some(resolved) = parameters.get(name)
            {
                return Value::String(resolved.clone());
            }
            if let (1, Some(Value::String(text))) = (map.len(), map.get("Fn::Sub")) {
                let text = substitute(text, parameters);
                if !text.contains("${") {
                    return Value::String(text);
                }
                if let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
                    && !name.contains(['$', '{', '}', '.'])
                {
                    return json!({"Ref": name});
                }
                return json!({"Fn::Sub": text});
            }
            if let (1, Some(Value::String(dotted))) = (map.len(), map.get("Fn::GetAtt"))
                && let Some((resource, attribute)) = dotted.split_once('.')
            {
                return json!({"Fn::GetAtt": [resource, attribute]});
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalized(v, parameters))).collect())
        }
        other => other.clone(),
    }
}

/// `text` with every `${Name}` whose `Name` is a known parameter replaced by
/// its value; `${!Literal}`, attributes and unknown names stay.
fn substitute(text: &str, parameters: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if parameters.contains_key(&after[..end]) => {
                out.push_str(&parameters[&after[..end]]);
                rest = &after[end + 1..];
            }
            Some(end) => {
                out.push_str(&rest[start..start + 2 + end + 1]);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The logical IDs a value refers to: `Ref`, `Fn::GetAtt`, and `${X}` /
/// `${X.Attr}` in `Fn::Sub`.
fn references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| references(v, into)),
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(name)) => {
                        into.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        into.insert(dotted.split('.').next().unwrap_or_default().to_string());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(name)) = parts.first() {
                            into.insert(name.clone());
                        }
                    }
                    ("Fn::Sub", sub) => {
                        let text = match sub {
                            Value::String(t) => Some(t.as_str()),
                            Value::Array(parts) => parts.first().and_then(Value::as_str),
                            _ => None,
                        };
                        for name in text.map(sub_names).unwrap_or_default() {
                            into.insert(name);
                        }
                        if let Value::Array(parts) = sub {
                            parts.iter().skip(1).for_each(|v| references(v, into));
                        }
                    }
                    _ => references(inner, into),
                }
            }
        }
        _ => {}
    }
}

/// The names `${...}` in a `Fn::Sub` string refers to (`${!Literal}` is not one).
fn sub_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if !name.starts_with('!') {
            names.push(name.split('.').next().unwrap_or_default().to_string());
        }
        rest = &rest[end + 1..];
    }
    names
}

/// What each resource of a template refers to (properties, `DependsOn`,
/// `Condition`-free).
fn reference_graph(resources: &Map<String, Value>) -> IndexMap<String, BTreeSet<String>> {
    resources
        .iter()
        .map(|(id, r)| {
            let mut refs = BTreeSet::new();
            if let Some(p) = r.get("Properties") {
                references(p, &mut refs);
            }
            match r.get("DependsOn") {
                Some(Value::String(d)) => {
                    refs.insert(d.clone());
                }
                Some(Value::Array(ds)) => refs.extend(ds.iter().filter_map(Value::as_str).map(str::to_string)),
                _ => {}
            }
            refs.retain(|name| resources.contains_key(name) && name != id);
            (id.clone(), refs)
        })
        .collect()
}

/// Copilot's custom resources that ferry's template drops, and the helpers
/// (functions, roles, policies, log groups) that only they, or each other,
/// use: nothing else in the stack refers to them.
fn retiring(old: &Map<String, Value>, new: &Map<String, Value>) -> BTreeSet<String> {
    let graph = reference_graph(old);
    let mut retired: BTreeSet<String> = old
        .iter()
        .filter(|(id, r)| is_custom_resource(type_of(r)) && !new.contains_key(*id))
        .map(|(id, _)| id.clone())
        .collect();
    loop {
        let before = retired.len();
        for (id, resource) in old {
            if retired.contains(id) || new.contains_key(id) || !HELPER_TYPES.contains(&type_of(resource)) {
                continue;
            }
            let referrers: Vec<&String> = graph.iter().filter(|(_, refs)| refs.contains(id)).map(|(r, _)| r).collect();
            let used_by_retired = referrers.iter().any(|r| retired.contains(*r));
            let serves_retired = graph[id].iter().any(|r| retired.contains(r));
            // A log group or permission naming this function goes with it.
            let goes_with_it = |r: &String| {
                matches!(type_of(&old[r.as_str()]), "AWS::Logs::LogGroup" | "AWS::Lambda::Permission")
                    && !new.contains_key(r)
                    && graph[r].iter().all(|x| x == id || retired.contains(x))
            };
            let only_retired_use_it = referrers.iter().all(|r| retired.contains(*r) || goes_with_it(r));
            // A log group or permission that names a retiring function
            // (`/aws/lambda/${Function}`) serves it even though nothing refers
            // to the log group; everything it refers to must be retiring too.
            let attached = serves_retired && graph[id].iter().all(|r| retired.contains(r));
            if only_retired_use_it && (used_by_retired || attached) {
                retired.insert(id.clone());
            }
        }
        if retired.len() == before {
            return retired;
        }
    }
}

/// A resource the first step adds: a change to policies and metadata alone
/// is no update to CloudFormation, a new resource is (a wait-condition
/// handle is free and does nothing). ferry's template drops it again.
pub const MARKER_RESOURCE: &str = "FerryAdoptionMarker";

/// Copilot's template for the first step of adoption: unchanged except
/// `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain` on the
/// retiring resources, `Metadata["ferry:adoption"]` naming them, and the
/// [`MARKER_RESOURCE`] that makes it an update.
pub fn with_retained_helpers(copilot: &Value, retired: &[&str]) -> Value {
    let mut template = copilot.clone();
    if let Some(resources) = template.get_mut("Resources").and_then(Value::as_object_mut) {
        resources.insert(MARKER_RESOURCE.into(), json!({"Type": "AWS::CloudFormation::WaitConditionHandle"}));
        for id in retired {
            if let Some(Value::Object(resource)) = resources.get_mut(*id) {
                resource.insert("DeletionPolicy".into(), json!("Retain"));
                resource.insert("UpdateReplacePolicy".into(), json!("Retain"));
            }
        }
    }
    if let Value::Object(root) = &mut template {
        let metadata = root.entry("Metadata").or_insert_with(|| json!({}));
        if let Value::Object(metadata) = metadata {
            metadata.insert(ADOPTION_METADATA.into(), json!({ "retained": retired }));
        }
    }
    template
}

/// The environment-controller parameters for ferry's environment stack: the
/// workloads the deployed stack lists (what the controller set) together
/// with those ferry's workspace lists, so nothing the controller created
/// goes away. Copilot keeps them as a sorted, comma-separated list.
pub fn controller_parameters(
    live: &IndexMap<String, String>,
    ferry: &IndexMap<String, String>,
) -> IndexMap<String, String> {
    let split = |v: Option<&String>| -> BTreeSet<String> {
        v.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    CONTROLLER_PARAMETERS
        .iter()
        .filter(|name| live.contains_key(**name) || ferry.contains_key(**name))
        .map(|name| {
            let mut names = split(live.get(*name));
            names.extend(split(ferry.get(*name)));
            (name.to_string(), names.into_iter().collect::<Vec<_>>().join(","))
        })
        .collect()
}

#[cfg(test)]
mod tests;
