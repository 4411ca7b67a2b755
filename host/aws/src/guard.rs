//! The replacement guard: before a change set runs, its changes are read
//! and every removal or replacement of a resource that holds state (a
//! bucket, a table, a queue, a file system, a log group, a key, a zone) or
//! carries traffic (the VPC, subnets, load balancers, listeners, an ECS
//! service) is listed. Those not allowed by `--allow-replacement` stop the
//! deploy before anything changed: a replacement creates a new resource and
//! deletes the old one, and with it the data, the DNS name, the endpoint.
//!
//! A replacement CloudFormation only *may* do (`Replacement: Conditional`)
//! is refused for resources that hold data; for traffic resources it is
//! let through (it depends on values only known while the update runs, and
//! refusing it would block most listener and service updates).

use ferry_core::adopt::{Holds, holds};
use serde::Serialize;
use serde_json::Value;

/// One resource change of a change set, as `DescribeChangeSet` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    pub action: String,
    /// `True`, `False` or `Conditional` (modifications only).
    pub replacement: Option<String>,
    /// Properties whose change requires recreating the resource, with
    /// CloudFormation's `RequiresRecreation` (`Always`, `Conditionally`).
    pub recreating: Vec<(String, String)>,
}

/// Why a change is dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Removed,
    Replaced,
    /// CloudFormation may replace it, depending on values known at update time.
    MayBeReplaced,
}

impl Risk {
    fn verb(self) -> &'static str {
        match self {
            Risk::Removed => "removed",
            Risk::Replaced => "replaced",
            Risk::MayBeReplaced => "may be replaced",
        }
    }
}

/// A removal or replacement the guard looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardedChange {
    pub logical_id: String,
    pub resource_type: String,
    pub risk: Risk,
    /// The properties whose change causes the replacement.
    pub properties: Vec<String>,
    /// `--allow-replacement` names it (or says `all`).
    pub allowed: bool,
}

impl std::fmt::Display for GuardedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) {}", self.logical_id, self.resource_type, self.risk.verb())?;
        match self.properties.as_slice() {
            [] => Ok(()),
            [one] => write!(f, ": changing {one} requires a new resource"),
            many => write!(f, ": changing {} requires a new resource", many.join(", ")),
        }
    }
}

/// True for a type whose removal or replacement the guard stops.
/// The lists of what holds state or traffic are `ferry_core::adopt`'s, shared
/// with `ferry adopt`.
pub fn is_guarded(resource_type: &str) -> bool {
    holds(resource_type) != Holds::Nothing
}

/// True for a type that holds data.
pub fn is_stateful(resource_type: &str) -> bool {
    holds(resource_type) == Holds::State
}

/// What `--allow-replacement` lets through: logical IDs, or everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    pub all: bool,
    pub ids: Vec<String>,
}

impl Allowed {
    /// From the repeatable flag's values; `all` allows everything.
    pub fn from_flags(values: &[String]) -> Allowed {
        Allowed {
            all: values.iter().any(|v| v == "all"),
            ids: values.iter().filter(|v| *v != "all").cloned().collect(),
        }
    }

    fn allows(&self, logical_id: &str) -> bool {
        self.all || self.ids.iter().any(|id| id == logical_id)
    }
}

/// The removals and replacements of guarded resources among `changes`, in
/// change-set order, each marked allowed or not. Harmless changes (a new
/// task definition revision, an updated role) are not listed.
pub fn review(changes: &[ResourceChange], allowed: &Allowed) -> Vec<GuardedChange> {
    changes
        .iter()
        .filter(|c| is_guarded(&c.resource_type))
        .filter_map(|c| {
            let risk = match (c.action.as_str(), c.replacement.as_deref()) {
                ("Remove", _) => Risk::Removed,
                ("Modify", Some("True")) => Risk::Replaced,
                ("Modify", Some("Conditional")) if is_stateful(&c.resource_type) => Risk::MayBeReplaced,
                _ => return None,
            };
            let mut properties: Vec<String> = Vec::new();
            for (name, _) in &c.recreating {
                if !properties.contains(name) {
                    properties.push(name.clone());
                }
            }
            Some(GuardedChange {
                logical_id: c.logical_id.clone(),
                resource_type: c.resource_type.clone(),
                risk,
                properties,
                allowed: allowed.allows(&c.logical_id),
            })
        })
        .collect()
}

