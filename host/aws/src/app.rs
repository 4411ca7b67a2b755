//! Application-level operations that span several AWS services: creating
//! an app (roles stack, StackSet, SSM record), making sure a region has the
//! app's regional resources and every workload its ECR repository, storing
//! addons templates, and tearing everything down again.

use crate::AwsContext;
use crate::cfn::{Cfn, CloudFormationApi, ResourceImport};
use crate::deploy::{DeployError, DeployEvent, DeployOptions, DeployOutcome, Deployable, Deployer};
use crate::error::{AwsError, AwsErrorKind};
use crate::metadata::{AppRecord, EnvRecord, MetadataStore, ParameterStore, Ssm};
use crate::stackset::{StackSetApi, StackSetState, run_operation, wait_operation};
use ferry_core::{infrastructure, naming};
use indexmap::IndexMap;
use std::time::Duration;

/// Copilot's logical ID of the environment's load-balancer access-logs bucket.
pub const ACCESS_LOGS_BUCKET: &str = "ELBAccessLogsBucket";

/// One command's connection to AWS: clients, metadata store, deploy settings.
pub struct Session {
    pub aws: AwsContext,
    pub cfn: Cfn,
    pub meta: MetadataStore<Ssm>,
    pub options: DeployOptions,
    pub region: String,
}

/// Everything that can go wrong in an app-level operation.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error("application {app} does not exist in this account and region")]
    NoApp { app: String },
    #[error("environment {env} of application {app} is not deployed")]
    NoEnv { app: String, env: String },
}

impl ferry_core::Explain for OpsError {
    fn hint(&self) -> Option<String> {
        match self {
            OpsError::Aws(e) => e.hint_text(),
            OpsError::Deploy(e) => e.hint(),
            OpsError::NoApp { app } => Some(format!("run `ferry app init {app}` first")),
            OpsError::NoEnv { env, .. } => Some(format!("run `ferry env deploy -n {env}` first")),
        }
    }
}

/// The app's regional resources, as the StackSet instance reports them.
#[derive(Debug, Clone, Default)]
pub struct Regional {
    /// Bucket for addons templates and pipeline artifacts.
    pub bucket: Option<String>,
    /// KMS key encrypting pipeline artifacts.
    pub kms_key: Option<String>,
}

impl Session {
    pub async fn connect(region: Option<String>, options: DeployOptions) -> Result<Session, AwsError> {
        let aws = AwsContext::load(region).await;
        let region = aws.require_region()?;
        Ok(Session {
            cfn: Cfn::new(aws.cloudformation()),
            meta: MetadataStore::new(Ssm::new(aws.ssm())),
            aws,
            options,
            region,
        })
    }

    pub fn deployer(&self) -> Deployer<Cfn> {
        Deployer::new(Cfn::new(self.aws.cloudformation()), self.options)
    }

    /// The app's record, or an error saying to create it.
    pub async fn require_app(&self, app: &str) -> Result<AppRecord, OpsError> {
        self.meta.app(app).await?.ok_or_else(|| OpsError::NoApp { app: app.to_string() })
    }

