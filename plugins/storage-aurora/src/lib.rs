//! The bundled "Aurora" storage type of `ferry storage init`: an Aurora
//! Serverless v2 cluster (MySQL or PostgreSQL) as a workload addon or an
//! environment addon, laid out as Copilot lays out its Aurora storage. The
//! credentials live in a Secrets Manager secret the workload receives as
//! `<NAME>_SECRET`; a security group output lets the workload reach the
//! cluster.

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::storage::{self, Lifecycle, StorageAnswers, StoragePart};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};

/// The storage type this plugin offers.
pub const STORAGE_TYPE: &str = "Aurora";

/// Copilot writes a VPC-connector variant for App Runner services.
const REQUEST_DRIVEN: &str = "Request-Driven Web Service";

/// The answers this type takes besides name, lifecycle and workload.
const FLAGS: &[&str] = &["engine", "initial-db", "parameter-group"];

pub struct AuroraStorage;

impl Plugin for AuroraStorage {
    fn info() -> PluginInfo {
        storage::info(
            "aurora",
            env!("CARGO_PKG_VERSION"),
            "An Amazon Aurora Serverless v2 cluster, as a workload or environment addon",
            STORAGE_TYPE,
        )
    }

    fn documentation() -> Option<String> {
        Some(storage::DOCUMENTATION.into())
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        let answers = storage::answers(manifest, FLAGS)?;
        let cluster = Cluster::from_answers(&answers)?;
        let target = storage::target(context);
        if target.workload_type.as_deref() == Some(REQUEST_DRIVEN) {
            return Err(RenderError::Invalid(vec![storage::bad(
                "workload",
                format!(
                    "`{}` is a {REQUEST_DRIVEN}: this Aurora storage does not reach one",
                    answers.workload.as_deref().unwrap_or_default()
                ),
                "App Runner reaches a database through a VPC connector, which this storage type does not write; attach the cluster to an ECS service or job instead",
            )]));
        }
        Ok(match (target.part, target.lifecycle) {
            (StoragePart::Addon, Lifecycle::Workload) => {
                Rendered { template: cluster.template(false, &target.environments), ..Default::default() }
            }
            (StoragePart::Addon, Lifecycle::Environment) => {
                // `copilot/environments/addons/addons.parameters.yml`: the
                // environment stack's VPC and private subnets.
                let mut rendered =
                    Rendered { template: cluster.template(true, &target.environments), ..Default::default() };
                rendered.parameters.insert("VPCID".into(), cfn::ref_("VPC"));
                rendered.parameters.insert(
                    "PrivateSubnets".into(),
                    cfn::join(",", json!([cfn::ref_("PrivateSubnet1"), cfn::ref_("PrivateSubnet2")])),
                );
                rendered
            }
            // Workloads attach the environment cluster's exported security
            // group and secret in their manifest: no access file.
            (StoragePart::AccessPolicy, _) => Rendered::default(),
        })
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(AuroraStorage, storage);

/// The database engine (`--engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    MySql,
    PostgreSql,
}

impl Engine {
    fn port(self) -> u16 {
        match self {
            Engine::MySql => 3306,
            Engine::PostgreSql => 5432,
        }
    }
    fn engine(self) -> &'static str {
        match self {
            Engine::MySql => "aurora-mysql",
            Engine::PostgreSql => "aurora-postgresql",
        }
    }
    fn version(self) -> &'static str {
        match self {
            Engine::MySql => "8.0.mysql_aurora.3.06.0",
            Engine::PostgreSql => "14.9",
        }
    }
    fn family(self) -> &'static str {
        match self {
            Engine::MySql => "aurora-mysql8.0",
            Engine::PostgreSql => "aurora-postgresql14",
        }
    }
    fn user(self) -> &'static str {
        match self {
            Engine::MySql => "admin",
            Engine::PostgreSql => "postgres",
        }
    }
}

/// The cluster the answers describe.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub engine: Engine,
    pub initial_db: String,
    pub parameter_group: Option<String>,
}

