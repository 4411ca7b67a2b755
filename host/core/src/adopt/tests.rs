use super::*;

/// Two templates compared with no parameter values given (defaults only).
fn compare_templates(copilot: &Value, ferry: &Value, deployed: Option<&HashSet<String>>) -> StackPlan {
    let none = IndexMap::new();
    compare(Side { template: copilot, parameters: &none }, Side { template: ferry, parameters: &none }, deployed)
}

/// The helper part of a Copilot service template: the environment
/// controller (custom resource, function, role) and the rule priority
/// helper, beside a log group, a service and a target group.
fn copilot_service() -> Value {
    json!({
        "Metadata": {"Version": "v1.34.0"},
        "Resources": {
            "LogGroup": {"Type": "AWS::Logs::LogGroup", "Metadata": {"aws:copilot:description": "logs"},
                "Properties": {"LogGroupName": {"Fn::Sub": "/copilot/${AppName}-${EnvName}-${WorkloadName}"}}},
            "EnvControllerAction": {"Type": "Custom::EnvControllerFunction", "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["EnvControllerFunction", "Arn"]},
                "Workload": {"Ref": "WorkloadName"}, "EnvStack": {"Fn::Sub": "${AppName}-${EnvName}"}}},
            "EnvControllerFunction": {"Type": "AWS::Lambda::Function", "Properties": {
                "Handler": "index.handler", "Role": {"Fn::GetAtt": "EnvControllerRole.Arn"}}},
            "EnvControllerRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "HTTPRulePriorityAction": {"Type": "Custom::RulePriority", "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["RulePriorityFunction", "Arn"]}}},
            "RulePriorityFunction": {"Type": "AWS::Lambda::Function", "Properties": {
                "Role": {"Fn::GetAtt": ["RulePriorityFunctionRole", "Arn"]}}},
            "RulePriorityFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "RulePriorityLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": {"Fn::Sub": "/aws/lambda/${RulePriorityFunction}"}}},
            "TaskRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "TargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                "Port": {"Ref": "ContainerPort"}, "Protocol": "HTTP", "TargetType": "ip",
                "VpcId": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-VpcId"}}}},
            "HTTPListenerRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                "Priority": {"Fn::GetAtt": ["HTTPRulePriorityAction", "Priority"]}}},
            "Service": {"Type": "AWS::ECS::Service", "DependsOn": ["EnvControllerAction", "HTTPListenerRule"],
                "Properties": {"LaunchType": "FARGATE",
                    "Cluster": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-ClusterId"}},
                    "LoadBalancers": [{"TargetGroupArn": {"Ref": "TargetGroup"}}]}}
        }
    })
}

/// ferry's template of the same service: no helpers, one spelling changed
/// (`80` for `"80"`-like values, `Fn::Sub` of a lone parameter).
fn ferry_service() -> Value {
    json!({
        "Resources": {
            "LogGroup": {"Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::Sub": "/copilot/${AppName}-${EnvName}-${WorkloadName}"}}},
            "TaskRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
            "TargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                "Port": {"Fn::Sub": "${ContainerPort}"}, "Protocol": "HTTP", "TargetType": "ip",
                "VpcId": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-VpcId"}}}},
            "HTTPListenerRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                "Priority": {"Ref": "HTTPListenerRulePriority"}}},
            "Service": {"Type": "AWS::ECS::Service", "Properties": {"LaunchType": "FARGATE",
                "Cluster": {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-ClusterId"}}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}
        }
    })
}

fn tags() -> IndexMap<String, String> {
    IndexMap::from([("copilot-application".to_string(), "shop".to_string())])
}

#[test]
fn helpers_retire_and_everything_else_is_kept() {
    let plan = compare_templates(&copilot_service(), &ferry_service(), None);
    assert_eq!(
        plan.retired(),
        [
            "EnvControllerAction",
            "EnvControllerFunction",
            "EnvControllerRole",
            "HTTPRulePriorityAction",
            "RulePriorityFunction",
            "RulePriorityFunctionRole",
            "RulePriorityLogs"
        ]
    );
    assert_eq!(plan.ids(Fate::Kept), ["LogGroup", "TaskRole", "TargetGroup", "HTTPListenerRule", "Service"]);
    assert_eq!(plan.ids(Fate::Added), ["Queue"]);
    assert_eq!((plan.count(Fate::Replaced), plan.count(Fate::Removed)), (0, 0));
    assert!(plan.blocking().is_empty(), "{:?}", plan.blocking());
}

#[test]
fn a_changed_scheme_replaces_the_load_balancer_and_blocks() {
    let alb = |scheme: &str| {
        json!({"Resources": {"PublicLoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Scheme": scheme, "Type": "application"}}}})
    };
    let plan = compare_templates(&alb("internet-facing"), &alb("internal"), None);
    let blocking = plan.blocking();
    assert_eq!(blocking.len(), 1);
    assert_eq!(
        blocking[0].to_string(),
        "PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) replaced: changing Scheme requires a new resource"
    );
    assert_eq!(blocking[0].holds, Holds::Traffic);
}

