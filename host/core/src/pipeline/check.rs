//! A pipeline manifest checked against the workspace it lives in; only a
//! manifest that passes becomes a [`CheckedPipeline`], the one thing
//! [`super::render`] takes, so an unchecked `depends_on` cycle cannot
//! silently drop actions.

use super::graph::levels;
use super::manifest::{Deployment, PipelineManifest};
use crate::error::{Problem, did_you_mean};
use crate::naming;
use crate::workspace::Workspace;
use crate::yaml::escape_segment;
use indexmap::IndexMap;
use serde_json::Value;

/// A pipeline manifest without problems, with the run level of every action
/// of every stage worked out.
#[derive(Debug, Clone)]
pub struct CheckedPipeline<'a> {
    pub manifest: &'a PipelineManifest,
    /// One per stage, in the manifest's order.
    pub orders: Vec<StageOrder>,
}

/// The run level (1-based; everything an action depends on runs at a lower
/// level) of each action of one stage.
#[derive(Debug, Clone, Default)]
pub struct StageOrder {
    pub pre: IndexMap<String, u32>,
    /// Every deployment (the stage's `deployments:`, else every workload of
    /// the workspace) with its level.
    pub deployments: IndexMap<String, (Deployment, u32)>,
    pub post: IndexMap<String, u32>,
}

