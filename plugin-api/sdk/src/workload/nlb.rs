//! A Load Balanced Web Service's network load balancer (`nlb`), rendered as
//! Copilot renders it: a load balancer of the service's own in the service
//! stack (`PublicNetworkLoadBalancerV2`), its security group, one listener
//! and target group per listener entry (`NLBListener[N]`,
//! `NetworkLoadBalancerTargetGroup[N]`), a default DNS name when the app's
//! domain is delegated, and the `PublicNetworkLoadBalancerDNSName` output.
//!
//! Copilot validates TLS certificates and writes alias records with Lambda
//! custom resources; ferry uses native resources instead: an
//! `AWS::CertificateManager::Certificate` validated by DNS in the
//! environment's hosted zone (`NLBCertificate`) and one
//! `AWS::Route53::RecordSet` per alias (`NLBAliasRecord[N]`).

use super::TaskSpec;
use super::either::Duration;
use super::http::{Alias, check_target_health_ports};
use crate::cfn::{self, Parameter, Resource, Template};
use crate::diag::{Diagnostic, pointer};
use crate::json;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Copilot's default TLS policy for NLB listeners.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/// Logical ID of the load balancer.
pub const LOAD_BALANCER: &str = "PublicNetworkLoadBalancerV2";
/// Logical ID of its security group.
pub const SECURITY_GROUP: &str = "NetworkLoadBalancerSecurityGroup";
/// Logical ID of the certificate for TLS listeners.
pub const CERTIFICATE: &str = "NLBCertificate";
/// Condition true when the app's domain is delegated to the environment.
pub const HAS_ASSOCIATED_DOMAIN: &str = "HasAssociatedDomain";

// ---- manifest shapes -------------------------------------------------------

/// The `nlb` section: the main listener's fields inline, the aliases, and
/// more listeners.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nlb {
    /// `80`, `80/tcp`, `443/tls`, `53/udp` or `53/tcp_udp` (required).
    pub port: Option<String>,
    pub healthcheck: Option<NlbHealthCheck>,
    pub target_container: Option<String>,
    pub target_port: Option<u32>,
    pub ssl_policy: Option<String>,
    pub stickiness: Option<bool>,
    pub deregistration_delay: Option<Duration>,
    pub alias: Option<Alias>,
    #[serde(default)]
    pub additional_listeners: Vec<NlbListener>,
}

/// One more listener of the network load balancer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NlbListener {
    pub port: Option<String>,
    pub healthcheck: Option<NlbHealthCheck>,
    pub target_container: Option<String>,
    pub target_port: Option<u32>,
    pub ssl_policy: Option<String>,
    pub stickiness: Option<bool>,
    pub deregistration_delay: Option<Duration>,
}

/// The target group's health check (TCP; no path).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NlbHealthCheck {
    pub port: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub timeout: Option<Duration>,
    pub interval: Option<Duration>,
    pub grace_period: Option<Duration>,
}

impl Nlb {
    /// Every listener, the main one first, with its JSON pointer.
    pub fn listeners(&self) -> Vec<(String, NlbListener)> {
        let main = NlbListener {
            port: self.port.clone(),
            healthcheck: self.healthcheck.clone(),
            target_container: self.target_container.clone(),
            target_port: self.target_port,
            ssl_policy: self.ssl_policy.clone(),
            stickiness: self.stickiness,
            deregistration_delay: self.deregistration_delay,
        };
        let mut out = vec![("/nlb".to_string(), main)];
        for (i, l) in self.additional_listeners.iter().enumerate() {
            out.push((pointer(["nlb", "additional_listeners", &i.to_string()]), l.clone()));
        }
        out
    }

    pub fn aliases(&self) -> Vec<String> {
        self.alias.as_ref().map(|a| a.entries().into_iter().map(|(n, _)| n).collect()).unwrap_or_default()
    }