#[test]
fn a_dropped_stateful_resource_or_a_changed_type_blocks_but_a_dropped_role_does_not() {
    let old = json!({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "a"}},
        "Helper": {"Type": "AWS::IAM::Role"}}});
    let new = json!({"Resources": {"Table": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"TableName": "a"}}}});
    let plan = compare_templates(&old, &new, None);
    let blocking: Vec<String> = plan.blocking().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        blocking,
        [
            "Bucket (AWS::S3::Bucket) removed",
            "Table (AWS::DynamoDB::Table) replaced: changing Type requires a new resource"
        ]
    );
    assert_eq!(plan.ids(Fate::Removed), ["Bucket", "Helper"]);
}

#[test]
fn resources_not_deployed_are_neither_removed_nor_replaced() {
    let old = json!({"Resources": {
        "FileSystem": {"Type": "AWS::EFS::FileSystem", "Condition": "CreateEFS"},
        "PublicLoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Scheme": "internal"}}}});
    let new = json!({"Resources": {"PublicLoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Properties": {"Scheme": "internet-facing"}}}});
    let live = HashSet::new();
    let plan = compare_templates(&old, &new, Some(&live));
    assert!(plan.blocking().is_empty(), "{plan:?}");
    assert_eq!(plan.ids(Fate::Added), ["PublicLoadBalancer"]);
}

#[test]
fn a_helper_something_kept_uses_stays() {
    let mut old = copilot_service();
    old["Resources"]["Service"]["Properties"]["Role"] = json!({"Fn::GetAtt": ["EnvControllerRole", "Arn"]});
    let mut new = ferry_service();
    new["Resources"]["Service"]["Properties"]["Role"] = json!({"Fn::GetAtt": ["EnvControllerRole", "Arn"]});
    let plan = compare_templates(&old, &new, None);
    assert!(!plan.retired().contains(&"EnvControllerRole"), "{:?}", plan.retired());
    assert!(plan.retired().contains(&"EnvControllerFunction"));
}

