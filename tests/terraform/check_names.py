#!/usr/bin/env python3
"""Checks terraform/*.tf against terraform/names.json and the bastion's security invariants.

Run by scripts/check-terraform with PYTHONPATH pointing at python-hcl2 (the PyPI parser; the
`hcl2` module in .venv itself is checkov's fork, bc-python-hcl2). No terraform binary is needed.

names.json is the one source of truth for what `rust-pki bastion` (crate bastion/, via
include_str!) looks resources up by. Asserted here:
  * terraform reads it: locals { names = jsondecode(file("${path.module}/names.json")) };
  * every names.json key is used as local.names.<key>, and no .tf string repeats a value;
  * the CloudHSM cluster and the bastion instance carry tag local.names.tag_key = their role
    (and no other resource claims either role), member roles are named with the prefix, the
    SNS topic and the trail are named from names.json;
  * security groups: exactly the four expected rules (HSM ENIs accept 2223-2225 from the
    bastion SG only; bastion accepts 22 from the EIC endpoint SG only; bastion egress 2223-2225
    to the HSM SG only; endpoint egress 22 to the bastion only), none with a CIDR;
  * nothing public: no internet/NAT gateway, EIP, routes, public IPs; no aws_cloudhsm_v2_hsm;
  * member roles: MFA (aws:MultiFactorAuthPresent = true) in the trust policy and in every
    Allow statement; SendSSHPublicKey only on the bastion for ec2:osuser = bastion_os_user.
  * the operator role (local.names.operator_role): MFA in its trust policy and every Allow
    statement, and exactly the actions bastion/src/aws.rs calls: every SDK call there
    (`self.hsm|ec2|connect.<operation>()`) maps to an IAM action that must be allowed, plus
    cloudhsm:TagResource for the TagList it sends and kms:CreateGrant for starting the
    bastion's KMS-encrypted volume; an action allowed but never called fails too;
  * hsm_host_number and backup_retention_days agree with policy/aws.toml.

Usage: check_names.py [TERRAFORM_DIR]   (exit 1 listing every failure by file and resource)
       check_names.py --self-test       (mutates a copy and expects each mutation to be caught)
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

import hcl2

REPO = Path(__file__).resolve().parents[2]
HSM_PORTS = (2223, 2225)
FORBIDDEN_TYPES = {
    "aws_internet_gateway": "internet gateway",
    "aws_egress_only_internet_gateway": "egress-only internet gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_eip": "elastic IP",
    "aws_eip_association": "elastic IP association",
    "aws_route": "route (the private route table has the local route only)",
    "aws_default_route_table": "default route table routes",
    "aws_vpn_gateway": "VPN gateway",
    "aws_network_interface": "extra network interface",
    "aws_launch_template": "launch template (could set a public IP)",
    "aws_security_group_rule": "legacy aws_security_group_rule (use aws_vpc_security_group_*_rule)",
    "aws_cloudhsm_v2_hsm": "aws_cloudhsm_v2_hsm (HSMs are ephemeral: `rust-pki bastion up`)",
}


# --------------------------------------------------------------------------------------------
# Parsing helpers


class Resource:
    def __init__(self, file: str, rtype: str, name: str, body: dict):
        self.file, self.type, self.name, self.body = file, rtype, name, body

    @property
    def addr(self) -> str:
        return f"{self.file}: {self.type}.{self.name}"

    def get(self, key, default=None):
        return self.body.get(key, default)

    def block(self, key) -> dict:
        value = self.body.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0]
        return {}


def unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def expr(value) -> str | None:
    """`${x}` -> `x` for a bare expression; None for anything else."""
    if not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
        return None
    # A single interpolation spanning the whole string, not a template such as ${a}-${b}: the
    # brace opened at index 1 must close at the very end (braces in strings are balanced here).
    depth = 0
    for index, char in enumerate(value[1:], start=1):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return value[2:-1].strip() if index == len(value) - 1 else None
    return None


def literal(value):
    """A quoted string literal's content, a number/bool as is, else None."""
    if isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return None


