//! Listener rule priorities, chosen by the host where Copilot runs a Lambda
//! (`RulePriorityFunction`) inside the stack.
//!
//! A plugin gives each `AWS::ElasticLoadBalancingV2::ListenerRule` the
//! priority `{"Ref": "<rule>Priority"}` and fills that parameter with a
//! deterministic fallback (what offline `package` shows). Before a deploy,
//! [`assign`] replaces the values:
//! - a parameter the deployed stack already has keeps its deployed value, so
//!   a redeploy changes nothing and rules never move;
//! - a new rule gets a priority free on its listener (`DescribeRules`): a
//!   catch-all path (`/*`) the highest free one from 50000 down, so it is
//!   evaluated after every specific path, any other path the lowest free one.
//!
//! When the listener cannot be resolved or read, the plugin's value stays.

use crate::config::AwsContext;
use crate::error::AwsError;
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::BTreeSet;

/// The highest priority a listener rule may have.
pub const MAX_PRIORITY: u32 = 50_000;

/// A rule whose priority is a template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityRule {
    pub logical_id: String,
    pub parameter: String,
    /// The listener's ARN as the template writes it.
    pub listener: Value,
    /// The rule matches every path (`/*`): evaluate it last.
    pub catch_all: bool,
}

/// The listener rules of `template` whose `Priority` is a `Ref` to one of
/// its parameters.
pub fn priority_rules(template: &Value) -> Vec<PriorityRule> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else { return Vec::new() };
    let parameters = template.get("Parameters").and_then(Value::as_object);
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule")
        .filter_map(|(id, r)| {
            let props = &r["Properties"];
            let parameter = props["Priority"].get("Ref")?.as_str()?.to_string();
            parameters?.get(&parameter)?;
            let catch_all = matches_every_path(&props["Conditions"], template, None);
            Some(PriorityRule { logical_id: id.clone(), parameter, listener: props["ListenerArn"].clone(), catch_all })
        })
        .collect()
}

/// A rule's conditions match every path (`/*`). A path list chosen by
/// `Fn::If` on a condition `Fn::Equals [Ref <parameter>, <value>]` (the
/// main rule's `IsDefaultRootPath`) is decided with `parameters`; without
/// them, either branch matching every path counts.
fn matches_every_path(conditions: &Value, template: &Value, parameters: Option<&IndexMap<String, String>>) -> bool {
    let Some(conditions) = conditions.as_array() else { return false };
    // A rule that also asks for a header (a blue/green test rule) is
    // narrower than the catch-all beside it: it goes first.
    if conditions.iter().any(|c| c["Field"] == "http-header") {
        return false;
    }
    conditions.iter().filter(|c| c["Field"] == "path-pattern").any(|c| {
        let values = &c["PathPatternConfig"]["Values"];
        let chosen = match (values.get("Fn::If").and_then(Value::as_array), parameters) {
            (Some(branches), Some(parameters)) if branches.len() == 3 => {
                match evaluate_equals(template, branches[0].as_str().unwrap_or_default(), parameters) {
                    Some(true) => &branches[1],
                    Some(false) => &branches[2],
                    None => values,
                }
            }
            _ => values,
        };
        chosen.to_string().contains("\"/*\"")
    })
}

/// The template condition `name` when it is `Fn::Equals [Ref <p>, "<v>"]`
/// (either order) and `p` has a value.
fn evaluate_equals(template: &Value, name: &str, parameters: &IndexMap<String, String>) -> Option<bool> {
    let operands = template["Conditions"][name].get("Fn::Equals")?.as_array()?;
    let [a, b] = operands.as_slice() else { return None };
    let (reference, literal) = match (a.get("Ref"), b.get("Ref")) {
        (Some(r), None) => (r, b),
        (None, Some(r)) => (r, a),
        _ => return None,
    };
    let value = parameters.get(reference.as_str()?)?;
    Some(literal.as_str().is_some_and(|l| l == value))
}

