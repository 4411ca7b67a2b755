//! Routing through an application load balancer, shared by the workloads
//! that sit behind one: the Load Balanced Web Service (the environment's
//! public ALB) and the Backend Service (its internal ALB).
//!
//! The plugin names the listener exports ([`Listeners`]); everything else —
//! the manifest's health check and alias shapes, the routing parameters, the
//! target group, the listener rules and their priorities — is the same for
//! both.

use super::TaskSpec;
use super::either::{Duration, OneOf, map_as, seq_as};
use crate::cfn::{self, Parameter, Resource, Template};
use crate::diag::{Diagnostic, pointer};
use crate::impl_one_of_deserialize;
use crate::json;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess};
use serde_json::Value;

/// ALB rules allow five condition values in total (paths, hosts, source IPs).
pub const RULE_CONDITION_VALUES: usize = 5;

/// Logical ID of the target group the emitters create.
pub const TARGET_GROUP: &str = "TargetGroup";

// ---- manifest shapes -------------------------------------------------------

/// `alias: api.example.com` or a list of names / `{name, hosted_zone}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Alias {
    One(String),
    Many(Vec<AliasEntry>),
}

impl OneOf for Alias {
    const EXPECTING: &'static str = "a domain name, or a list of domain names or `{name, hosted_zone}` maps";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(Alias::One(v.to_string()))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_as(seq).map(Alias::Many)
    }
}
impl_one_of_deserialize!(Alias);

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum AliasEntry {
    Name(String),
    Args(AliasArgs),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasArgs {
    pub name: String,
    pub hosted_zone: Option<String>,
}

impl OneOf for AliasEntry {
    const EXPECTING: &'static str = "a domain name, or a map `{name, hosted_zone}`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(AliasEntry::Name(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(AliasEntry::Args)
    }
}
impl_one_of_deserialize!(AliasEntry);

impl Alias {
    /// (name, hosted zone) of every alias.
    pub fn entries(&self) -> Vec<(String, Option<String>)> {
        match self {
            Alias::One(name) => vec![(name.clone(), None)],
            Alias::Many(list) => list
                .iter()
                .map(|e| match e {
                    AliasEntry::Name(n) => (n.clone(), None),
                    AliasEntry::Args(a) => (a.name.clone(), a.hosted_zone.clone()),
                })
                .collect(),
        }
    }

    /// JSON pointer of the `i`th alias.
    pub fn pointer(&self, i: usize) -> String {
        match self {
            Alias::One(_) => "/http/alias".to_string(),
            Alias::Many(_) => pointer(["http", "alias", &i.to_string()]),
        }
    }
}

/// `healthcheck: /health` or the target group's health check settings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum HttpHealthCheck {
    Path(String),
    Args(HttpHealthCheckArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHealthCheckArgs {
    pub path: Option<String>,
    pub port: Option<u32>,
    pub success_codes: Option<String>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub grace_period: Option<Duration>,
}

impl OneOf for HttpHealthCheck {
    const EXPECTING: &'static str = "a health check path such as `/health`, or a map with `path`, `port`, `success_codes`, `healthy_threshold`, `unhealthy_threshold`, `interval`, `timeout`, `grace_period`";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(HttpHealthCheck::Path(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(HttpHealthCheck::Args)
    }
}
impl_one_of_deserialize!(HttpHealthCheck);

impl HttpHealthCheck {
    pub fn args(&self) -> HttpHealthCheckArgs {
        match self {
            HttpHealthCheck::Path(p) => HttpHealthCheckArgs { path: Some(p.clone()), ..Default::default() },
            HttpHealthCheck::Args(a) => a.clone(),
        }
    }
}

crate::http_routing! {
    /// One entry of `http.additional_rules`: another path (and target) on the
    /// same load balancer, with its own target group and listener rules.
    pub struct AdditionalRule {
        @path, @alias, @hosted_zone, @target, @redirect_to_https, @version,
    }
}

