//! The bundled `CodeCommit` release-pipeline source: an AWS CodeCommit
//! repository in the pipeline's account and region. CodePipeline does not
//! poll it: an EventBridge rule on the branch's updates starts the pipeline,
//! through a role allowed nothing but `codepipeline:StartPipelineExecution`.

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::pipeline::{self, PIPELINE_LOGICAL_ID, SOURCE_ARTIFACT, Source, SourceStage};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Severity, Value, json};

/// The `source.provider` value this plugin serves.
pub const PROVIDER: &str = "CodeCommit";

/// Logical IDs of what this plugin adds.
pub mod ids {
    pub const RULE: &str = "SourceEventRule";
    pub const RULE_ROLE: &str = "SourceEventRole";
}

/// The `source:` section `pipeline init` writes.
pub const SOURCE_TEMPLATE: &str = "source:
  provider: CodeCommit
  properties:
    branch: {{branch}}
    repository: {{url}}
";

pub struct CodeCommitSource;

/// A repository named by its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    /// The region in the URL, when it has one.
    pub region: Option<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Reads the CodeCommit URL forms people copy: the HTTPS clone URL
/// (`https://git-codecommit.<region>.amazonaws.com/v1/repos/<name>`), the
/// `codecommit::<region>://<name>` remote helper form and the console URL.
pub fn parse_repository(url: &str) -> Option<Repository> {
    let url = url.trim().trim_end_matches('/');
    if let Some(rest) = url.strip_prefix("https://git-codecommit.")
        && let Some((region, name)) = rest.split_once(".amazonaws.com/v1/repos/")
    {
        return valid_name(name).then(|| Repository { name: name.into(), region: Some(region.into()) });
    }
    if let Some(rest) = url.strip_prefix("codecommit::")
        && let Some((region, name)) = rest.split_once("://")
    {
        return valid_name(name).then(|| Repository { name: name.into(), region: Some(region.into()) });
    }
    if let Some(name) = url.strip_prefix("codecommit://") {
        return valid_name(name).then(|| Repository { name: name.into(), region: None });
    }
    if let Some(rest) = url.strip_prefix("https://")
        && let Some((host, path)) = rest.split_once(".console.aws.amazon.com/codesuite/codecommit/repositories/")
    {
        let name = path.split('/').next().unwrap_or_default();
        return valid_name(name).then(|| Repository { name: name.into(), region: Some(host.into()) });
    }
    None
}

fn check(source: &Source, context: &RenderContext) -> Result<Repository, Vec<Diagnostic>> {
    let mut out = pipeline::check_common(&source.properties, false);
    let url = &source.properties.repository;
    let repo = parse_repository(url);
    match &repo {
        None => out.push(
            Diagnostic::error("/source/properties/repository", format!("`{url}` is not a CodeCommit repository URL"))
                .with_hint(
                    "CodeCommit repositories look like https://git-codecommit.<region>.amazonaws.com/v1/repos/<name>; check `provider:` if the repository lives elsewhere",
                ),
        ),
        Some(Repository { region: Some(region), .. }) => {
            if let Some(pipeline_region) = &context.region
                && pipeline_region != region
            {
                out.push(
                    Diagnostic::error(
                        "/source/properties/repository",
                        format!("the repository is in {region}, the pipeline in {pipeline_region}"),
                    )
                    .with_hint("CodePipeline reads CodeCommit only in its own region: deploy the pipeline there"),
                );
            }
        }
        Some(_) => {}
    }
    match repo {
        Some(repo) if !out.iter().any(|d| d.severity == Severity::Error) => Ok(repo),
        _ => Err(out),
    }
}

impl Plugin for CodeCommitSource {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "codecommit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            manifest_types: vec![PROVIDER.into()],
            manifest_schema: pipeline::source_schema(),
            manifest_template: SOURCE_TEMPLATE.into(),
        }
    }

    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        match pipeline::parse_source(manifest).and_then(|s| check(&s, &RenderContext::default())) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics,
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let source = pipeline::parse_source(manifest)?;
        let repo = check(&source, context)?;
        Ok(render(&source, &repo, context))
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(CodeCommitSource, pipeline_provider);

