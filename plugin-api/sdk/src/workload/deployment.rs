//! `deployment.strategy`: ECS-native blue/green, canary and linear
//! deployments (no CodeDeploy), a ferry extension of Copilot's `deployment`
//! section for services behind an Application Load Balancer.
//!
//! ```yaml
//! deployment:
//!   strategy: canary          # rolling (default) | blue_green | canary | linear
//!   bake_time: 10m            # BakeTimeInMinutes: old revision kept, alarms watched
//!   canary: {percent: 10, bake_time: 5m}
//!   linear: {step_percent: 25, step_bake_time: 2m}
//!   test_traffic: {header: X-Ferry-Test, value: green}
//!   rollback_alarms: [...]    # Copilot's: roll back on alarm, in every strategy
//! ```
//!
//! Rendered on the service: `DeploymentConfiguration.Strategy`,
//! `BakeTimeInMinutes`, `CanaryConfiguration`, `LinearConfiguration`; on the
//! main load balancer entry an `AdvancedConfiguration` naming
//! `AlternateTargetGroup` (a twin of the main target group), the production
//! listener rule (now a weighted forward to both groups, which ECS shifts),
//! the optional `TestListenerRule` (header condition) and `InfrastructureRole`
//! (the role ECS uses to change the rules). `deployment.rolling` keeps
//! Copilot's meaning and only goes with the rolling strategy.

use super::http::{Routing, target_group_id};
use super::{Duration, TaskSpec};
use crate::cfn::{self, Parameter, Resource, Template};
use crate::diag::pointer;
use crate::{Diagnostic, Value, json};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `deployment.canary`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Canary {
    /// Percentage of production traffic the new revision gets first
    /// (0.1 to 100, in steps of 0.1; ECS's default 5).
    pub percent: Option<f64>,
    /// How long the canary share runs before the rest of the traffic moves
    /// (whole minutes, at most 24h; ECS's default 10m).
    pub bake_time: Option<Duration>,
}

/// `deployment.linear`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    /// Percentage of production traffic moved per step (3 to 100, in steps of 0.1).
    pub step_percent: Option<f64>,
    /// Wait between steps (whole minutes, at most 24h).
    pub step_bake_time: Option<Duration>,
}

/// `deployment.test_traffic`: requests with this header reach the new
/// revision through a test listener rule before production traffic moves.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestTraffic {
    /// The HTTP header name, e.g. `X-Ferry-Test`.
    pub header: Option<String>,
    /// The value the header must have (default `true`).
    pub value: Option<String>,
}

/// How ECS moves traffic to a new revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Rolling,
    BlueGreen,
    Canary,
    Linear,
}

impl Strategy {
    /// The manifest's strategy; rolling when absent or unknown (checks report unknown ones).
    pub fn of(spec: &TaskSpec) -> Strategy {
        match spec.deployment.as_ref().and_then(|d| d.strategy.as_deref()) {
            Some("blue_green") => Strategy::BlueGreen,
            Some("canary") => Strategy::Canary,
            Some("linear") => Strategy::Linear,
            _ => Strategy::Rolling,
        }
    }

    /// Traffic moves between two target groups (every strategy but rolling).
    pub fn shifts_traffic(self) -> bool {
        self != Strategy::Rolling
    }

    fn ecs(self) -> &'static str {
        match self {
            Strategy::Rolling => "ROLLING",
            Strategy::BlueGreen => "BLUE_GREEN",
            Strategy::Canary => "CANARY",
            Strategy::Linear => "LINEAR",
        }
    }
}

/// Logical ID of the target group the new revision is registered in.
pub const ALTERNATE_TARGET_GROUP: &str = "AlternateTargetGroup";
/// Logical ID of the listener rule for test traffic.
pub const TEST_LISTENER_RULE: &str = "TestListenerRule";
/// Logical ID of the role ECS assumes to change listener rules.
pub const INFRASTRUCTURE_ROLE: &str = "InfrastructureRole";

const MAX_MINUTES: u64 = 1440;

/// Whole minutes of a bake time, or why it is not one.
fn minutes(d: Duration) -> Result<u64, String> {
    if !d.millis.is_multiple_of(60_000) {
        return Err("ECS counts bake times in whole minutes".into());
    }
    let m = d.millis / 60_000;
    if m > MAX_MINUTES {
        return Err(format!("{m} minutes is over ECS's limit of {MAX_MINUTES} (24h)"));
    }
    Ok(m)
}