impl AdditionalRule {
    /// The rule to render; `https_default` is the main rule's `redirect_to_https`.
    pub fn rule<'a>(&'a self, spec: &TaskSpec, redirect_default: bool) -> Rule<'a> {
        let target_container = self.target_container.clone().unwrap_or_else(|| spec.name.clone());
        let target_port = target_port(spec, &target_container, self.target_port);
        Rule {
            path: normalize_path(self.path.as_deref().unwrap_or("/")),
            healthcheck: self.healthcheck.as_ref().map(HttpHealthCheck::args).unwrap_or_default(),
            version: self.version.as_deref(),
            deregistration_delay: self.deregistration_delay,
            stickiness: self.stickiness == Some(true),
            allowed_source_ips: &self.allowed_source_ips,
            aliases: self.alias.as_ref().map(|a| a.entries().into_iter().map(|(n, _)| n).collect()).unwrap_or_default(),
            redirect_to_https: self.redirect_to_https.unwrap_or(redirect_default),
            target_container,
            target_port,
        }
    }
}

/// Checks every `http.additional_rules` entry like the main rule, and that
/// no two rules route the same path and hosts.
pub fn check_additional_rules(rules: &[AdditionalRule], main_path: &str, spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let mut seen = vec![normalize_path(main_path)];
    for (i, rule) in rules.iter().enumerate() {
        let base = format!("/http/additional_rules/{i}");
        let Some(fields) = rule.routing_fields() else {
            out.push(
                Diagnostic::error(&base, "missing required field `path`")
                    .with_hint("add `path: /api` (the path this rule routes)"),
            );
            continue;
        };
        check_routing_at(&fields, spec, &base, out);
        let path = normalize_path(fields.path);
        if rule.alias.is_none() && seen.contains(&path) {
            out.push(
                Diagnostic::error(format!("{base}/path"), format!("another rule already routes `{path}`"))
                    .with_hint("use a different path, or an `alias` to tell the rules apart"),
            );
        }
        seen.push(path);
        let target = rule.target_container.as_deref().unwrap_or(&spec.name);
        if target_port(spec, target, rule.target_port).is_none() {
            out.push(
                Diagnostic::error(
                    format!("{base}/target_port"),
                    format!("container `{target}` exposes no port for this rule"),
                )
                .with_hint("set `target_port`, or the container's port"),
            );
        }
    }
}

// ---- checks ----------------------------------------------------------------

/// `api` or `/api/` → `/api`; `/` stays `/`.
pub fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    format!("/{trimmed}")
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Listener rule priority. Deeper paths get lower numbers so they win over
/// shorter prefixes (`/api/v2` before `/api` before `/`); within a depth the
/// service name's hash spreads services apart so they do not collide.
pub fn rule_priority(service: &str, path: &str, index: usize) -> u64 {
    let depth = path.split('/').filter(|s| !s.is_empty()).count().min(4) as u64;
    let bucket = 4 - depth;
    bucket * 10_000 + 1 + fnv1a(service) % 9_800 + index as u64
}

/// An IPv4 or IPv6 CIDR block.
pub fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.split_once('/') else { return false };
    let Ok(bits) = bits.parse::<u8>() else { return false };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// The routing fields both `http` sections share, borrowed from the
/// plugin's own manifest struct for [`check_routing`].
#[derive(Debug, Clone, Copy)]
pub struct RoutingFields<'a> {
    pub path: &'a str,
    pub alias: Option<&'a Alias>,
    pub healthcheck: Option<&'a HttpHealthCheck>,
    pub deregistration_delay: Option<Duration>,
    pub target_container: Option<&'a str>,
    pub target_port: Option<u32>,
    pub allowed_source_ips: &'a [String],
    pub version: Option<&'a str>,
}

/// Checks the shared routing fields under `/http`: path, protocol version,
/// target container and port, health check, deregistration delay, source
/// IPs (and that they fit in a rule), alias syntax.
pub fn check_routing(http: &RoutingFields, spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    check_routing_at(http, spec, "/http", out);
}