#[test]
fn the_first_step_retains_only_the_helpers_and_says_so() {
    let copilot = copilot_service();
    let plan = compare_templates(&copilot, &ferry_service(), None);
    let step1 = with_retained_helpers(&copilot, &plan.retired());
    for id in plan.retired() {
        assert_eq!(step1["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(step1["Resources"][id]["UpdateReplacePolicy"], "Retain", "{id}");
    }
    assert!(step1["Resources"]["Service"].get("DeletionPolicy").is_none());
    assert_eq!(step1["Resources"]["Service"], copilot["Resources"]["Service"]);
    assert_eq!(step1["Metadata"]["Version"], "v1.34.0");
    assert_eq!(step1["Metadata"][ADOPTION_METADATA]["retained"][0], "EnvControllerAction");
}

#[test]
fn origin_tells_copilot_half_adopted_and_ferry_apart() {
    let copilot = copilot_service();
    assert_eq!(origin(&tags(), &copilot), Origin::Copilot { version: Some("v1.34.0".into()) });
    let step1 = with_retained_helpers(&copilot, &["EnvControllerAction"]);
    assert_eq!(origin(&tags(), &step1), Origin::Adopting);
    assert_eq!(origin(&tags(), &ferry_service()), Origin::Ferry);
    // Copilot's shapes without its tags: not an app's stack.
    assert_eq!(origin(&IndexMap::new(), &copilot), Origin::Ferry);
    // An older Copilot template without Metadata.Version: its resource descriptions.
    let mut old = copilot.clone();
    old.as_object_mut().unwrap().remove("Metadata");
    assert_eq!(origin(&tags(), &old), Origin::Copilot { version: None });
    // A ferry stack with a custom resource (added by cfn.patches.yml) is ferry's.
    let mut patched = ferry_service();
    patched["Resources"]["Seed"] = json!({"Type": "Custom::Seed", "Properties": {"ServiceToken": "arn"}});
    assert_eq!(origin(&tags(), &patched), Origin::Ferry);
}

#[test]
fn controller_parameters_keep_what_the_controller_set() {
    let live = IndexMap::from([
        ("ALBWorkloads".to_string(), "web,api".to_string()),
        ("EFSWorkloads".to_string(), "".to_string()),
        ("AppName".to_string(), "shop".to_string()),
    ]);
    let ferry = IndexMap::from([
        ("ALBWorkloads".to_string(), "web".to_string()),
        ("EFSWorkloads".to_string(), "files".to_string()),
        ("NATWorkloads".to_string(), "".to_string()),
    ]);
    let merged = controller_parameters(&live, &ferry);
    assert_eq!(merged["ALBWorkloads"], "api,web");
    assert_eq!(merged["EFSWorkloads"], "files");
    assert_eq!(merged["NATWorkloads"], "");
    assert!(!merged.contains_key("AppName"));
}

#[test]
fn every_guarded_type_has_create_only_properties_listed() {
    for ty in STATEFUL.iter().chain(TRAFFIC) {
        assert!(!create_only(ty).is_empty(), "{ty} has no create-only properties listed");
    }
}

#[test]
fn values_compare_as_cloudformation_resolves_them() {
    // Copilot renders the target port as a literal, ferry as a parameter.
    let copilot = json!({"Resources": {"TargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {"Port": 80, "Protocol": "HTTP"}},
        "Zone": {"Type": "AWS::Route53::HostedZone",
            "Properties": {"Name": {"Fn::Sub": "${EnvironmentName}.${AppName}.${AppDNSName}"}}}}});
    let ferry = json!({"Parameters": {"TargetPort": {"Type": "Number", "Default": 8080}},
        "Resources": {"TargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {"Port": {"Ref": "TargetPort"}, "Protocol": "HTTP"}},
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": {"Fn::Sub": "${EnvName}.shop.${Domain}"}}}}});
    let copilot_values: IndexMap<String, String> =
        [("EnvironmentName", "test"), ("AppName", "shop"), ("AppDNSName", "example.com")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
    let ferry_values: IndexMap<String, String> = [("TargetPort", "80"), ("EnvName", "test"), ("Domain", "example.com")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    let copilot_side = Side { template: &copilot, parameters: &copilot_values };
    let plan = compare(copilot_side, Side { template: &ferry, parameters: &ferry_values }, None);
    assert_eq!(plan.count(Fate::Kept), 2, "{:?}", plan.resources);

    // The default stands when the stack gives no value: 8080 is another port.
    let defaults = IndexMap::from([
        ("EnvName".to_string(), "test".to_string()),
        ("Domain".to_string(), "example.com".to_string()),
    ]);
    let plan = compare(copilot_side, Side { template: &ferry, parameters: &defaults }, None);
    assert_eq!(plan.ids(Fate::Replaced), ["TargetGroup"]);
    assert_eq!(plan.resources[0].properties, ["Port"]);

    // A zone under another name is a new zone.
    let other = IndexMap::from([
        ("TargetPort".to_string(), "80".to_string()),
        ("EnvName".to_string(), "prod".to_string()),
        ("Domain".to_string(), "example.com".to_string()),
    ]);
    let plan = compare(copilot_side, Side { template: &ferry, parameters: &other }, None);
    assert_eq!(plan.ids(Fate::Replaced), ["Zone"]);
}