/// The listener ARN a template value stands for: a literal ARN, or an
/// import of `${AppName}-${EnvName}-<name>` looked up in `exports`.
pub fn resolve_listener(
    value: &Value,
    parameters: &IndexMap<String, String>,
    exports: &IndexMap<String, String>,
) -> Option<String> {
    if let Some(arn) = value.as_str() {
        return Some(arn.to_string());
    }
    let import = value.get("Fn::ImportValue")?;
    let name = match import {
        Value::String(s) => s.clone(),
        other => {
            let mut text = other.get("Fn::Sub")?.as_str()?.to_string();
            for (k, v) in parameters {
                text = text.replace(&format!("${{{k}}}"), v);
            }
            text
        }
    };
    exports.get(&name).cloned()
}

/// Picks a priority not in `taken` (and adds it): the highest free one for
/// a catch-all rule, else the lowest free one.
pub fn pick(taken: &mut BTreeSet<u32>, catch_all: bool) -> Option<u32> {
    let free = |p: &u32| !taken.contains(p);
    let chosen = if catch_all { (1..=MAX_PRIORITY).rev().find(free) } else { (1..=MAX_PRIORITY).find(free) }?;
    taken.insert(chosen);
    Some(chosen)
}

/// Sets every rule priority parameter of a stack about to be deployed (see
/// the module docs). `live` is the deployed stack's parameters, if any.
pub async fn assign(
    aws: &AwsContext,
    template: &Value,
    parameters: &mut IndexMap<String, String>,
    live: Option<&IndexMap<String, String>>,
) -> Result<(), AwsError> {
    let rules = priority_rules(template);
    if rules.is_empty() {
        return Ok(());
    }
    let mut fresh = Vec::new();
    for rule in rules {
        match live.and_then(|l| l.get(&rule.parameter)) {
            Some(deployed) => {
                parameters.insert(rule.parameter.clone(), deployed.clone());
            }
            None => {
                let conditions = &template["Resources"][&rule.logical_id]["Properties"]["Conditions"];
                let catch_all = matches_every_path(conditions, template, Some(parameters));
                fresh.push(PriorityRule { catch_all, ..rule })
            }
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let exports = list_exports(aws).await?;
    // Priorities this stack keeps count as taken on their listeners too.
    let mut taken: IndexMap<String, BTreeSet<u32>> = IndexMap::new();
    for rule in fresh {
        let Some(listener) = resolve_listener(&rule.listener, parameters, &exports) else { continue };
        if !taken.contains_key(&listener) {
            let used = describe_priorities(aws, &listener).await?;
            taken.insert(listener.clone(), used);
        }
        let Some(set) = taken.get_mut(&listener) else { continue };
        if let Some(p) = pick_unreserved(&listener, set, rule.catch_all) {
            parameters.insert(rule.parameter.clone(), p.to_string());
        }
    }
    Ok(())
}

/// Priorities handed out by this process and not yet visible through
/// `DescribeRules`: `ferry deploy` assigns for several workloads at once, and
/// two stacks on one listener must not both get the lowest free priority.
static RESERVED: std::sync::LazyLock<std::sync::Mutex<IndexMap<String, BTreeSet<u32>>>> =
    std::sync::LazyLock::new(Default::default);

/// [`pick`] over what the listener has plus what this process reserved on
/// it, reserving the result (one lock around pick and reserve).
fn pick_unreserved(listener: &str, taken: &mut BTreeSet<u32>, catch_all: bool) -> Option<u32> {
    let mut reserved = RESERVED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let on_listener = reserved.entry(listener.to_string()).or_default();
    taken.extend(on_listener.iter().copied());
    let chosen = pick(taken, catch_all)?;
    on_listener.insert(chosen);
    Some(chosen)
}

async fn list_exports(aws: &AwsContext) -> Result<IndexMap<String, String>, AwsError> {
    let mut out = IndexMap::new();
    let mut token = None;
    loop {
        let page = aws
            .cloudformation()
            .list_exports()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudformation:ListExports", None, e))?;
        for e in page.exports() {
            if let (Some(n), Some(v)) = (e.name(), e.value()) {
                out.insert(n.to_string(), v.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Priorities of the rules on a listener (the default rule has none).
async fn describe_priorities(aws: &AwsContext, listener: &str) -> Result<BTreeSet<u32>, AwsError> {
    let mut used = BTreeSet::new();
    let mut marker = None;
    loop {
        let page = aws
            .elbv2()
            .describe_rules()
            .listener_arn(listener)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeRules", Some(listener), e))?;
        used.extend(page.rules().iter().filter_map(|r| r.priority()).filter_map(|p| p.parse::<u32>().ok()));
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_rules_and_resolves_listeners() {
        let template = json!({
            "Parameters": {"HTTPListenerRulePriority": {"Type": "Number"}},
            "Resources": {
                "HTTPListenerRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                    "ListenerArn": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-HTTPListenerArn"}},
                    "Priority": {"Ref": "HTTPListenerRulePriority"},
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
                }},
                "Fixed": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"Priority": 3}}
            }
        });
        let rules = priority_rules(&template);
        assert_eq!(rules.len(), 1);
        assert!(rules[0].catch_all);
        let params = IndexMap::from([("AppName".to_string(), "chat".to_string()), ("EnvName".into(), "test".into())]);
        let exports = IndexMap::from([("chat-test-HTTPListenerArn".to_string(), "arn:listener".to_string())]);
        assert_eq!(resolve_listener(&rules[0].listener, &params, &exports).as_deref(), Some("arn:listener"));
        assert_eq!(resolve_listener(&json!("arn:x"), &params, &exports).as_deref(), Some("arn:x"));
    }

    #[test]
    fn concurrent_assignments_on_one_listener_never_share_a_priority() {
        let listener = "arn:aws:elasticloadbalancing:us-west-2:1:listener/app/test-reserved/1/2";
        let picks: Vec<u32> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| pick_unreserved(listener, &mut BTreeSet::from([1, 2]), false).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let distinct: BTreeSet<u32> = picks.iter().copied().collect();
        assert_eq!(distinct.len(), 8, "every deploy got its own priority: {picks:?}");
        assert!(!distinct.contains(&1) && !distinct.contains(&2), "deployed priorities stay taken");
    }

    #[test]
    fn the_main_rule_is_a_catch_all_only_on_the_root_path() {
        let template = json!({
            "Parameters": {"RulePath": {"Type": "String"}, "HTTPListenerRulePriority": {"Type": "Number"}},
            "Conditions": {"IsDefaultRootPath": {"Fn::Equals": [{"Ref": "RulePath"}, "/"]}},
            "Resources": {"HTTPListenerRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                "ListenerArn": "arn:listener",
                "Priority": {"Ref": "HTTPListenerRulePriority"},
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": {"Fn::If": [
                    "IsDefaultRootPath", ["/*"], [{"Ref": "RulePath"}, {"Fn::Sub": "${RulePath}/*"}]
                ]}}}]
            }}}
        });
        let conditions = &template["Resources"]["HTTPListenerRule"]["Properties"]["Conditions"];
        let with = |path: &str| IndexMap::from([("RulePath".to_string(), path.to_string())]);
        assert!(matches_every_path(conditions, &template, Some(&with("/"))));
        assert!(!matches_every_path(conditions, &template, Some(&with("/internal"))));
        assert!(matches_every_path(conditions, &template, None), "undecided without parameters");
    }

    /// A blue/green test rule (header + the main rule's paths) is placed
    /// before the catch-all production rule, or it would never match.
    #[test]
    fn a_header_rule_on_every_path_is_not_a_catch_all() {
        let conditions = json!([
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Ferry-Test", "Values": ["true"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
        ]);
        assert!(!matches_every_path(&conditions, &json!({}), None));
        assert!(matches_every_path(&json!([conditions[1]]), &json!({}), None));
    }

    #[test]
    fn catch_all_goes_last_and_paths_first() {
        let mut taken = BTreeSet::from([1, 2, 50_000]);
        assert_eq!(pick(&mut taken, false), Some(3));
        assert_eq!(pick(&mut taken, true), Some(49_999));
        assert_eq!(pick(&mut taken, false), Some(4));
    }
}