/// [`check_routing`] for the rule at `base` (`/http` or
/// `/http/additional_rules/<i>`).
pub fn check_routing_at(http: &RoutingFields, spec: &TaskSpec, base: &str, out: &mut Vec<Diagnostic>) {
    let at = |field: &str| format!("{base}/{field}");
    let path = http.path;
    if path.trim().is_empty() || path.contains(char::is_whitespace) || path.contains('*') {
        out.push(
            Diagnostic::error(at("path"), format!("`{path}` is not a path"))
                .with_hint("use a path such as `/` or `/api` (no spaces or wildcards)"),
        );
    }
    if let Some(v) = http.version
        && !["http1", "http2", "grpc"].contains(&v.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error(at("version"), format!("unknown protocol version `{v}`"))
                .with_hint("expected http1, http2 or grpc"),
        );
    }
    // Target container and port.
    let target = http.target_container.unwrap_or(&spec.name);
    if target != spec.name {
        match spec.sidecars.get(target) {
            None if spec.sidecars.is_empty() => out.push(
                Diagnostic::error(at("target_container"), format!("no container named `{target}`"))
                    .with_hint(format!("the task has only `{}`: remove `target_container`", spec.name)),
            ),
            None => out.push(
                Diagnostic::error(at("target_container"), format!("no container named `{target}`")).with_hint(format!(
                    "use `{}` or one of the sidecars: {}",
                    spec.name,
                    spec.sidecars.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            ),
            Some(s) if s.port.is_none() && http.target_port.is_none() => out.push(
                Diagnostic::error(at("target_container"), format!("sidecar `{target}` exposes no port"))
                    .with_hint(format!("set `sidecars.{target}.port` or `http.target_port`")),
            ),
            Some(_) => {}
        }
    }
    if let Some(p) = http.target_port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error(at("target_port"), format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    // Health check.
    if let Some(hc) = http.healthcheck {
        let short = matches!(hc, HttpHealthCheck::Path(_));
        check_target_health(&hc.args(), &at("healthcheck"), short, out);
    }
    if let Some(d) = http.deregistration_delay
        && (!d.is_whole_seconds() || d.secs() > 3600)
    {
        out.push(
            Diagnostic::error(at("deregistration_delay"), "the deregistration delay is whole seconds from 0s to 3600s")
                .with_hint("e.g. 60s"),
        );
    }
    // Source IPs.
    for (i, ip) in http.allowed_source_ips.iter().enumerate() {
        if !is_cidr(ip) {
            out.push(
                Diagnostic::error(format!("{base}/allowed_source_ips/{i}"), format!("`{ip}` is not a CIDR block"))
                    .with_hint("e.g. 10.24.34.0/23"),
            );
        }
    }
    let path_values = if normalize_path(path) == "/" { 1 } else { 2 };
    let aliases = http.alias.map(Alias::entries).unwrap_or_default();
    let ip_budget = RULE_CONDITION_VALUES - path_values - usize::from(!aliases.is_empty());
    if http.allowed_source_ips.len() > ip_budget {
        out.push(
            Diagnostic::error(
                at("allowed_source_ips"),
                format!("{} source IP blocks do not fit in one listener rule", http.allowed_source_ips.len()),
            )
            .with_hint(format!(
                "a rule holds five condition values; with this path and alias at most {ip_budget} CIDR blocks fit"
            )),
        );
    }
    // Aliases.
    if let Some(alias) = http.alias {
        for (i, (name, _)) in aliases.iter().enumerate() {
            if name.trim().is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
                let at_alias = match alias {
                    Alias::One(_) => at("alias"),
                    Alias::Many(_) => format!("{base}/alias/{i}"),
                };
                out.push(Diagnostic::error(at_alias, format!("`{name}` is not a domain name")));
            }
        }
    }
}

/// Checks a target group health check under `base`; `short` when it was
/// written as a bare path (then every problem points at `base`).
pub fn check_target_health(a: &HttpHealthCheckArgs, base: &str, short: bool, out: &mut Vec<Diagnostic>) {
    let field = |f: &str| if short { base.to_string() } else { format!("{base}/{f}") };
    if let Some(p) = &a.path
        && !p.starts_with('/')
    {
        out.push(Diagnostic::error(field("path"), format!("health check path `{p}` must start with `/`")));
    }
    if short {
        return;
    }
    check_target_health_ports(
        a.port,
        a.healthy_threshold,
        a.unhealthy_threshold,
        a.interval,
        a.timeout,
        a.grace_period,
        base,
        out,
    );
}

/// Checks the health check settings every target group shares (ALB and
/// NLB): port, thresholds, interval, timeout, grace period, under `base`.
#[allow(clippy::too_many_arguments)]
pub fn check_target_health_ports(
    port: Option<u32>,
    healthy_threshold: Option<u32>,
    unhealthy_threshold: Option<u32>,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    grace_period: Option<Duration>,
    base: &str,
    out: &mut Vec<Diagnostic>,
) {
    let field = |f: &str| format!("{base}/{f}");
    if let Some(p) = port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error(field("port"), format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    for (name, v) in [("healthy_threshold", healthy_threshold), ("unhealthy_threshold", unhealthy_threshold)] {
        if let Some(v) = v
            && !(2..=10).contains(&v)
        {
            out.push(Diagnostic::error(field(name), format!("{name} {v} is out of range")).with_hint("use 2 to 10"));
        }
    }
    let secs = |d: Option<Duration>, name: &str, lo: u64, hi: u64, out: &mut Vec<Diagnostic>| {
        if let Some(d) = d
            && (!d.is_whole_seconds() || !(lo..=hi).contains(&d.secs()))
        {
            out.push(Diagnostic::error(field(name), format!("{name} must be whole seconds from {lo}s to {hi}s")));
        }
    };
    secs(interval, "interval", 5, 300, out);
    secs(timeout, "timeout", 2, 120, out);
    secs(grace_period, "grace_period", 0, 2_147_483_647, out);
    if let (Some(i), Some(t)) = (interval, timeout)
        && t >= i
    {
        out.push(Diagnostic::error(field("timeout"), "the health check timeout must be shorter than its interval"));
    }
}

// ---- rendering -------------------------------------------------------------

/// The listeners a workload's rules attach to, as CloudFormation values (an
/// environment export, or an imported load balancer's listener ARN).
#[derive(Debug, Clone)]
pub struct Listeners {
    /// The HTTP listener; `None` when the load balancer has none.
    pub http: Option<Value>,
    /// The HTTPS listener; `None` when the load balancer has none.
    pub https: Option<Value>,
    /// The rules attach to an imported load balancer: Copilot's
    /// `...ForImportedALB` logical IDs.
    pub imported: bool,
}

impl Listeners {
    /// The environment's listeners, by export name (e.g. `HTTPListenerArn`,
    /// `HTTPSListenerArn` when it has one).
    pub fn environment(http: &str, https: Option<&str>) -> Self {
        Listeners { http: Some(cfn::env_import(http)), https: https.map(cfn::env_import), imported: false }
    }

    /// The listeners on ports 80 and 443 of an imported load balancer, as
    /// literal ARNs (as Copilot's template writes them).
    pub fn imported(alb: &ImportedAlb) -> Self {
        Listeners {
            http: alb.http_listener_arn.as_deref().map(|a| json!(a)),
            https: alb.https_listener_arn.as_deref().map(|a| json!(a)),
            imported: true,
        }
    }
}

// ---- imported load balancer (`http.alb`) ------------------------------------

pub use ferry_plugin_protocol::ImportedAlb;

/// The load balancer `http.alb` names: what the host found in the account
/// at deploy, or offline (`package`, where nothing is looked up) a stand-in
/// with an HTTPS listener, an HTTP listener and one security group, all with
/// zero IDs, so the template shows every resource a deploy renders.
pub fn imported_alb(name_or_arn: &str, ctx: &crate::RenderContext) -> ImportedAlb {
    if let Some(found) = &ctx.imported_alb {
        return found.clone();
    }
    let name = match name_or_arn.split_once(":loadbalancer/app/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => name_or_arn.to_string(),
    };
    let region = ctx.region.clone().unwrap_or_else(|| "us-east-1".into());
    let account = ctx.account_id.clone().unwrap_or_else(|| "000000000000".into());
    let arn = format!("arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/0000000000000000");
    let listener = |port: &str| {
        format!("arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{name}/0000000000000000/{port}")
    };
    ImportedAlb {
        dns_name: format!("{name}-0000000000.{region}.elb.amazonaws.com"),
        hosted_zone_id: "Z0000000000000000000".into(),
        http_listener_arn: Some(listener("0000000000000080")),
        https_listener_arn: Some(listener("0000000000000443")),
        security_groups: vec!["sg-00000000000000000".into()],
        arn,
        name,
    }
}

/// What only a workload on an imported load balancer has, with Copilot's
/// logical IDs: ingress from each of the load balancer's security groups to
/// the environment security group
/// (`EnvironmentSecurityGroupIngressFromImportedALB[N]`), and, per hosted
/// zone, alias records for the aliases that name one
/// (`LoadBalancerDNSAlias<zone>`). `aliases` are (name, hosted zone) with
/// `hosted_zone` the section's default zone.
pub fn imported_alb_resources(
    t: &mut Template,
    alb: &ImportedAlb,
    aliases: &[(String, Option<String>)],
    hosted_zone: Option<&str>,
) {
    for (i, group) in alb.security_groups.iter().enumerate() {
        t.resource(
            &numbered_id("EnvironmentSecurityGroupIngressFromImportedALB", i),
            Resource::new("AWS::EC2::SecurityGroupIngress")
                .prop("GroupId", cfn::env_import("EnvironmentSecurityGroup"))
                .prop("Description", "Ingress from the imported ALB")
                .prop("SourceSecurityGroupId", group.as_str())
                .prop("IpProtocol", "-1")
                .describe(&format!("A rule letting the load balancer `{}` reach the tasks", alb.name)),
        );
    }
    let mut zones: IndexMap<String, Vec<&str>> = IndexMap::new();
    for (name, zone) in aliases {
        if let Some(zone) = zone.as_deref().or(hosted_zone) {
            zones.entry(zone.to_string()).or_default().push(name);
        }
    }
    for (zone, names) in zones {
        let records: Vec<Value> = names
            .iter()
            .map(|n| {
                json!({
                    "Name": n,
                    "Type": "A",
                    "AliasTarget": {"HostedZoneId": &alb.hosted_zone_id, "DNSName": &alb.dns_name},
                })
            })
            .collect();
        t.resource(
            &format!("LoadBalancerDNSAlias{zone}"),
            Resource::new("AWS::Route53::RecordSetGroup")
                .prop("HostedZoneId", zone.as_str())
                .prop(
                    "Comment",
                    cfn::sub(&format!("LoadBalancer aliases for service ${{WorkloadName}} in hosted zone {zone}")),
                )
                .prop("RecordSets", json!(records))
                .describe(&format!("Alias records for the load balancer `{}` in hosted zone {zone}", alb.name)),
        );
    }
}

/// One routing rule: the main `http` section or one of `additional_rules`.
#[derive(Debug, Clone)]
pub struct Rule<'a> {
    /// Normalized with [`normalize_path`].
    pub path: String,
    pub healthcheck: HttpHealthCheckArgs,
    /// `http1`, `http2` or `grpc`; `None` for http1.
    pub version: Option<&'a str>,
    pub deregistration_delay: Option<Duration>,
    pub stickiness: bool,
    pub allowed_source_ips: &'a [String],
    /// Host names the rule matches (all of them, in manifest order).
    pub aliases: Vec<String>,
    /// With an HTTPS listener: redirect plain HTTP to HTTPS instead of forwarding it.
    pub redirect_to_https: bool,
    pub target_container: String,
    pub target_port: Option<u32>,
}

/// A workload's routing, resolved from its manifest: the main rule (index
/// 0, whose target, port and path are the `TargetContainer`, `TargetPort`
/// and `RulePath` parameters) and the additional rules (1, 2, ...).
#[derive(Debug, Clone)]
pub struct Routing<'a> {
    /// The workload's name (spreads rule priorities).
    pub service: &'a str,
    pub rules: Vec<Rule<'a>>,
    pub listeners: Listeners,
}