    /// Some listener terminates TLS (needs a certificate).
    pub fn needs_certificate(&self) -> bool {
        self.listeners()
            .iter()
            .any(|(_, l)| l.port.as_deref().and_then(|p| parse_port(p).ok()).is_some_and(|(_, p)| p == "TLS"))
    }

    /// The health check grace period of the main listener, if set.
    pub fn grace_period(&self) -> Option<u64> {
        self.healthcheck.as_ref().and_then(|h| h.grace_period).map(|d| d.secs())
    }
}

/// `443/tls` → (443, "TLS"); the protocol defaults to TCP.
pub fn parse_port(text: &str) -> Result<(u32, &'static str), String> {
    let (port, protocol) = match text.split_once('/') {
        Some((p, proto)) => (p, proto),
        None => (text, "tcp"),
    };
    let port: u32 = port.trim().parse().map_err(|_| format!("`{text}` is not a port"))?;
    if !(1..=65535).contains(&port) {
        return Err(format!("port {port} is out of range"));
    }
    let protocol = match protocol.trim().to_ascii_lowercase().as_str() {
        "tcp" => "TCP",
        "udp" => "UDP",
        "tls" => "TLS",
        "tcp_udp" => "TCP_UDP",
        other => return Err(format!("unknown protocol `{other}`")),
    };
    Ok((port, protocol))
}

/// A listener resolved against the task: what the templates need.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedListener {
    pub port: u32,
    /// `TCP`, `UDP`, `TLS` or `TCP_UDP`.
    pub protocol: &'static str,
    pub target_container: String,
    pub target_port: u32,
    pub ssl_policy: Option<String>,
    pub stickiness: Option<bool>,
    pub deregistration_delay: u64,
    pub healthcheck: NlbHealthCheck,
}

impl ResolvedListener {
    /// The protocol the target group and security group rules speak (TLS
    /// ends at the load balancer).
    fn target_protocol(&self) -> &'static str {
        if self.protocol == "TLS" { "TCP" } else { self.protocol }
    }
}

/// Resolves every listener (`check_nlb` has reported problems; invalid ones
/// are skipped). The target port defaults to the listener's port, or to the
/// port a sidecar named by `target_container` exposes.
pub fn resolve(nlb: &Nlb, spec: &TaskSpec) -> Vec<ResolvedListener> {
    nlb.listeners()
        .into_iter()
        .filter_map(|(_, l)| {
            let (port, protocol) = parse_port(l.port.as_deref()?).ok()?;
            let target_container = l.target_container.clone().unwrap_or_else(|| spec.name.clone());
            let sidecar_port = || {
                spec.sidecars
                    .get(&target_container)
                    .and_then(|s| s.port.as_ref())
                    .and_then(|p| p.parse().ok())
                    .map(|(p, _)| p)
            };
            let target_port = l
                .target_port
                .or_else(|| if target_container != spec.name { sidecar_port() } else { None })
                .unwrap_or(port);
            Some(ResolvedListener {
                port,
                protocol,
                target_container,
                target_port,
                ssl_policy: l.ssl_policy.clone(),
                stickiness: l.stickiness,
                deregistration_delay: l.deregistration_delay.map(|d| d.secs()).unwrap_or(60),
                healthcheck: l.healthcheck.clone().unwrap_or_default(),
            })
        })
        .collect()
}

// ---- checks ----------------------------------------------------------------