/// A percentage in `[min, 100]` that is a multiple of 0.1.
fn tenths(v: f64, min: f64) -> bool {
    (min..=100.0).contains(&v) && ((v * 10.0).round() - v * 10.0).abs() < 1e-6
}

/// Checks of `deployment.strategy` and its settings; `load_balanced` says
/// the service has an Application Load Balancer route to shift.
pub fn check_deployment(spec: &TaskSpec, load_balanced: bool, out: &mut Vec<Diagnostic>) {
    let Some(d) = &spec.deployment else { return };
    let strategy = Strategy::of(spec);
    if let Some(s) = d.strategy.as_deref()
        && !matches!(s, "rolling" | "blue_green" | "canary" | "linear")
    {
        out.push(
            Diagnostic::error("/deployment/strategy", format!("unknown deployment strategy `{s}`"))
                .with_hint("expected `rolling`, `blue_green`, `canary` or `linear`"),
        );
        return;
    }
    if strategy.shifts_traffic() && !load_balanced {
        out.push(
            Diagnostic::error(
                "/deployment/strategy",
                format!(
                    "`{}` moves traffic between two target groups, and this service has no load balancer",
                    d.strategy.as_deref().unwrap_or_default()
                ),
            )
            .with_hint(
                "route requests through an Application Load Balancer with `http.path`, or use `strategy: rolling`",
            ),
        );
    }
    if strategy.shifts_traffic() && d.rolling.as_deref() == Some("recreate") {
        out.push(
            Diagnostic::error(
                "/deployment/rolling",
                "`rolling: recreate` stops every task first, which a traffic-shifting strategy cannot do",
            )
            .with_hint("remove `rolling`, or use `strategy: rolling`"),
        );
    }
    let misplaced =
        [("canary", d.canary.is_some(), Strategy::Canary), ("linear", d.linear.is_some(), Strategy::Linear)];
    for (field, set, wanted) in misplaced {
        if set && strategy != wanted {
            out.push(
                Diagnostic::error(
                    pointer(["deployment", field]),
                    format!("`{field}` only applies to `strategy: {field}`"),
                )
                .with_hint(format!("set `strategy: {field}`, or remove `{field}`")),
            );
        }
    }
    if d.test_traffic.is_some() && !strategy.shifts_traffic() {
        out.push(
            Diagnostic::error(
                "/deployment/test_traffic",
                "test traffic needs a second target group, which `rolling` has not",
            )
            .with_hint("use `strategy: blue_green`, `canary` or `linear`, or remove `test_traffic`"),
        );
    }
    let mut bake = |path: String, d: Option<Duration>| {
        if let Some(Err(why)) = d.map(minutes) {
            out.push(Diagnostic::error(path, why).with_hint("write whole minutes up to 24h, e.g. `10m` or `1h30m`"));
        }
    };
    bake(pointer(["deployment", "bake_time"]), d.bake_time);
    bake(pointer(["deployment", "canary", "bake_time"]), d.canary.as_ref().and_then(|c| c.bake_time));
    bake(pointer(["deployment", "linear", "step_bake_time"]), d.linear.as_ref().and_then(|l| l.step_bake_time));
    if let Some(p) = d.canary.as_ref().and_then(|c| c.percent)
        && !tenths(p, 0.1)
    {
        out.push(
            Diagnostic::error("/deployment/canary/percent", format!("{p} is not a canary percentage"))
                .with_hint("use 0.1 to 100, in steps of 0.1 (e.g. `10`)"),
        );
    }
    if let Some(p) = d.linear.as_ref().and_then(|l| l.step_percent)
        && !tenths(p, 3.0)
    {
        out.push(
            Diagnostic::error("/deployment/linear/step_percent", format!("{p} is not a step percentage"))
                .with_hint("use 3 to 100, in steps of 0.1 (e.g. `25`)"),
        );
    }
    if let Some(t) = &d.test_traffic {
        let valid = |h: &str| {
            !h.is_empty() && h.len() <= 40 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        };
        match t.header.as_deref() {
            None => out.push(
                Diagnostic::error("/deployment/test_traffic", "missing required field `header`")
                    .with_hint("add `header: X-Ferry-Test` (requests carrying it reach the new revision)"),
            ),
            Some(h) if !valid(h) => out.push(
                Diagnostic::error("/deployment/test_traffic/header", format!("`{h}` is not an HTTP header name"))
                    .with_hint("use letters, digits and `-` (at most 40), e.g. `X-Ferry-Test`"),
            ),
            _ => {}
        }
    }
}

