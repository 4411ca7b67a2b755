//! Application, environment and workload records in SSM Parameter Store,
//! exactly where and how Copilot keeps them, so either tool can read the
//! other's apps.

use crate::error::{AwsError, AwsErrorKind};
use ferry_core::naming;
use serde::{Deserialize, Serialize};

/// `/copilot/applications/<app>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRecord {
    pub name: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub domain: String,
    #[serde(rename = "domainHostedZoneID", default)]
    pub domain_hosted_zone_id: String,
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<indexmap::IndexMap<String, String>>,
    /// Fields ferry does not use, kept so a rewrite does not drop Copilot's data.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `/copilot/applications/<app>/environments/<env>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvRecord {
    pub app: String,
    pub name: String,
    #[serde(default)]
    pub region: String,
    #[serde(rename = "accountID", default)]
    pub account_id: String,
    #[serde(rename = "registryURL", default)]
    pub registry_url: String,
    #[serde(rename = "executionRoleARN", default)]
    pub execution_role_arn: String,
    #[serde(rename = "managerRoleARN", default)]
    pub manager_role_arn: String,
    /// Fields ferry does not use, kept so a rewrite does not drop Copilot's data.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `/copilot/applications/<app>/components/<workload>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRecord {
    pub app: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Fields ferry does not use, kept so a rewrite does not drop Copilot's data.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The parameter-store calls the metadata store makes.
#[allow(async_fn_in_trait)]
pub trait ParameterStore {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError>;
    async fn put(&self, name: &str, value: &str, tags: &[(&str, &str)]) -> Result<(), AwsError>;
    /// Names and values directly under `path` (not recursive).
    async fn list(&self, path: &str) -> Result<Vec<(String, String)>, AwsError>;
    async fn delete(&self, name: &str) -> Result<(), AwsError>;
    /// Writes a SecureString; false when it exists and `overwrite` is off.
    async fn put_secure(
        &self,
        name: &str,
        value: &str,
        tags: &[(&str, &str)],
        overwrite: bool,
    ) -> Result<bool, AwsError>;
    /// Names of every parameter under `path`, recursively.
    async fn names_under(&self, path: &str) -> Result<Vec<String>, AwsError>;
}

fn ssm_tags(name: &str, tags: &[(&str, &str)]) -> Result<Vec<aws_sdk_ssm::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_ssm::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .map_err(|e| AwsError::new("ssm:PutParameter", Some(name), AwsErrorKind::Invalid, e.to_string()))
        })
        .collect()
}

/// The real parameter store.
pub struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Ssm { client }
    }
}

impl ParameterStore for Ssm {
    async fn get(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.client.get_parameter().name(name).send().await {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
            Err(e) => {
                let err = AwsError::from_sdk("ssm:GetParameter", Some(name), e);
                if err.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(err) }
            }
        }
    }

    /// Writes only when the value differs: an unchanged redeploy must not mutate.
    async fn put(&self, name: &str, value: &str, tags: &[(&str, &str)]) -> Result<(), AwsError> {
        let existing = self.get(name).await?;
        if existing.as_deref() == Some(value) {
            return Ok(());
        }
        let mut call =
            self.client.put_parameter().name(name).value(value).r#type(aws_sdk_ssm::types::ParameterType::String);
        if existing.is_some() {
            call = call.overwrite(true);
        } else {
            call = call.set_tags(Some(ssm_tags(name, tags)?));
        }
        call.send().await.map_err(|e| AwsError::from_sdk("ssm:PutParameter", Some(name), e))?;
        Ok(())
    }

    async fn put_secure(
        &self,
        name: &str,
        value: &str,
        tags: &[(&str, &str)],
        overwrite: bool,
    ) -> Result<bool, AwsError> {
        let exists = match self.client.get_parameter().name(name).send().await {
            Ok(_) => true,
            Err(e) => {
                let err = AwsError::from_sdk("ssm:GetParameter", Some(name), e);
                if err.kind == AwsErrorKind::NotFound { false } else { return Err(err) }
            }
        };
        if exists && !overwrite {
            return Ok(false);
        }
        let mut call =
            self.client.put_parameter().name(name).value(value).r#type(aws_sdk_ssm::types::ParameterType::SecureString);
        if exists {
            call = call.overwrite(true);
        } else {
            call = call.set_tags(Some(ssm_tags(name, tags)?));
        }
        call.send().await.map_err(|e| AwsError::from_sdk("ssm:PutParameter", Some(name), e))?;
        if exists {
            // Tags cannot be passed with overwrite; keep them current separately.
            self.client
                .add_tags_to_resource()
                .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(ssm_tags(name, tags)?))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:AddTagsToResource", Some(name), e))?;
        }
        Ok(true)
    }

    async fn names_under(&self, path: &str) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .get_parameters_by_path()
                .path(path)
                .recursive(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:GetParametersByPath", Some(path), e))?;
            out.extend(page.parameters().iter().filter_map(|p| p.name().map(str::to_string)));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn list(&self, path: &str) -> Result<Vec<(String, String)>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .get_parameters_by_path()
                .path(path)
                .recursive(false)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ssm:GetParametersByPath", Some(path), e))?;
            for p in page.parameters() {
                if let (Some(n), Some(v)) = (p.name(), p.value()) {
                    out.push((n.to_string(), v.to_string()));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::from_sdk("ssm:DeleteParameter", Some(name), e);
                if err.kind == AwsErrorKind::NotFound { Ok(()) } else { Err(err) }
            }
        }
    }
}