/// Checks `nlb`: ports and protocols, targets, health checks, TLS policy.
pub fn check_nlb(nlb: &Nlb, spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let mut seen = IndexMap::new();
    for (base, l) in nlb.listeners() {
        match l.port.as_deref() {
            None => out.push(
                Diagnostic::error(&base, "missing required field `port`")
                    .with_hint("add `port: 80/tcp` (or `443/tls`, `53/udp`)"),
            ),
            Some(p) => match parse_port(p) {
                Err(e) => out.push(
                    Diagnostic::error(format!("{base}/port"), e)
                        .with_hint("use `<port>/<protocol>` with tcp, udp, tls or tcp_udp, e.g. `443/tls`"),
                ),
                Ok((port, protocol)) => {
                    if let Some(first) = seen.insert(port, base.clone()) {
                        out.push(
                            Diagnostic::error(format!("{base}/port"), format!("port {port} is already a listener"))
                                .with_hint(format!("`{first}` listens on {port}: use another port")),
                        );
                    }
                    if l.ssl_policy.is_some() && protocol != "TLS" {
                        out.push(
                            Diagnostic::error(
                                format!("{base}/ssl_policy"),
                                "`ssl_policy` applies only to TLS listeners",
                            )
                            .with_hint("use `port: <port>/tls`, or remove `ssl_policy`"),
                        );
                    }
                    if l.stickiness == Some(true) && protocol == "TLS" {
                        out.push(
                            Diagnostic::error(
                                format!("{base}/stickiness"),
                                "TLS listeners cannot keep sticky sessions",
                            )
                            .with_hint("remove `stickiness` or use a TCP listener"),
                        );
                    }
                }
            },
        }
        if let Some(target) = l.target_container.as_deref()
            && target != spec.name
        {
            match spec.sidecars.get(target) {
                None => out.push(
                    Diagnostic::error(format!("{base}/target_container"), format!("no container named `{target}`"))
                        .with_hint(format!("use `{}` or one of the sidecars", spec.name)),
                ),
                Some(s) if s.port.is_none() && l.target_port.is_none() => out.push(
                    Diagnostic::error(
                        format!("{base}/target_container"),
                        format!("sidecar `{target}` exposes no port"),
                    )
                    .with_hint(format!("set `sidecars.{target}.port` or `target_port`")),
                ),
                Some(_) => {}
            }
        }
        if let Some(p) = l.target_port
            && !(1..=65535).contains(&p)
        {
            out.push(
                Diagnostic::error(format!("{base}/target_port"), format!("port {p} is out of range"))
                    .with_hint("use a port from 1 to 65535"),
            );
        }
        if let Some(d) = l.deregistration_delay
            && (!d.is_whole_seconds() || d.secs() > 3600)
        {
            out.push(
                Diagnostic::error(
                    format!("{base}/deregistration_delay"),
                    "the deregistration delay is whole seconds from 0s to 3600s",
                )
                .with_hint("e.g. 60s"),
            );
        }
        if let Some(hc) = &l.healthcheck {
            let hc_base = format!("{base}/healthcheck");
            check_target_health_ports(
                hc.port,
                hc.healthy_threshold,
                hc.unhealthy_threshold,
                hc.interval,
                hc.timeout,
                hc.grace_period,
                &hc_base,
                out,
            );
        }
    }
    if let Some(alias) = &nlb.alias {
        for (i, (name, _)) in alias.entries().iter().enumerate() {
            if name.trim().is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
                let at = match alias {
                    Alias::One(_) => "/nlb/alias".to_string(),
                    Alias::Many(_) => pointer(["nlb", "alias", &i.to_string()]),
                };
                out.push(Diagnostic::error(at, format!("`{name}` is not a domain name")));
            }
        }
    }
}

// ---- rendering -------------------------------------------------------------

fn numbered(base: &str, i: usize) -> String {
    if i == 0 { base.to_string() } else { format!("{base}{i}") }
}

/// Logical ID of the `i`th listener.
pub fn listener_id(i: usize) -> String {
    numbered("NLBListener", i)
}

/// Logical ID of the `i`th target group.
pub fn target_group_id(i: usize) -> String {
    numbered("NetworkLoadBalancerTargetGroup", i)
}

/// What [`render`] needs besides the listeners.
#[derive(Debug, Clone)]
pub struct NlbRender<'a> {
    pub listeners: &'a [ResolvedListener],
    pub aliases: Vec<String>,
    /// Hosted zone (by name, with the trailing dot) for each alias record;
    /// `None` skips the record.
    pub alias_zones: Vec<Option<String>>,
    /// The app's domain is delegated to the environment (`DNSDelegated`).
    pub dns_delegated: bool,
    /// The environment's hosted zone name (`<env>.<app>.<domain>`): names in
    /// it are validated through the `HostedZone` export; others need their
    /// validation record added where their zone is.
    pub env_zone: Option<String>,
}