fn numbered_id(base: &str, i: usize) -> String {
    if i == 0 { base.to_string() } else { format!("{base}{i}") }
}

/// Logical ID of rule `i`'s target group: Copilot's `TargetGroup[N]`, or
/// `TargetGroupForImportedALB[N]` on an imported load balancer.
pub fn target_group_id(i: usize, imported: bool) -> String {
    numbered_id(if imported { "TargetGroupForImportedALB" } else { TARGET_GROUP }, i)
}

/// Suffix of the parameter carrying a listener rule's priority: the rule
/// `HTTPSListenerRule1` takes its priority from `HTTPSListenerRule1Priority`.
/// The plugin fills it with [`rule_priority`]; at deploy the host replaces
/// the value with a priority free on the listener (see docs/architecture.md).
pub const PRIORITY_PARAMETER_SUFFIX: &str = "Priority";

impl Routing<'_> {
    fn https(&self) -> bool {
        self.listeners.https.is_some()
    }

    fn main(&self) -> &Rule<'_> {
        &self.rules[0]
    }

    /// Copilot's routing parameters, with their values — TargetContainer,
    /// TargetPort, HTTPSEnabled, RulePath — and the conditions the rules use:
    /// `IsDefaultRootPath`, `IsHTTPS`.
    pub fn parameters(&self, t: &mut Template, values: &mut IndexMap<String, Value>) {
        self.parameters_with(t, values, true);
    }

    /// [`Routing::parameters`], leaving out `HTTPSEnabled` when
    /// `https_parameter` is false (for templates with no `IsHTTPS` output).
    pub fn parameters_with(&self, t: &mut Template, values: &mut IndexMap<String, Value>, https_parameter: bool) {
        let main = self.main();
        let params: [(&str, Parameter, Value); 4] = [
            (
                "TargetContainer",
                Parameter::string().description("Container the load balancer sends traffic to"),
                json!(&main.target_container),
            ),
            (
                "TargetPort",
                Parameter::number().description("Port of the target container"),
                json!(main.target_port.unwrap_or(80).to_string()),
            ),
            (
                "HTTPSEnabled",
                Parameter::string()
                    .allowed(&["true", "false"])
                    .description("The environment's load balancer has an HTTPS listener"),
                json!(self.https().to_string()),
            ),
            ("RulePath", Parameter::string().description("Path prefix routed to this service"), json!(&main.path)),
        ];
        for (name, p, v) in params {
            if name == "HTTPSEnabled" && !https_parameter {
                continue;
            }
            t.parameter(name, p);
            values.insert(name.to_string(), v);
        }
    }

    /// The conditions the rules and a URL output use: `IsDefaultRootPath`, `IsHTTPS`.
    pub fn conditions(&self, t: &mut Template) {
        self.path_condition(t);
        t.condition("IsHTTPS", cfn::equals(cfn::ref_("HTTPSEnabled"), json!("true")));
    }

    /// Only `IsDefaultRootPath`, which the listener rules need.
    pub fn path_condition(&self, t: &mut Template) {
        t.condition("IsDefaultRootPath", cfn::equals(cfn::ref_("RulePath"), json!("/")));
    }

    /// One target group per rule (`TargetGroup`, `TargetGroup1`, ...) with its health check.
    pub fn target_groups(&self, t: &mut Template) {
        for (i, rule) in self.rules.iter().enumerate() {
            let hc = &rule.healthcheck;
            let version = rule.version.unwrap_or("http1").to_ascii_lowercase();
            let matcher = if version == "grpc" {
                json!({"GrpcCode": hc.success_codes.clone().unwrap_or_else(|| "0".into())})
            } else {
                json!({"HttpCode": hc.success_codes.clone().unwrap_or_else(|| "200".into())})
            };
            let mut attributes = vec![json!({
                "Key": "deregistration_delay.timeout_seconds",
                "Value": rule.deregistration_delay.map(|d| d.secs()).unwrap_or(60).to_string()
            })];
            if rule.stickiness {
                attributes.push(json!({"Key": "stickiness.enabled", "Value": "true"}));
                attributes.push(json!({"Key": "stickiness.type", "Value": "lb_cookie"}));
            }
            let port = if i == 0 { cfn::ref_("TargetPort") } else { json!(rule.target_port.unwrap_or(80)) };
            let protocol = if rule.target_port == Some(443) { "HTTPS" } else { "HTTP" };
            t.resource(
                &target_group_id(i, self.listeners.imported),
                Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
                    .prop("HealthCheckPath", hc.path.clone().unwrap_or_else(|| "/".into()))
                    .prop("HealthCheckPort", hc.port.map(|p| p.to_string()).unwrap_or_else(|| "traffic-port".into()))
                    .prop("Matcher", matcher)
                    .opt_prop("HealthyThresholdCount", hc.healthy_threshold)
                    .opt_prop("UnhealthyThresholdCount", hc.unhealthy_threshold)
                    .opt_prop("HealthCheckIntervalSeconds", hc.interval.map(|d| d.secs()))
                    .opt_prop("HealthCheckTimeoutSeconds", hc.timeout.map(|d| d.secs()))
                    .prop("Port", port)
                    .prop("Protocol", protocol)
                    // Only with `http.version`, as Copilot: the property is
                    // create-only, so rendering its default would replace the
                    // target group of a stack Copilot deployed.
                    .opt_prop(
                        "ProtocolVersion",
                        rule.version.map(|_| match version.as_str() {
                            "grpc" => "GRPC",
                            "http2" => "HTTP2",
                            _ => "HTTP1",
                        }),
                    )
                    .prop("TargetType", "ip")
                    .prop("VpcId", cfn::env_import("VpcId"))
                    .prop("TargetGroupAttributes", json!(attributes))
                    .describe(&format!("A target group the load balancer sends requests for `{}` to", rule.path)),
            );
        }
    }

    /// Listener rules, with Copilot's logical IDs per rule `N`: on an HTTP-only
    /// load balancer `HTTPListenerRule[N]`; with HTTPS `HTTPSListenerRule[N]`
    /// (forward) and `HTTPListenerRuleWithDomain[N]` (redirect or forward);
    /// on an imported one `HTTPSListenerRuleForImportedALB[N]`,
    /// `HTTPListenerRedirectRuleForImportedALB[N]` or
    /// `HTTPListenerRuleForImportedALB[N]`. A rule whose aliases do not fit in
    /// one rule's five condition values continues in `<ID>Hosts<K>`.
    /// Each rule's priority is the parameter `<ID>Priority`.
    /// Returns the rule IDs (the service depends on them).
    pub fn listener_rules(&self, t: &mut Template, values: &mut IndexMap<String, Value>) -> Vec<String> {
        let redirect = json!([{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
            "Query": "#{query}", "StatusCode": "HTTP_301"
        }}]);
        let imported = self.listeners.imported;
        let mut rule_ids = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let path_values = if rule.path == "/" { 1 } else { 2 };
            let path_condition = if i == 0 {
                json!({
                    "Field": "path-pattern",
                    "PathPatternConfig": {"Values": cfn::if_(
                        "IsDefaultRootPath",
                        json!(["/*"]),
                        json!([cfn::ref_("RulePath"), cfn::sub("${RulePath}/*")]),
                    )}
                })
            } else if rule.path == "/" {
                json!({"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}})
            } else {
                json!({"Field": "path-pattern", "PathPatternConfig": {"Values": [&rule.path, format!("{}/*", rule.path)]}})
            };
            let host_budget = RULE_CONDITION_VALUES.saturating_sub(path_values + rule.allowed_source_ips.len()).max(1);
            let chunks: Vec<&[String]> =
                if rule.aliases.is_empty() { vec![&[][..]] } else { rule.aliases.chunks(host_budget).collect() };
            let forward = json!([{"Type": "forward", "TargetGroupArn": cfn::ref_(&target_group_id(i, imported))}]);
            for (k, hosts) in chunks.iter().enumerate() {
                let mut conditions = Vec::new();
                if !rule.allowed_source_ips.is_empty() {
                    conditions
                        .push(json!({"Field": "source-ip", "SourceIpConfig": {"Values": rule.allowed_source_ips}}));
                }
                if !hosts.is_empty() {
                    conditions.push(json!({"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}));
                }
                conditions.push(path_condition.clone());
                let priority = rule_priority(self.service, &rule.path, i * 8 + k);
                let mut emit = |base: &str, listener: &Value, actions: &Value, what: &str| {
                    let id = numbered_id(base, i);
                    let id = if k == 0 { id } else { format!("{id}Hosts{k}") };
                    let parameter = format!("{id}{PRIORITY_PARAMETER_SUFFIX}");
                    t.parameter(
                        &parameter,
                        Parameter::number().description(&format!(
                            "Priority of {id} on its listener (ferry picks a free one at deploy)"
                        )),
                    );
                    values.insert(parameter.clone(), json!(priority.to_string()));
                    t.resource(
                        &id,
                        Resource::new("AWS::ElasticLoadBalancingV2::ListenerRule")
                            .prop("Actions", actions.clone())
                            .prop("Conditions", json!(&conditions))
                            .prop("ListenerArn", listener.clone())
                            .prop("Priority", cfn::ref_(&parameter))
                            .describe(&format!("{what} (path `{}`)", rule.path)),
                    );
                    rule_ids.push(id);
                };
                const FORWARD_HTTP: &str = "A load balancer rule sending HTTP requests to the service's tasks";
                const FORWARD_HTTPS: &str = "A load balancer rule sending HTTPS requests to the service's tasks";
                const REDIRECT: &str = "A load balancer rule redirecting HTTP requests to HTTPS";
                match (&self.listeners.https, &self.listeners.http, imported) {
                    (Some(https), http, false) => {
                        emit("HTTPSListenerRule", https, &forward, FORWARD_HTTPS);
                        if let Some(http) = http {
                            let (actions, what) =
                                if rule.redirect_to_https { (&redirect, REDIRECT) } else { (&forward, FORWARD_HTTP) };
                            emit("HTTPListenerRuleWithDomain", http, actions, what);
                        }
                    }
                    (Some(https), http, true) => {
                        emit("HTTPSListenerRuleForImportedALB", https, &forward, FORWARD_HTTPS);
                        if let Some(http) = http {
                            emit("HTTPListenerRedirectRuleForImportedALB", http, &redirect, REDIRECT);
                        }
                    }
                    (None, Some(http), false) => emit("HTTPListenerRule", http, &forward, FORWARD_HTTP),
                    (None, Some(http), true) => emit("HTTPListenerRuleForImportedALB", http, &forward, FORWARD_HTTP),
                    (None, None, _) => {}
                }
            }
        }
        rule_ids
    }

    /// The ECS service's `LoadBalancers` entries, one per rule.
    pub fn service_load_balancers(&self) -> Vec<Value> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let (container, port) = if i == 0 {
                    (cfn::ref_("TargetContainer"), cfn::ref_("TargetPort"))
                } else {
                    (json!(&rule.target_container), json!(rule.target_port.unwrap_or(80)))
                };
                json!({
                    "ContainerName": container,
                    "ContainerPort": port,
                    "TargetGroupArn": cfn::ref_(&target_group_id(i, self.listeners.imported)),
                })
            })
            .collect()
    }

    /// Seconds ECS ignores failing load balancer health checks after a task starts.
    pub fn health_check_grace_period(&self) -> u64 {
        self.main().healthcheck.grace_period.map(|d| d.secs()).unwrap_or(60)
    }
}

/// The container port the load balancer targets: `target_port`, else the
/// target container's port (the main container's `image.port` or the
/// sidecar's `port`).
pub fn target_port(spec: &TaskSpec, target_container: &str, target_port: Option<u32>) -> Option<u32> {
    target_port.or_else(|| {
        if target_container == spec.name {
            spec.image.port
        } else {
            spec.sidecars
                .get(target_container)
                .and_then(|s| s.port.as_ref())
                .and_then(|p| p.parse().ok())
                .map(|(p, _)| p)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_paths_take_precedence() {
        assert!(rule_priority("a", "/api/v2", 0) < rule_priority("b", "/api", 0));
        assert!(rule_priority("b", "/api", 0) < rule_priority("c", "/", 0));
        assert_eq!(normalize_path("api/"), "/api");
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn cidr_blocks() {
        assert!(is_cidr("10.0.0.0/16"));
        assert!(is_cidr("2001:db8::/32"));
        assert!(!is_cidr("10.0.0.0"));
        assert!(!is_cidr("10.0.0.0/33"));
    }
}