/// What a traffic-shifting strategy cannot do with this routing: one
/// production rule must carry all of the main path's traffic. Returns the
/// diagnostics (at `/deployment/strategy` or the conflicting field).
pub fn check_routing_for_strategy(
    spec: &TaskSpec,
    additional_rules: usize,
    http_forwards_beside_https: bool,
    out: &mut Vec<Diagnostic>,
) {
    if !Strategy::of(spec).shifts_traffic() {
        return;
    }
    if additional_rules > 0 {
        out.push(
            Diagnostic::error(
                "/http/additional_rules",
                "`additional_rules` cannot be combined with a traffic-shifting `deployment.strategy`",
            )
            .with_hint("ECS shifts one listener rule per service: route one path, or use `strategy: rolling`"),
        );
    }
    if http_forwards_beside_https {
        out.push(
            Diagnostic::error(
                "/http/redirect_to_https",
                "with `redirect_to_https: false` two listener rules serve the service, and ECS shifts only one",
            )
            .with_hint("remove `redirect_to_https: false` (HTTP then redirects to HTTPS), or use `strategy: rolling`"),
        );
    }
}

/// Adds the strategy's settings to the service's `DeploymentConfiguration`.
pub(crate) fn configure(spec: &TaskSpec, deployment: &mut Value) {
    let Some(d) = &spec.deployment else { return };
    let strategy = Strategy::of(spec);
    if d.strategy.is_some() {
        deployment["Strategy"] = json!(strategy.ecs());
    }
    if let Some(Ok(m)) = d.bake_time.map(minutes) {
        deployment["BakeTimeInMinutes"] = json!(m);
    }
    if strategy == Strategy::Canary {
        let mut c = serde_json::Map::new();
        if let Some(p) = d.canary.as_ref().and_then(|c| c.percent) {
            c.insert("CanaryPercent".into(), json!(p));
        }
        if let Some(Ok(m)) = d.canary.as_ref().and_then(|c| c.bake_time).map(minutes) {
            c.insert("CanaryBakeTimeInMinutes".into(), json!(m));
        }
        if !c.is_empty() {
            deployment["CanaryConfiguration"] = Value::Object(c);
        }
    }
    if strategy == Strategy::Linear {
        let mut l = serde_json::Map::new();
        if let Some(p) = d.linear.as_ref().and_then(|l| l.step_percent) {
            l.insert("StepPercent".into(), json!(p));
        }
        if let Some(Ok(m)) = d.linear.as_ref().and_then(|l| l.step_bake_time).map(minutes) {
            l.insert("StepBakeTimeInMinutes".into(), json!(m));
        }
        if !l.is_empty() {
            deployment["LinearConfiguration"] = Value::Object(l);
        }
    }
}

