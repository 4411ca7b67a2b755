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
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess};
use serde_json::{Value, json};

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
    let path = http.path;
    if path.trim().is_empty() || path.contains(char::is_whitespace) || path.contains('*') {
        out.push(
            Diagnostic::error("/http/path", format!("`{path}` is not a path"))
                .with_hint("use a path such as `/` or `/api` (no spaces or wildcards)"),
        );
    }
    if let Some(v) = http.version
        && !["http1", "http2", "grpc"].contains(&v.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error("/http/version", format!("unknown protocol version `{v}`"))
                .with_hint("expected http1, http2 or grpc"),
        );
    }
    // Target container and port.
    let target = http.target_container.unwrap_or(&spec.name);
    if target != spec.name {
        match spec.sidecars.get(target) {
            None if spec.sidecars.is_empty() => out.push(
                Diagnostic::error("/http/target_container", format!("no container named `{target}`"))
                    .with_hint(format!("the task has only `{}`: remove `target_container`", spec.name)),
            ),
            None => out.push(
                Diagnostic::error("/http/target_container", format!("no container named `{target}`")).with_hint(
                    format!(
                        "use `{}` or one of the sidecars: {}",
                        spec.name,
                        spec.sidecars.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
            ),
            Some(s) if s.port.is_none() && http.target_port.is_none() => out.push(
                Diagnostic::error("/http/target_container", format!("sidecar `{target}` exposes no port"))
                    .with_hint(format!("set `sidecars.{target}.port` or `http.target_port`")),
            ),
            Some(_) => {}
        }
    }
    if let Some(p) = http.target_port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error("/http/target_port", format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    // Health check.
    if let Some(hc) = http.healthcheck {
        let short = matches!(hc, HttpHealthCheck::Path(_));
        check_target_health(&hc.args(), "/http/healthcheck", short, out);
    }
    if let Some(d) = http.deregistration_delay
        && (!d.is_whole_seconds() || d.secs() > 3600)
    {
        out.push(
            Diagnostic::error(
                "/http/deregistration_delay",
                "the deregistration delay is whole seconds from 0s to 3600s",
            )
            .with_hint("e.g. 60s"),
        );
    }
    // Source IPs.
    for (i, ip) in http.allowed_source_ips.iter().enumerate() {
        if !is_cidr(ip) {
            out.push(
                Diagnostic::error(
                    pointer(["http", "allowed_source_ips", &i.to_string()]),
                    format!("`{ip}` is not a CIDR block"),
                )
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
                "/http/allowed_source_ips",
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
                out.push(Diagnostic::error(alias.pointer(i), format!("`{name}` is not a domain name")));
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
    if let Some(p) = a.port
        && !(1..=65535).contains(&p)
    {
        out.push(
            Diagnostic::error(field("port"), format!("port {p} is out of range"))
                .with_hint("use a port from 1 to 65535"),
        );
    }
    for (name, v) in [("healthy_threshold", a.healthy_threshold), ("unhealthy_threshold", a.unhealthy_threshold)] {
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
    secs(a.interval, "interval", 5, 300, out);
    secs(a.timeout, "timeout", 2, 120, out);
    secs(a.grace_period, "grace_period", 0, 2_147_483_647, out);
    if let (Some(i), Some(t)) = (a.interval, a.timeout)
        && t >= i
    {
        out.push(Diagnostic::error(field("timeout"), "the health check timeout must be shorter than its interval"));
    }
}

// ---- rendering -------------------------------------------------------------

/// The environment exports (`${AppName}-${EnvName}-<name>`) of the listeners
/// a workload's rules attach to.
#[derive(Debug, Clone, Copy)]
pub struct Listeners<'a> {
    /// e.g. `HTTPListenerArn` or `InternalHTTPListenerArn`.
    pub http: &'a str,
    /// e.g. `HTTPSListenerArn`; `None` when the load balancer has no HTTPS listener.
    pub https: Option<&'a str>,
}

/// A workload's routing, resolved from its manifest.
#[derive(Debug, Clone)]
pub struct Routing<'a> {
    /// The workload's name (spreads rule priorities).
    pub service: &'a str,
    /// Normalized with [`normalize_path`].
    pub path: String,
    pub healthcheck: HttpHealthCheckArgs,
    /// `http1`, `http2` or `grpc`; `None` for http1.
    pub version: Option<&'a str>,
    pub deregistration_delay: Option<Duration>,
    pub stickiness: bool,
    pub allowed_source_ips: &'a [String],
    /// Host names the rules match (all of them, in manifest order).
    pub aliases: Vec<String>,
    pub listeners: Listeners<'a>,
    /// With an HTTPS listener: redirect plain HTTP to HTTPS instead of forwarding it.
    pub redirect_to_https: bool,
}

fn numbered_id(base: &str, i: usize) -> String {
    if i == 0 { base.to_string() } else { format!("{base}{i}") }
}

impl Routing<'_> {
    fn https(&self) -> bool {
        self.listeners.https.is_some()
    }

    /// Copilot's routing parameters, with their values — TargetContainer,
    /// TargetPort, HTTPSEnabled, RulePath — and the conditions the rules use:
    /// `IsDefaultRootPath`, `IsHTTPS`.
    pub fn parameters(
        &self,
        t: &mut Template,
        values: &mut IndexMap<String, Value>,
        target_container: &str,
        target_port: Option<u32>,
    ) {
        self.parameters_with(t, values, target_container, target_port, true);
    }

    /// [`Routing::parameters`], leaving out `HTTPSEnabled` when
    /// `https_parameter` is false (for templates with no `IsHTTPS` output).
    pub fn parameters_with(
        &self,
        t: &mut Template,
        values: &mut IndexMap<String, Value>,
        target_container: &str,
        target_port: Option<u32>,
        https_parameter: bool,
    ) {
        let params: [(&str, Parameter, Value); 4] = [
            (
                "TargetContainer",
                Parameter::string().description("Container the load balancer sends traffic to"),
                json!(target_container),
            ),
            (
                "TargetPort",
                Parameter::number().description("Port of the target container"),
                json!(target_port.unwrap_or(80).to_string()),
            ),
            (
                "HTTPSEnabled",
                Parameter::string()
                    .allowed(&["true", "false"])
                    .description("The environment's load balancer has an HTTPS listener"),
                json!(self.https().to_string()),
            ),
            ("RulePath", Parameter::string().description("Path prefix routed to this service"), json!(self.path)),
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

    /// The target group (`TargetGroup`) with its health check.
    pub fn target_group(&self, t: &mut Template) {
        let hc = &self.healthcheck;
        let version = self.version.unwrap_or("http1").to_ascii_lowercase();
        let matcher = if version == "grpc" {
            json!({"GrpcCode": hc.success_codes.clone().unwrap_or_else(|| "0".into())})
        } else {
            json!({"HttpCode": hc.success_codes.clone().unwrap_or_else(|| "200".into())})
        };
        let mut attributes = vec![json!({
            "Key": "deregistration_delay.timeout_seconds",
            "Value": self.deregistration_delay.map(|d| d.secs()).unwrap_or(60).to_string()
        })];
        if self.stickiness {
            attributes.push(json!({"Key": "stickiness.enabled", "Value": "true"}));
            attributes.push(json!({"Key": "stickiness.type", "Value": "lb_cookie"}));
        }
        t.resource(
            TARGET_GROUP,
            Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
                .prop("HealthCheckPath", hc.path.clone().unwrap_or_else(|| "/".into()))
                .prop("HealthCheckPort", hc.port.map(|p| p.to_string()).unwrap_or_else(|| "traffic-port".into()))
                .prop("Matcher", matcher)
                .opt_prop("HealthyThresholdCount", hc.healthy_threshold)
                .opt_prop("UnhealthyThresholdCount", hc.unhealthy_threshold)
                .opt_prop("HealthCheckIntervalSeconds", hc.interval.map(|d| d.secs()))
                .opt_prop("HealthCheckTimeoutSeconds", hc.timeout.map(|d| d.secs()))
                .prop("Port", cfn::ref_("TargetPort"))
                .prop("Protocol", "HTTP")
                .prop(
                    "ProtocolVersion",
                    match version.as_str() {
                        "grpc" => "GRPC",
                        "http2" => "HTTP2",
                        _ => "HTTP1",
                    },
                )
                .prop("TargetType", "ip")
                .prop("VpcId", cfn::env_import("VpcId"))
                .prop("TargetGroupAttributes", json!(attributes))
                .describe("A target group the load balancer sends the service's requests to"),
        );
    }

    /// Listener rules: one per chunk of aliases that fits in a rule, on the
    /// HTTPS listener (forward) and the HTTP listener (redirect or forward).
    /// Returns their logical IDs (the service depends on them).
    pub fn listener_rules(&self, t: &mut Template) -> Vec<String> {
        let path_values = if self.path == "/" { 1 } else { 2 };
        let path_condition = json!({
            "Field": "path-pattern",
            "PathPatternConfig": {"Values": cfn::if_(
                "IsDefaultRootPath",
                json!(["/*"]),
                json!([cfn::ref_("RulePath"), cfn::sub("${RulePath}/*")]),
            )}
        });
        let host_budget = RULE_CONDITION_VALUES.saturating_sub(path_values + self.allowed_source_ips.len()).max(1);
        let chunks: Vec<&[String]> =
            if self.aliases.is_empty() { vec![&[][..]] } else { self.aliases.chunks(host_budget).collect() };
        let forward = json!([{"Type": "forward", "TargetGroupArn": cfn::ref_(TARGET_GROUP)}]);
        let redirect = json!([{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
            "Query": "#{query}", "StatusCode": "HTTP_301"
        }}]);
        let mut rule_ids = Vec::new();
        for (i, hosts) in chunks.iter().enumerate() {
            let mut conditions = vec![path_condition.clone()];
            if !hosts.is_empty() {
                conditions.push(json!({"Field": "host-header", "HostHeaderConfig": {"Values": hosts}}));
            }
            if !self.allowed_source_ips.is_empty() {
                conditions.push(json!({"Field": "source-ip", "SourceIpConfig": {"Values": self.allowed_source_ips}}));
            }
            let priority = rule_priority(self.service, &self.path, i);
            let mut rule = |id: String, listener: &str, actions: &Value, what: &str| {
                t.resource(
                    &id,
                    Resource::new("AWS::ElasticLoadBalancingV2::ListenerRule")
                        .prop("ListenerArn", cfn::env_import(listener))
                        .prop("Priority", priority)
                        .prop("Conditions", json!(conditions))
                        .prop("Actions", actions.clone())
                        .describe(what),
                );
                rule_ids.push(id);
            };
            const FORWARD_HTTP: &str =
                "A load balancer rule sending HTTP requests for this service's path to its target group";
            match self.listeners.https {
                Some(https_listener) => {
                    rule(
                        numbered_id("HTTPSListenerRule", i),
                        https_listener,
                        &forward,
                        "A load balancer rule sending HTTPS requests for this service's path to its target group",
                    );
                    if self.redirect_to_https {
                        rule(
                            numbered_id("HTTPRedirectRule", i),
                            self.listeners.http,
                            &redirect,
                            "A load balancer rule redirecting HTTP requests to HTTPS",
                        );
                    } else {
                        rule(numbered_id("HTTPListenerRule", i), self.listeners.http, &forward, FORWARD_HTTP);
                    }
                }
                None => rule(numbered_id("HTTPListenerRule", i), self.listeners.http, &forward, FORWARD_HTTP),
            }
        }
        rule_ids
    }

    /// The ECS service's `LoadBalancers` entry.
    pub fn service_load_balancer(&self) -> Value {
        json!({
            "ContainerName": cfn::ref_("TargetContainer"),
            "ContainerPort": cfn::ref_("TargetPort"),
            "TargetGroupArn": cfn::ref_(TARGET_GROUP),
        })
    }

    /// Seconds ECS ignores failing load balancer health checks after a task starts.
    pub fn health_check_grace_period(&self) -> u64 {
        self.healthcheck.grace_period.map(|d| d.secs()).unwrap_or(60)
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
