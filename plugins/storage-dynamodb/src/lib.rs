//! The bundled "DynamoDB" storage type of `ferry storage init`: a DynamoDB
//! table (partition key, optional sort key, local secondary indexes) as a
//! workload addon or an environment addon, laid out as Copilot lays out its
//! DynamoDB storage.

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::storage::{self, Lifecycle, StorageAnswers, StoragePart};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};

/// The storage type this plugin offers.
pub const STORAGE_TYPE: &str = "DynamoDB";

/// DynamoDB allows at most five local secondary indexes per table.
const MAX_LSI: usize = 5;

/// The answers this type takes besides name, lifecycle and workload.
const FLAGS: &[&str] = &["partition-key", "sort-key", "no-sort", "lsi", "no-lsi"];

pub struct DynamoDbStorage;

impl Plugin for DynamoDbStorage {
    fn info() -> PluginInfo {
        storage::info(
            "dynamodb",
            env!("CARGO_PKG_VERSION"),
            "An Amazon DynamoDB table, as a workload or environment addon",
            STORAGE_TYPE,
        )
    }

    fn documentation() -> Option<String> {
        Some(storage::DOCUMENTATION.into())
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let answers = storage::answers(manifest, FLAGS)?;
        let table = Table::from_answers(&answers)?;
        let target = storage::target(context);
        let template = match (target.part, target.lifecycle) {
            (StoragePart::Addon, Lifecycle::Workload) => workload_table(&answers.name, &table),
            (StoragePart::Addon, Lifecycle::Environment) => environment_table(&answers.name, &table),
            (StoragePart::AccessPolicy, _) => access_policy(&answers.name),
        };
        Ok(Rendered { template, ..Default::default() })
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(DynamoDbStorage, storage);

/// One key attribute: its name and DynamoDB type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub kind: &'static str,
}

/// The table the answers describe.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub partition_key: Attribute,
    pub sort_key: Option<Attribute>,
    pub lsis: Vec<Attribute>,
}

/// `name:type`, with the type `S`/`N`/`B` or `String`/`Number`/`Binary`.
fn attribute(flag: &str, text: &str) -> Result<Attribute, Diagnostic> {
    let hint = format!("write --{flag} as <name>:<type>, the type S (string), N (number) or B (binary), e.g. `id:S`");
    let Some((name, kind)) = text.split_once(':') else {
        return Err(storage::bad(flag, format!("`{text}` has no attribute type"), hint));
    };
    let kind = match kind.to_ascii_lowercase().as_str() {
        "s" | "string" => "S",
        "n" | "number" => "N",
        "b" | "binary" => "B",
        other => return Err(storage::bad(flag, format!("`{other}` is not a DynamoDB attribute type"), hint)),
    };
    let valid =
        !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if !valid {
        return Err(storage::bad(
            flag,
            format!("`{name}` is not a valid attribute name"),
            "use 1 to 255 letters, digits, underscores, dashes and dots",
        ));
    }
    Ok(Attribute { name: name.to_string(), kind })
}

impl Table {
    /// The table, or every problem with the answers at its flag.
    pub fn from_answers(a: &StorageAnswers) -> Result<Table, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let name_ok =
            (3..=255).contains(&a.name.len()) && a.name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !name_ok {
            problems.push(storage::bad(
                "name",
                format!("`{}` is not a valid DynamoDB table name", a.name),
                "use 3 to 255 letters, digits, underscores, dashes and dots",
            ));
        }
        let partition_key = match &a.partition_key {
            None => {
                problems.push(storage::bad(
                    "partition-key",
                    "a DynamoDB table needs a partition key",
                    "pass --partition-key <name>:<type>, e.g. --partition-key id:S",
                ));
                None
            }
            Some(text) => attribute("partition-key", text).map_err(|d| problems.push(d)).ok(),
        };
        if a.no_sort && a.sort_key.is_some() {
            problems.push(storage::bad(
                "no-sort",
                "--no-sort and --sort-key contradict each other",
                "pass one of them",
            ));
        }
        let sort_key =
            a.sort_key.as_deref().and_then(|text| attribute("sort-key", text).map_err(|d| problems.push(d)).ok());
        if a.no_lsi && !a.lsi.is_empty() {
            problems.push(storage::bad("no-lsi", "--no-lsi and --lsi contradict each other", "pass one of them"));
        }
        if !a.lsi.is_empty() && a.sort_key.is_none() {
            problems.push(storage::bad(
                "lsi",
                "a local secondary index needs a table with a sort key",
                "pass --sort-key <name>:<type> as well, or drop --lsi",
            ));
        }
        if a.lsi.len() > MAX_LSI {
            problems.push(storage::bad(
                "lsi",
                format!("{} local secondary indexes are more than DynamoDB allows", a.lsi.len()),
                format!("pass --lsi at most {MAX_LSI} times"),
            ));
        }
        let lsis: Vec<Attribute> =
            a.lsi.iter().filter_map(|text| attribute("lsi", text).map_err(|d| problems.push(d)).ok()).collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        let partition_key = partition_key.expect("reported above when missing");
        Ok(Table { partition_key, sort_key, lsis })
    }

    /// Every key attribute once, in the order first named.
    fn attributes(&self) -> Vec<&Attribute> {
        let mut out: Vec<&Attribute> = Vec::new();
        for a in std::iter::once(&self.partition_key).chain(&self.sort_key).chain(&self.lsis) {
            if !out.iter().any(|o| o.name == a.name) {
                out.push(a);
            }
        }
        out
    }
}

