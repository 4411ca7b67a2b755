//! Create-only properties: a change to any of these makes CloudFormation
//! create a new resource and delete the old one. Per resource type, from the
//! CloudFormation template reference ("Update requires: Replacement"), for
//! the types Copilot's templates and addons hold. A type not listed is
//! compared by type only; the change set read against the live stack (the
//! replacement guard) is the final word either way.

/// The create-only properties of `resource_type` (empty when not listed).
pub fn create_only(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        // Load balancing.
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => &["Name", "Scheme", "Type"],
        "AWS::ElasticLoadBalancingV2::TargetGroup" => {
            &["Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"]
        }
        "AWS::ElasticLoadBalancingV2::Listener" => &["LoadBalancerArn"],
        "AWS::ElasticLoadBalancingV2::ListenerRule" => &["ListenerArn"],
        // ECS.
        "AWS::ECS::Service" => {
            &["ServiceName", "Cluster", "LaunchType", "Role", "SchedulingStrategy", "DeploymentController"]
        }
        "AWS::ECS::Cluster" => &["ClusterName"],
        "AWS::ECR::Repository" => &["RepositoryName", "EncryptionConfiguration"],
        // Logs and storage.
        "AWS::Logs::LogGroup" => &["LogGroupName", "LogGroupClass"],
        "AWS::S3::Bucket" => &["BucketName", "ObjectLockEnabled"],
        "AWS::DynamoDB::Table" => &["TableName", "KeySchema", "LocalSecondaryIndexes"],
        "AWS::DynamoDB::GlobalTable" => &["TableName", "KeySchema", "LocalSecondaryIndexes"],
        "AWS::EFS::FileSystem" => &["Encrypted", "KmsKeyId", "PerformanceMode", "AvailabilityZoneName"],
        "AWS::EFS::MountTarget" => &["FileSystemId", "SubnetId", "IpAddress"],
        "AWS::EFS::AccessPoint" => &["FileSystemId", "PosixUser", "RootDirectory", "ClientToken"],
        "AWS::RDS::DBCluster" => {
            &["DBClusterIdentifier", "DatabaseName", "StorageEncrypted", "KmsKeyId", "DBSubnetGroupName", "EngineMode"]
        }
        "AWS::RDS::DBInstance" => &["DBInstanceIdentifier", "DBName", "KmsKeyId", "StorageEncrypted"],
        // Messaging.
        "AWS::SQS::Queue" => &["QueueName", "FifoQueue"],
        "AWS::SNS::Topic" => &["TopicName", "FifoTopic"],
        // Network.
        "AWS::EC2::VPC" => &["CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength"],
        "AWS::EC2::Subnet" => &["VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId"],
        "AWS::EC2::SecurityGroup" => &["GroupDescription", "GroupName", "VpcId"],
        "AWS::EC2::NatGateway" => &["SubnetId", "AllocationId", "ConnectivityType"],
        "AWS::EC2::RouteTable" => &["VpcId"],
        "AWS::EC2::VPCEndpoint" => &["ServiceName", "VpcId", "VpcEndpointType"],
        "AWS::Route53::HostedZone" => &["Name"],
        "AWS::ServiceDiscovery::PrivateDnsNamespace" => &["Name", "Vpc"],
        "AWS::ServiceDiscovery::Service" => &["Name", "NamespaceId", "Type"],
        "AWS::KMS::Key" => &["KeySpec", "KeyUsage"],
        // Identity, functions, events.
        "AWS::IAM::Role" => &["RoleName", "Path"],
        "AWS::Lambda::Function" => &["FunctionName"],
        "AWS::Events::Rule" => &["Name", "EventBusName"],
        "AWS::StepFunctions::StateMachine" => &["StateMachineName", "StateMachineType"],
        "AWS::SSM::Parameter" => &["Name"],
        "AWS::ApplicationAutoScaling::ScalableTarget" => &["ResourceId", "ScalableDimension", "ServiceNamespace"],
        "AWS::ApplicationAutoScaling::ScalingPolicy" => {
            &["PolicyName", "ResourceId", "ScalableDimension", "ServiceNamespace", "ScalingTargetId"]
        }
        _ => &[],
    }
}
