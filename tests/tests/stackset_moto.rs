//! The app's StackSet is the only maker of workload repositories. A
//! repository that exists outside it (made by hand, or by an older ferry
//! that created missing ones itself) is imported into the region's stack
//! instance, images kept, instead of shadowing it: the StackSet's update
//! would otherwise fail on "already exists" at every deploy.

use crate::common;

use common::{example_copy, run_on_moto};
use ferry_aws::app::{Session, deploy_options};
use ferry_test_support::Moto;

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;

/// The chat example's app, initialised on a fresh emulator: the emulator and
/// workspace (kept alive by the caller), a session, and the app's account.
async fn chat_app() -> (Moto, tempfile::TempDir, Session, String) {
    let moto = Moto::start();
    moto.export_env();
    let ws = example_copy("chat");
    run_on_moto(&moto, ws.path(), &["app", "init"]);
    let session = Session::connect(None, deploy_options(false)).await.expect("session");
    let account = session.meta.app("chat").await.expect("record").expect("app").account;
    (moto, ws, session, account)
}

/// The app's one StackSet instance, as ListStackInstances reports it.
async fn instance(session: &Session) -> aws_sdk_cloudformation::types::StackInstanceSummary {
    let instances = session
        .aws
        .cloudformation()
        .list_stack_instances()
        .stack_set_name("chat-infrastructure")
        .send()
        .await
        .expect("ListStackInstances");
    instances.summaries().first().expect("an instance").clone()
}

/// The logical IDs and physical IDs of the region's StackSet instance stack.
async fn instance_resources(session: &Session) -> Vec<(String, String)> {
    let summary = instance(session).await;
    assert_eq!(summary.status().map(|s| s.as_str()), Some("CURRENT"), "{summary:?}");
    let stack = summary.stack_id().expect("the instance's stack");
    let resources =
        ferry_aws::cfn::Cfn::new(session.aws.cloudformation()).stack_resources(stack).await.expect("resources");
    resources.into_iter().map(|r| (r.logical_id, r.physical_id)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repository_made_outside_the_stack_set_is_imported_with_its_images() {
    let (_moto, _ws, session, account) = chat_app().await;
    let tags = indexmap::IndexMap::new();
    let ecr = session.aws.ecr();

    // A workload's repository comes from the StackSet, not from a direct call.
    session.ensure_regional("chat", &account, &["api".to_string()], &tags).await.expect("regional");
    assert!(instance_resources(&session).await.contains(&("ECRRepoApi".into(), "chat/api".into())));

    // `legacy`'s repository was made by hand (app init made the workspace's
    // workloads' own) and holds an image.
    ecr.create_repository().repository_name("chat/legacy").send().await.expect("CreateRepository");
    ecr.put_image()
        .repository_name("chat/legacy")
        .image_manifest(MANIFEST)
        .image_tag("v1")
        .send()
        .await
        .expect("PutImage");

    let both = ["api".to_string(), "legacy".to_string()];
    let before = session.aws.calls.mutating();
    session.ensure_regional("chat", &account, &both, &tags).await.expect("the StackSet takes the repository in");
    let resources = instance_resources(&session).await;
    assert!(resources.contains(&("ECRRepoLegacy".into(), "chat/legacy".into())), "{resources:?}");
    let images = ecr.list_images().repository_name("chat/legacy").send().await.expect("ListImages");
    let tags_kept: Vec<_> = images.image_ids().iter().filter_map(|i| i.image_tag()).collect();
    assert_eq!(tags_kept, ["v1"], "the image is still there");
    let repositories = ecr.describe_repositories().send().await.expect("DescribeRepositories");
    let mut names: Vec<_> = repositories.repositories().iter().filter_map(|r| r.repository_name()).collect();
    names.sort();
    let mut held: Vec<String> =
        resources.iter().filter(|(id, _)| id.starts_with("ECRRepo")).map(|(_, name)| name.clone()).collect();
    held.sort();
    assert_eq!(names, held, "every repository is the StackSet's, and there is no second one");
    assert!(session.aws.calls.mutating() > before, "the import and the StackSet update were made");

    // Converged: the next pass makes no mutating call.
    let before = session.aws.calls.mutating();
    session.ensure_regional("chat", &account, &both, &tags).await.expect("converged");
    assert_eq!(session.aws.calls.mutating(), before, "{:?}", session.aws.calls);
}

/// A StackSet operation that failed on the repository (as ferry's earlier
/// fallback left apps) leaves the instance OUTDATED: the next pass imports
/// the repository and re-syncs the instance.
#[tokio::test(flavor = "multi_thread")]
async fn an_instance_outdated_by_a_shadowing_repository_is_repaired() {
    let (_moto, _ws, session, account) = chat_app().await;
    let tags = indexmap::IndexMap::new();
    session.ensure_regional("chat", &account, &[], &tags).await.expect("regional");

    // The template names `orders` (beside the workspace's workloads) but the
    // instance's update failed on its repository, made by hand before.
    session.aws.ecr().create_repository().repository_name("chat/orders").send().await.expect("CreateRepository");
    let names = ["api", "frontend", "report", "orders"].map(String::from);
    let template = ferry_core::infrastructure::stack_set_template("chat", &names).to_string();
    session
        .aws
        .cloudformation()
        .update_stack_set()
        .stack_set_name("chat-infrastructure")
        .template_body(template)
        .send()
        .await
        .expect("UpdateStackSet");
    let outdated = instance(&session).await;
    assert_eq!(outdated.status().map(|s| s.as_str()), Some("OUTDATED"), "the emulator fails the update");

    session.ensure_regional("chat", &account, &["orders".to_string()], &tags).await.expect("repaired");
    let resources = instance_resources(&session).await;
    for name in names {
        let id = format!("ECRRepo{}{}", name[..1].to_uppercase(), &name[1..]);
        assert!(resources.contains(&(id, format!("chat/{name}"))), "{name}: {resources:?}");
    }
}