/// The `--allow-replacement` flags that let `refused` through.
pub fn allow_flags(refused: &[GuardedChange]) -> String {
    refused.iter().map(|c| format!("--allow-replacement {}", c.logical_id)).collect::<Vec<_>>().join(" ")
}

/// Reads the changes of `DescribeChangeSet` output in its JSON form (as
/// `aws cloudformation describe-change-set` prints it): recorded change
/// sets in tests, and any tool that saved one.
pub fn changes_from_json(output: &Value) -> Vec<ResourceChange> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    output
        .get("Changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|change| change.get("ResourceChange"))
        .map(|rc| ResourceChange {
            logical_id: text(rc, "LogicalResourceId").unwrap_or_default(),
            resource_type: text(rc, "ResourceType").unwrap_or_default(),
            action: text(rc, "Action").unwrap_or_default(),
            replacement: text(rc, "Replacement"),
            recreating: rc
                .get("Details")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("Target"))
                .filter_map(|t| {
                    let how = text(t, "RequiresRecreation")?;
                    let name = text(t, "Name").or_else(|| text(t, "Attribute"))?;
                    (how != "Never").then_some((name, how))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> Vec<ResourceChange> {
        let path = format!("{}/tests/change-sets/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        changes_from_json(&serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn a_replaced_load_balancer_is_refused_naming_the_property() {
        let guarded = review(&recorded("alb-replaced"), &Allowed::default());
        assert_eq!(guarded.len(), 1, "{guarded:?}");
        let alb = &guarded[0];
        assert_eq!((alb.logical_id.as_str(), alb.risk, alb.allowed), ("PublicLoadBalancer", Risk::Replaced, false));
        assert_eq!(alb.properties, ["Scheme"]);
        assert_eq!(
            alb.to_string(),
            "PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) replaced: changing Scheme requires a new resource"
        );
    }

    #[test]
    fn a_removed_queue_is_refused() {
        let guarded = review(&recorded("queue-removed"), &Allowed::default());
        let names: Vec<_> = guarded.iter().map(|c| (c.logical_id.as_str(), c.risk, c.allowed)).collect();
        assert_eq!(names, [("EventsQueue", Risk::Removed, false)]);
    }

    #[test]
    fn allow_replacement_lets_named_resources_through() {
        let changes = [recorded("alb-replaced"), recorded("queue-removed")].concat();
        let named = review(&changes, &Allowed::from_flags(&["PublicLoadBalancer".into()]));
        let allowed: Vec<_> = named.iter().map(|c| (c.logical_id.as_str(), c.allowed)).collect();
        assert_eq!(allowed, [("PublicLoadBalancer", true), ("EventsQueue", false)]);
        let all = review(&changes, &Allowed::from_flags(&["all".into()]));
        assert!(all.iter().all(|c| c.allowed), "{all:?}");
        assert_eq!(allow_flags(&named[1..]), "--allow-replacement EventsQueue");
    }

    #[test]
    fn a_replaced_task_definition_passes_without_a_word() {
        let changes = recorded("task-definition-replaced");
        assert!(changes.iter().any(|c| c.replacement.as_deref() == Some("True")), "the recording replaces something");
        assert_eq!(review(&changes, &Allowed::default()), []);
    }

    #[test]
    fn conditional_replacement_is_refused_only_for_what_holds_data() {
        let change = |ty: &str| ResourceChange {
            logical_id: "X".into(),
            resource_type: ty.into(),
            action: "Modify".into(),
            replacement: Some("Conditional".into()),
            recreating: vec![("Name".into(), "Conditionally".into())],
        };
        let table = review(&[change("AWS::DynamoDB::Table")], &Allowed::default());
        assert_eq!(table[0].risk, Risk::MayBeReplaced);
        assert_eq!(review(&[change("AWS::ECS::Service")], &Allowed::default()), []);
        assert_eq!(review(&[change("AWS::IAM::Role")], &Allowed::default()), []);
    }
}
