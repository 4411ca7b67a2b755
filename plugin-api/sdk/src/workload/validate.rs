//! Semantic checks on the shared sections: what Fargate, ECS and Copilot
//! would refuse at deploy time is reported before anything is deployed,
//! located by JSON pointer.

use super::either::Duration;
use super::manifest::*;
use super::{TaskSpec, defaults};
use crate::diag::{Diagnostic, pointer};
use serde_json::Value;

/// CPU units Fargate accepts, each with the memory sizes (MiB) it allows.
pub fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
    let (from, to, step) = match cpu {
        256 => return Some(vec![512, 1024, 2048]),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return None,
    };
    Some((from..=to).step_by(step).collect())
}

/// CloudWatch Logs retention values.
pub const LOG_RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const DEPENDS_ON_CONDITIONS: &[&str] = &["start", "healthy", "complete", "success"];

/// `tags` keys that AWS (`aws:`) or ferry (`copilot-`) reserve are refused
/// at their key.
pub fn check_reserved_tags<'a>(keys: impl IntoIterator<Item = &'a String>, out: &mut Vec<Diagnostic>) {
    for key in keys {
        if key.starts_with("aws:") || key.starts_with("copilot-") {
            out.push(
                Diagnostic::error(pointer(["tags", key.as_str()]), format!("tag key `{key}` is reserved"))
                    .with_hint("`aws:` tags belong to AWS and `copilot-` tags to ferry; choose another key"),
            );
        }
    }
}

/// The manifest's `type:` against the one the plugin renders.
pub fn check_type(kind: &str, expected: &str) -> Option<Diagnostic> {
    (kind != expected).then(|| {
        Diagnostic::error("/type", format!("this plugin renders `{expected}`, not `{kind}`"))
            .with_hint(format!("set `type: {expected}`"))
    })
}

/// Checks the shared sections. `load_balanced` allows the `requests` and
/// `response_time` scaling targets, which need a target group.
pub fn check_task(spec: &TaskSpec, load_balanced: bool) -> Vec<Diagnostic> {
    check_task_with(spec, TaskChecks { load_balanced, queue: false })
}

/// What the workload type offers that some shared fields need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskChecks {
    /// A target group: allows the `requests` and `response_time` scaling targets.
    pub load_balanced: bool,
    /// An SQS queue (Worker Service): allows the `queue_delay` scaling target.
    pub queue: bool,
}

/// [`check_task`] for workload types with more than a load balancer to say.
pub fn check_task_with(spec: &TaskSpec, checks: TaskChecks) -> Vec<Diagnostic> {
    let load_balanced = checks.load_balanced;
    let mut out = Vec::new();
    check_image(spec, &mut out);
    for (field, value) in [("entrypoint", &spec.entrypoint), ("command", &spec.command)] {
        if let Some(Err(why)) = value.as_ref().map(|v| v.to_args()) {
            out.push(
                Diagnostic::error(pointer([field]), format!("cannot split `{field}`: {why}"))
                    .with_hint("write it as a list, e.g. [\"npm\", \"start\"]"),
            );
        }
    }
    let platform = match spec.platform.as_ref().map(Platform::resolve) {
        Some(Err((message, hint))) => {
            let path = match &spec.platform {
                Some(Platform::Args(_)) if message.contains("architecture") => "/platform/architecture",
                Some(Platform::Args(_)) => "/platform/osfamily",
                _ => "/platform",
            };
            out.push(Diagnostic::error(path, message).with_hint(hint));
            ResolvedPlatform::default()
        }
        Some(Ok(p)) => p,
        None => ResolvedPlatform::default(),
    };
    check_size(spec, &platform, &mut out);
    check_count(spec, &platform, load_balanced, &mut out);
    check_queue_delay(spec, checks.queue, &mut out);
    super::deployment::check_deployment(spec, load_balanced, &mut out);
    if let Some(rolling) = spec.deployment.as_ref().and_then(|d| d.rolling.as_ref())
        && rolling != "default"
        && rolling != "recreate"
    {
        out.push(
            Diagnostic::error("/deployment/rolling", format!("unknown rolling strategy `{rolling}`"))
                .with_hint("expected `default` or `recreate`"),
        );
    }
    check_variables(&spec.variables, "", &mut out);
    check_secrets(&spec.secrets, "", &mut out);
    if let Some(storage) = &spec.storage {
        if let Some(size) = storage.ephemeral
            && !(20..=200).contains(&size)
        {
            out.push(
                Diagnostic::error(
                    "/storage/ephemeral",
                    format!("ephemeral storage of {size} GiB is outside Fargate's range"),
                )
                .with_hint("use a size from 20 to 200 GiB"),
            );
        }
        if storage.readonly_fs == Some(true) && platform.is_windows() {
            out.push(Diagnostic::error(
                "/storage/readonly_fs",
                "a read-only root file system is not supported on Windows",
            ));
        }
    }
    if let Some(logging) = &spec.logging {
        if let Some(days) = logging.retention
            && !LOG_RETENTION_DAYS.contains(&days)
        {
            out.push(
                Diagnostic::error("/logging/retention", format!("CloudWatch Logs cannot keep events for {days} days"))
                    .with_hint(format!("use one of: {}", join_numbers(LOG_RETENTION_DAYS))),
            );
        }
        check_variables(&logging.variables, "/logging", &mut out);
        check_secrets(&logging.secrets, "/logging", &mut out);
    }
    if let Some(groups) = spec.network.as_ref().and_then(|n| n.vpc.as_ref()).and_then(|v| v.security_groups.as_ref()) {
        let base = match groups {
            SecurityGroups::List(_) => vec!["network", "vpc", "security_groups"],
            SecurityGroups::Args(_) => vec!["network", "vpc", "security_groups", "groups"],
        };
        for (i, g) in groups.groups().iter().enumerate() {
            let empty = match g {
                StringOrFromCfn::String(s) => s.trim().is_empty(),
                StringOrFromCfn::FromCfn(f) => f.from_cfn.trim().is_empty(),
            };
            if empty {
                let mut p: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                p.push(i.to_string());
                out.push(Diagnostic::error(pointer(p), "empty security group"));
            }
        }
    }
    check_sidecars(spec, &mut out);
    super::families::check_families(spec, &mut out);
    out
}