    /// The environment's record, or an error saying to deploy it.
    pub async fn require_env(&self, app: &str, env: &str) -> Result<EnvRecord, OpsError> {
        let path = naming::ssm_environment(app, env);
        match self.meta.store().get(&path).await? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                AwsError::new(
                    "ssm:GetParameter",
                    Some(&path),
                    AwsErrorKind::Invalid,
                    format!("not a Copilot record: {e}"),
                )
                .into()
            }),
            None => Err(OpsError::NoEnv { app: app.to_string(), env: env.to_string() }),
        }
    }

    /// Creates (or brings up to date) the app's roles stack, StackSet and
    /// record. Safe to run again.
    pub async fn init_app(
        &self,
        app: &str,
        domain: Option<&str>,
        tags: &IndexMap<String, String>,
        workloads: &[String],
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<AppRecord, OpsError> {
        let account = self.aws.account_id().await?;
        let mut stack_tags = IndexMap::from([(naming::tags::APPLICATION.to_string(), app.to_string())]);
        stack_tags.extend(tags.clone());
        let existing = self.meta.app(app).await?;
        // The domain given now, or the one recorded before (a re-run keeps it).
        let domain =
            domain.map(str::to_string).or(existing.as_ref().map(|a| a.domain.clone())).filter(|d| !d.is_empty());
        let mut template = infrastructure::roles_template(app);
        let mut zone_id = String::new();
        if let Some(domain) = &domain {
            zone_id = crate::domain::zone_id(&self.aws, domain).await?;
            crate::domain::add_app_domain(&mut template, app, domain, &zone_id);
        }
        let roles = Deployable {
            name: naming::app_roles_stack(app),
            template,
            parameters: IndexMap::new(),
            tags: stack_tags.clone(),
            description: format!("roles of application {app}"),
        };
        self.deployer().deploy(&roles, observe).await?;
        self.ensure_regional(app, &account, workloads, &stack_tags).await?;
        let record = AppRecord {
            name: app.to_string(),
            account: account.clone(),
            domain: domain.unwrap_or_default(),
            domain_hosted_zone_id: zone_id,
            version: existing
                .as_ref()
                .map(|a| a.version.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| format!("ferry-v{}", env!("CARGO_PKG_VERSION"))),
            tags: if tags.is_empty() { existing.and_then(|a| a.tags) } else { Some(tags.clone()) },
            ..Default::default()
        };
        self.meta.put_app(&record).await?;
        Ok(record)
    }

    /// Makes sure this region has a StackSet instance whose template covers
    /// `workloads` (an ECR repository each). Makes no mutating call when it does.
    pub async fn ensure_regional(
        &self,
        app: &str,
        account: &str,
        workloads: &[String],
        tags: &IndexMap<String, String>,
    ) -> Result<Regional, OpsError> {
        let target = StackSetTarget { app, account, region: &self.region, workloads, tags };
        let outside = self.repositories_outside_stack_set(&target).await?;
        if !outside.is_empty() {
            self.import_repositories(&target, &outside).await?;
        }
        let state = converge_stack_set(&self.cfn, &target, self.options.poll, self.options.timeout).await?;
        let instance = state.instances.iter().find(|i| i.account == account && i.region == self.region);
        let mut regional = Regional::default();
        if let Some(stack_id) = instance.and_then(|i| i.stack_id.as_deref())
            && let Some(stack) = self.cfn.describe_stack(stack_id).await?
        {
            regional.bucket = stack.outputs.get("PipelineBucket").cloned();
            regional.kms_key = stack.outputs.get("KMSKeyARN").cloned();
        }
        Ok(regional)
    }

    /// Workloads whose ECR repository exists although this region's StackSet
    /// instance does not hold it (made by hand, or by an older ferry that
    /// created missing repositories itself): adding them to the StackSet
    /// would fail with "already exists". Read calls only, and none beyond
    /// the StackSet's own when every workload is in place.
    async fn repositories_outside_stack_set(&self, target: &StackSetTarget<'_>) -> Result<Vec<String>, AwsError> {
        let state = self.cfn.describe_stack_set(&naming::app_stack_set(target.app)).await?;
        let instance = state.as_ref().and_then(|s| {
            s.instances.iter().find(|i| i.account == target.account && i.region == target.region).cloned()
        });
        let have = state
            .as_ref()
            .map(|s| infrastructure::stack_set_workloads(&serde_json::from_str(&s.template_body).unwrap_or_default()))
            .unwrap_or_default();
        let in_sync = instance.as_ref().is_some_and(|i| !i.needs_sync());
        let mut candidates: Vec<String> = target.workloads.iter().filter(|w| !have.contains(w)).cloned().collect();
        if !in_sync {
            candidates.extend(have);
        }
        candidates.sort();
        candidates.dedup();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let held = match instance.as_ref().and_then(|i| i.stack_id.as_deref()) {
            Some(stack) => crate::adopt::parse_template(&self.cfn.get_template(stack).await?)
                .map(|t| t["Resources"].as_object().map(|r| r.keys().cloned().collect::<Vec<_>>()).unwrap_or_default())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let ecr = crate::ecr::Ecr::new(self.aws.ecr());
        let mut outside = Vec::new();
        for workload in candidates {
            if !held.contains(&naming::logical_id("ECRRepo", &workload))
                && ecr.exists(&naming::ecr_repository(target.app, &workload)).await?
            {
                outside.push(workload);
            }
        }
        Ok(outside)
    }

    /// Brings existing repositories into this region's StackSet instance
    /// with an `IMPORT` change set (images kept), so the StackSet's update
    /// then finds them in place. The instance is made first if the region
    /// has none.
    async fn import_repositories(&self, target: &StackSetTarget<'_>, outside: &[String]) -> Result<(), OpsError> {
        let name = naming::app_stack_set(target.app);
        let here =
            |s: &StackSetState| s.instances.iter().any(|i| i.account == target.account && i.region == target.region);
        let mut state = self.cfn.describe_stack_set(&name).await?.unwrap_or_default();
        if !here(&state) {
            let inside: Vec<String> = target.workloads.iter().filter(|w| !outside.contains(w)).cloned().collect();
            let first = StackSetTarget { workloads: &inside, ..*target };
            state = converge_stack_set(&self.cfn, &first, self.options.poll, self.options.timeout).await?;
        }
        let stack = state
            .instances
            .iter()
            .find(|i| i.account == target.account && i.region == target.region)
            .and_then(|i| i.stack_id.clone())
            .ok_or_else(|| {
                AwsError::new(
                    "cloudformation:ListStackInstances",
                    Some(&name),
                    AwsErrorKind::NotFound,
                    format!("the StackSet has no stack instance in {} to import repositories into", target.region),
                )
            })?;
        let mut template = crate::adopt::parse_template(&self.cfn.get_template(&stack).await?)
            .map_err(|why| AwsError::new("cloudformation:GetTemplate", Some(&stack), AwsErrorKind::Other, why))?;
        let wanted = infrastructure::stack_set_template(target.app, outside);
        let mut imports = Vec::new();
        for workload in outside {
            let id = naming::logical_id("ECRRepo", workload);
            let mut resource = wanted["Resources"][&id].clone();
            // An import needs a DeletionPolicy; the StackSet's next update
            // sets the resource to its usual shape.
            resource["DeletionPolicy"] = "Retain".into();
            template["Resources"][&id] = resource;
            imports.push(ResourceImport {
                logical_id: id,
                resource_type: "AWS::ECR::Repository".into(),
                identifier: IndexMap::from([(
                    "RepositoryName".to_string(),
                    naming::ecr_repository(target.app, workload),
                )]),
            });
        }
        self.deployer().import(&stack, &template, &imports, &mut |_| {}).await?;
        Ok(())
    }

    /// Stores an addons template where its nested stack can read it: under a
    /// content hash, so an unchanged template keeps its URL and is not uploaded again.
    pub async fn upload_template(
        &self,
        bucket: &str,
        workload: &str,
        template: &serde_json::Value,
    ) -> Result<String, AwsError> {
        use sha2::{Digest, Sha256};
        let body = serde_json::to_vec_pretty(template).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&body));
        let key = format!("manual/addons/{workload}/{digest}.json");
        let s3 = self.aws.s3();
        let exists = s3.head_object().bucket(bucket).key(&key).send().await.is_ok();
        if !exists {
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.into())
                .content_type("application/json")
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("s3:PutObject", Some(&format!("s3://{bucket}/{key}")), e))?;
        }
        Ok(format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region))
    }

    /// Deletes a stack and waits until it is gone; a missing stack is fine.
    pub async fn delete_stack(
        &self,
        stack: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<bool, OpsError> {
        Ok(self.deployer().delete(stack, observe).await?)
    }

    /// Deletes a workload stack and waits until it is gone (a missing stack
    /// is fine), first undoing what the host did beside it that
    /// CloudFormation does not know: an RDWS alias's App Runner custom
    /// domain and its records (see [`crate::custom_domain::disassociate`]).
    pub async fn delete_workload_stack(
        &self,
        stack: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<bool, OpsError> {
        crate::custom_domain::disassociate(&self.aws, &self.cfn, stack).await?;
        self.delete_stack(stack, observe).await
    }

    /// Deletes an environment stack after removing the DNS validation
    /// records its certificates left (see
    /// [`crate::domain::delete_stack_validation_records`]) and emptying its
    /// access-logs bucket (Copilot empties it with its `ELBAccessLogsBucketCleanerAction`
    /// Lambda; CloudFormation cannot delete a bucket that holds objects).
    pub async fn delete_environment_stack(
        &self,
        stack: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<bool, OpsError> {
        if self.cfn.describe_stack(stack).await?.is_none() {
            return Ok(false);
        }
        // The validation records of its certificates, so its zone can go too.
        crate::domain::delete_stack_validation_records(&self.aws, &self.cfn, stack).await?;
        for resource in self.cfn.stack_resources(stack).await? {
            if resource.logical_id == ACCESS_LOGS_BUCKET
                && resource.resource_type == "AWS::S3::Bucket"
                && !resource.physical_id.is_empty()
            {
                crate::upload::empty_bucket(&self.aws, &resource.physical_id).await?;
            }
        }
        let deleted = self.delete_stack(stack, observe).await?;
        // Its CloudFront certificate in us-east-1, once the distribution is gone.
        self.delete_workload_companions(stack).await?;
        Ok(deleted)
    }

    /// Removes the app's StackSet instances (ECR repositories with their
    /// images, the artifact bucket is retained), the StackSet and the roles stack.
    pub async fn delete_app_infrastructure(
        &self,
        app: &str,
        observe: &mut (dyn FnMut(DeployEvent) + Send),
    ) -> Result<(), OpsError> {
        let name = naming::app_stack_set(app);
        if let Some(state) = self.cfn.describe_stack_set(&name).await? {
            for instance in &state.instances {
                let op = self.cfn.delete_stack_instances(&name, &instance.account, &instance.region).await?;
                wait_operation(&self.cfn, &name, &op, self.options.poll, self.options.timeout).await?;
            }
            self.cfn.delete_stack_set(&name).await?;
        }
        self.delete_stack(&naming::app_roles_stack(app), observe).await?;
        Ok(())
    }

    /// Deletes what ferry keeps beside a workload stack in other regions
    /// (the us-east-1 certificate of a Static Site alias) and the DNS
    /// validation record it left. Returns whether there was anything.
    pub async fn delete_workload_companions(&self, workload_stack: &str) -> Result<bool, OpsError> {
        Ok(crate::domain::delete_certificate(
            &self.aws,
            self.options,
            workload_stack,
            crate::domain::CLOUDFRONT_CERTIFICATE_REGION,
        )
        .await?)
    }

    /// Deletes every `/copilot/` parameter of the app: records and secrets.
    pub async fn delete_app_parameters(&self, app: &str) -> Result<usize, AwsError> {
        let store = self.meta.store();
        let mut names = store.names_under(&naming::ssm_application(app)).await?;
        names.extend(store.names_under(&format!("/copilot/{app}")).await?);
        names.push(naming::ssm_application(app));
        names.sort();
        names.dedup();
        for name in &names {
            store.delete(name).await?;
        }
        Ok(names.len())
    }
}

/// Deploy options for a command: polling fast against a local emulator.
pub fn deploy_options(force: bool) -> DeployOptions {
    let local = std::env::var("AWS_ENDPOINT_URL").is_ok_and(|u| u.contains("127.0.0.1") || u.contains("localhost"));
    DeployOptions {
        poll: if local { Duration::from_millis(100) } else { Duration::from_secs(3) },
        timeout: Duration::from_secs(3600),
        force,
    }
}

/// Whether a deploy outcome changed anything.
pub fn changed(outcome: DeployOutcome) -> bool {
    outcome != DeployOutcome::UpToDate
}

/// Where the app's StackSet must have an instance, and what it must hold.
pub struct StackSetTarget<'a> {
    pub app: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub workloads: &'a [String],
    pub tags: &'a IndexMap<String, String>,
}

/// Brings the app's StackSet to `target`: created when missing; its template
/// updated when a workload's repository is missing from it, or when an
/// instance missed an operation (a failed update leaves it `OUTDATED`: the
/// template alone would say nothing is missing); an instance added for the
/// region. Each operation waits its turn behind one already running. Makes
/// no mutating call when all is in place.
pub async fn converge_stack_set<A: StackSetApi>(
    api: &A,
    target: &StackSetTarget<'_>,
    poll: Duration,
    timeout: Duration,
) -> Result<StackSetState, AwsError> {
    let name = naming::app_stack_set(target.app);
    let mut wanted: Vec<String> = target.workloads.to_vec();
    let Some(state) = api.describe_stack_set(&name).await? else {
        let template = infrastructure::stack_set_template(target.app, &wanted);
        let admin = format!("arn:aws:iam::{}:role/{}", target.account, infrastructure::admin_role_name(target.app));
        api.create_stack_set(
            &name,
            &template.to_string(),
            &admin,
            &infrastructure::execution_role_name(target.app),
            target.tags,
        )
        .await?;
        run_operation(api, &name, poll, timeout, || api.create_stack_instances(&name, target.account, target.region))
            .await?;
        return Ok(api.describe_stack_set(&name).await?.unwrap_or_default());
    };
    let deployed: serde_json::Value = serde_json::from_str(&state.template_body).unwrap_or_default();
    let have = infrastructure::stack_set_workloads(&deployed);
    let missing = wanted.iter().any(|w| !have.contains(w));
    let out_of_sync = state.instances.iter().any(|i| i.needs_sync());
    wanted.extend(have);
    let mut changed = false;
    if missing || out_of_sync {
        let template = infrastructure::stack_set_template(target.app, &wanted).to_string();
        run_operation(api, &name, poll, timeout, || api.update_stack_set(&name, &template)).await?;
        changed = true;
    }
    if !state.instances.iter().any(|i| i.account == target.account && i.region == target.region) {
        run_operation(api, &name, poll, timeout, || api.create_stack_instances(&name, target.account, target.region))
            .await?;
        changed = true;
    }
    Ok(if changed { api.describe_stack_set(&name).await?.unwrap_or_default() } else { state })
}

#[cfg(test)]
mod tests {
    //! StackSet convergence against a scripted StackSet API: the failures
    //! (a concurrent operation, an instance left behind) moto cannot produce.
    use super::*;
    use crate::stackset::StackInstance;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Fake {
        state: Mutex<Option<StackSetState>>,
        /// How many more UpdateStackSet calls answer OperationInProgress.
        busy: Mutex<u32>,
        calls: Mutex<Vec<String>>,
    }

    impl Fake {
        fn log(&self, call: &str) {
            self.calls.lock().unwrap().push(call.into());
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl StackSetApi for Fake {
        async fn describe_stack_set(&self, _: &str) -> Result<Option<StackSetState>, AwsError> {
            self.log("DescribeStackSet");
            Ok(self.state.lock().unwrap().clone())
        }
        async fn create_stack_set(
            &self,
            _: &str,
            template: &str,
            _: &str,
            _: &str,
            _: &IndexMap<String, String>,
        ) -> Result<(), AwsError> {
            self.log("CreateStackSet");
            *self.state.lock().unwrap() = Some(StackSetState { template_body: template.into(), instances: vec![] });
            Ok(())
        }
        async fn update_stack_set(&self, name: &str, template: &str) -> Result<String, AwsError> {
            self.log("UpdateStackSet");
            let mut busy = self.busy.lock().unwrap();
            if *busy > 0 {
                *busy -= 1;
                let mut err = AwsError::new(
                    "cloudformation:UpdateStackSet",
                    Some(name),
                    AwsErrorKind::Other,
                    "Another Operation on StackSet is in progress",
                );
                err.code = Some("OperationInProgressException".into());
                return Err(err);
            }
            let mut state = self.state.lock().unwrap();
            let state = state.as_mut().expect("a StackSet");
            state.template_body = template.into();
            for instance in &mut state.instances {
                instance.status = "CURRENT".into();
            }
            Ok("op-update".into())
        }
        async fn create_stack_instances(&self, _: &str, account: &str, region: &str) -> Result<String, AwsError> {
            self.log("CreateStackInstances");
            let mut state = self.state.lock().unwrap();
            state.as_mut().expect("a StackSet").instances.push(StackInstance {
                account: account.into(),
                region: region.into(),
                stack_id: Some("stack-1".into()),
                status: "CURRENT".into(),
            });
            Ok("op-instances".into())
        }
        async fn delete_stack_instances(&self, _: &str, _: &str, _: &str) -> Result<String, AwsError> {
            unreachable!("not part of converging")
        }
        async fn delete_stack_set(&self, _: &str) -> Result<(), AwsError> {
            unreachable!("not part of converging")
        }
        async fn operation_done(&self, _: &str, _: &str) -> Result<Option<Result<(), String>>, AwsError> {
            self.log("DescribeStackSetOperation");
            Ok(Some(Ok(())))
        }
    }

    fn deployed(workloads: &[&str], instance_status: &str) -> Fake {
        let workloads: Vec<String> = workloads.iter().map(|w| w.to_string()).collect();
        Fake {
            state: Mutex::new(Some(StackSetState {
                template_body: infrastructure::stack_set_template("chat", &workloads).to_string(),
                instances: vec![StackInstance {
                    account: "123456789012".into(),
                    region: "us-west-2".into(),
                    stack_id: Some("stack-1".into()),
                    status: instance_status.into(),
                }],
            })),
            ..Default::default()
        }
    }

    async fn converge(fake: &Fake, workloads: &[&str]) -> Result<StackSetState, AwsError> {
        let workloads: Vec<String> = workloads.iter().map(|w| w.to_string()).collect();
        let tags = IndexMap::new();
        let target = StackSetTarget {
            app: "chat",
            account: "123456789012",
            region: "us-west-2",
            workloads: &workloads,
            tags: &tags,
        };
        converge_stack_set(fake, &target, Duration::from_millis(1), Duration::from_secs(5)).await
    }

    fn mutating(fake: &Fake) -> Vec<String> {
        fake.calls().into_iter().filter(|c| !c.starts_with("Describe")).collect()
    }

    #[tokio::test]
    async fn in_place_is_left_alone() {
        let fake = deployed(&["api", "frontend"], "CURRENT");
        converge(&fake, &["api"]).await.unwrap();
        assert_eq!(mutating(&fake), Vec::<String>::new());
    }

    #[tokio::test]
    async fn an_update_waits_behind_a_running_operation() {
        let fake = deployed(&["api"], "CURRENT");
        *fake.busy.lock().unwrap() = 2;
        let state = converge(&fake, &["api", "frontend"]).await.unwrap();
        assert_eq!(mutating(&fake), ["UpdateStackSet", "UpdateStackSet", "UpdateStackSet"]);
        let template: serde_json::Value = serde_json::from_str(&state.template_body).unwrap();
        assert_eq!(infrastructure::stack_set_workloads(&template), ["api", "frontend"]);
    }

    /// A failed update leaves the template with the repository and the
    /// instance without it: the instance's status, not the template, says
    /// the update must run again.
    #[tokio::test]
    async fn an_instance_left_outdated_by_a_failed_operation_is_synced_again() {
        let fake = deployed(&["api", "frontend"], "OUTDATED");
        let state = converge(&fake, &["frontend"]).await.unwrap();
        assert_eq!(mutating(&fake), ["UpdateStackSet"]);
        assert!(state.instances.iter().all(|i| i.status == "CURRENT"), "{state:?}");
    }

    #[tokio::test]
    async fn a_new_region_gets_an_instance() {
        let fake = deployed(&["api"], "CURRENT");
        fake.state.lock().unwrap().as_mut().unwrap().instances[0].region = "eu-west-1".into();
        let state = converge(&fake, &["api"]).await.unwrap();
        assert_eq!(mutating(&fake), ["CreateStackInstances"]);
        assert_eq!(state.instances.len(), 2);
    }
}
