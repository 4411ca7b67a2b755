"""Starts moto's server with CloudFormation models for resource types moto
serves through its own APIs but cannot create from a template yet.

Only the emulator is extended here: each model creates the resource in
moto's own backend for that service, so the resource then answers through
the real API (e.g. servicediscovery:GetNamespace). ferry's templates stay
exactly what real AWS receives.

Usage: python scripts/moto_server.py -H 127.0.0.1 -p <port>
"""

import json
import sys
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.servicediscovery.models import servicediscovery_backends


class ShimLifecycle:
    """What every shim model shares: its type, name property and
    attributes declared as class constants; updates keep the resource as it
    is (ferry's tests never update these in place), deletion goes through
    `delete`, creation is synchronous. A mixin, listed before
    CloudFormationModel: moto finds models as its direct subclasses."""

    CFN_TYPE = ""
    NAME_PROPERTY = ""
    ATTRIBUTES: tuple = ()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass

    def is_created(self) -> bool:
        return True


class PrivateDnsNamespace(ShimLifecycle, CloudFormationModel):
    """AWS::ServiceDiscovery::PrivateDnsNamespace over moto's servicediscovery backend."""

    # moto's model metaclass files models by the service in their module path.
    __module__ = "moto.servicediscovery.cloudformation"

    def __init__(self, namespace: Any, account_id: str, region: str):
        self.namespace = namespace
        self.account_id = account_id
        self.region = region

    CFN_TYPE = "AWS::ServiceDiscovery::PrivateDnsNamespace"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id", "Arn", "HostedZoneId")

    @property
    def physical_resource_id(self) -> str:
        return self.namespace.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.namespace.id
        if attribute_name == "Arn":
            return self.namespace.arn
        if attribute_name == "HostedZoneId":
            return (self.namespace.dns_properties or {}).get("HostedZoneId", "")
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        backend = servicediscovery_backends[account_id][region_name]
        backend.create_private_dns_namespace(
            name=props["Name"],
            creator_request_id=None,
            description=props.get("Description", ""),
            vpc=props["Vpc"],
            tags=props.get("Tags", []),
            properties=props.get("Properties"),
        )
        namespace = [n for n in backend.list_namespaces() if n.name == props["Name"]][-1]
        return cls(namespace, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = servicediscovery_backends[account_id][region_name]
        if self.namespace.id in backend.namespaces:
            backend.delete_namespace(self.namespace.id)


class DiscoveryService(ShimLifecycle, CloudFormationModel):
    """AWS::ServiceDiscovery::Service over moto's servicediscovery backend."""

    __module__ = "moto.servicediscovery.cloudformation"

    def __init__(self, service: Any):
        self.service = service

    CFN_TYPE = "AWS::ServiceDiscovery::Service"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id", "Arn", "Name")

    @property
    def physical_resource_id(self) -> str:
        return self.service.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"Id": self.service.id, "Arn": self.service.arn, "Name": self.service.name}[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        backend = servicediscovery_backends[account_id][region_name]
        service = backend.create_service(
            name=props.get("Name", resource_name),
            namespace_id=props.get("NamespaceId"),
            creator_request_id=None,
            description=props.get("Description", ""),
            dns_config=props.get("DnsConfig"),
            health_check_config=props.get("HealthCheckConfig"),
            health_check_custom_config=props.get("HealthCheckCustomConfig"),
            tags=props.get("Tags", []),
            service_type=props.get("Type"),
        )
        return cls(service)

    def delete(self, account_id: str, region_name: str) -> None:
        servicediscovery_backends[account_id][region_name].delete_service(self.service.id)


def _cloudfront_backend(account_id: str):
    from moto.cloudfront.models import cloudfront_backends

    return cloudfront_backends[account_id]["aws"]


def _api_list(items: Any) -> dict:
    """CloudFormation writes CloudFront lists plainly; the API (and moto's
    backend) wraps them as {Quantity, Items}."""
    items = list(items or [])
    return {"Quantity": len(items), "Items": items}


def _api_cache_behavior(behavior: dict) -> dict:
    behavior = dict(behavior)
    allowed = behavior.pop("AllowedMethods", ["GET", "HEAD"])
    cached = behavior.pop("CachedMethods", ["GET", "HEAD"])
    behavior["AllowedMethods"] = {"Items": allowed, "CachedMethods": {"Items": cached}}
    return behavior


def _api_distribution_config(config: dict, caller_reference: str) -> dict:
    config = dict(config)
    config["CallerReference"] = caller_reference
    config["Origins"] = _api_list(config.get("Origins"))
    for origin in config["Origins"]["Items"]:
        origin.pop("OriginAccessControlId", None)
    if "Aliases" in config:
        config["Aliases"] = {"Items": list(config["Aliases"])}
    if "CacheBehaviors" in config:
        config["CacheBehaviors"] = _api_list(_api_cache_behavior(b) for b in config["CacheBehaviors"])
    if "CustomErrorResponses" in config:
        config["CustomErrorResponses"] = _api_list(config["CustomErrorResponses"])
    config["DefaultCacheBehavior"] = _api_cache_behavior(config.get("DefaultCacheBehavior", {}))
    if "IPV6Enabled" in config:
        config["IsIPV6Enabled"] = config.pop("IPV6Enabled")
    return config


class CloudFrontDistribution(ShimLifecycle, CloudFormationModel):
    """AWS::CloudFront::Distribution over moto's cloudfront backend, so the
    distribution then answers GetDistribution and CreateInvalidation."""

    __module__ = "moto.cloudfront.cloudformation"

    def __init__(self, distribution: Any, account_id: str):
        self.distribution = distribution
        self.account_id = account_id

    CFN_TYPE = "AWS::CloudFront::Distribution"
    NAME_PROPERTY = ""
    ATTRIBUTES = ("Id", "DomainName")

    @property
    def physical_resource_id(self) -> str:
        return self.distribution.distribution_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"Id": self.distribution.distribution_id, "DomainName": self.distribution.domain_name}[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import uuid

        props = cloudformation_json.get("Properties", {})
        config = _api_distribution_config(props["DistributionConfig"], str(uuid.uuid4()))
        distribution, _, _ = _cloudfront_backend(account_id).create_distribution(config, props.get("Tags", []))
        return cls(distribution, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        _cloudfront_backend(account_id).distributions.pop(self.distribution.distribution_id, None)


class CloudFrontOriginAccessControl(ShimLifecycle, CloudFormationModel):
    """AWS::CloudFront::OriginAccessControl over moto's cloudfront backend."""

    __module__ = "moto.cloudfront.cloudformation"

    def __init__(self, control: Any):
        self.control = control

    CFN_TYPE = "AWS::CloudFront::OriginAccessControl"
    NAME_PROPERTY = ""
    ATTRIBUTES = ("Id",)

    @property
    def physical_resource_id(self) -> str:
        return self.control.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.control.id
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        config = cloudformation_json.get("Properties", {}).get("OriginAccessControlConfig", {})
        return cls(_cloudfront_backend(account_id).create_origin_access_control(config))

    def delete(self, account_id: str, region_name: str) -> None:
        _cloudfront_backend(account_id).origin_access_controls.pop(self.control.id, None)


def _camel(value: Any, keep_keys: bool = False) -> Any:
    """CloudFormation spells CodePipeline's structures in PascalCase, the
    API in camelCase; action `Configuration` maps keep their keys, and their
    values become strings (the API's map<string, string>) as AWS does."""
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, dict) and keep_keys:
        return {k: (("true" if v else "false") if isinstance(v, bool) else v if isinstance(v, str) else json.dumps(v)) for k, v in value.items()}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            new_key = key if keep_keys else key[:1].lower() + key[1:]
            out[new_key] = _camel(item, keep_keys=(key == "Configuration"))
        return out
    return value


class Pipeline(ShimLifecycle, CloudFormationModel):
    """AWS::CodePipeline::Pipeline over moto's codepipeline backend."""

    __module__ = "moto.codepipeline.cloudformation"

    def __init__(self, name: str, account_id: str, region: str):
        self.name = name
        self.account_id = account_id
        self.region = region

    CFN_TYPE = "AWS::CodePipeline::Pipeline"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Version",)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Version":
            return "1"
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.codepipeline.models import codepipeline_backends

        props = cloudformation_json.get("Properties", {})
        name = props.get("Name", resource_name)
        pipeline = {
            "name": name,
            "roleArn": props["RoleArn"],
            "artifactStore": _camel(props.get("ArtifactStore", {})),
            "stages": _camel(props.get("Stages", [])),
        }
        tags = [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])]
        codepipeline_backends[account_id][region_name].create_pipeline(pipeline, tags)
        return cls(name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        from moto.codepipeline.models import codepipeline_backends

        backend = codepipeline_backends[account_id][region_name]
        backend.delete_pipeline(original_resource.name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.codepipeline.models import codepipeline_backends

        codepipeline_backends[account_id][region_name].delete_pipeline(self.name)


class BuildProject(ShimLifecycle, CloudFormationModel):
    """AWS::CodeBuild::Project over moto's codebuild backend."""

    __module__ = "moto.codebuild.cloudformation"

    def __init__(self, name: str, arn: str):
        self.name = name
        self.arn = arn

    CFN_TYPE = "AWS::CodeBuild::Project"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Arn",)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.arn
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.codebuild.models import codebuild_backends

        props = cloudformation_json.get("Properties", {})
        name = props.get("Name", resource_name)
        environment = _camel(props.get("Environment", {}))
        metadata = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=props.get("Description"),
            project_source=_camel(props.get("Source", {})),
            artifacts=_camel(props.get("Artifacts", {})),
            environment=environment,
            service_role=props["ServiceRole"],
            tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
            cache=None,
            timeout=props.get("TimeoutInMinutes"),
            queued_timeout=None,
            source_version=None,
            logs_config=None,
            vpc_config=None,
        )
        return cls(name, metadata["arn"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        from moto.codebuild.models import codebuild_backends

        codebuild_backends[account_id][region_name].delete_project(original_resource.name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.codebuild.models import codebuild_backends

        codebuild_backends[account_id][region_name].delete_project(self.name)


class StarConnection(ShimLifecycle, CloudFormationModel):
    """AWS::CodeStarConnections::Connection: moto has no CodeStar
    Connections service, so the connection exists only as the stack's
    resource (with the ARN AWS would give it)."""

    __module__ = "moto.codepipeline.cloudformation"

    def __init__(self, arn: str):
        self.arn = arn

    CFN_TYPE = "AWS::CodeStarConnections::Connection"
    NAME_PROPERTY = "ConnectionName"
    ATTRIBUTES = ("ConnectionArn", "ConnectionStatus", "OwnerAccountId")

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"ConnectionArn": self.arn, "ConnectionStatus": "PENDING", "OwnerAccountId": self.arn.split(":")[4]}[
            attribute_name
        ]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import uuid

        return cls(f"arn:aws:codestar-connections:{region_name}:{account_id}:connection/{uuid.uuid4()}")

    def delete(self, account_id: str, region_name: str) -> None:
        pass


# ---------------------------------------------------------------------------
# Domains and certificates (Route 53 zones from templates, ACM certificates
# validated through DNS the way CloudFormation does it natively).
# ---------------------------------------------------------------------------


class AcmCertificate(ShimLifecycle, CloudFormationModel):
    """AWS::CertificateManager::Certificate over moto's ACM backend. With
    `ValidationMethod: DNS` and a `HostedZoneId` in `DomainValidationOptions`,
    CloudFormation writes the validation CNAME into that zone itself and the
    certificate is issued once DNS answers: both happen here at create.
    Deleting the certificate leaves the CNAME, as CloudFormation does."""

    __module__ = "moto.acm.cloudformation"

    def __init__(self, arn: str):
        self.arn = arn

    CFN_TYPE = "AWS::CertificateManager::Certificate"
    NAME_PROPERTY = ""
    ATTRIBUTES = ()

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.acm.models import acm_backends
        from moto.route53.models import route53_backends

        props = cloudformation_json.get("Properties", {})
        backend = acm_backends[account_id][region_name]
        arn = backend.request_certificate(
            props["DomainName"], None, props.get("SubjectAlternativeNames") or [], props.get("Tags") or []
        )
        cert = backend.get_certificate(arn)
        if props.get("ValidationMethod") == "DNS":
            zones = route53_backends[account_id]["aws"]
            described = cert.describe()["Certificate"]
            by_domain = {o["DomainName"]: o for o in described.get("DomainValidationOptions", [])}
            written = set()
            for option in props.get("DomainValidationOptions") or []:
                zone_id = option.get("HostedZoneId")
                record = by_domain.get(option.get("DomainName"), {}).get("ResourceRecord")
                # `x` and `*.x` share one validation record: written once.
                if zone_id and record and (zone_id, record["Name"]) not in written:
                    written.add((zone_id, record["Name"]))
                    zone = zones.get_hosted_zone(zone_id)
                    zone.add_rrset(
                        {"Name": record["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [record["Value"]]}
                    )
                    # moto only deletes through the API what its change log says was created.
                    zone.rr_changes.append(
                        {"Action": "CREATE", "ResourceRecordSet": {"Name": record["Name"], "Type": "CNAME"}}
                    )
            cert.status = "ISSUED"
        return cls(arn)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.acm.models import acm_backends

        acm_backends[account_id][region_name]._certificates.pop(self.arn, None)


def hosted_zones_like_cloudformation() -> None:
    """`!GetAtt Zone.NameServers` (the NS records a parent zone delegates
    to) and deleting a zone with its stack, which moto's zone model lacks;
    a zone still holding records other than NS/SOA refuses, as in AWS."""
    from moto.route53.models import FakeZone, route53_backends

    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id", "NameServers")

    def get_cfn_attribute(self, attribute_name: str):
        if attribute_name == "Id":
            return self.id
        if attribute_name == "NameServers":
            if self.delegation_set is not None:
                return list(self.delegation_set.name_servers)
            from moto.route53.models import DelegationSet

            return list(DelegationSet("", None, None).name_servers)
        raise KeyError(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.utilities.utils import get_partition

        route53_backends[account_id][get_partition(region_name)].delete_hosted_zone(self.id)

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        # The API names zones with the trailing dot; moto's template path did not.
        from moto.utilities.utils import get_partition

        props = cloudformation_json.get("Properties", {})
        name = props.get("Name") or resource_name
        name = name if name.endswith(".") else f"{name}."
        comment = (props.get("HostedZoneConfig") or {}).get("Comment")
        backend = route53_backends[account_id][get_partition(region_name)]
        return backend.create_hosted_zone(name, private_zone=False, comment=comment)

    FakeZone.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    FakeZone.has_cfn_attr = classmethod(has_cfn_attr)
    FakeZone.get_cfn_attribute = get_cfn_attribute
    FakeZone.delete = delete


def drop_novalue_from_lists() -> None:
    """CloudFormation removes a list element that resolves to AWS::NoValue
    (`!If [Cond, {...}, !Ref AWS::NoValue]` inside a list); moto keeps it as
    null and then fails on it. Make moto's resolver do what CloudFormation does."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        cleaned = original(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(cleaned, list):
            return [item for item in cleaned if item is not None]
        return cleaned

    parsing.clean_json = clean_json


def stack_set_instances_like_aws() -> None:
    """Self-managed StackSet instances in AWS live in a stack named
    `StackSet-<set>-<uuid>` and ListStackInstances reports that stack's id;
    moto names it `StackSet:<set>` and reports an id no stack has."""
    import uuid

    from moto.cloudformation import models

    original_init = models.StackInstance.__init__

    def __init__(self, account_id, region_name, stackset_id, stack_name, name, template, parameters, permission_model):
        if permission_model != "SELF_MANAGED":
            return original_init(
                self, account_id, region_name, stackset_id, stack_name, name, template, parameters, permission_model
            )
        self.account_id = account_id
        self.region_name = region_name
        self.stackset_id = stackset_id
        self.stack_name = stack_name
        self.name = name
        self.template = template
        self.parameters = parameters or []
        self.permission_model = permission_model
        params = parameters if isinstance(parameters, dict) else {
            p["ParameterKey"]: p["ParameterValue"] for p in (parameters or [])
        }
        self.stack = models.cloudformation_backends[account_id][region_name].create_stack(
            name=f"StackSet-{name}-{uuid.uuid4()}", template=template, parameters=params
        )

    original_to_dict = models.StackInstance.to_dict

    def to_dict(self):
        out = original_to_dict(self)
        if self.permission_model == "SELF_MANAGED":
            out["StackId"] = self.stack.stack_id
        return out

    models.StackInstance.__init__ = __init__
    models.StackInstance.to_dict = to_dict


# ---------------------------------------------------------------------------
# UpdateStackSet reaches the instances. In AWS an update changes every
# instance's stack to the new template; an instance whose stack update fails
# (e.g. an ECR repository that already exists outside the StackSet) is left
# OUTDATED and the operation FAILED. moto only stored the new template, so a
# workload added to the app never got its repository from the StackSet.
# ---------------------------------------------------------------------------
def stack_set_updates_reach_their_instances() -> None:
    from moto.cloudformation import models

    original_update = models.StackSet.update

    def update(self, template, description, parameters, tags, admin_role, execution_role, accounts, regions,
               operation_id):
        operation = original_update(self, template, description, parameters, tags, admin_role, execution_role,
                                    accounts, regions, operation_id)
        if self.permission_model != "SELF_MANAGED" or not template:
            return operation
        failed = 0
        for instance in self.stack_instances:
            stack = getattr(instance, "stack", None)
            if stack is None:
                continue
            backend = models.cloudformation_backends[instance.account_id][instance.region_name]
            before = (stack.template, stack.resource_map._template, dict(stack.resource_map._resource_json_map))
            try:
                backend.update_stack(stack.stack_id, template, None, [], None)
                instance.template = template
                instance.shim_status = ("CURRENT", None)
            except Exception as refused:  # the instance's update failed: CloudFormation rolled it back
                # Rolled back: the stack keeps its template and resources.
                stack.template, stack.resource_map._template, stack.resource_map._resource_json_map = before
                for logical in [k for k in stack.resource_map._parsed_resources if k not in before[2]]:
                    if not logical.startswith("AWS::"):
                        stack.resource_map._parsed_resources.pop(logical, None)
                stack._add_stack_event("UPDATE_FAILED", resource_status_reason=str(getattr(refused, "message", refused)))
                stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
                stack.status = "UPDATE_ROLLBACK_COMPLETE"
                instance.shim_status = ("OUTDATED", str(getattr(refused, "message", refused)))
                failed += 1
        if failed:
            operation["Status"] = "FAILED"
        return operation

    models.StackSet.update = update

    original_to_dict = models.StackInstance.to_dict

    def to_dict(self):
        out = original_to_dict(self)
        status, reason = getattr(self, "shim_status", ("CURRENT", None))
        out["Status"] = status
        out["StackInstanceStatus"] = {"DetailedStatus": "SUCCEEDED" if status == "CURRENT" else "FAILED"}
        if reason:
            out["StatusReason"] = reason
        return out

    models.StackInstance.to_dict = to_dict


# ---------------------------------------------------------------------------
# Resource import (ChangeSetType IMPORT): an existing resource is brought
# under a stack without being created again. moto took IMPORT for CREATE (a
# second stack of the same name). Here an import change set updates the
# existing stack to its template, and each logical ID of ResourcesToImport
# binds to the live resource it names; the stack ends IMPORT_COMPLETE. Only
# AWS::ECR::Repository is modelled (what ferry imports into the app's
# StackSet instance); any other type is refused as CloudFormation refuses an
# unsupported one.
# ---------------------------------------------------------------------------
def resource_import_change_sets() -> None:
    import threading

    from moto.cloudformation import models, parsing
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse

    request = threading.local()
    binding: dict = {}  # (stack_id, logical ID) -> the live model

    def live_resource(resource_type: str, identifier: dict, account_id: str, region: str) -> Any:
        if resource_type == "AWS::ECR::Repository":
            from moto.ecr.models import ecr_backends

            key, found = "RepositoryName", ecr_backends[account_id][region].repositories
        elif resource_type == "AWS::Logs::LogGroup":
            from moto.logs.models import logs_backends

            key, found = "LogGroupName", logs_backends[account_id][region].groups
        else:
            raise ValidationError(message=f"ResourceType {resource_type} is not supported for import here")
        name = identifier.get(key, "")
        if name not in found:
            raise ValidationError(
                message=f"Resource of type '{resource_type}' with identifier '{{{key}={name}}}' does not exist."
            )
        return found[name]

    def identifier_of(item: dict) -> dict:
        value = item.get("ResourceIdentifier") or {}
        if isinstance(value, dict) and "entry" in value:
            value = value["entry"]
        if isinstance(value, list):
            return {e.get("key") or e.get("Key"): e.get("value") or e.get("Value") for e in value}
        return dict(value)

    original_response = CloudFormationResponse.create_change_set

    def create_change_set_response(self):
        request.imports = self._get_param("ResourcesToImport", []) if self._get_param("ChangeSetType") == "IMPORT" else None
        try:
            return original_response(self)
        finally:
            request.imports = None

    CloudFormationResponse.create_change_set = create_change_set_response

    backend_class = models.CloudFormationBackend
    original_create = backend_class.create_change_set

    def create_change_set(self, stack_name, change_set_name, template, parameters, description, change_set_type,
                          *args, **kwargs):
        if change_set_type != "IMPORT":
            return original_create(self, stack_name, change_set_name, template, parameters, description,
                                   change_set_type, *args, **kwargs)
        stack = next((s for s in self.stacks.values() if stack_name in (s.name, s.stack_id)
                      and s.status != "DELETE_COMPLETE"), None)
        imports = getattr(request, "imports", None) or []
        if not imports:
            raise ValidationError(message="ResourcesToImport must name at least one resource")
        # A new stack made of imported resources only: CloudFormation creates
        # it (REVIEW_IN_PROGRESS) with the change set.
        kind = "UPDATE" if stack is not None else "CREATE"
        change_set_id, stack_id = original_create(self, stack.name if stack else stack_name, change_set_name,
                                                  template, parameters, description, kind, *args, **kwargs)
        if stack is None:
            # moto gives a stack made by a change set no view of the exports,
            # so its later updates could not import any.
            made = self.stacks[stack_id]
            made.cross_stack_resources = self.exports
            made.resource_map.cross_stack_resources = self.exports
            made.shim_made_by_change_set = True
        change_set = self.change_sets[change_set_id]
        resources = (getattr(change_set, "template_dict", None) or {}).get("Resources", {})
        found = {}
        try:
            for item in imports:
                logical = item.get("LogicalResourceId", "")
                if logical not in resources or "DeletionPolicy" not in resources[logical]:
                    raise ValidationError(
                        message=f"The template must declare {logical} with a DeletionPolicy to import it"
                    )
                found[logical] = live_resource(item.get("ResourceType", ""), identifier_of(item), self.account_id,
                                               self.region_name)
        except ValidationError:
            self.change_sets.pop(change_set_id, None)
            raise
        change_set.change_set_type = "IMPORT"
        change_set.shim_imports = found
        return change_set_id, stack_id

    backend_class.create_change_set = create_change_set

    original_execute = backend_class.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
        imports = getattr(change_set, "shim_imports", None)
        if not imports:
            result = original_execute(self, change_set_name, stack_name)
            register_exports(self, change_set)
            return result
        for logical, model in imports.items():
            binding[(change_set.stack_id, logical)] = model
        try:
            original_execute(self, change_set_name, stack_name)
        finally:
            for logical in imports:
                binding.pop((change_set.stack_id, logical), None)
        register_exports(self, change_set)
        stack = self.stacks[change_set.stack_id]
        stack._add_stack_event("IMPORT_COMPLETE")

    def register_exports(backend, change_set) -> None:
        # moto registers a stack's exports when CreateStack makes it; a stack
        # an IMPORT change set made had none registered, so other stacks
        # could not import them and deleting it failed on an export it never
        # had (HTTP 500).
        stack = backend.stacks.get(getattr(change_set, "stack_id", None))
        if stack is None or not getattr(stack, "shim_made_by_change_set", False):
            return
        try:
            exports = list(stack.exports or [])
        except Exception:  # outputs that cannot resolve yet export nothing
            return
        for export in exports:
            backend.exports[export.name] = export

    backend_class.execute_change_set = execute_change_set

    original_parse = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        bound = binding.get((getattr(resources_map, "stack_id", None), logical_id))
        if bound is not None:
            bound.cf_resource_type = resource_json["Type"]
            bound.logical_resource_id = logical_id
            return bound
        return original_parse(logical_id, resource_json, resources_map, account_id, region_name)

    parsing.parse_and_create_resource = parse_and_create_resource


def nested_stack_outputs() -> None:
    """`!GetAtt Nested.Outputs.Name` reads an output of a nested stack (how
    workload templates read their addons' outputs); moto has no attribute
    lookup on stacks."""
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    def get_cfn_attribute(self, attribute_name):
        if attribute_name.startswith("Outputs."):
            key = attribute_name[len("Outputs."):]
            for output in self.output_map.values():
                if output is not None and output.key == key:
                    return output.value
        raise UnformattedGetAttTemplateException()

    models.Stack.get_cfn_attribute = get_cfn_attribute


def conditional_exports() -> None:
    """An output whose `Condition` is false exports nothing (an environment
    without load-balanced services has no ALB, so no ALB exports); moto
    evaluates every export's value regardless."""
    from moto.cloudformation import parsing

    def exports(self):
        result = []
        for value in (self._output_json_map or {}).values():
            condition = value.get("Condition")
            if condition and not self._resource_map.lazy_condition_map.get(condition):
                continue
            if value.get("Export"):
                name = parsing.clean_json(value["Export"].get("Name"), self._resource_map)
                cleaned = parsing.clean_json(value.get("Value"), self._resource_map)
                result.append(parsing.Export(self._stack_id, name, cleaned))
        return result

    parsing.OutputMap.exports = property(exports)


def stack_deletion_in_dependency_order() -> None:
    """CloudFormation deletes a stack's resources in reverse dependency
    order: a resource goes only once nothing left in the stack refers to it
    (`DependsOn`, `Ref`, `Fn::GetAtt`, `Fn::Sub`). moto tries them in set
    order and retries failures, so a bucket can go before its policy, whose
    deletion then fails on the missing bucket: the environment stack with
    access logs failed to delete in about one run out of two."""
    import re

    from moto.cloudformation import parsing

    sub_names = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")

    def referenced(value: Any, found: set) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and isinstance(inner, str):
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    target = inner[0] if isinstance(inner, list) and inner else inner
                    if isinstance(target, str):
                        found.add(target.split(".")[0])
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) and inner else inner
                    if isinstance(text, str):
                        found.update(sub_names.findall(text))
                    if isinstance(inner, list):
                        referenced(inner[1:], found)
                    continue
                referenced(inner, found)
        elif isinstance(value, list):
            for inner in value:
                referenced(inner, found)

    def dependencies(resource_json: dict) -> set:
        found: set = set()
        depends_on = resource_json.get("DependsOn") or []
        found.update([depends_on] if isinstance(depends_on, str) else depends_on)
        referenced(resource_json.get("Properties") or {}, found)
        return found

    original_delete = parsing.ResourceMap.delete

    def delete(self) -> None:
        remaining = {
            key for key, value in self._resource_json_map.items() if value.get("DeletionPolicy") != "Retain"
        }
        needs = {key: dependencies(self._resource_json_map[key]) & remaining for key in remaining}
        progressed = True
        while remaining and progressed:
            progressed = False
            # Those no remaining resource needs; sorted for a repeatable order.
            ready = sorted(key for key in remaining if not any(key in needs[other] for other in remaining - {key}))
            for key in ready:
                parsed = self._parsed_resources.get(key)
                if not isinstance(parsed, str) and parsed is not None:
                    try:
                        self._delete_resource(parsed, self._resource_json_map[key])
                    except Exception:
                        continue
                    self._parsed_resources.pop(key, None)
                remaining.discard(key)
                progressed = True
        if remaining:
            # A failure or a cycle: moto's own retrying order deletes what
            # is left or raises the error the way it always has.
            original_delete(self)

    parsing.ResourceMap.delete = delete


# ---------------------------------------------------------------------------
# Stack operations seen from outside as CloudFormation shows them. moto runs
# a stack operation inside its request; a client that gave up on the answer
# (a timeout, a killed process) polls while it still runs in another thread:
# - a create refused for an export another stack holds ends ROLLBACK_COMPLETE
#   (moto left a CREATE_PENDING stack without resources forever);
# - a deleted stack's exports go with it, even when moto failed to delete
#   one of its resources.
# ---------------------------------------------------------------------------
def stack_operations_like_cloudformation() -> None:
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import ValidationError

    backend_class = models.CloudFormationBackend
    original_create = backend_class.create_stack

    def create_stack(self, name, template, parameters, *args, **kwargs):
        try:
            return original_create(self, name, template, parameters, *args, **kwargs)
        except ValidationError as refused:
            stack = next((s for s in self.stacks.values() if s.name == name and s.status == "CREATE_PENDING"), None)
            if stack is None or "Export names must be unique" not in str(refused):
                raise
            stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=str(getattr(refused, "message", refused)))
            stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason="The following resource(s) failed to create: exports.")
            stack._add_stack_event("ROLLBACK_COMPLETE")
            stack.status = "ROLLBACK_COMPLETE"
            return stack

    backend_class.create_stack = create_stack

    # Outputs exist once a create succeeded. moto computes them on demand
    # from the resource map, which for a stack still being created (or one
    # rolled back) creates the missing resources inside the read: a
    # DescribeStacks racing the create failed with a 500 ("Role ... already
    # exists") and could leave duplicates behind.
    not_created = {"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS",
                   "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS"}
    original_outputs = models.Stack.outputs

    def outputs(self):
        return None if self.status in not_created else original_outputs.fget(self)

    models.Stack.outputs = property(outputs)

    # A deleted stack's exports go with it. moto drops the stack first and
    # its exports only after every resource was deleted: a resource moto
    # could not delete (some IAM models) left the exports of a stack that
    # no longer exists, and the next create of that stack was refused
    # ("Export names must be unique") forever.
    original_delete = backend_class.delete_stack

    def delete_stack(self, name_or_stack_id):
        ids = {s.stack_id for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)}
        try:
            original_delete(self, name_or_stack_id)
        finally:
            gone = {i for i in ids if i not in self.stacks}
            for name in [n for n, e in self.exports.items() if e.exporting_stack_id in gone]:
                self.exports.pop(name, None)

    backend_class.delete_stack = delete_stack


# ---------------------------------------------------------------------------
# An environment's network deleted with its stack: moto's CloudFormation
# models of route tables and their subnet associations have no delete, so
# they outlived the stack and the VPC's own deletion failed on them ("has
# dependencies"). CloudFormation deletes both (associations first).
# ---------------------------------------------------------------------------
def route_tables_deleted_with_their_stack() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation

    def delete_route_table(self, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        if self.id in backend.route_tables:
            backend.delete_route_table(self.id)

    def delete_association(self, account_id: str, region_name: str) -> None:
        ec2_backends[account_id][region_name].subnet_associations.pop(f"{self.route_table_id}:{self.subnet_id}", None)

    RouteTable.delete = delete_route_table
    SubnetRouteTableAssociation.delete = delete_association


# ---------------------------------------------------------------------------
# ECS workload field families (storage.volumes with managed EFS): moto's
# AWS::EFS::AccessPoint model creates the access point but answers neither
# `Ref` with its ID nor `Fn::GetAtt ... Arn`, which the workload's task role
# policy and volume use (as real CloudFormation does).
# ---------------------------------------------------------------------------
def efs_access_point_attributes() -> None:
    from moto.efs.models import AccessPoint

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Arn":
            return self.access_point_arn
        if attribute_name == "AccessPointId":
            return self.access_point_id
        raise KeyError(attribute_name)

    AccessPoint.has_cfn_attr = classmethod(lambda cls, attr: attr in ("Arn", "AccessPointId"))
    AccessPoint.get_cfn_attribute = get_cfn_attribute
    AccessPoint.physical_resource_id = property(lambda self: self.access_point_id)


# ---------------------------------------------------------------------------
# ECS task definitions updated by a stack (`task run --env-file`, which
# deploys the task stack again with the file's ARN): moto's create path
# turns the template's PascalCase container definitions into the API's
# camelCase, its update path registers them as they are, so the new
# revision describes as empty containers. The update remaps them as the
# create does (and compares like with like, so an unchanged definition stays).
# ---------------------------------------------------------------------------
def task_definition_updates_like_creates() -> None:
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs import models as ecs_models

    update = ecs_models.TaskDefinition.update_from_cloudformation_json

    def updated(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = dict(cloudformation_json.get("Properties", {}))
        for key in ("ContainerDefinitions", "Volumes"):
            properties[key] = remap_nested_keys(properties.get(key, []), pascal_to_camelcase)
        remapped = dict(cloudformation_json, Properties=properties)
        return update.__func__(cls, original_resource, new_resource_name, remapped, account_id, region_name)

    ecs_models.TaskDefinition.update_from_cloudformation_json = classmethod(updated)


# ---- Environment stacks: security-group egress and prefix-list sources ----
# (the environment plugin's `network.vpc.security_group.egress` and
# `http.public.ingress.cdn`)


class S3BucketPolicy(ShimLifecycle, CloudFormationModel):
    """AWS::S3::BucketPolicy over moto's s3 backend (the ELB access-logs
    bucket's policy), so GetBucketPolicy answers with it. moto enforces
    bucket policies and the emulator speaks plain HTTP, so a statement
    conditioned on `aws:SecureTransport` (a static site's ForceHTTPS deny)
    would refuse every request here that real AWS, over HTTPS, admits: such
    statements are left out of the stored policy."""

    __module__ = "moto.s3.cloudformation"

    def __init__(self, bucket: str, account_id: str):
        self.bucket = bucket
        self.account_id = account_id

    CFN_TYPE = "AWS::S3::BucketPolicy"
    NAME_PROPERTY = ""
    ATTRIBUTES = ()

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.s3.models import s3_backends

        props = cloudformation_json.get("Properties", {})
        bucket = props["Bucket"]
        document = dict(props["PolicyDocument"])
        document["Statement"] = [
            statement
            for statement in document.get("Statement", [])
            if "aws:SecureTransport" not in json.dumps(statement.get("Condition", {}))
        ]
        s3_backends[account_id]["global"].put_bucket_policy(bucket, json.dumps(document).encode())
        return cls(bucket, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        s3_backends[account_id]["global"].delete_bucket_policy(self.bucket)


def security_group_egress_and_prefix_lists() -> None:
    """moto's AWS::EC2::SecurityGroup model reads `SecurityGroupIngress` with
    CIDR or group sources only: `SecurityGroupEgress` is ignored (the group
    keeps its default allow-all egress) and a `SourcePrefixListId` source
    becomes a rule without a source. CloudFormation replaces the default
    egress with the listed rules and keeps prefix-list sources; so does this."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroup

    original = SecurityGroup.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        ingress = properties.get("SecurityGroupIngress", [])
        from_prefix_lists = [rule for rule in ingress if rule.get("SourcePrefixListId")]
        plain = dict(properties, SecurityGroupIngress=[rule for rule in ingress if not rule.get("SourcePrefixListId")])
        group = original(cls, resource_name, dict(cloudformation_json, Properties=plain), account_id, region_name, **kwargs)
        backend = ec2_backends[account_id][region_name]
        for rule in from_prefix_lists:
            backend.authorize_security_group_ingress(
                group_name_or_id=group.id,
                ip_protocol=str(rule["IpProtocol"]),
                from_port=rule.get("FromPort"),
                to_port=rule.get("ToPort"),
                ip_ranges=[],
                prefix_list_ids=[{"PrefixListId": rule["SourcePrefixListId"], "Description": rule.get("Description", "")}],
                vpc_id=group.vpc_id,
            )
        egress = properties.get("SecurityGroupEgress")
        if egress:
            group.egress_rules = []
            for rule in egress:
                backend.authorize_security_group_egress(
                    group_name_or_id=group.id,
                    ip_protocol=str(rule["IpProtocol"]),
                    from_port=rule.get("FromPort"),
                    to_port=rule.get("ToPort"),
                    ip_ranges=rule.get("CidrIp", []),
                    vpc_id=group.vpc_id,
                )
        return group

    SecurityGroup.create_from_cloudformation_json = classmethod(create)


# ---------------------------------------------------------------------------
# Network load balancers (a service's `nlb`): moto's CloudFormation model of
# AWS::ElasticLoadBalancingV2::LoadBalancer drops `Type`, so every load
# balancer it creates is an application one and a TCP/UDP/TLS listener on it
# is refused. Real CloudFormation honours `Type: network`.
# ---------------------------------------------------------------------------
def load_balancer_type_from_template() -> None:
    from moto.elbv2.models import FakeLoadBalancer, elbv2_backends

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        return elbv2_backends[account_id][region_name].create_load_balancer(
            resource_name,
            properties.get("SecurityGroups") or [],
            properties.get("Subnets"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
        )

    FakeLoadBalancer.create_from_cloudformation_json = classmethod(create)

# ---------------------------------------------------------------------------
# ECS Express Mode (the Express Web Service): moto has no model of
# AWS::ECS::ExpressGatewayService. This one keeps an ECS service (and a task
# definition for its primary container) in moto's ECS backend, so the
# service answers ecs:DescribeServices like any other, and exposes the
# attributes CloudFormation returns: Endpoint (the host name ECS serves the
# service on), ServiceArn, Status.
# ---------------------------------------------------------------------------
class ExpressGatewayService(ShimLifecycle, CloudFormationModel):
    """AWS::ECS::ExpressGatewayService over moto's ECS backend."""

    __module__ = "moto.ecs.cloudformation"

    CFN_TYPE = "AWS::ECS::ExpressGatewayService"
    NAME_PROPERTY = "ServiceName"
    ATTRIBUTES = ("Endpoint", "ServiceArn", "Status", "CreatedAt", "UpdatedAt")

    def __init__(self, service: Any, endpoint: str, created_at: str):
        self.service = service
        self.endpoint = endpoint
        self.created_at = created_at
        self.updated_at = created_at

    @property
    def physical_resource_id(self) -> str:
        return self.service.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {
            "Endpoint": self.endpoint,
            "ServiceArn": self.service.arn,
            "Status": {"StatusCode": self.service.status},
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
        }[attribute_name]

    @staticmethod
    def _task_definition(backend: Any, name: str, props: dict) -> Any:
        container = props.get("PrimaryContainer") or {}
        definition = {
            "name": "Main",
            "image": container.get("Image", ""),
            "essential": True,
            "portMappings": [{"containerPort": int(container.get("ContainerPort", 80)), "protocol": "tcp"}],
            "environment": [{"name": e["Name"], "value": e["Value"]} for e in container.get("Environment") or []],
            "secrets": [{"name": e["Name"], "valueFrom": e["ValueFrom"]} for e in container.get("Secrets") or []],
        }
        if container.get("Command"):
            definition["command"] = container["Command"]
        return backend.register_task_definition(
            family=name,
            container_definitions=[definition],
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=str(props.get("Cpu", "256")),
            memory=str(props.get("Memory", "512")),
            task_role_arn=props.get("TaskRoleArn"),
            execution_role_arn=props.get("ExecutionRoleArn"),
        )

    @staticmethod
    def _started(service: Any) -> None:
        """ECS Express Mode starts the tasks itself: the emulator's service
        reports them running (moto's own services start none)."""
        service.running_count = service.desired_count
        service.pending_count = 0

    @staticmethod
    def _network(props: dict) -> dict:
        network = props.get("NetworkConfiguration") or {}
        return {
            "awsvpcConfiguration": {
                "subnets": network.get("Subnets") or [],
                "securityGroups": network.get("SecurityGroups") or [],
            }
        }

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from datetime import datetime, timezone

        from moto.ecs.models import ecs_backends

        props = cloudformation_json.get("Properties", {})
        for required in ("ExecutionRoleArn", "InfrastructureRoleArn", "PrimaryContainer"):
            if not props.get(required):
                raise ValueError(f"AWS::ECS::ExpressGatewayService needs {required}")
        backend = ecs_backends[account_id][region_name]
        cluster = props.get("Cluster") or "default"
        if cluster.split("/")[-1] not in backend.clusters and cluster == "default":
            backend.create_cluster("default")
        name = props.get("ServiceName") or resource_name
        task_definition = cls._task_definition(backend, name, props)
        scaling = props.get("ScalingTarget") or {}
        service = backend.create_service(
            cluster,
            name,
            int(scaling.get("MinTaskCount", 1)),
            task_definition_str=task_definition.arn,
            tags=props.get("Tags") or [],
            launch_type="FARGATE",
            network_configuration=cls._network(props),
        )
        cls._started(service)
        # Real endpoints carry a random token; a name-derived one keeps the
        # emulator's answers stable across runs.
        endpoint = f"{name.lower()[:40]}.ecs.{region_name}.on.aws"
        return cls(service, endpoint, datetime.now(timezone.utc).isoformat())

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        from datetime import datetime, timezone

        from moto.ecs.models import ecs_backends

        props = cloudformation_json.get("Properties", {})
        backend = ecs_backends[account_id][region_name]
        service = original_resource.service
        task_definition = cls._task_definition(backend, service.name, props)
        scaling = props.get("ScalingTarget") or {}
        original_resource.service = backend.update_service(
            {
                "cluster": service.cluster_name,
                "service": service.name,
                "task_definition": task_definition.arn,
                "desired_count": int(scaling.get("MinTaskCount", 1)),
                "network_configuration": cls._network(props),
            }
        )
        cls._started(original_resource.service)
        original_resource.updated_at = datetime.now(timezone.utc).isoformat()
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[account_id][region_name]
        try:
            backend.delete_service(self.service.cluster_name, self.service.name, force=True)
        except Exception:  # already gone with its cluster
            pass

def change_sets_refresh_outputs() -> None:
    """An executed change set leaves moto's stack with the outputs of its
    previous template; CloudFormation's are the new template's (`svc
    migrate --deploy` replaces App Runner's `ServiceURL` with the Express
    one's)."""
    from moto.cloudformation.models import ChangeSet

    original = ChangeSet.apply

    def apply(self) -> None:
        original(self)
        self.stack.template = self.template
        self.stack._parse_template()
        self.stack.output_map = self.stack._create_output_map()

    ChangeSet.apply = apply


# ---------------------------------------------------------------------------
# App Runner (the Request-Driven Web Service, for `svc migrate --deploy`):
# moto has no App Runner at all. This model only lets a template with an
# AWS::AppRunner::Service be created, updated and deleted, with the
# attributes ferry's template reads (ServiceArn, ServiceUrl, ServiceId).
# ---------------------------------------------------------------------------
class AppRunnerService(ShimLifecycle, CloudFormationModel):
    """AWS::AppRunner::Service as a record with its attributes."""

    __module__ = "moto.apprunner.cloudformation"

    CFN_TYPE = "AWS::AppRunner::Service"
    NAME_PROPERTY = "ServiceName"
    ATTRIBUTES = ("ServiceArn", "ServiceUrl", "ServiceId", "Status")

    def __init__(self, arn: str, service_id: str, url: str):
        self.arn = arn
        self.service_id = service_id
        self.url = url

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {
            "ServiceArn": self.arn,
            "ServiceUrl": self.url,
            "ServiceId": self.service_id,
            "Status": "RUNNING",
        }[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import hashlib

        props = cloudformation_json.get("Properties", {})
        name = props.get("ServiceName") or resource_name
        service_id = hashlib.md5(f"{account_id}/{region_name}/{name}".encode()).hexdigest()
        arn = f"arn:aws:apprunner:{region_name}:{account_id}:service/{name}/{service_id}"
        return cls(arn, service_id, f"{service_id[:10]}.{region_name}.awsapprunner.com")

    def delete(self, account_id: str, region_name: str) -> None:
        pass


# ---------------------------------------------------------------------------
# App Runner custom domains (a Request-Driven Web Service's `http.alias`):
# moto has no App Runner API. The services the AppRunnerService model above
# creates are kept by ARN, and the custom-domain calls ferry's host step makes
# (AssociateCustomDomain, DescribeCustomDomains, DisassociateCustomDomain:
# JSON 1.0, `X-Amz-Target: AppRunner.<Operation>`) are answered here, before
# moto's dispatcher, which knows no `apprunner` service. An association
# lists one DNS validation CNAME at once (real App Runner lists it seconds
# later) and deleting the service drops its associations, as in AWS.
# ---------------------------------------------------------------------------
_APP_RUNNER_SERVICES: dict = {}


def _app_runner_dns_target(arn: str) -> str:
    region, service_id = arn.split(":")[3], arn.rsplit("/", 1)[-1]
    return f"{service_id[:10]}.{region}.awsapprunner.com"


def _app_runner_custom_domain(domain: str, entry: dict) -> dict:
    import hashlib

    token = hashlib.md5(domain.encode()).hexdigest()
    record = {
        "Name": f"_{token}.{domain}.",
        "Type": "CNAME",
        "Value": f"_{token[::-1]}.mhbtsbpdnt.acm-validations.aws.",
        "Status": "SUCCESS",
    }
    return {
        "DomainName": domain,
        "EnableWWWSubdomain": entry["www"],
        "CertificateValidationRecords": [record],
        "Status": "active",
    }


def _app_runner_call(operation: str, body: dict) -> tuple:
    arn = body.get("ServiceArn", "")
    domains = _APP_RUNNER_SERVICES.get(arn)
    if domains is None:
        return 400, {"__type": "ResourceNotFoundException", "Message": f"service {arn} does not exist"}
    domain = (body.get("DomainName") or "").rstrip(".").lower()
    answer = {"DNSTarget": _app_runner_dns_target(arn), "ServiceArn": arn}
    if operation == "AssociateCustomDomain":
        if domain in domains:
            return 400, {"__type": "InvalidRequestException", "Message": f"{domain} is already associated"}
        domains[domain] = {"www": bool(body.get("EnableWWWSubdomain", True))}
        return 200, {**answer, "CustomDomain": {**_app_runner_custom_domain(domain, domains[domain]), "Status": "creating"}}
    if operation == "DescribeCustomDomains":
        listed = [_app_runner_custom_domain(d, e) for d, e in sorted(domains.items())]
        return 200, {**answer, "CustomDomains": listed}
    if operation == "DisassociateCustomDomain":
        entry = domains.pop(domain, None)
        if entry is None:
            return 400, {"__type": "ResourceNotFoundException", "Message": f"{domain} is not associated"}
        return 200, {**answer, "CustomDomain": {**_app_runner_custom_domain(domain, entry), "Status": "deleting"}}
    return 400, {"__type": "InvalidActionException", "Message": f"the emulator does not serve AppRunner.{operation}"}


def app_runner_custom_domains() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    create, delete = AppRunnerService.create_from_cloudformation_json, AppRunnerService.delete

    def created(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        service = create.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _APP_RUNNER_SERVICES.setdefault(service.arn, {})
        return service

    def deleted(self, account_id: str, region_name: str) -> None:
        _APP_RUNNER_SERVICES.pop(self.arn, None)
        delete(self, account_id, region_name)

    AppRunnerService.create_from_cloudformation_json = classmethod(created)
    AppRunnerService.delete = deleted

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ: dict, start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("AppRunner."):
            return dispatch(self, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        status, answer = _app_runner_call(target.split(".", 1)[1], body)
        payload = json.dumps(answer).encode()
        start_response(
            "200 OK" if status == 200 else "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    DomainDispatcherApplication.__call__ = call


class AppRunnerVpcConnector(ShimLifecycle, CloudFormationModel):
    """AWS::AppRunner::VpcConnector (a service placed in the environment's
    subnets) as a record with the ARN CloudFormation returns."""

    __module__ = "moto.apprunner.cloudformation"

    CFN_TYPE = "AWS::AppRunner::VpcConnector"
    NAME_PROPERTY = "VpcConnectorName"
    ATTRIBUTES = ("VpcConnectorArn", "VpcConnectorRevision")

    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"VpcConnectorArn": self.arn, "VpcConnectorRevision": 1}[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import uuid

        name = cloudformation_json.get("Properties", {}).get("VpcConnectorName") or resource_name
        return cls(f"arn:aws:apprunner:{region_name}:{account_id}:vpcconnector/{name}/1/{uuid.uuid4().hex}")

    def delete(self, account_id: str, region_name: str) -> None:
        pass


class AppRunnerVpcIngressConnection(ShimLifecycle, CloudFormationModel):
    """AWS::AppRunner::VpcIngressConnection (`http.private`) as a record
    with the attributes CloudFormation returns."""

    __module__ = "moto.apprunner.cloudformation"

    CFN_TYPE = "AWS::AppRunner::VpcIngressConnection"
    NAME_PROPERTY = "VpcIngressConnectionName"
    ATTRIBUTES = ("VpcIngressConnectionArn", "DomainName", "Status")

    def __init__(self, arn: str, domain: str):
        self.arn = arn
        self.domain = domain

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"VpcIngressConnectionArn": self.arn, "DomainName": self.domain, "Status": "AVAILABLE"}[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import uuid

        token = uuid.uuid4().hex
        arn = f"arn:aws:apprunner:{region_name}:{account_id}:vpcingressconnection/{resource_name}/{token}"
        return cls(arn, f"{token[:10]}.{region_name}.awsapprunner.com")

    def delete(self, account_id: str, region_name: str) -> None:
        pass


def cloudfront_distribution_updates() -> None:
    """An environment's distribution gets its viewer certificate and aliases
    in a stack update once ferry has issued its us-east-1 certificate;
    the shim kept a distribution unchanged on update, CloudFormation
    updates it in place (UpdateDistribution)."""

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = cloudformation_json.get("Properties", {})
        distribution = original_resource.distribution
        reference = distribution.distribution_config.caller_reference
        config = _api_distribution_config(props["DistributionConfig"], reference)
        _cloudfront_backend(account_id).update_distribution(config, distribution.distribution_id, True)
        return original_resource

    CloudFrontDistribution.update_from_cloudformation_json = classmethod(update)


# ---------------------------------------------------------------------------
# Storage addons (`ferry storage init`, Aurora): CloudFormation names an
# unnamed AWS::RDS::DBInstance/DBCluster/DBSubnetGroup within RDS's rules
# (at most 63 lowercase letters, digits and single hyphens). moto names it
# `<stack>-<logical id>-<suffix>`, too long inside a nested addons stack,
# and its RDS backend then refuses the name.
# ---------------------------------------------------------------------------
def rds_names_like_cloudformation() -> None:
    import re

    from moto.cloudformation import parsing

    generate = parsing.generate_resource_name
    rds_types = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::RDS::DBSubnetGroup")

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = generate(resource_type, stack_name, logical_id)
        if resource_type not in rds_types:
            return name
        suffix = name.rsplit("-", 1)[-1].lower()
        prefix = re.sub(r"-+", "-", f"{stack_name}-{logical_id}".lower())[: 62 - len(suffix)].strip("-")
        return f"{prefix}-{suffix}"

    parsing.generate_resource_name = generate_resource_name


# Aurora storage: moto has no CloudFormation model of AWS::RDS::DBCluster,
# and its AWS::RDS::DBInstance model drops `DBClusterIdentifier` (an Aurora
# writer instance then asks for a stand-alone engine version moto lacks).
# This model keeps the cluster in moto's RDS backend (DescribeDBClusters
# answers) and cluster members are created as members. Credentials from a
# `{{resolve:secretsmanager:...}}` reference are not resolved by moto: the
# cluster gets placeholder ones.
class RdsDbCluster(ShimLifecycle, CloudFormationModel):
    __module__ = "moto.rds.cloudformation"

    CFN_TYPE = "AWS::RDS::DBCluster"
    NAME_PROPERTY = "DBClusterIdentifier"
    ATTRIBUTES = ("Endpoint.Address", "Endpoint.Port", "ReadEndpoint.Address", "DBClusterArn")

    def __init__(self, cluster: Any, account_id: str, region_name: str):
        self.cluster = cluster
        self.account_id = account_id
        self.region_name = region_name

    @property
    def physical_resource_id(self) -> str:
        return self.cluster.db_cluster_identifier

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Endpoint.Address":
            return self.cluster.endpoint
        if attribute_name == "Endpoint.Port":
            return str(self.cluster.port)
        if attribute_name == "ReadEndpoint.Address":
            return self.cluster.reader_endpoint
        if attribute_name == "DBClusterArn":
            return self.cluster.db_cluster_arn
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.rds.models import rds_backends

        props = cloudformation_json.get("Properties", {})
        cluster = rds_backends[account_id][region_name].create_db_cluster(
            {
                "db_cluster_identifier": (props.get("DBClusterIdentifier") or resource_name).lower(),
                "engine": props.get("Engine"),
                "engine_version": props.get("EngineVersion"),
                "master_username": "placeholder",
                "master_user_password": "placeholder-password",
                "database_name": props.get("DatabaseName"),
                "port": props.get("Port"),
                "vpc_security_group_ids": props.get("VpcSecurityGroupIds", []),
            }
        )
        return cls(cluster, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.rds.models import rds_backends

        backend = rds_backends[account_id][region_name]
        for db in [d for d in backend.databases.values() if d.db_cluster_identifier == self.physical_resource_id]:
            backend.delete_db_instance(db.db_instance_identifier)
        backend.delete_db_cluster(cluster_identifier=self.physical_resource_id)


class SecretsManagerSecret(ShimLifecycle, CloudFormationModel):
    """AWS::SecretsManager::Secret over moto's secretsmanager backend (the
    Aurora storage's credentials): `GenerateSecretString` yields its
    template's JSON with a generated field, as Secrets Manager does. Ref is
    the secret's ARN."""

    __module__ = "moto.secretsmanager.cloudformation"

    CFN_TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id",)

    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.arn
        raise KeyError(attribute_name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import secrets

        from moto.secretsmanager.models import secretsmanager_backends

        props = cloudformation_json.get("Properties", {})
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate:
            document = json.loads(generate.get("SecretStringTemplate") or "{}")
            document[generate.get("GenerateStringKey", "password")] = secrets.token_hex(8)
            value = json.dumps(document)
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=props.get("Name") or resource_name,
            secret_string=value or secrets.token_hex(8),
            secret_binary=None,
            description=props.get("Description"),
            tags=props.get("Tags"),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"])

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.secretsmanager.models import secretsmanager_backends

        secretsmanager_backends[account_id][region_name].delete_secret(self.arn, None, True)


def rds_cluster_members_from_templates() -> None:
    from moto.rds.models import DBInstance, rds_backends

    original = DBInstance.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        cluster = props.get("DBClusterIdentifier")
        if not cluster:
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return rds_backends[account_id][region_name].create_db_instance(
            {
                "db_instance_identifier": resource_name.replace("_", "-"),
                "db_instance_class": props.get("DBInstanceClass"),
                "engine": props.get("Engine"),
                "db_cluster_identifier": cluster,
                "availability_zone": props.get("AvailabilityZone"),
            }
        )

    DBInstance.create_from_cloudformation_json = classmethod(create)


# ---------------------------------------------------------------------------
# Adopting Copilot's stacks (`ferry adopt`): Copilot's custom resources are
# Lambda-backed, and moto runs no Lambda. Tests stand them in with types
# named `Custom::FerryStandIn...`: created at once, answering any attribute
# from the property of that name, and recording every delete (what a
# Lambda's delete handler would run on) as the SSM parameter
# /ferry-test/custom-resource-deletes/<stack>/<logical ID>, which the test
# reads. And CloudFormation keeps a resource with `DeletionPolicy: Retain`
# when an update removes it from the template (moto deleted it).
# ---------------------------------------------------------------------------
STAND_IN_PREFIX = "Custom::FerryStandIn"
STAND_IN_DELETES = "/ferry-test/custom-resource-deletes"


class CustomResourceStandIn(ShimLifecycle, CloudFormationModel):
    """A custom resource whose handler is this model: it records deletes."""

    __module__ = "moto.cloudformation.standin"
    CFN_TYPE = STAND_IN_PREFIX

    def __init__(self, logical_id: str, stack_id: str, properties: dict, physical_id: str = ""):
        self.logical_id = logical_id
        self.stack_name = stack_id.split("/")[1] if "/" in stack_id else stack_id
        self.properties = properties
        self.physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id or f"{self.stack_name}-{self.logical_id}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        physical = ""
        # Copilot's certificate validator answers with the ARN of the
        # certificate it issued (an HTTPS listener uses it): an issued one.
        if cloudformation_json.get("Type", "").endswith("CertificateValidationFunction"):
            from moto.acm.models import acm_backends

            backend = acm_backends[account_id][region_name]
            domain = f"{props.get('EnvName')}.{props.get('AppName')}.{props.get('DomainName')}"
            physical = backend.request_certificate(domain, None, [f"*.{domain}"], [])
            backend.get_certificate(physical).status = "ISSUED"
        return cls(kwargs["LogicalId"], kwargs.get("StackId", ""), props, physical)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return str(self.properties.get(attribute_name, "stand-in"))

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.ssm.models import ssm_backends

        name = f"{STAND_IN_DELETES}/{self.stack_name}/{self.logical_id}"
        ssm_backends[account_id][region_name].put_parameter(
            name, "", "the delete handler ran", "String", "", None, True, [], "text", None, None
        )


def custom_resource_stand_ins() -> None:
    from moto.cloudformation import parsing

    original_class = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str):
        if resource_type.startswith(STAND_IN_PREFIX):
            return CustomResourceStandIn
        return original_class(resource_type)

    parsing.resource_class_from_type = resource_class_from_type

    original_delete = parsing.ResourceMap._delete_resource

    def delete_resource(self, parsed_resource: Any, resource_json: dict) -> None:
        # A stack deletion already skips retained resources; an update that
        # drops one from the template lets it go the same way.
        if resource_json.get("DeletionPolicy") == "Retain" or parsed_resource is None:
            # (A resource moto does not model, a wait-condition handle, has nothing to delete.)
            return
        original_delete(self, parsed_resource, resource_json)

    parsing.ResourceMap._delete_resource = delete_resource

    # A change of only `Metadata`, `DeletionPolicy` or `UpdateReplacePolicy`
    # makes CloudFormation call no resource handler (adoption's first step
    # is one); moto updated (and for some types recreated) the resource.
    original_diff = parsing.ResourceMap.build_resource_diff
    bookkeeping = ("Metadata", "DeletionPolicy", "UpdateReplacePolicy")

    def build_resource_diff(self, other_template: dict, parameters: Any = None) -> dict:
        diff = original_diff(self, other_template, parameters)
        old, new = self._resource_json_map, other_template["Resources"]
        changed = [p for p in (parameters or {}) if self.input_parameters.get(p) != parameters[p]]

        def only_bookkeeping(name: str) -> bool:
            strip = lambda r: {k: v for k, v in r.items() if k not in bookkeeping}
            if old[name] == new[name] or strip(old[name]) != strip(new[name]):
                return False
            referenced = parsing.get_references_from_template(new[name])
            return not any(p in referenced for p in changed)

        def deployed(name: str) -> bool:
            # A resource whose condition was false was never created: there
            # is nothing to remove (Copilot's domain resources in an app
            # without a domain); moto listed every resource of the template.
            condition = old[name].get("Condition")
            return not condition or bool(self.lazy_condition_map[condition])

        diff["Modify"] = [name for name in diff["Modify"] if not only_bookkeeping(name)]
        diff["Remove"] = [name for name in diff["Remove"] if deployed(name)]
        return diff

    parsing.ResourceMap.build_resource_diff = build_resource_diff

    # A model without update support (the load balancer's, among others)
    # dropped the resource from the stack on any change to it; CloudFormation
    # updates it in place. Keep it as it is instead.
    original_update = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        updated = original_update(logical_id, resource_json, resources_map, account_id, region_name)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    parsing.parse_and_update_resource = parse_and_update_resource

    # Executing an update change set applies its tags to the stack (ferry
    # marks an adopted stack with one); moto kept the old ones.
    from moto.cloudformation import models as cfn_models

    original_apply = cfn_models.ChangeSet.apply

    def apply(self) -> None:
        original_apply(self)
        if self.tags is not None and self.change_set_type != "CREATE":
            self.stack.tags = self.tags

    cfn_models.ChangeSet.apply = apply


# ---------------------------------------------------------------------------
# ECS Exec and App Runner pause/resume (`task exec`, `svc exec`, `svc pause`,
# `svc resume`): moto has no ecs:ExecuteCommand and keeps neither a
# service's nor a task's `enableExecuteCommand`, nor a container's
# `runtimeId` (what Session Manager's target names). This keeps the flag
# from the template (service) and from RunTask (task), gives containers a
# runtime ID, and answers ExecuteCommand as ECS does: a Session Manager
# session for a running task that has exec enabled, refused otherwise. App
# Runner's PauseService, ResumeService and DescribeService are answered on
# the services the AppRunnerService model above keeps (pausing is immediate
# here; App Runner takes a minute).
# ---------------------------------------------------------------------------
_APP_RUNNER_STATUS: dict = {}


def _exec_task_flag() -> Any:
    import threading

    holder = getattr(_exec_task_flag, "holder", None)
    if holder is None:
        holder = threading.local()
        _exec_task_flag.holder = holder
    return holder


def _ecs_execute_command(region: str, body: dict) -> tuple:
    import uuid

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[DEFAULT_ACCOUNT_ID][region]
    cluster = (body.get("cluster") or "default").rsplit("/", 1)[-1]
    wanted = body.get("task", "").rsplit("/", 1)[-1]
    task = next((t for arn, t in backend.tasks.get(cluster, {}).items() if arn.endswith("/" + wanted)), None)
    if task is None or not wanted:
        return 400, {"__type": "InvalidParameterException", "message": f"task {wanted} was not found in cluster {cluster}"}
    if task.last_status != "RUNNING":
        return 400, {"__type": "InvalidParameterException", "message": "The execute command failed because the task is not running."}
    if not getattr(task, "enable_execute_command", False):
        return 400, {
            "__type": "InvalidParameterException",
            "message": "The execute command failed because execute command was not enabled when the task was run "
            "or the execute command agent isn't running. Wait and try again or run a new task with execute "
            "command enabled and try again.",
        }
    names = [c.name for c in task.containers]
    container = body.get("container") or (names[0] if len(names) == 1 else None)
    if container not in names:
        return 400, {"__type": "InvalidParameterException", "message": f"container {body.get('container')} is not in the task (it has {names})"}
    if not body.get("interactive"):
        return 400, {"__type": "InvalidParameterException", "message": "Interactive is the only mode supported currently."}
    session = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
    return 200, {
        "clusterArn": task.cluster_arn,
        "containerArn": next(c.container_arn for c in task.containers if c.name == container),
        "containerName": container,
        "interactive": True,
        "taskArn": task.task_arn,
        "session": {
            "sessionId": session,
            "streamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session}?role=publish_subscribe",
            "tokenValue": uuid.uuid4().hex,
        },
    }


def _app_runner_pause_resume(operation: str, body: dict) -> tuple:
    arn = body.get("ServiceArn", "")
    if arn not in _APP_RUNNER_SERVICES:
        return 400, {"__type": "ResourceNotFoundException", "Message": f"service {arn} does not exist"}
    status = _APP_RUNNER_STATUS.get(arn, "RUNNING")
    if operation == "PauseService":
        if status != "RUNNING":
            return 400, {"__type": "InvalidStateException", "Message": f"You can't pause a service in the {status} state."}
        status = "PAUSED"
    elif operation == "ResumeService":
        if status != "PAUSED":
            return 400, {"__type": "InvalidStateException", "Message": f"You can't resume a service in the {status} state."}
        status = "RUNNING"
    _APP_RUNNER_STATUS[arn] = status
    name, service_id = arn.split("/")[-2], arn.rsplit("/", 1)[-1]
    service = {
        "ServiceName": name,
        "ServiceId": service_id,
        "ServiceArn": arn,
        "ServiceUrl": _app_runner_dns_target(arn),
        "Status": status,
        "CreatedAt": 1767225600,
        "UpdatedAt": 1767225600,
        "SourceConfiguration": {},
        "InstanceConfiguration": {},
        "AutoScalingConfigurationSummary": {},
        "NetworkConfiguration": {},
    }
    answer = {"Service": service}
    if operation != "DescribeService":
        import uuid

        answer["OperationId"] = uuid.uuid4().hex
    return 200, answer


def ecs_exec_and_app_runner_pause() -> None:
    from moto.ecs import models as ecs_models
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    container_init = ecs_models.Container.__init__

    def container(self, task_def) -> None:
        import uuid

        container_init(self, task_def)
        self.runtime_id = f"{uuid.uuid4().hex}-{uuid.uuid4().int % 10**10}"
        # ECS's Container shape has `cpu` and `memory` as strings; moto keeps
        # a template's numbers, which strict SDKs refuse to read.
        for field in ("cpu", "memory"):
            if getattr(self, field, None) is not None:
                setattr(self, field, str(getattr(self, field)))

    ecs_models.Container.__init__ = container

    # A Fargate task definition may size only the task (Copilot's task
    # template does): moto adds up container memory and fails on none.
    calc = ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements
    sized = ("Memory", "MemoryReservation", "memory", "memoryReservation")

    def requirements(task_definition) -> dict:
        saved = task_definition.container_definitions
        task_definition.container_definitions = [c if any(k in c for k in sized) else {**c, "memory": 0} for c in saved]
        try:
            return calc(task_definition)
        finally:
            task_definition.container_definitions = saved

    ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)

    task_init = ecs_models.Task.__init__

    def task(self, *args, **kwargs) -> None:
        task_init(self, *args, **kwargs)
        self.enable_execute_command = bool(getattr(_exec_task_flag(), "enabled", False))

    ecs_models.Task.__init__ = task

    run_task = EC2ContainerServiceResponse.run_task

    def run(self):
        _exec_task_flag().enabled = bool(self._get_param("enableExecuteCommand", False))
        try:
            return run_task(self)
        finally:
            _exec_task_flag().enabled = False

    EC2ContainerServiceResponse.run_task = run

    def exec_flag(value: Any) -> bool:
        return value is True or str(value).lower() == "true"

    create, update = ecs_models.Service.create_from_cloudformation_json, ecs_models.Service.update_from_cloudformation_json

    def created(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        service = create.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        service.enable_execute_command = exec_flag(cloudformation_json.get("Properties", {}).get("EnableExecuteCommand"))
        return service

    def updated(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        service = update.__func__(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        service.enable_execute_command = exec_flag(cloudformation_json.get("Properties", {}).get("EnableExecuteCommand"))
        return service

    ecs_models.Service.create_from_cloudformation_json = classmethod(created)
    ecs_models.Service.update_from_cloudformation_json = classmethod(updated)

    global _app_runner_call
    other_app_runner_calls = _app_runner_call

    def app_runner_call(operation: str, body: dict) -> tuple:
        if operation in ("PauseService", "ResumeService", "DescribeService"):
            return _app_runner_pause_resume(operation, body)
        return other_app_runner_calls(operation, body)

    _app_runner_call = app_runner_call

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ: dict, start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "") != "AmazonEC2ContainerServiceV20141113.ExecuteCommand":
            return dispatch(self, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
        region = scope[2] if len(scope) > 3 else "us-east-1"
        status, answer = _ecs_execute_command(region, body)
        payload = json.dumps(answer).encode()
        start_response(
            "200 OK" if status == 200 else "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    DomainDispatcherApplication.__call__ = call


if __name__ == "__main__":
    hosted_zones_like_cloudformation()
    drop_novalue_from_lists()
    efs_access_point_attributes()
    stack_set_instances_like_aws()
    stack_set_updates_reach_their_instances()
    resource_import_change_sets()
    nested_stack_outputs()
    conditional_exports()
    stack_deletion_in_dependency_order()
    stack_operations_like_cloudformation()
    route_tables_deleted_with_their_stack()
    security_group_egress_and_prefix_lists()
    load_balancer_type_from_template()
    change_sets_refresh_outputs()
    app_runner_custom_domains()
    cloudfront_distribution_updates()
    rds_names_like_cloudformation()
    rds_cluster_members_from_templates()
    custom_resource_stand_ins()
    ecs_exec_and_app_runner_pause()
    task_definition_updates_like_creates()
    from moto.server import main

    main(sys.argv[1:])