fn join_numbers(ns: &[u32]) -> String {
    ns.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

fn check_port(port: u32, path: &str, out: &mut Vec<Diagnostic>) {
    if !(1..=65535).contains(&port) {
        out.push(
            Diagnostic::error(path, format!("port {port} is out of range")).with_hint("use a port from 1 to 65535"),
        );
    }
}

fn check_image(spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let image = &spec.image;
    match (&image.build, &image.location) {
        (Some(_), Some(_)) => out.push(
            Diagnostic::error("/image", "`image.build` and `image.location` are both set")
                .with_hint("keep `build` to build from a Dockerfile, or `location` to run an existing image"),
        ),
        (None, None) => out.push(
            Diagnostic::error("/image", "the image has neither `build` nor `location`")
                .with_hint("add `build: <Dockerfile>` or `location: <image URI>`"),
        ),
        _ => {}
    }
    if let Some(port) = image.port {
        check_port(port, "/image/port", out);
    }
    if let Some(hc) = &image.healthcheck {
        check_health_check(hc, "/image/healthcheck", out);
    }
    let names = container_names(spec);
    check_depends_on(&image.depends_on, &spec.name, &names, "/image/depends_on", out);
}

fn container_names(spec: &TaskSpec) -> Vec<&str> {
    std::iter::once(spec.name.as_str()).chain(spec.sidecars.keys().map(String::as_str)).collect()
}

fn check_depends_on(
    depends_on: &indexmap::IndexMap<String, String>,
    own_name: &str,
    names: &[&str],
    base: &str,
    out: &mut Vec<Diagnostic>,
) {
    for (container, condition) in depends_on {
        let path = format!("{base}{}", pointer([container]));
        if container == own_name {
            out.push(Diagnostic::error(&path, format!("container `{own_name}` cannot depend on itself")));
        } else if !names.contains(&container.as_str()) {
            out.push(
                Diagnostic::error(&path, format!("no container named `{container}` in this task"))
                    .with_hint(format!("containers: {}", names.join(", "))),
            );
        }
        if !DEPENDS_ON_CONDITIONS.contains(&condition.as_str()) {
            out.push(
                Diagnostic::error(&path, format!("unknown condition `{condition}`"))
                    .with_hint("expected start, healthy, complete or success"),
            );
        }
    }
}

fn check_duration(d: Option<Duration>, path: &str, range: (u64, u64), out: &mut Vec<Diagnostic>) {
    let Some(d) = d else { return };
    if !d.is_whole_seconds() || !(range.0..=range.1).contains(&d.secs()) {
        out.push(
            Diagnostic::error(path, format!("{} ms is not allowed here", d.millis))
                .with_hint(format!("use whole seconds from {}s to {}s", range.0, range.1)),
        );
    }
}

fn check_health_check(hc: &ContainerHealthCheck, base: &str, out: &mut Vec<Diagnostic>) {
    match hc.command.as_ref().map(|c| c.to_args()) {
        None => out.push(
            Diagnostic::error(base, "a container health check needs a `command`")
                .with_hint("e.g. command: [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]"),
        ),
        Some(Err(why)) => out.push(Diagnostic::error(format!("{base}/command"), why)),
        Some(Ok(args)) if args.is_empty() => {
            out.push(Diagnostic::error(format!("{base}/command"), "the health check command is empty"))
        }
        Some(Ok(_)) => {}
    }
    check_duration(hc.interval, &format!("{base}/interval"), (5, 300), out);
    check_duration(hc.timeout, &format!("{base}/timeout"), (2, 60), out);
    check_duration(hc.start_period, &format!("{base}/start_period"), (0, 300), out);
    if let Some(r) = hc.retries
        && !(1..=10).contains(&r)
    {
        out.push(
            Diagnostic::error(format!("{base}/retries"), format!("{r} retries is out of range"))
                .with_hint("use 1 to 10"),
        );
    }
}

fn check_size(spec: &TaskSpec, platform: &ResolvedPlatform, out: &mut Vec<Diagnostic>) {
    let (cpu, memory) = (spec.cpu(), spec.memory());
    let cpu_path = if spec.cpu.is_some() { "/cpu" } else { "" };
    let memory_path = if spec.memory.is_some() { "/memory" } else { "" };
    match fargate_memory_options(cpu) {
        None => out.push(
            Diagnostic::error(cpu_path, format!("Fargate has no task size with {cpu} CPU units"))
                .with_hint("use 256, 512, 1024, 2048, 4096, 8192 or 16384"),
        ),
        Some(options) if !options.contains(&memory) => out.push(
            Diagnostic::error(memory_path, format!("Fargate does not run {cpu} CPU units with {memory} MiB of memory"))
                .with_hint(format!("with cpu {cpu}, use memory {}", join_numbers(&options))),
        ),
        Some(_) => {}
    }
    if platform.is_windows() {
        // Point at what to change: the size if written, else the platform.
        let cpu_path = if spec.cpu.is_some() { "/cpu" } else { "/platform" };
        let memory_path = if spec.memory.is_some() { "/memory" } else { "/platform" };
        if cpu < defaults::WINDOWS_MIN_CPU {
            out.push(
                Diagnostic::error(
                    cpu_path,
                    format!("Windows tasks need at least {} CPU units, not {cpu}", defaults::WINDOWS_MIN_CPU),
                )
                .with_hint("set `cpu: 1024` or more"),
            );
        }
        if memory < defaults::WINDOWS_MIN_MEMORY {
            out.push(
                Diagnostic::error(
                    memory_path,
                    format!("Windows tasks need at least {} MiB of memory, not {memory}", defaults::WINDOWS_MIN_MEMORY),
                )
                .with_hint("set `memory: 2048` or more"),
            );
        }
        if platform.is_arm() {
            out.push(
                Diagnostic::error("/platform", "Windows tasks run on x86_64 only").with_hint("use architecture x86_64"),
            );
        }
    }
}

fn check_count(spec: &TaskSpec, platform: &ResolvedPlatform, load_balanced: bool, out: &mut Vec<Diagnostic>) {
    let Some(Count::Advanced(count)) = &spec.count else { return };
    let uses_spot = count.spot.is_some() || count.range.as_ref().and_then(Range::spot_from).is_some();
    if uses_spot && (platform.is_windows() || platform.is_arm()) {
        out.push(
            Diagnostic::error("/count", "Fargate Spot runs only Linux x86_64 tasks")
                .with_hint("remove `spot` / `spot_from`, or use platform linux/x86_64"),
        );
    }
    let targets = [
        ("cpu_percentage", &count.cpu_percentage),
        ("memory_percentage", &count.memory_percentage),
        ("requests", &count.requests),
        ("response_time", &count.response_time),
    ];
    match &count.range {
        Some(range) => {
            let (min, max) = range.bounds();
            if min > max {
                out.push(
                    Diagnostic::error(
                        "/count/range",
                        format!("the range minimum {min} is larger than its maximum {max}"),
                    )
                    .with_hint(format!("write it as {max}-{min}")),
                );
            }
            if let Some(spot_from) = range.spot_from()
                && (spot_from == 0 || spot_from > max)
            {
                out.push(
                    Diagnostic::error("/count/range/spot_from", format!("spot_from {spot_from} is outside the range"))
                        .with_hint(format!("use a value from 1 to {max}")),
                );
            }
            if count.spot.is_some() {
                out.push(
                    Diagnostic::error("/count/spot", "`spot` cannot be combined with `range`")
                        .with_hint("use `range: {min, max, spot_from}` instead"),
                );
            }
            if targets.iter().all(|(_, t)| t.is_none()) && count.queue_delay.is_none() {
                out.push(
                    Diagnostic::error("/count", "`range` needs at least one scaling target")
                        .with_hint("add cpu_percentage, memory_percentage, requests or response_time"),
                );
            }
        }
        None => {
            for (name, target) in &targets {
                if target.is_some() {
                    out.push(
                        Diagnostic::error(pointer(["count", name]), format!("`{name}` needs `count.range`"))
                            .with_hint("add `range: 1-10` (min-max tasks)"),
                    );
                }
            }
            if count.queue_delay.is_some() {
                out.push(
                    Diagnostic::error("/count/queue_delay", "`queue_delay` needs `count.range`")
                        .with_hint("add `range: 1-10` (min-max tasks)"),
                );
            }
            if count.spot.is_none() {
                out.push(
                    Diagnostic::error("/count", "`count` has neither `range` nor `spot`")
                        .with_hint("write `count: <number>` for a fixed count"),
                );
            }
        }
    }
    check_cooldown(count.cooldown.as_ref(), "/count/cooldown", out);
    for (name, target) in targets {
        let Some(target) = target else { continue };
        let base = pointer(["count", name]);
        if !load_balanced && (name == "requests" || name == "response_time") {
            out.push(
                Diagnostic::error(&base, format!("`{name}` needs a load balancer"))
                    .with_hint("this workload has none; scale on cpu_percentage or memory_percentage"),
            );
            continue;
        }
        let (value, cooldown) = target.parts();
        let value_path = if matches!(target, ScalingTarget::Args(_)) { format!("{base}/value") } else { base.clone() };
        match scaling_value(name, &value) {
            Ok(_) => {}
            Err(hint) => {
                out.push(Diagnostic::error(&value_path, format!("invalid {name} target {value}")).with_hint(hint))
            }
        }
        check_cooldown(cooldown, &format!("{base}/cooldown"), out);
    }
}

/// `count.queue_delay`: only where there is a queue, with both durations,
/// and a latency that leaves room for at least one message per task.
fn check_queue_delay(spec: &TaskSpec, queue: bool, out: &mut Vec<Diagnostic>) {
    let Some(Count::Advanced(count)) = &spec.count else { return };
    let Some(delay) = &count.queue_delay else { return };
    if !queue {
        out.push(
            Diagnostic::error("/count/queue_delay", "`queue_delay` needs a queue to scale on")
                .with_hint("only a Worker Service has one; scale on cpu_percentage or memory_percentage"),
        );
        return;
    }
    for (field, value) in
        [("acceptable_latency", delay.acceptable_latency), ("msg_processing_time", delay.msg_processing_time)]
    {
        match value {
            None => out.push(
                Diagnostic::error("/count/queue_delay", format!("`queue_delay` needs `{field}`"))
                    .with_hint("e.g. acceptable_latency: 10m, msg_processing_time: 250ms"),
            ),
            Some(d) if d.millis == 0 => out.push(Diagnostic::error(
                pointer(["count", "queue_delay", field]),
                format!("`{field}` must be longer than zero"),
            )),
            Some(_) => {}
        }
    }
    if delay.backlog_per_task() == Some(0) {
        out.push(
            Diagnostic::error(
                "/count/queue_delay/acceptable_latency",
                "the acceptable latency is shorter than the time to process one message",
            )
            .with_hint("raise `acceptable_latency` to at least `msg_processing_time`"),
        );
    }
    check_cooldown(delay.cooldown.as_ref(), "/count/queue_delay/cooldown", out);
}

/// The numeric target of a scaling metric: a percentage, requests per
/// target, or seconds for `response_time`.
pub fn scaling_value(metric: &str, value: &Value) -> Result<f64, String> {
    match metric {
        "response_time" => match value {
            Value::String(s) => Duration::parse(s)
                .ok()
                .filter(|d| d.millis > 0)
                .map(|d| d.millis as f64 / 1000.0)
                .ok_or_else(|| "expected a positive duration such as `2s` or `500ms`".to_string()),
            _ => Err("expected a duration such as `2s` or `500ms`".into()),
        },
        "cpu_percentage" | "memory_percentage" => match value.as_f64() {
            Some(n) if n > 0.0 && n <= 100.0 => Ok(n),
            _ => Err("expected a percentage above 0 and at most 100".into()),
        },
        _ => match value.as_f64() {
            Some(n) if n > 0.0 => Ok(n),
            _ => Err("expected a positive number".into()),
        },
    }
}

fn check_cooldown(cooldown: Option<&Cooldown>, base: &str, out: &mut Vec<Diagnostic>) {
    let Some(c) = cooldown else { return };
    for (field, d) in [("in", c.scale_in), ("out", c.scale_out)] {
        if let Some(d) = d
            && !d.is_whole_seconds()
        {
            out.push(
                Diagnostic::error(format!("{base}/{field}"), "cooldowns are whole seconds").with_hint("e.g. 60s or 2m"),
            );
        }
    }
}

fn check_variables(vars: &indexmap::IndexMap<String, Variable>, base: &str, out: &mut Vec<Diagnostic>) {
    for (name, var) in vars {
        if let Variable::FromCfn(f) = var
            && f.from_cfn.trim().is_empty()
        {
            out.push(Diagnostic::error(
                format!("{base}{}/from_cfn", pointer(["variables", name])),
                "empty export name",
            ));
        }
    }
}

fn check_secrets(secrets: &indexmap::IndexMap<String, Secret>, base: &str, out: &mut Vec<Diagnostic>) {
    for (name, secret) in secrets {
        let path = format!("{base}{}", pointer(["secrets", name]));
        let (empty, sub) = match secret {
            Secret::Parameter(p) => (p.trim().is_empty(), ""),
            Secret::Map(SecretMap { secretsmanager: Some(s), .. }) => (s.trim().is_empty(), "/secretsmanager"),
            Secret::Map(SecretMap { from_cfn: Some(s), .. }) => (s.trim().is_empty(), "/from_cfn"),
            Secret::Map(_) => (true, ""),
        };
        if empty {
            out.push(
                Diagnostic::error(format!("{path}{sub}"), format!("secret `{name}` names no parameter or secret"))
                    .with_hint("use the SSM parameter name, e.g. GITHUB_TOKEN, or {secretsmanager: <name>}"),
            );
        }
    }
}

fn check_sidecars(spec: &TaskSpec, out: &mut Vec<Diagnostic>) {
    let names = container_names(spec);
    for (name, sidecar) in &spec.sidecars {
        let base = pointer(["sidecars", name]);
        if name == &spec.name {
            out.push(Diagnostic::error(&base, format!("a sidecar cannot share the service's name `{name}`")));
        }
        match &sidecar.image {
            None => out.push(
                Diagnostic::error(&base, format!("sidecar `{name}` has no `image`"))
                    .with_hint("add `image: <image URI>`"),
            ),
            Some(SidecarImage::Build(args)) => match (&args.build, &args.location) {
                (Some(_), Some(_)) => out.push(
                    Diagnostic::error(
                        format!("{base}/image"),
                        format!("sidecar `{name}` sets both `build` and `location`"),
                    )
                    .with_hint("keep `build` (the host builds and pushes it) or `location` (an existing image)"),
                ),
                (Some(_), None) => {}
                (None, Some(l)) if l.trim().is_empty() => {
                    out.push(Diagnostic::error(format!("{base}/image/location"), "empty image URI"))
                }
                (None, Some(_)) => {}
                (None, None) => out.push(
                    Diagnostic::error(format!("{base}/image"), format!("sidecar `{name}` has no image `location`"))
                        .with_hint("add `location: <image URI>`"),
                ),
            },
            Some(SidecarImage::Uri(u)) if u.trim().is_empty() => {
                out.push(Diagnostic::error(format!("{base}/image"), "empty image URI"))
            }
            Some(SidecarImage::Uri(_)) => {}
        }
        if let Some(port) = &sidecar.port {
            match port.parse() {
                Ok((p, _)) => check_port(p, &format!("{base}/port"), out),
                Err(why) => out.push(Diagnostic::error(format!("{base}/port"), why)),
            }
        }
        for (field, value) in [("command", &sidecar.command), ("entrypoint", &sidecar.entrypoint)] {
            if let Some(Err(why)) = value.as_ref().map(|v| v.to_args()) {
                out.push(Diagnostic::error(format!("{base}/{field}"), format!("cannot split `{field}`: {why}")));
            }
        }
        if let Some(hc) = &sidecar.healthcheck {
            check_health_check(hc, &format!("{base}/healthcheck"), out);
        }
        check_depends_on(&sidecar.depends_on, name, &names, &format!("{base}/depends_on"), out);
        check_variables(&sidecar.variables, &base, out);
        check_secrets(&sidecar.secrets, &base, out);
    }
}