/// Checks `m` against the workspace: every problem found, and the checked
/// pipeline when there is none.
pub fn check<'a>(ws: &Workspace, m: &'a PipelineManifest) -> (Vec<Problem>, Option<CheckedPipeline<'a>>) {
    let problems = problems(ws, m);
    if !problems.is_empty() {
        return (problems, None);
    }
    let workloads = ws.workload_names();
    let mut orders = Vec::new();
    for stage in &m.spec.stages {
        let action_levels = |list: &IndexMap<String, Option<super::Action>>| -> Option<IndexMap<String, u32>> {
            let graph: IndexMap<&str, Vec<&str>> = list
                .iter()
                .map(|(k, a)| {
                    (
                        k.as_str(),
                        a.as_ref().map(|a| a.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            levels(&graph).ok().map(|l| l.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let deployments: IndexMap<String, Deployment> = match &stage.deployments {
            Some(d) => d.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect(),
            None => workloads.iter().map(|w| (w.clone(), Deployment::default())).collect(),
        };
        let graph: IndexMap<&str, Vec<&str>> =
            deployments.iter().map(|(k, d)| (k.as_str(), d.depends_on.iter().map(String::as_str).collect())).collect();
        // `problems` reported every cycle, so these all have an order.
        let (Some(pre), Ok(deploy), Some(post)) =
            (action_levels(&stage.pre_deployments), levels(&graph), action_levels(&stage.post_deployments))
        else {
            return (vec![m.problem("/stages", "a `depends_on` graph has a cycle")], None);
        };
        let deployments =
            deploy.into_iter().map(|(k, level)| (k.to_string(), (deployments[k].clone(), level))).collect();
        orders.push(StageOrder { pre, deployments, post });
    }
    (Vec::new(), Some(CheckedPipeline { manifest: m, orders }))
}

/// Every problem a pipeline manifest has with the workspace it lives in.
fn problems(ws: &Workspace, m: &PipelineManifest) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Err(why) = naming::check_name(&m.spec.name) {
        out.push(m.problem("/name", format!("invalid pipeline name `{}`", m.spec.name)).why(why));
    } else if !m.legacy && m.spec.name != m.name {
        out.push(
            m.problem("/name", format!("the manifest is named `{}` but lives in pipelines/{}/", m.spec.name, m.name))
                .hint(format!("set `name: {}` or rename the directory", m.name)),
        );
    }
    match &m.spec.source {
        Value::Object(source) => {
            if !source.get("provider").is_some_and(Value::is_string) {
                out.push(
                    m.problem("/source/provider", "`source.provider` must name the source provider")
                        .hint("e.g. `provider: GitHub`; `ferry plugin ls` lists the installed pipeline providers"),
                );
            }
        }
        _ => out.push(m.problem("/source", "`source` must be a map with `provider` and `properties`")),
    }
    if m.spec.stages.is_empty() {
        out.push(
            m.problem("/stages", "the pipeline has no stages").hint("add `- name: <environment>` under `stages:`"),
        );
    }
    let envs = ws.environment_names();
    let workloads = ws.workload_names();
    let mut seen: Vec<&str> = Vec::new();
    for (i, stage) in m.spec.stages.iter().enumerate() {
        let at = format!("/stages/{i}");
        if !envs.contains(&stage.name) {
            let hint = match did_you_mean(&stage.name, envs.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if envs.is_empty() => "create one with `ferry env init`".to_string(),
                None => format!("environments in this workspace: {}", envs.join(", ")),
            };
            out.push(
                m.problem(
                    &format!("{at}/name"),
                    format!("stage `{}` names an environment that does not exist", stage.name),
                )
                .why("each stage deploys to the environment it is named after (copilot/environments/<env>/)")
                .hint(hint),
            );
        }
        if seen.contains(&stage.name.as_str()) {
            out.push(
                m.problem(&format!("{at}/name"), format!("environment `{}` has two stages", stage.name))
                    .hint("deploy to each environment once per pipeline"),
            );
        }
        seen.push(&stage.name);
        if let Some(deployments) = &stage.deployments {
            for name in deployments.keys() {
                if !workloads.contains(name) && name != &stage.name {
                    let hint = match did_you_mean(name, workloads.iter().map(String::as_str)) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("workloads in this workspace: {}", workloads.join(", ")),
                    };
                    out.push(
                        m.problem(
                            &format!("{at}/deployments/{}", escape_segment(name)),
                            format!("deployment `{name}` is not a service or job of this workspace"),
                        )
                        .hint(hint),
                    );
                }
            }
            let graph: IndexMap<&str, Vec<&str>> = deployments
                .iter()
                .map(|(k, d)| {
                    (
                        k.as_str(),
                        d.as_ref().map(|d| d.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            out.extend(check_graph(m, &format!("{at}/deployments"), &graph));
        }
        for (field, actions) in
            [("pre_deployments", &stage.pre_deployments), ("post_deployments", &stage.post_deployments)]
        {
            for (name, action) in actions {
                if action.is_none() {
                    out.push(
                        m.problem(
                            &format!("{at}/{field}/{}", escape_segment(name)),
                            format!("`{name}` has no `buildspec`"),
                        )
                        .hint("add `buildspec: <path to a buildspec in the repository>`"),
                    );
                }
            }
            let graph: IndexMap<&str, Vec<&str>> = actions
                .iter()
                .map(|(k, a)| {
                    (
                        k.as_str(),
                        a.as_ref().map(|a| a.depends_on.iter().map(String::as_str).collect()).unwrap_or_default(),
                    )
                })
                .collect();
            out.extend(check_graph(m, &format!("{at}/{field}"), &graph));
        }
        for (j, command) in stage.test_commands.iter().enumerate() {
            if command.trim().is_empty() {
                out.push(m.problem(&format!("{at}/test_commands/{j}"), "empty test command"));
            }
        }
    }
    if let Some(policy) = &m.spec.build.additional_policy
        && !policy.policy_document.is_object()
    {
        out.push(
            m.problem("/build/additional_policy/PolicyDocument", "`PolicyDocument` must be an IAM policy document")
                .hint("a map with `Version: 2012-10-17` and `Statement:`"),
        );
    }
    out
}

/// Unknown `depends_on` targets and cycles in one stage's actions.
fn check_graph(m: &PipelineManifest, at: &str, graph: &IndexMap<&str, Vec<&str>>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (name, deps) in graph {
        for (k, dep) in deps.iter().enumerate() {
            if !graph.contains_key(dep) {
                let known: Vec<&str> = graph.keys().copied().filter(|n| n != name).collect();
                out.push(
                    m.problem(
                        &format!("{at}/{}/depends_on/{k}", escape_segment(name)),
                        format!("`{name}` depends on `{dep}`, which this stage does not deploy"),
                    )
                    .hint(format!("depend on one of: {}", known.join(", "))),
                );
            }
        }
    }
    if let Err(cycle) = levels(graph) {
        let first = cycle[0];
        out.push(
            m.problem(
                &format!("{at}/{}/depends_on", escape_segment(first)),
                format!("`depends_on` has a cycle: {}", cycle.join(" → ")),
            )
            .why("a deployment cannot wait for itself")
            .hint("remove one of the `depends_on` entries in the cycle"),
        );
    }
    out
}