/// Declares `NLBAliases`, `NLBPort` (Copilot's parameters) and, when needed,
/// the `HasAssociatedDomain` condition over `DNSDelegated`.
pub fn parameters(r: &NlbRender, t: &mut Template, values: &mut IndexMap<String, Value>) {
    t.parameter(
        "NLBAliases",
        Parameter::string().default("").description("Aliases of the network load balancer, comma-separated"),
    );
    values.insert("NLBAliases".into(), json!(r.aliases.join(",")));
    t.parameter("NLBPort", Parameter::string().description("Port of the network load balancer's main listener"));
    values.insert("NLBPort".into(), json!(r.listeners.first().map(|l| l.port.to_string()).unwrap_or_default()));
    t.condition(HAS_ASSOCIATED_DOMAIN, cfn::equals(cfn::ref_("DNSDelegated"), json!("true")));
}

/// The load balancer, its security groups, listeners, target groups, DNS
/// names and certificate. Returns the listener IDs (the service depends on
/// them) and the service's `LoadBalancers` entries.
pub fn render(r: &NlbRender, t: &mut Template) -> (Vec<String>, Vec<Value>) {
    t.resource(
        LOAD_BALANCER,
        Resource::new("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .prop("Scheme", "internet-facing")
            .prop("Subnets", cfn::split(",", cfn::env_import("PublicSubnets")))
            .prop("Type", "network")
            .prop("SecurityGroups", json!([cfn::get_att(SECURITY_GROUP, "GroupId")]))
            .describe("A Network Load Balancer to distribute public traffic to your service"),
    );
    let mut ingress = Vec::new();
    for l in r.listeners {
        let protocols: &[&str] = match l.target_protocol() {
            "TCP_UDP" => &["TCP", "UDP"],
            "UDP" => &["UDP"],
            _ => &["TCP"],
        };
        for p in protocols {
            ingress.push(json!({
                "CidrIp": "0.0.0.0/0",
                "Description": format!("Allow {p} traffic from anyone on listener port {}", l.port),
                "FromPort": l.port,
                "ToPort": l.port,
                "IpProtocol": p.to_ascii_lowercase(),
            }));
        }
    }
    t.resource(
        SECURITY_GROUP,
        Resource::new("AWS::EC2::SecurityGroup")
            .prop("GroupDescription", "Allow traffic to the public facing load balancer on listener ports")
            .prop("SecurityGroupIngress", json!(ingress))
            .prop("VpcId", cfn::env_import("VpcId"))
            .prop("Tags", json!([cfn::tag("Name", cfn::sub("copilot-${AppName}-${EnvName}-${WorkloadName}-nlb"))]))
            .describe("A security group for your network load balancer allowing public traffic"),
    );
    t.resource(
        "EnvironmentSecurityGroupIngressFromNetworkLoadBalancerSecurityGroup",
        Resource::new("AWS::EC2::SecurityGroupIngress")
            .prop("GroupId", cfn::env_import("EnvironmentSecurityGroup"))
            .prop("IpProtocol", "-1")
            .prop("SourceSecurityGroupId", cfn::get_att(SECURITY_GROUP, "GroupId"))
            .prop("Description", "Ingress from the network load balancer")
            .describe("Allow ingress from the network load balancer to services in your environment"),
    );

    let mut listener_ids = Vec::new();
    let mut load_balancers = Vec::new();
    for (i, l) in r.listeners.iter().enumerate() {
        let tg = target_group_id(i);
        let mut listener = Resource::new("AWS::ElasticLoadBalancingV2::Listener")
            .prop("DefaultActions", json!([{"TargetGroupArn": cfn::ref_(&tg), "Type": "forward"}]))
            .prop("LoadBalancerArn", cfn::ref_(LOAD_BALANCER))
            .prop("Port", l.port)
            .prop("Protocol", l.protocol);
        if l.protocol == "TLS" {
            listener = listener
                .prop("Certificates", json!([{"CertificateArn": cfn::ref_(CERTIFICATE)}]))
                .prop("SslPolicy", l.ssl_policy.clone().unwrap_or_else(|| DEFAULT_SSL_POLICY.into()));
        }
        let id = listener_id(i);
        t.resource(
            &id,
            listener
                .describe(&format!("A {} listener on port {} that forwards traffic to your tasks", l.protocol, l.port)),
        );
        listener_ids.push(id);

        let hc = &l.healthcheck;
        let mut attributes =
            vec![json!({"Key": "deregistration_delay.timeout_seconds", "Value": l.deregistration_delay.to_string()})];
        if l.protocol != "TLS"
            && let Some(sticky) = l.stickiness
        {
            attributes.push(json!({"Key": "stickiness.enabled", "Value": sticky.to_string()}));
        }
        t.resource(
            &tg,
            Resource::new("AWS::ElasticLoadBalancingV2::TargetGroup")
                .opt_prop("HealthyThresholdCount", hc.healthy_threshold)
                .opt_prop("UnhealthyThresholdCount", hc.unhealthy_threshold)
                .opt_prop("HealthCheckIntervalSeconds", hc.interval.map(|d| d.secs()))
                .opt_prop("HealthCheckTimeoutSeconds", hc.timeout.map(|d| d.secs()))
                .opt_prop("HealthCheckPort", hc.port.map(|p| p.to_string()))
                .prop("Port", l.target_port)
                .prop("Protocol", l.target_protocol())
                .prop("TargetGroupAttributes", json!(attributes))
                .prop("TargetType", "ip")
                .prop("VpcId", cfn::env_import("VpcId"))
                .describe(&format!(
                    "A target group to connect the network load balancer to your service on port {}",
                    l.target_port
                )),
        );
        load_balancers.push(json!({
            "ContainerName": &l.target_container,
            "ContainerPort": l.target_port,
            "TargetGroupArn": cfn::ref_(&tg),
        }));
    }

    let default_name = cfn::join(".", json!([cfn::sub("${WorkloadName}-nlb"), cfn::env_import("SubDomain"), ""]));
    if r.aliases.is_empty() {
        t.resource(
            "NLBDNSAlias",
            Resource::new("AWS::Route53::RecordSetGroup")
                .condition(HAS_ASSOCIATED_DOMAIN)
                .prop("HostedZoneId", cfn::env_import("HostedZone"))
                .prop("Comment", cfn::sub("Default NetworkLoadBalancer alias for service ${WorkloadName}"))
                .prop(
                    "RecordSets",
                    json!([{
                        "Name": default_name.clone(),
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": cfn::get_att(LOAD_BALANCER, "CanonicalHostedZoneID"),
                            "DNSName": cfn::get_att(LOAD_BALANCER, "DNSName"),
                        },
                    }]),
                )
                .describe("The default alias record for the network load balancer"),
        );
    } else {
        for (i, (name, zone)) in r.aliases.iter().zip(&r.alias_zones).enumerate() {
            let Some(zone) = zone else { continue };
            t.resource(
                &numbered("NLBAliasRecord", i),
                Resource::new("AWS::Route53::RecordSet")
                    .condition(HAS_ASSOCIATED_DOMAIN)
                    .prop("HostedZoneName", zone.as_str())
                    .prop("Name", name.as_str())
                    .prop("Type", "A")
                    .prop(
                        "AliasTarget",
                        json!({
                            "HostedZoneId": cfn::get_att(LOAD_BALANCER, "CanonicalHostedZoneID"),
                            "DNSName": cfn::get_att(LOAD_BALANCER, "DNSName"),
                        }),
                    )
                    .describe(&format!("A DNS record pointing {name} at the network load balancer")),
            );
        }
    }
    if r.listeners.iter().any(|l| l.protocol == "TLS") {
        let (domain, alternatives): (Value, Vec<Value>) = match r.aliases.split_first() {
            Some((first, rest)) => (json!(first), rest.iter().map(|a| json!(a)).collect()),
            None => (default_name.clone(), Vec::new()),
        };
        let mut names = vec![domain.clone()];
        names.extend(alternatives.iter().cloned());
        let in_env_zone = |n: &Value| match (n.as_str(), &r.env_zone) {
            (Some(name), Some(zone)) => name == zone || name.ends_with(&format!(".{zone}")),
            (Some(_), None) => false,
            (None, _) => true, // the default name, under the environment's subdomain
        };
        let validation: Vec<Value> = names
            .iter()
            .filter(|n| in_env_zone(n))
            .map(|n| json!({"DomainName": n, "HostedZoneId": cfn::env_import("HostedZone")}))
            .collect();
        t.resource(
            CERTIFICATE,
            Resource::new("AWS::CertificateManager::Certificate")
                .prop("DomainName", domain)
                .opt_prop("SubjectAlternativeNames", (!alternatives.is_empty()).then(|| json!(alternatives)))
                .prop("ValidationMethod", "DNS")
                .opt_prop("DomainValidationOptions", (!validation.is_empty()).then(|| json!(validation)))
                .describe("A certificate for the network load balancer's TLS listeners, validated through DNS"),
        );
    }
    t.output(
        "PublicNetworkLoadBalancerDNSName",
        cfn::get_att(LOAD_BALANCER, "DNSName"),
        Some(cfn::sub("${AWS::StackName}-PublicNetworkLoadBalancerDNSName")),
    );
    (listener_ids, load_balancers)
}