/// The rule, its role and the source action.
pub fn render(source: &Source, repo: &Repository, context: &RenderContext) -> Rendered {
    let props = &source.properties;
    let branch = pipeline::branch(props);
    let format = props.output_artifact_format.clone().unwrap_or_else(|| "CODE_ZIP".to_string());
    let repo_arn =
        cfn::sub(&format!("arn:${{AWS::Partition}}:codecommit:${{AWS::Region}}:${{AWS::AccountId}}:{}", repo.name));
    let pipeline_arn = cfn::sub(&format!(
        "arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:${{{PIPELINE_LOGICAL_ID}}}"
    ));
    let mut template = Template::new();
    template.resource(
        ids::RULE_ROLE,
        Resource::new("AWS::IAM::Role")
            .prop(
                "AssumeRolePolicyDocument",
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]
                }),
            )
            .prop(
                "Policies",
                json!([{
                    "PolicyName": "StartPipeline",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "codepipeline:StartPipelineExecution", "Resource": pipeline_arn.clone()}]
                    }
                }]),
            )
            .describe("Role the source event rule starts the pipeline with"),
    );
    template.resource(
        ids::RULE,
        Resource::new("AWS::Events::Rule")
            .prop("Description", format!("Starts pipeline {} on pushes to {}:{branch}", context.name, repo.name))
            .prop(
                "EventPattern",
                json!({
                    "source": ["aws.codecommit"],
                    "detail-type": ["CodeCommit Repository State Change"],
                    "resources": [repo_arn.clone()],
                    "detail": {
                        "event": ["referenceCreated", "referenceUpdated"],
                        "referenceType": ["branch"],
                        "referenceName": [branch.as_str()]
                    }
                }),
            )
            .prop(
                "Targets",
                json!([{"Arn": pipeline_arn, "RoleArn": cfn::get_att(ids::RULE_ROLE, "Arn"), "Id": "pipeline"}]),
            )
            .describe("Rule starting the pipeline when the branch changes"),
    );
    let action = json!({
        "Name": "Source",
        "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "CodeCommit", "Version": "1"},
        "Configuration": {
            "RepositoryName": &repo.name,
            "BranchName": &branch,
            "PollForSourceChanges": false,
            "OutputArtifactFormat": &format
        },
        "OutputArtifacts": [{"Name": SOURCE_ARTIFACT}],
        "RunOrder": 1
    });
    let read = json!({
        "Sid": "ReadSourceRepository",
        "Effect": "Allow",
        "Action": [
            "codecommit:GetBranch", "codecommit:GetCommit", "codecommit:UploadArchive",
            "codecommit:GetUploadArchiveStatus", "codecommit:CancelUploadArchive"
        ],
        "Resource": repo_arn.clone()
    });
    let pull = json!({"Sid": "CloneSourceRepository", "Effect": "Allow", "Action": "codecommit:GitPull", "Resource": repo_arn});
    let stage = SourceStage {
        action,
        pipeline_role_statements: vec![read],
        build_role_statements: if format == "CODEBUILD_CLONE_REF" { vec![pull] } else { Vec::new() },
        connection: None,
        repository: props.repository.clone(),
        branch,
    };
    pipeline::set_source_stage(&mut template, &stage);
    Rendered { template, parameters: Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let r = |u: &str| parse_repository(u).map(|r| (r.name, r.region));
        assert_eq!(
            r("https://git-codecommit.us-west-2.amazonaws.com/v1/repos/chat"),
            Some(("chat".into(), Some("us-west-2".into())))
        );
        assert_eq!(r("codecommit::eu-west-1://chat-app"), Some(("chat-app".into(), Some("eu-west-1".into()))));
        assert_eq!(
            r("https://us-east-1.console.aws.amazon.com/codesuite/codecommit/repositories/chat/browse"),
            Some(("chat".into(), Some("us-east-1".into())))
        );
        assert_eq!(r("https://github.com/acme/chat"), None);
        assert_eq!(r("https://git-codecommit.us-west-2.amazonaws.com/v1/repos/"), None);
    }
}