fn table_resource(t: &mut Template, id: &str, name: &str, table_name: Value, table: &Table) {
    let mut keys = vec![json!({"AttributeName": &table.partition_key.name, "KeyType": "HASH"})];
    if let Some(sort) = &table.sort_key {
        keys.push(json!({"AttributeName": &sort.name, "KeyType": "RANGE"}));
    }
    let lsis: Vec<Value> = table
        .lsis
        .iter()
        .map(|lsi| {
            json!({"IndexName": &lsi.name, "KeySchema": [
                {"AttributeName": &table.partition_key.name, "KeyType": "HASH"},
                {"AttributeName": &lsi.name, "KeyType": "RANGE"}
            ], "Projection": {"ProjectionType": "ALL"}})
        })
        .collect();
    let attributes: Vec<Value> =
        table.attributes().iter().map(|a| json!({"AttributeName": &a.name, "AttributeType": a.kind})).collect();
    t.resource(
        id,
        storage::described(
            Resource::new("AWS::DynamoDB::Table")
                .prop("TableName", table_name)
                .prop("AttributeDefinitions", Value::Array(attributes))
                .prop("BillingMode", "PAY_PER_REQUEST")
                .prop("KeySchema", Value::Array(keys))
                .prop("LocalSecondaryIndexes", if lsis.is_empty() { Value::Null } else { Value::Array(lsis) }),
            &format!("An Amazon DynamoDB table for {name}"),
        ),
    );
}

fn access_policy_resource(
    t: &mut Template,
    id: &str,
    description: &str,
    table: Value,
    table_arn: Value,
    index_arns: Value,
) {
    t.resource(
        &format!("{id}AccessPolicy"),
        storage::described(
            Resource::new("AWS::IAM::ManagedPolicy")
                .prop("Description", cfn::sub_with("Grants CRUD access to the Dynamo DB table ${Table}", json!({"Table": table})))
                .prop(
                    "PolicyDocument",
                    json!({"Version": "2012-10-17", "Statement": [
                        {"Sid": "DDBActions", "Effect": "Allow", "Action": [
                            "dynamodb:BatchGet*", "dynamodb:DescribeStream", "dynamodb:DescribeTable", "dynamodb:Get*",
                            "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWrite*", "dynamodb:Create*",
                            "dynamodb:Delete*", "dynamodb:Update*", "dynamodb:PutItem"
                        ], "Resource": table_arn},
                        {"Sid": "DDBLSIActions", "Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:Scan"], "Resource": index_arns}
                    ]}),
                ),
            description,
        ),
    );
    storage::output(
        t,
        &format!("{id}AccessPolicy"),
        "The IAM::ManagedPolicy to attach to the task role.",
        cfn::ref_(&format!("{id}AccessPolicy")),
        None,
    );
}

/// `copilot/<workload>/addons/<name>.yml`: the table and its access policy.
pub fn workload_table(name: &str, table: &Table) -> Template {
    let id = storage::logical_id_safe(name);
    let mut t = Template::new();
    storage::addon_parameters(&mut t, true);
    table_resource(&mut t, &id, name, cfn::sub(&format!("${{App}}-${{Env}}-${{Name}}-{name}")), table);
    access_policy_resource(
        &mut t,
        &id,
        &format!("An IAM ManagedPolicy for your service to access the {name} db"),
        cfn::ref_(&id),
        cfn::sub(&format!("${{{id}.Arn}}")),
        cfn::sub(&format!("${{{id}.Arn}}/index/*")),
    );
    let access = t.outputs.shift_remove(&format!("{id}AccessPolicy"));
    storage::output(&mut t, &storage::env_var_output(name), "The name of this DynamoDB.", cfn::ref_(&id), None);
    if let Some(access) = access {
        t.outputs.insert(format!("{id}AccessPolicy"), access);
    }
    t
}

/// `copilot/environments/addons/<name>.yml`: the table, its name and ARN
/// exported for the workloads' access policies.
pub fn environment_table(name: &str, table: &Table) -> Template {
    let id = storage::logical_id_safe(name);
    let mut t = Template::new();
    storage::addon_parameters(&mut t, false);
    table_resource(&mut t, &id, name, cfn::sub(&format!("${{App}}-${{Env}}-{name}")), table);
    storage::output(
        &mut t,
        &storage::env_var_output(name),
        "The name of this DynamoDB.",
        cfn::ref_(&id),
        Some(cfn::sub(&format!("${{App}}-${{Env}}-{id}TableName"))),
    );
    storage::output(
        &mut t,
        &format!("{id}DynamoDBTableARN"),
        &format!("The ARN of the {name} DynamoDB table."),
        cfn::get_att(&id, "Arn"),
        Some(cfn::sub(&format!("${{App}}-${{Env}}-{id}DynamoDBTableARN"))),
    );
    t
}

/// `copilot/<workload>/addons/<name>-access-policy.yml`: access to an
/// environment's table, through its exports.
pub fn access_policy(name: &str) -> Template {
    let id = storage::logical_id_safe(name);
    let import = |what: &str| cfn::import_value(cfn::sub(&format!("${{App}}-${{Env}}-{id}{what}")));
    let mut t = Template::new();
    storage::addon_parameters(&mut t, true);
    storage::output(&mut t, &storage::env_var_output(name), "The name of this DynamoDB.", import("TableName"), None);
    access_policy_resource(
        &mut t,
        &id,
        &format!("An IAM ManagedPolicy for your service to access the {name} db of your environment"),
        import("TableName"),
        import("DynamoDBTableARN"),
        cfn::sub_with("${TableARN}/index/*", json!({"TableARN": import("DynamoDBTableARN")})),
    );
    t
}