impl Cluster {
    /// The cluster, or every problem with the answers at its flag.
    pub fn from_answers(a: &StorageAnswers) -> Result<Cluster, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let name = &a.name;
        let name_ok = (1..=63).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && !name.ends_with('-')
            && !name.contains("--")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok {
            problems.push(storage::bad(
                "name",
                format!("`{name}` is not a valid Aurora cluster name"),
                "use at most 63 letters, digits and single dashes, starting with a letter, e.g. `orders-db`",
            ));
        }
        let engine = match a.engine.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("postgresql") => Engine::PostgreSql,
            Some("mysql") => Engine::MySql,
            Some(_) => {
                problems.push(storage::bad(
                    "engine",
                    format!("`{}` is not an Aurora engine ferry offers", a.engine.as_deref().unwrap_or_default()),
                    "use --engine MySQL or --engine PostgreSQL",
                ));
                Engine::PostgreSql
            }
        };
        let initial_db = a.initial_db.clone().unwrap_or_else(|| storage::logical_id_safe(name));
        let db_ok = (1..=63).contains(&initial_db.len())
            && initial_db.starts_with(|c: char| c.is_ascii_alphabetic())
            && initial_db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !db_ok {
            problems.push(storage::bad(
                "initial-db",
                format!("`{initial_db}` is not a valid database name"),
                "use at most 63 letters, digits and underscores, starting with a letter, e.g. --initial-db main",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Cluster { name: name.clone(), engine, initial_db, parameter_group: a.parameter_group.clone() })
    }

    /// The addon: for a workload (its own security group, VPC and subnets
    /// imported from the environment) or for an environment (one workload
    /// security group for all, VPC and subnets as parameters).
    pub fn template(&self, environment: bool, environments: &[String]) -> Template {
        let id = storage::logical_id_safe(&self.name);
        let engine = self.engine;
        let mut t = Template::new();
        storage::addon_parameters(&mut t, !environment);
        t.parameter(
            &format!("{id}DBName"),
            Parameter::string()
                .description("The name of the initial database to be created in the Aurora Serverless v2 cluster.")
                .default(self.initial_db.clone()),
        );
        let (vpc, subnets) = if environment {
            t.parameter("VPCID", Parameter::string().description("The VPC of the cluster.").default(""));
            t.parameter(
                "PrivateSubnets",
                Parameter::string().description("The private subnets of the cluster.").default(""),
            );
            (cfn::ref_("VPCID"), cfn::split(",", cfn::ref_("PrivateSubnets")))
        } else {
            (
                cfn::import_value(cfn::sub("${App}-${Env}-VpcId")),
                cfn::split(",", cfn::import_value(cfn::sub("${App}-${Env}-PrivateSubnets"))),
            )
        };
        let capacity = json!({"DBMinCapacity": 0.5, "DBMaxCapacity": 8});
        let mut scaling = serde_json::Map::new();
        for env in environments {
            scaling.insert(env.clone(), capacity.clone());
        }
        scaling.insert("All".into(), capacity);
        t.mappings.insert(format!("{id}EnvScalingConfigurationMap"), Value::Object(scaling));

        t.resource(
            &format!("{id}DBSubnetGroup"),
            storage::described(
                Resource::new("AWS::RDS::DBSubnetGroup")
                    .prop("DBSubnetGroupDescription", "Group of private subnets for Aurora Serverless v2 cluster.")
                    .prop("SubnetIds", subnets),
                &format!("A subnet group for the {id} cluster in the environment's private subnets"),
            ),
        );
        let (client_sg, client_tag) = if environment {
            (format!("{id}WorkloadSecurityGroup"), cfn::sub("copilot-${App}-${Env}-AuroraCluster"))
        } else {
            (format!("{id}SecurityGroup"), cfn::sub("copilot-${App}-${Env}-${Name}-Aurora"))
        };
        t.resource(
            &client_sg,
            storage::described(
                Resource::new("AWS::EC2::SecurityGroup")
                    .prop(
                        "GroupDescription",
                        format!("The Security Group to access Aurora Serverless v2 cluster {id}."),
                    )
                    .prop("VpcId", vpc.clone())
                    .prop("Tags", json!([{"Key": "Name", "Value": client_tag.clone()}])),
                &format!("A security group for your workload to access the Aurora Serverless v2 cluster {id}"),
            ),
        );
        t.resource(
            &format!("{id}DBClusterSecurityGroup"),
            storage::described(
                Resource::new("AWS::EC2::SecurityGroup")
                    .prop("GroupDescription", "The Security Group for the Aurora Serverless v2 cluster.")
                    .prop("VpcId", vpc)
                    .prop("Tags", json!([{"Key": "Name", "Value": client_tag}])),
                &format!("A security group for your Aurora Serverless v2 cluster {id}"),
            ),
        );
        t.resource(
            &format!("{id}DBClusterSecurityGroupIngressFromWorkload"),
            storage::described(
                Resource::new("AWS::EC2::SecurityGroupIngress")
                    .prop("Description", "Ingress from the workloads' security group.")
                    .prop("GroupId", cfn::ref_(&format!("{id}DBClusterSecurityGroup")))
                    .prop("IpProtocol", "tcp")
                    .prop("FromPort", engine.port())
                    .prop("ToPort", engine.port())
                    .prop("SourceSecurityGroupId", cfn::ref_(&client_sg)),
                "Lets the workloads' security group reach the cluster's port",
            ),
        );
        t.resource(
            &format!("{id}AuroraSecret"),
            storage::described(
                Resource::new("AWS::SecretsManager::Secret")
                    .prop("Description", cfn::sub("Aurora main user secret for ${AWS::StackName}"))
                    .prop(
                        "GenerateSecretString",
                        json!({
                            "SecretStringTemplate": format!("{{\"username\": \"{}\"}}", engine.user()),
                            "GenerateStringKey": "password",
                            "ExcludePunctuation": true,
                            "IncludeSpace": false,
                            "PasswordLength": 16
                        }),
                    ),
                "A Secrets Manager secret to store your DB credentials",
            ),
        );
        let parameter_group = match &self.parameter_group {
            Some(name) => Value::String(name.clone()),
            None => {
                let parameters = match engine {
                    Engine::MySql => json!({"character_set_client": "utf8"}),
                    Engine::PostgreSql => json!({"client_encoding": "UTF8"}),
                };
                t.resource(
                    &format!("{id}DBClusterParameterGroup"),
                    storage::described(
                        Resource::new("AWS::RDS::DBClusterParameterGroup")
                            .prop("Description", cfn::ref_("AWS::StackName"))
                            .prop("Family", engine.family())
                            .prop("Parameters", parameters),
                        "A DB parameter group for engine configuration values",
                    ),
                );
                cfn::ref_(&format!("{id}DBClusterParameterGroup"))
            }
        };
        let secret = |field: &str| {
            cfn::join(
                "",
                json!([
                    "{{resolve:secretsmanager:",
                    cfn::ref_(&format!("{id}AuroraSecret")),
                    format!(":SecretString:{field}}}}}")
                ]),
            )
        };
        let scaling = |what: &str| json!({"Fn::FindInMap": [format!("{id}EnvScalingConfigurationMap"), "All", what]});
        t.resource(
            &format!("{id}DBCluster"),
            storage::described(
                Resource::new("AWS::RDS::DBCluster")
                    .prop("MasterUsername", secret("username"))
                    .prop("MasterUserPassword", secret("password"))
                    .prop("DatabaseName", cfn::ref_(&format!("{id}DBName")))
                    .prop("Engine", engine.engine())
                    .prop("EngineVersion", engine.version())
                    .prop("DBClusterParameterGroupName", parameter_group)
                    .prop("DBSubnetGroupName", cfn::ref_(&format!("{id}DBSubnetGroup")))
                    .prop("Port", engine.port())
                    .prop("VpcSecurityGroupIds", json!([cfn::ref_(&format!("{id}DBClusterSecurityGroup"))]))
                    .prop(
                        "ServerlessV2ScalingConfiguration",
                        json!({"MinCapacity": scaling("DBMinCapacity"), "MaxCapacity": scaling("DBMaxCapacity")}),
                    ),
                &format!("The {id} Aurora Serverless v2 database cluster"),
            ),
        );
        t.resource(
            &format!("{id}DBWriterInstance"),
            storage::described(
                Resource::new("AWS::RDS::DBInstance")
                    .prop("DBClusterIdentifier", cfn::ref_(&format!("{id}DBCluster")))
                    .prop("DBInstanceClass", "db.serverless")
                    .prop("Engine", engine.engine())
                    .prop("PromotionTier", 1)
                    .prop("AvailabilityZone", cfn::select(0, cfn::get_azs())),
                &format!("The {id} Aurora Serverless v2 writer instance"),
            ),
        );
        t.resource(
            &format!("{id}SecretAuroraClusterAttachment"),
            storage::described(
                Resource::new("AWS::SecretsManager::SecretTargetAttachment")
                    .prop("SecretId", cfn::ref_(&format!("{id}AuroraSecret")))
                    .prop("TargetId", cfn::ref_(&format!("{id}DBCluster")))
                    .prop("TargetType", "AWS::RDS::DBCluster"),
                "Adds the cluster's host and port to the secret",
            ),
        );
        let export = |what: &str| environment.then(|| cfn::sub(&format!("${{App}}-${{Env}}-{id}{what}")));
        storage::output(
            &mut t,
            &format!("{id}Secret"),
            "The JSON secret that holds the database username and password. Fields are 'host', 'port', 'dbname', 'username', 'password', 'dbClusterIdentifier' and 'engine'",
            cfn::ref_(&format!("{id}AuroraSecret")),
            export("AuroraSecret"),
        );
        storage::output(
            &mut t,
            &format!("{id}SecurityGroup"),
            "The security group to attach to the workload.",
            cfn::ref_(&client_sg),
            export("SecurityGroup"),
        );
        t
    }
}