/// Typed access to the Copilot records.
pub struct MetadataStore<P> {
    store: P,
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, json: &str) -> Result<T, AwsError> {
    serde_json::from_str(json).map_err(|e| {
        AwsError::new(
            "ssm:GetParameter",
            Some(name),
            AwsErrorKind::Invalid,
            format!("the record is not in Copilot's format: {e}"),
        )
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl<P: ParameterStore> MetadataStore<P> {
    pub fn new(store: P) -> Self {
        MetadataStore { store }
    }

    pub fn store(&self) -> &P {
        &self.store
    }

    pub async fn app(&self, app: &str) -> Result<Option<AppRecord>, AwsError> {
        let name = naming::ssm_application(app);
        self.store.get(&name).await?.map(|json| parse(&name, &json)).transpose()
    }

    pub async fn put_app(&self, record: &AppRecord) -> Result<(), AwsError> {
        let tags = [(naming::tags::APPLICATION, record.name.as_str())];
        self.store.put(&naming::ssm_application(&record.name), &to_json(record), &tags).await
    }

    pub async fn apps(&self) -> Result<Vec<AppRecord>, AwsError> {
        let mut apps = Vec::new();
        for (name, json) in self.store.list("/copilot/applications").await? {
            apps.push(parse(&name, &json)?);
        }
        apps.sort_by(|a: &AppRecord, b| a.name.cmp(&b.name));
        Ok(apps)
    }

    pub async fn envs(&self, app: &str) -> Result<Vec<EnvRecord>, AwsError> {
        let mut envs = Vec::new();
        for (name, json) in self.store.list(&format!("{}/environments", naming::ssm_application(app))).await? {
            envs.push(parse(&name, &json)?);
        }
        envs.sort_by(|a: &EnvRecord, b| a.name.cmp(&b.name));
        Ok(envs)
    }

    pub async fn put_env(&self, record: &EnvRecord) -> Result<(), AwsError> {
        let tags =
            [(naming::tags::APPLICATION, record.app.as_str()), (naming::tags::ENVIRONMENT, record.name.as_str())];
        self.store.put(&naming::ssm_environment(&record.app, &record.name), &to_json(record), &tags).await
    }

    pub async fn delete_env(&self, app: &str, env: &str) -> Result<(), AwsError> {
        self.store.delete(&naming::ssm_environment(app, env)).await
    }

    pub async fn workloads(&self, app: &str) -> Result<Vec<WorkloadRecord>, AwsError> {
        let mut workloads = Vec::new();
        for (name, json) in self.store.list(&format!("{}/components", naming::ssm_application(app))).await? {
            workloads.push(parse(&name, &json)?);
        }
        workloads.sort_by(|a: &WorkloadRecord, b| a.name.cmp(&b.name));
        Ok(workloads)
    }

    pub async fn put_workload(&self, record: &WorkloadRecord) -> Result<(), AwsError> {
        let tags = [(naming::tags::APPLICATION, record.app.as_str()), (naming::tags::SERVICE, record.name.as_str())];
        self.store.put(&naming::ssm_workload(&record.app, &record.name), &to_json(record), &tags).await
    }

    pub async fn delete_workload(&self, app: &str, workload: &str) -> Result<(), AwsError> {
        self.store.delete(&naming::ssm_workload(app, workload)).await
    }

    pub async fn delete_app(&self, app: &str) -> Result<(), AwsError> {
        self.store.delete(&naming::ssm_application(app)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_use_copilot_field_names() {
        let env = EnvRecord {
            app: "chat".into(),
            name: "test".into(),
            account_id: "1".into(),
            registry_url: "r".into(),
            ..Default::default()
        };
        let json: serde_json::Value = serde_json::from_str(&to_json(&env)).unwrap();
        assert_eq!(json["accountID"], "1");
        assert_eq!(json["registryURL"], "r");
        assert!(json.get("executionRoleARN").is_some());
        let w: WorkloadRecord =
            serde_json::from_str(r#"{"app":"chat","name":"api","type":"Backend Service"}"#).unwrap();
        assert_eq!(w.kind, "Backend Service");
        let app: AppRecord =
            serde_json::from_str(r#"{"name":"chat","account":"1","domain":"","version":"v1.2.0"}"#).unwrap();
        assert_eq!(app.version, "v1.2.0");
    }
}
