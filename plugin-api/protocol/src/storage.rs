//! What `ferry storage init` sends a storage plugin (plugin kind `storage`,
//! ABI 0.4 and later): the answers (flags or prompts) as the manifest, and
//! in [`RenderContext::storage`](crate::RenderContext::storage) what to
//! render and what it attaches to.

use serde::{Deserialize, Serialize};

/// The answers of `storage init`, as the storage plugin's manifest. Keys are
/// the long flags (`partition-key`, `initial-db`, ...), so a diagnostic at
/// `/partition-key` names `--partition-key`. Flags a storage type does not
/// use are absent; a plugin refuses the ones it does not understand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StorageAnswers {
    /// `--name`: the storage resource's name.
    pub name: String,
    /// `--storage-type`: one of the plugin's manifest types.
    pub storage_type: String,
    /// `--lifecycle`: `workload` or `environment`.
    pub lifecycle: Lifecycle,
    /// `--workload` (or `--add-ingress-from`): the workload that uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// `--partition-key` (`name:type`, type S, N or B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// `--sort-key` (`name:type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<String>,
    /// `--no-sort`: no sort key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_sort: bool,
    /// `--lsi` (`name:type`, repeatable): local secondary indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lsi: Vec<String>,
    /// `--no-lsi`: no local secondary index.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_lsi: bool,
    /// `--engine` (`MySQL` or `PostgreSQL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// `--initial-db`: the database created with the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_db: Option<String>,
    /// `--parameter-group`: an existing DB cluster parameter group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_group: Option<String>,
}

/// Whose lifecycle a storage resource follows (`--lifecycle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lifecycle {
    /// Created and deleted with one workload: `copilot/<workload>/addons/`.
    #[default]
    Workload,
    /// Created and deleted with each environment:
    /// `copilot/environments/addons/`.
    Environment,
}

impl Lifecycle {
    /// `workload` or `environment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Workload => "workload",
            Lifecycle::Environment => "environment",
        }
    }
}

/// Which file one storage render produces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoragePart {
    /// The storage resource itself: a workload addon
    /// (`copilot/<workload>/addons/<name>.yml`) or an environment addon
    /// (`copilot/environments/addons/<name>.yml`), per the lifecycle.
    #[default]
    Addon,
    /// For environment storage: the workload addon
    /// (`copilot/<workload>/addons/<name>-access-policy.yml`) that gives the
    /// workload access to it. A plugin with nothing to give renders a
    /// template without resources, and the host writes no file.
    AccessPolicy,
}

/// [`RenderContext::storage`](crate::RenderContext::storage): what one
/// storage render is for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageTarget {
    /// The file to render.
    pub part: StoragePart,
    /// The lifecycle (also in the answers).
    pub lifecycle: Lifecycle,
    /// The workload it attaches to, if any.
    #[serde(default)]
    pub workload: Option<String>,
    /// That workload's manifest `type`, when known (e.g. a Request-Driven
    /// Web Service reaches a database through a VPC connector).
    #[serde(default)]
    pub workload_type: Option<String>,
    /// The application's environments known to the workspace, for
    /// per-environment mappings.
    #[serde(default)]
    pub environments: Vec<String>,
}

/// Letters and digits of `name` only: Copilot's `logicalIDSafe`, used for
/// logical IDs and output names of storage addons.
pub fn logical_id_safe(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The output whose value Copilot injects as the storage's environment
/// variable (`<logicalIDSafe>Name`, injected as `<NAME>_NAME`).
pub fn env_var_output(name: &str) -> String {
    format!("{}Name", logical_id_safe(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_use_the_flag_names_and_omit_unset_flags() {
        let answers = StorageAnswers {
            name: "orders".into(),
            storage_type: "DynamoDB".into(),
            partition_key: Some("id:S".into()),
            no_lsi: true,
            ..Default::default()
        };
        let json = serde_json::to_value(&answers).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name": "orders", "storage-type": "DynamoDB", "lifecycle": "workload",
                "partition-key": "id:S", "no-lsi": true})
        );
        assert_eq!(serde_json::from_value::<StorageAnswers>(json).unwrap(), answers);
    }

    #[test]
    fn names_become_logical_ids_as_copilot_makes_them() {
        assert_eq!(logical_id_safe("my-bucket_1.x"), "mybucket1x");
        assert_eq!(env_var_output("my-bucket"), "mybucketName");
    }
}