/// For a traffic-shifting strategy: the alternate target group, the
/// production rule turned into a weighted forward to both groups, the test
/// listener rule, the infrastructure role, and the main load balancer
/// entry's `AdvancedConfiguration`. `rule_ids` are the listener rules
/// [`Routing::listener_rules`] emitted; returns the rules the service must
/// also depend on. Nothing happens for `rolling`.
pub fn render_traffic_shift(
    spec: &TaskSpec,
    routing: &Routing<'_>,
    t: &mut Template,
    values: &mut IndexMap<String, Value>,
    rule_ids: &[String],
    load_balancers: &mut [Value],
) -> Vec<String> {
    if !Strategy::of(spec).shifts_traffic() {
        return Vec::new();
    }
    let main_group = target_group_id(0, routing.listeners.imported);
    let forwards_main = |r: &Value| {
        r["Properties"]["Actions"][0]["Type"] == "forward"
            && r["Properties"]["Actions"][0]["TargetGroupArn"] == cfn::ref_(&main_group)
    };
    let Some(production) = rule_ids.iter().find(|id| t.resources.get(*id).is_some_and(forwards_main)).cloned() else {
        return Vec::new();
    };
    let Some(mut alternate) = t.resources.get(&main_group).cloned() else { return Vec::new() };
    alternate.as_object_mut().map(|o| o.remove("Condition"));
    let weighted = json!([{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": cfn::ref_(&main_group), "Weight": 100},
        {"TargetGroupArn": cfn::ref_(ALTERNATE_TARGET_GROUP), "Weight": 0},
    ]}}]);
    let mut alt = Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
        .describe("The second target group: ECS registers the new revision here and shifts traffic to it");
    if let Some(props) = alternate.get("Properties").and_then(Value::as_object) {
        for (k, v) in props {
            alt = alt.prop(k, v.clone());
        }
    }
    t.resource(ALTERNATE_TARGET_GROUP, alt);
    let production_rule = t.resources.get_mut(&production).expect("found above");
    production_rule["Properties"]["Actions"] = weighted.clone();
    let production_rule = production_rule.clone();

    let mut depends_on = Vec::new();
    let test = spec.deployment.as_ref().and_then(|d| d.test_traffic.as_ref());
    if let Some(header) = test.and_then(|t| t.header.as_deref()) {
        let value = test.and_then(|t| t.value.clone()).unwrap_or_else(|| "true".into());
        let mut conditions = production_rule["Properties"]["Conditions"].as_array().cloned().unwrap_or_default();
        conditions.insert(
            0,
            json!({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": header, "Values": [value]}}),
        );
        let parameter = format!("{TEST_LISTENER_RULE}{}", super::http::PRIORITY_PARAMETER_SUFFIX);
        t.parameter(
            &parameter,
            Parameter::number().description(&format!(
                "Priority of {TEST_LISTENER_RULE} on its listener (ferry picks a free one at deploy)"
            )),
        );
        // Fallback just ahead of the production rule, which it must precede.
        let production_priority = production_rule["Properties"]["Priority"]["Ref"]
            .as_str()
            .and_then(|p| values.get(p))
            .and_then(|v| v.as_str().and_then(|s| s.parse::<u64>().ok()))
            .unwrap_or(2);
        values.insert(parameter.clone(), json!(production_priority.saturating_sub(1).max(1).to_string()));
        t.resource(
            TEST_LISTENER_RULE,
            Resource::new("AWS::ElasticLoadBalancingV2::ListenerRule")
                .prop("Actions", weighted)
                .prop("Conditions", Value::Array(conditions))
                .prop("ListenerArn", production_rule["Properties"]["ListenerArn"].clone())
                .prop("Priority", cfn::ref_(&parameter))
                .describe(&format!(
                    "A load balancer rule sending requests with the header {header} to the new revision"
                )),
        );
        // Listed before the production rule: the host gives new specific
        // rules the lowest free priorities in template order.
        if let (Some(at), Some((k, v))) =
            (t.resources.get_index_of(&production), t.resources.shift_remove_entry(TEST_LISTENER_RULE))
        {
            t.resources.shift_insert(at, k, v);
        }
        depends_on.push(TEST_LISTENER_RULE.to_string());
    }
    t.resource(
        INFRASTRUCTURE_ROLE,
        Resource::new("AWS::IAM::Role")
            .prop("AssumeRolePolicyDocument", cfn::assume_role_policy("ecs.amazonaws.com"))
            .prop(
                "ManagedPolicyArns",
                json!([cfn::sub(
                    "arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
                )]),
            )
            .describe("An IAM role ECS uses to shift traffic between the target groups"),
    );
    if let Some(main) = load_balancers.first_mut() {
        let mut advanced = json!({
            "AlternateTargetGroupArn": cfn::ref_(ALTERNATE_TARGET_GROUP),
            "ProductionListenerRule": cfn::ref_(&production),
            "RoleArn": cfn::get_att(INFRASTRUCTURE_ROLE, "Arn"),
        });
        if !depends_on.is_empty() {
            advanced["TestListenerRule"] = cfn::ref_(TEST_LISTENER_RULE);
        }
        main["AdvancedConfiguration"] = advanced;
    }
    depends_on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bake_times_are_whole_minutes_up_to_a_day() {
        assert_eq!(minutes(Duration::parse("10m").unwrap()), Ok(10));
        assert_eq!(minutes(Duration::parse("24h").unwrap()), Ok(1440));
        assert!(minutes(Duration::parse("90s").unwrap()).is_err());
        assert!(minutes(Duration::parse("25h").unwrap()).is_err());
    }

    #[test]
    fn percentages_are_tenths_in_range() {
        assert!(tenths(0.1, 0.1) && tenths(12.5, 0.1) && tenths(100.0, 3.0));
        assert!(!tenths(0.05, 0.1) && !tenths(101.0, 0.1) && !tenths(2.9, 3.0) && !tenths(10.25, 3.0));
    }
}