def walk_strings(node, path=""):
    """Every string (values and map keys) outside comments, with a path for messages."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "__comments__":
                continue
            yield f"{path}/{key}", key
            yield from walk_strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


class HclObject:
    """Parses the normalised HCL object/tuple text python-hcl2 gives for a jsonencode(...)
    argument into Python: strings stay strings, references become Ref."""

    TOKEN = re.compile(r'\s*(?:(?P<punct>[{}\[\]=,:])|(?P<string>"(?:[^"\\$]|\\.|\$\{[^}]*\}|\$)*")|(?P<bare>[^\s{}\[\]=,:"]+))')

    def __init__(self, text: str):
        self.tokens = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot tokenise near {text[pos:pos + 40]!r}")
            pos = m.end()
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind)))
        self.i = 0

    def parse(self):
        value = self.value()
        if self.i != len(self.tokens):
            raise ValueError("trailing tokens")
        return value

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, punct=None):
        tok = self.tokens[self.i]
        if punct and tok != ("punct", punct):
            raise ValueError(f"expected {punct!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def value(self):
        kind, text = self.peek()
        if (kind, text) == ("punct", "{"):
            self.take("{")
            obj = {}
            while self.peek() != ("punct", "}"):
                _, key = self.take()
                key = literal(key) if key.startswith('"') else key
                kind2, sep = self.take()
                if sep not in ("=", ":"):
                    raise ValueError(f"expected = after {key!r}")
                obj[key] = self.value()
                if self.peek() == ("punct", ","):
                    self.take(",")
            self.take("}")
            return obj
        if (kind, text) == ("punct", "["):
            self.take("[")
            items = []
            while self.peek() != ("punct", "]"):
                items.append(self.value())
                if self.peek() == ("punct", ","):
                    self.take(",")
            self.take("]")
            return items
        self.take()
        if kind == "string":
            return literal(text)
        return Ref(text)


class Ref(str):
    """A bare reference such as aws_instance.bastion.arn inside a policy document."""


def jsonencoded(value) -> object | None:
    inner = expr(value)
    if inner is None or not inner.startswith("jsonencode(") or not inner.endswith(")"):
        return None
    return HclObject(inner[len("jsonencode("):-1]).parse()


# --------------------------------------------------------------------------------------------
# The checks


# The SDK clients of bastion/src/aws.rs and their IAM service prefixes.
CLIENT_SERVICES = {"hsm": "cloudhsm", "ec2": "ec2", "connect": "ec2-instance-connect"}
# Operation names whose IAM spelling is not the CamelCase of the SDK's snake_case.
SPECIAL_OPERATIONS = {"send_ssh_public_key": "SendSSHPublicKey"}


def called_actions(aws_rs: str) -> set[str]:
    """The IAM actions the executor needs: one per SDK call, plus those a call implies."""
    actions = set()
    for client, operation in re.findall(r"self\s*\.\s*(hsm|ec2|connect)\s*\.\s*([a-z0-9_]+)\s*\(\s*\)", aws_rs):
        name = SPECIAL_OPERATIONS.get(operation) or "".join(part.capitalize() for part in operation.split("_"))
        actions.add(f"{CLIENT_SERVICES[client]}:{name}")
    # Tags sent with a create call need the tagging action as well.
    if re.search(r"\.set_tag_list\s*\(|\.tag_list\s*\(\s*[a-z]", aws_rs) and "cloudhsm:CopyBackupToRegion" in actions:
        actions.add("cloudhsm:TagResource")
    # Starting an instance whose volume is encrypted with a customer managed key makes EC2
    # create a KMS grant on the caller's behalf (Amazon EBS User Guide,
    # ebs-encryption-requirements.html).
    if "ec2:StartInstances" in actions:
        actions.add("kms:CreateGrant")
    return actions


def check(tf_dir: Path, aws_rs: str | None = None) -> list[str]:
    errors: list[str] = []

    def fail(where: str, message: str) -> None:
        errors.append(f"{where}: {message}")

    names_path = tf_dir / "names.json"
    names = json.loads(names_path.read_text())
    files = sorted(tf_dir.glob("*.tf"))
    if not files:
        return [f"{tf_dir}: no .tf files"]

    docs: dict[str, dict] = {}
    for path in files:
        try:
            with path.open() as handle:
                docs[path.name] = hcl2.load(handle)
        except Exception as error:  # noqa: BLE001 - a parse error is a failure to report
            fail(path.name, f"python-hcl2 cannot parse it: {error}")
    if errors:
        return errors

    resources: list[Resource] = []
    locals_: dict[str, object] = {}
    for file, doc in docs.items():
        for entry in doc.get("resource", []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    resources.append(Resource(file, unquote(rtype), unquote(name), body))
        for block in doc.get("locals", []):
            for key, value in block.items():
                if not key.startswith("__"):
                    locals_[key] = (file, value)

    def by_type(rtype: str) -> list[Resource]:
        return [r for r in resources if r.type == rtype]

    def one(rtype: str, name: str) -> Resource | None:
        found = [r for r in resources if r.type == rtype and r.name == name]
        if len(found) != 1:
            fail("terraform/", f"expected exactly one {rtype}.{name}, found {len(found)}")
            return None
        return found[0]

    def resolve_number(value):
        lit = literal(value)
        if isinstance(lit, (int, float)) and not isinstance(lit, bool):
            return int(lit)
        inner = expr(value)
        if inner and inner.startswith("local.") and inner[6:] in locals_:
            return resolve_number(locals_[inner[6:]][1])
        return None

    # 1. terraform reads names.json -----------------------------------------------------------
    if "names" not in locals_:
        fail("terraform/", "no `locals { names = ... }`")
    else:
        file, value = locals_["names"]
        if expr(value) != 'jsondecode(file("${path.module}/names.json"))':
            fail(f"{file}: locals.names", f'must be jsondecode(file("${{path.module}}/names.json")), is {value!r}')

    # 2. every key used, no value repeated ------------------------------------------------------
    all_strings = [(file, path, s) for file, doc in docs.items() for path, s in walk_strings(doc)]
    used = set()
    for _, _, s in all_strings:
        used.update(re.findall(r"\blocal\.names\.([A-Za-z0-9_]+)", s))
    for key in names:
        if key not in used:
            fail(f"{names_path.name}: {key}", f"never used as local.names.{key} in any .tf file")
    for key in sorted(used - set(names)):
        fail("terraform/", f"local.names.{key} is used but names.json has no key {key!r}")
    for key, value in names.items():
        pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])")
        for file, path, s in all_strings:
            if pattern.search(s):
                fail(f"{file}: {path}", f"repeats names.json {key} = {value!r} literally; use local.names.{key}")

    # 3. tags / names the bastion code looks resources up by ----------------------------------
    tag_key_exprs = {"local.names.tag_key", "(local.names.tag_key)"}

    def role_tag(resource: Resource):
        tags = resource.get("tags") or {}
        for key, value in tags.items():
            if expr(key) in tag_key_exprs:
                return expr(value)
        return None

    expected_roles = {
        ("aws_cloudhsm_v2_cluster", "root"): "local.names.cluster_role",
        ("aws_instance", "bastion"): "local.names.bastion_role",
    }
    for (rtype, name), role in expected_roles.items():
        resource = one(rtype, name)
        if resource and role_tag(resource) != role:
            fail(resource.addr, f"must be tagged local.names.tag_key = {role}, has {role_tag(resource)!r}")
    for resource in resources:
        role = role_tag(resource)
        if role in expected_roles.values() and expected_roles.get((resource.type, resource.name)) != role:
            fail(resource.addr, f"also claims {role}: the bastion's tag lookup would be ambiguous")

    for rtype, name, attr, want in [
        ("aws_iam_role", "member", "name", '"${local.names.member_role_prefix}${each.key}"'),
        ("aws_sns_topic", "alarms", "name", "${local.names.alarm_topic}"),
        ("aws_cloudtrail", "audit", "name", "${local.names.trail}"),
    ]:
        resource = one(rtype, name)
        if resource and resource.get(attr) != want:
            fail(resource.addr, f"{attr} must be {want}, is {resource.get(attr)!r}")
    member_role = next((r for r in by_type("aws_iam_role") if r.name == "member"), None)
    if member_role and expr(member_role.get("for_each")) != "local.members":
        fail(member_role.addr, "must have one role per member: for_each = local.members")
    for resource in by_type("aws_iam_role"):
        if resource.name != "member" and "member_role_prefix" in json.dumps(resource.body):
            fail(resource.addr, "only the per-member roles may use the member role prefix")

    # 4. security groups ------------------------------------------------------------------------
    cluster_sg = "aws_cloudhsm_v2_cluster.root.security_group_id"
    bastion_sg = "aws_security_group.bastion.id"
    eic_sg = "aws_security_group.eic_endpoint.id"
    expected_rules = {
        ("ingress", cluster_sg, bastion_sg, HSM_PORTS),
        ("ingress", bastion_sg, eic_sg, (22, 22)),
        ("egress", bastion_sg, cluster_sg, HSM_PORTS),
        ("egress", eic_sg, bastion_sg, (22, 22)),
    }
    found_rules = set()
    for direction in ("ingress", "egress"):
        for rule in by_type(f"aws_vpc_security_group_{direction}_rule"):
            for attr in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id"):
                if attr in rule.body:
                    fail(rule.addr, f"has {attr}: every rule must reference a security group, no CIDR")
            if literal(rule.get("ip_protocol")) != "tcp":
                fail(rule.addr, f"ip_protocol must be tcp, is {rule.get('ip_protocol')!r}")
            ports = (resolve_number(rule.get("from_port")), resolve_number(rule.get("to_port")))
            key = (direction, expr(rule.get("security_group_id")), expr(rule.get("referenced_security_group_id")), ports)
            if key not in expected_rules:
                fail(rule.addr, f"unexpected {direction} rule {key[1]} <-> {key[2]} ports {ports[0]}-{ports[1]}")
            if key in found_rules:
                fail(rule.addr, "duplicate rule")
            found_rules.add(key)
    for missing in sorted(expected_rules - found_rules):
        fail("terraform/", f"missing {missing[0]} rule on {missing[1]} with {missing[2]} ports {missing[3][0]}-{missing[3][1]}")
    for sg in by_type("aws_security_group"):
        for attr in ("ingress", "egress"):
            if attr in sg.body:
                fail(sg.addr, f"inline {attr} blocks: use aws_vpc_security_group_{attr}_rule resources")
    for sg in by_type("aws_default_security_group"):
        if "ingress" in sg.body or "egress" in sg.body:
            fail(sg.addr, "the default security group must have no rules")
    instance = next((r for r in by_type("aws_instance") if r.name == "bastion"), None)
    if instance and instance.get("vpc_security_group_ids") != ["${" + bastion_sg + "}"]:
        fail(instance.addr, f"vpc_security_group_ids must be exactly [{bastion_sg}]")
    endpoint = next((r for r in by_type("aws_ec2_instance_connect_endpoint")), None)
    if endpoint is None:
        fail("terraform/", "no aws_ec2_instance_connect_endpoint")
    elif endpoint.get("security_group_ids") != ["${" + eic_sg + "}"]:
        fail(endpoint.addr, f"security_group_ids must be exactly [{eic_sg}]")

    # 5. nothing public --------------------------------------------------------------------------
    for resource in resources:
        if resource.type in FORBIDDEN_TYPES:
            fail(resource.addr, f"forbidden: {FORBIDDEN_TYPES[resource.type]}")
        if resource.type == "aws_route_table" and "route" in resource.body:
            fail(resource.addr, "has routes: only the implicit local route is allowed")
        if resource.type == "aws_subnet" and resource.get("map_public_ip_on_launch") is not False:
            fail(resource.addr, "map_public_ip_on_launch must be false")
        if resource.type == "aws_subnet" and resource.get("assign_ipv6_address_on_creation") is True:
            fail(resource.addr, "no IPv6 addresses")
        if resource.type == "aws_instance":
            if resource.get("associate_public_ip_address") is not False:
                fail(resource.addr, "associate_public_ip_address must be false")
            if "network_interface" in resource.body:
                fail(resource.addr, "no network_interface blocks")
            if resource.get("ipv6_address_count") or resource.get("ipv6_addresses"):
                fail(resource.addr, "no IPv6 addresses")
    if instance and resolve_number(instance.block("metadata_options").get("http_put_response_hop_limit")) != 1:
        fail(instance.addr, "metadata_options.http_put_response_hop_limit must be 1")
    if instance and literal(instance.block("metadata_options").get("http_tokens")) != "required":
        fail(instance.addr, "IMDSv2 required: metadata_options.http_tokens = \"required\"")
    if instance and instance.block("root_block_device").get("encrypted") is not True:
        fail(instance.addr, "root_block_device.encrypted must be true")

    # 6. MFA-bound member roles ------------------------------------------------------------------
    def mfa(statement: dict) -> bool:
        condition = statement.get("Condition") or {}
        return (condition.get("Bool") or {}).get("aws:MultiFactorAuthPresent") == "true"

    def statements(resource: Resource, attr: str) -> list[dict]:
        try:
            document = jsonencoded(resource.get(attr))
        except ValueError as error:
            fail(resource.addr, f"cannot read {attr}: {error}")
            return []
        if not isinstance(document, dict):
            fail(resource.addr, f"{attr} must be a jsonencode({{...}}) document")
            return []
        listed = document.get("Statement")
        return listed if isinstance(listed, list) else [listed] if isinstance(listed, dict) else []

    if member_role:
        trust = statements(member_role, "assume_role_policy")
        if not trust:
            fail(member_role.addr, "assume_role_policy has no statements")
        for statement in trust:
            if statement.get("Effect") == "Allow" and not mfa(statement):
                fail(member_role.addr, f"trust statement {statement.get('Sid')!r} lacks Bool aws:MultiFactorAuthPresent = \"true\"")
            principal = statement.get("Principal") or {}
            if principal.get("AWS") != "each.value.principal_arn":
                fail(member_role.addr, "trust principal must be the member's own principal (each.value.principal_arn)")
    policies = [p for p in by_type("aws_iam_role_policy") if "aws_iam_role.member[" in str(p.get("role"))]
    if not policies:
        fail("terraform/", "no aws_iam_role_policy attached to aws_iam_role.member")
    actions_seen = set()
    for policy in policies:
        for statement in statements(policy, "policy"):
            actions = statement.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            actions_seen.update(actions)
            sid = statement.get("Sid")
            if statement.get("Effect") == "Allow" and not mfa(statement):
                fail(policy.addr, f"statement {sid!r} lacks Bool aws:MultiFactorAuthPresent = \"true\"")
            if any(a == "*" or a.endswith(":*") for a in actions):
                fail(policy.addr, f"statement {sid!r} has a wildcard action")
            if "ec2-instance-connect:SendSSHPublicKey" in actions:
                if statement.get("Resource") != "aws_instance.bastion.arn":
                    fail(policy.addr, f"statement {sid!r}: SendSSHPublicKey only on aws_instance.bastion.arn")
                osuser = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("ec2:osuser")
                if osuser != "local.names.bastion_os_user":
                    fail(policy.addr, f"statement {sid!r}: needs StringEquals ec2:osuser = local.names.bastion_os_user, has {osuser!r}")
            if "ec2-instance-connect:OpenTunnel" in actions:
                if statement.get("Resource") != "aws_ec2_instance_connect_endpoint.bastion.arn":
                    fail(policy.addr, f"statement {sid!r}: OpenTunnel only on the EIC endpoint")
                port = ((statement.get("Condition") or {}).get("NumericEquals") or {}).get("ec2-instance-connect:remotePort")
                if port != "22":
                    fail(policy.addr, f"statement {sid!r}: OpenTunnel must be limited to remotePort 22")
            allowed = {"ec2-instance-connect:SendSSHPublicKey", "ec2-instance-connect:OpenTunnel",
                       "ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"}
            for action in actions:
                if action not in allowed:
                    fail(policy.addr, f"statement {sid!r}: unexpected action {action!r}")
    for action in ("ec2-instance-connect:SendSSHPublicKey", "ec2-instance-connect:OpenTunnel"):
        if policies and action not in actions_seen:
            fail("terraform/", f"member roles cannot {action}")

    # 7. backup retention and the HSM host agree with policy/aws.toml (read by `rust-pki bastion`)
    aws_toml = tf_dir.parent / "policy" / "aws.toml"
    if not aws_toml.exists():
        aws_toml = REPO / "policy" / "aws.toml"
    if aws_toml.exists():
        settings = tomllib.loads(aws_toml.read_text())
        for variable in ("backup_retention_days", "hsm_host_number"):
            wanted = settings.get(variable)
            default = where = None
            for file, doc in docs.items():
                for block in doc.get("variable", []):
                    if f'"{variable}"' in block:
                        default = resolve_number(block[f'"{variable}"'].get("default"))
                        where = f"{file}: variable.{variable}"
            if default is None:
                fail("terraform/", f"no variable {variable} with a default")
            elif wanted != default:
                fail(where, f"default {default} differs from policy/aws.toml {variable} = {wanted}")

    # 8. the operator role: MFA, and exactly the actions bastion/src/aws.rs calls -------------
    if aws_rs is None:
        aws_rs_path = tf_dir.parent / "bastion" / "src" / "aws.rs"
        if not aws_rs_path.exists():
            aws_rs_path = REPO / "bastion" / "src" / "aws.rs"
        aws_rs = aws_rs_path.read_text()
    needed = called_actions(aws_rs)
    if not needed:
        fail("bastion/src/aws.rs", "no SDK call found (self.hsm|ec2|connect.<operation>()): the checker is out of date")
    operator = one("aws_iam_role", "operator")
    if operator:
        if operator.get("name") != "${local.names.operator_role}":
            fail(operator.addr, f"name must be local.names.operator_role, is {operator.get('name')!r}")
        trust = statements(operator, "assume_role_policy")
        if not trust:
            fail(operator.addr, "assume_role_policy has no statements")
        for statement in trust:
            if statement.get("Effect") == "Allow" and not mfa(statement):
                fail(operator.addr, f"trust statement {statement.get('Sid')!r} lacks Bool aws:MultiFactorAuthPresent = \"true\"")
    operator_policies = [p for p in by_type("aws_iam_role_policy") if expr(p.get("role")) == "aws_iam_role.operator.id"]
    if not operator_policies:
        fail("terraform/", "no aws_iam_role_policy attached to aws_iam_role.operator")
    allowed_actions = set()
    for policy in operator_policies:
        for statement in statements(policy, "policy"):
            actions = statement.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            sid = statement.get("Sid")
            if statement.get("Effect") != "Allow":
                continue
            allowed_actions.update(actions)
            if not mfa(statement):
                fail(policy.addr, f"statement {sid!r} lacks Bool aws:MultiFactorAuthPresent = \"true\"")
            if any("*" in a for a in actions):
                fail(policy.addr, f"statement {sid!r} has a wildcard action")
            if "ec2-instance-connect:SendSSHPublicKey" in actions:
                osuser = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("ec2:osuser")
                if statement.get("Resource") != "aws_instance.bastion.arn" or osuser != "local.names.bastion_os_user":
                    fail(policy.addr, f"statement {sid!r}: SendSSHPublicKey only on aws_instance.bastion.arn for ec2:osuser = local.names.bastion_os_user")
            if "kms:CreateGrant" in actions and (statement.get("Condition") or {}).get("Bool", {}).get("kms:GrantIsForAWSResource") != "true":
                fail(policy.addr, f"statement {sid!r}: kms:CreateGrant only with kms:GrantIsForAWSResource = \"true\"")
            if "cloudhsm:DeleteBackup" in actions:
                tag = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("aws:ResourceTag/${local.names.tag_key}")
                if tag != "local.names.backup_copy_role":
                    fail(policy.addr, f"statement {sid!r}: DeleteBackup only on backups tagged local.names.backup_copy_role")
    if operator_policies:
        for action in sorted(needed - allowed_actions):
            fail("terraform/iam.tf: aws_iam_role_policy.operator", f"{action} is called in bastion/src/aws.rs but the operator role does not allow it")
        for action in sorted(allowed_actions - needed):
            fail("terraform/iam.tf: aws_iam_role_policy.operator", f"{action} is allowed but bastion/src/aws.rs never calls it")

    return errors


# --------------------------------------------------------------------------------------------
# Self-test: each mutation of the real files must be caught.

# The member role's SendSSHPublicKey statement (the operator role has one too).
PUSH = (
    'Sid      = "PushSshKeyForCeremonyUser"\n        Effect   = "Allow"\n'
    '        Action   = "ec2-instance-connect:SendSSHPublicKey"\n        Resource = aws_instance.bastion.arn\n'
    '        Condition = {\n          StringEquals = { "ec2:osuser" = local.names.bastion_os_user }\n'
)

MUTATIONS = [
    ("hsm.tf", "(local.names.tag_key) = local.names.cluster_role", "(local.names.tag_key) = local.names.bastion_role", "aws_cloudhsm_v2_cluster.root"),
    ("bastion.tf", "    (local.names.tag_key) = local.names.bastion_role\n", "", "aws_instance.bastion"),
    ("iam.tf", '"${local.names.member_role_prefix}${each.key}"', '"rust-pki-quorum-${each.key}"', "repeats names.json member_role_prefix"),
    ("audit.tf", "name              = local.names.alarm_topic", 'name              = "rust-pki-bastion-alarms"', "alarm_topic"),
    ("hsm.tf", "to_port                      = local.hsm_port_to", "to_port                      = 2226", "unexpected ingress rule"),
    ("hsm.tf", "referenced_security_group_id = aws_security_group.bastion.id", 'cidr_ipv4 = "10.0.0.0/8"', "cidr_ipv4"),
    ("bastion.tf", "associate_public_ip_address = false", "associate_public_ip_address = true", "associate_public_ip_address"),
    ("network.tf", "map_public_ip_on_launch = false", "map_public_ip_on_launch = true", "map_public_ip_on_launch"),
    ("network.tf", 'resource "aws_route_table" "private" {', 'resource "aws_internet_gateway" "igw" {\n  vpc_id = aws_vpc.pki.id\n}\n\nresource "aws_route_table" "private" {', "internet gateway"),
    ("iam.tf", 'Principal = { AWS = each.value.principal_arn }\n      Action    = "sts:AssumeRole"\n      Condition = {\n        Bool            = { "aws:MultiFactorAuthPresent" = "true" }\n', 'Principal = { AWS = each.value.principal_arn }\n      Action    = "sts:AssumeRole"\n      Condition = {\n', "trust statement"),
    ("iam.tf", PUSH + '          Bool         = { "aws:MultiFactorAuthPresent" = "true" }', PUSH + '          Bool         = { "aws:MultiFactorAuthPresent" = "false" }', "PushSshKeyForCeremonyUser"),
    ("iam.tf", PUSH, PUSH.replace("local.names.bastion_os_user", '"root"'), "ec2:osuser"),
    ("locals.tf", "jsondecode(file(\"${path.module}/names.json\"))", "{}", "locals.names"),
    ("bastion.tf", "os_user      = local.names.bastion_os_user", 'os_user      = "ceremony"', "repeats names.json bastion_os_user"),
    ("variables.tf", "default     = 90\n", "default     = 91\n", "policy/aws.toml"),
    ("variables.tf", "default     = 10\n", "default     = 11\n", "policy/aws.toml hsm_host_number"),
    ("iam.tf", '"cloudhsm:CreateHsm", "cloudhsm:DeleteHsm", ', '"cloudhsm:CreateHsm", ', "cloudhsm:DeleteHsm is called in bastion/src/aws.rs but the operator role does not allow it"),
    ("iam.tf", '"ec2:StartInstances", "ec2:StopInstances"', '"ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"', "ec2:TerminateInstances is allowed but bastion/src/aws.rs never calls it"),
    ("iam.tf", 'Action   = "kms:CreateGrant"', 'Action   = "kms:Decrypt"', "kms:CreateGrant is called in bastion/src/aws.rs"),
    ("iam.tf", 'Sid       = "OperatorWithMfa"\n      Effect    = "Allow"\n      Principal = { AWS = var.operator_principal_arns }\n      Action    = "sts:AssumeRole"\n      Condition = {\n        Bool            = { "aws:MultiFactorAuthPresent" = "true" }\n', 'Sid       = "OperatorWithMfa"\n      Effect    = "Allow"\n      Principal = { AWS = var.operator_principal_arns }\n      Action    = "sts:AssumeRole"\n      Condition = {\n', "trust statement 'OperatorWithMfa'"),
    ("iam.tf", 'StringEquals = { "aws:ResourceTag/${local.names.tag_key}" = local.names.backup_copy_role }', 'StringEquals = { "aws:ResourceTag/${local.names.tag_key}" = local.names.cluster_role }', "DeleteBackup only on backups tagged"),
]

# Calls added to bastion/src/aws.rs without the role allowing them must be caught.
AWS_RS_MUTATIONS = [
    ("self.hsm.restore_backup()", "cloudhsm:RestoreBackup is called in bastion/src/aws.rs but the operator role does not allow it"),
    ("self\n            .ec2\n            .terminate_instances()", "ec2:TerminateInstances is called in bastion/src/aws.rs"),
]


def self_test(tf_dir: Path) -> list[str]:
    problems = []
    baseline = check(tf_dir)
    if baseline:
        problems.append("self-test: the real terraform/ must pass first")
        return problems
    with tempfile.TemporaryDirectory() as tmp:
        for file, old, new, expected in MUTATIONS:
            copy = Path(tmp) / "tf"
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(tf_dir, copy)
            text = (copy / file).read_text()
            if text.count(old) != 1:
                problems.append(f"self-test: {file} no longer contains {old!r} exactly once; update MUTATIONS")
                continue
            (copy / file).write_text(text.replace(old, new))
            caught = check(copy)
            if not any(expected in error for error in caught):
                problems.append(f"self-test: mutation in {file} ({old!r} -> {new!r}) not caught (wanted {expected!r}; got {caught})")
    aws_rs = (REPO / "bastion" / "src" / "aws.rs").read_text()
    for call, expected in AWS_RS_MUTATIONS:
        caught = check(tf_dir, aws_rs + "\n" + call + "\n")
        if not any(expected in error for error in caught):
            problems.append(f"self-test: a new call {call!r} in bastion/src/aws.rs not caught (wanted {expected!r}; got {caught})")
    return problems


def main(argv: list[str]) -> int:
    tf_dir = REPO / "terraform"
    if len(argv) > 1 and argv[1] == "--self-test":
        problems = self_test(Path(argv[2]) if len(argv) > 2 else tf_dir)
        for problem in problems:
            print(f"check_names: FAIL {problem}", file=sys.stderr)
        if not problems:
            print(f"check_names: self-test: {len(MUTATIONS) + len(AWS_RS_MUTATIONS)} mutations all caught")
        return 1 if problems else 0
    if len(argv) > 1:
        tf_dir = Path(argv[1])
    errors = check(tf_dir)
    for error in errors:
        print(f"check_names: FAIL terraform/{error}" if not error.startswith("terraform/") else f"check_names: FAIL {error}", file=sys.stderr)
    if errors:
        print(f"check_names: {len(errors)} failure(s) in {tf_dir}", file=sys.stderr)
        return 1
    print(f"check_names: ok ({len(list(tf_dir.glob('*.tf')))} files, names.json keys all used, no literal copies)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