/// Adds a port mapping for each listener's target to its container in the
/// task definition, as Copilot exposes them (ECS only registers targets on
/// ports a container maps).
/// `main` is the main container's name and `image.port` (mapped through the
/// `ContainerPort` parameter).
pub fn expose_target_ports(listeners: &[ResolvedListener], main: (&str, Option<u32>), t: &mut Template) {
    let Some(containers) = t
        .resources
        .get_mut(super::render::ids::TASK_DEFINITION)
        .and_then(|r| r.pointer_mut("/Properties/ContainerDefinitions"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for l in listeners {
        let protocols: &[&str] = match l.target_protocol() {
            "TCP_UDP" => &["tcp", "udp"],
            "UDP" => &["udp"],
            _ => &["tcp"],
        };
        let Some(c) = containers.iter_mut().find(|c| c["Name"] == json!(&l.target_container)) else { continue };
        let Some(obj) = c.as_object_mut() else { continue };
        let mappings = obj.entry("PortMappings").or_insert_with(|| json!([]));
        let Some(list) = mappings.as_array_mut() else { continue };
        for p in protocols {
            let exists = list.iter().any(|m| {
                let port_matches = m["ContainerPort"] == json!(l.target_port)
                    || (m["ContainerPort"] == cfn::ref_("ContainerPort")
                        && l.target_container == main.0
                        && main.1 == Some(l.target_port));
                m["Protocol"] == json!(p) && port_matches
            });
            if !exists {
                list.push(json!({"ContainerPort": l.target_port, "Protocol": p}));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_protocols() {
        assert_eq!(parse_port("80"), Ok((80, "TCP")));
        assert_eq!(parse_port("443/tls"), Ok((443, "TLS")));
        assert_eq!(parse_port("53/UDP"), Ok((53, "UDP")));
        assert_eq!(parse_port("53/tcp_udp"), Ok((53, "TCP_UDP")));
        assert!(parse_port("80/http").is_err());
        assert!(parse_port("0").is_err());
        assert!(parse_port("x/tcp").is_err());
    }
}
