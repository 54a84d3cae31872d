"""A moto IAM estate with known truth, for Keyward's end-to-end tests.

Runs moto in-process so keys can carry dates in the past (moto's HTTP API always stamps "now"),
seeds a deterministic estate of IAM users, access keys, policies and groups, and writes the
findings Keyward's rules must report, computed here independently from the rule definitions in
the walking-skeleton issue. Prints `PORT <n>` once ready, then serves until stdin closes.

    python estate.py --users 2000 --seed 7 --truth truth.json [--auth]

With --auth, moto enforces SigV4 and IAM policies (after the seeding), so a test can prove that
Keyward reports bad credentials clearly.
"""

import argparse
import json
import logging
import os
import random
import sys
from datetime import datetime, timedelta, timezone

THRESHOLDS = {"key_not_rotated": 90, "key_unused": 45, "key_never_used": 7}
ACCOUNT = "123456789012"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
S3_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})

# Ages straddle every threshold: exactly N days is not "more than N".
CREATED_DAYS = [0, 3, 7, 8, 30, 45, 46, 89, 90, 91, 200, 400]
USED_DAYS = [0, 1, 10, 45, 46, 60, 100, 300]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--truth", required=True)
    p.add_argument("--root-key", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--auth", action="store_true")
    p.add_argument("--operator", action="store_true",
                   help="also create an administrator whose key pair the truth holds (for --auth: the connector's identity)")
    p.add_argument("--org-accounts", type=int, default=0, metavar="N",
                   help="also make ACCOUNT an Organization's management account with N member accounts, plus a "
                        "suspended one and one without OrganizationAccountAccessRole (truth: organization)")
    p.add_argument("--org-users", type=int, default=20, metavar="M", help="IAM users in each member account")
    p.add_argument("--throttle", type=int, default=0, metavar="N",
                   help="answer every Nth ListAccessKeys and AssumeRole with IAM's 400 Throttling (as AWS does under load)")
    p.add_argument("--apigateway", action="store_true", help="also seed API Gateway (REST keys, usage plans, V1/V2 APIs)")
    p.add_argument("--apigateway-rotation", type=int, default=0, metavar="N",
                   help="with --apigateway: N more REST keys in us-east-1 to rotate, each in one or two usage plans")
    p.add_argument("--apigateway-posture", action="store_true",
                   help="also seed, in us-east-1, one of each shape the gateway rules judge (truth: apigateway_posture)")
    args = p.parse_args()

    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("TZ", "UTC")
    # Import after the environment is set: moto reads its settings at import.
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.models import AccessKeyLastUsed, iam_backends
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    patch_credential_report()
    iam = iam_backends[ACCOUNT]["aws"]
    # Half a day past each whole day keeps the floor of every age stable while the test runs.
    now = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=12)
    rng = random.Random(args.seed)

    truth, keys_out = seed_users(iam, args.users, rng, now)
    organization = seed_organization(args, rng, now) if args.org_accounts else None
    if args.throttle:
        patch_throttling(args.throttle)

    operator = None
    if args.operator:
        iam.create_user("us-east-1", "keyward-operator")
        iam.attach_user_policy(ADMIN_ARN, "keyward-operator")
        key = iam.create_access_key("keyward-operator")
        operator = {"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}
        keys_out.append({"external_id": key.access_key_id, "owner": "keyward-operator", "status": "active",
                         "created_days": 0, "used_days": None})
        truth.append(["owner_admin_access", "keyward-operator", key.access_key_id])

    if args.root_key:
        iam.account_summary._account_access_keys_present = 1
        truth.append(["root_access_key", "root", None])

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    apigateway = seed_apigateway(f"http://127.0.0.1:{port}", rng) if args.apigateway else None
    if apigateway is not None and args.apigateway_rotation:
        apigateway["rotation"] = seed_apigateway_rotation(f"http://127.0.0.1:{port}", args.apigateway_rotation)

    posture = seed_apigateway_posture(f"http://127.0.0.1:{port}") if args.apigateway_posture else None

    with open(args.truth, "w") as f:
        json.dump({"findings": sorted(truth, key=lambda t: (t[0], t[1], t[2] or "")), "keys": keys_out,
                   "account_id": ACCOUNT, "organization": organization, "apigateway": apigateway, "apigateway_posture": posture,
                   "operator": operator}, f)

    if args.auth:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0

    print(f"PORT {port}", flush=True)
    # Serve until the test closes our stdin (or dies), taking commands that change the estate.
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "delete_key":
            iam.delete_access_key(words[2], words[1])
        elif words and words[0] == "deactivate_key":
            iam.update_access_key(words[1], words[2], "Inactive")
        elif words and words[0] == "keys":
            # The user's keys as IAM holds them now: `KEYS id:Active id:Inactive`.
            # `keys USER` in ACCOUNT, or `keys ACCOUNT/USER` in a member account.
            account, _, user = words[1].rpartition("/")
            held = iam_backends[account or ACCOUNT]["aws"].list_access_keys(user)
            print("KEYS " + " ".join(f"{k.access_key_id}:{k.status}" for k in held), flush=True)
            continue
        elif words and words[0] == "delete_role":
            # A member account's OrganizationAccountAccessRole deleted (someone tidied up).
            iam_backends[words[1]]["aws"].delete_role("OrganizationAccountAccessRole")
        elif words and words[0] == "throttled":
            print(f"THROTTLED {THROTTLED['refused']}", flush=True)
            continue
        elif words and words[0] == "apikeys":
            # The REST API keys of a region as API Gateway holds them now, values included.
            print("APIKEYS " + json.dumps(api_keys(words[1])), flush=True)
            continue
        else:
            print(f"ERR unknown command {line!r}", flush=True)
            continue
        print("OK", flush=True)
    server.stop()


def seed_users(iam, users, rng, now, owner_prefix=""):
    """One account's IAM: groups and a customer policy that grant admin in every way the rule
    reads, then `users` users with 0-2 keys of every age and use. Returns the findings the rules
    must report and the keys, owners named `owner_prefix + user`."""
    from moto.iam.models import AccessKeyLastUsed

    iam.create_group("admins")
    iam.attach_group_policy(ADMIN_ARN, "admins")
    iam.create_group("ops")
    iam.put_group_policy("ops", "everything", ALLOW_ALL)
    iam.create_group("devs")
    iam.attach_group_policy(READONLY_ARN, "devs")
    full = iam.create_policy("all actions", "/", ALLOW_ALL, "FullAccessCustom", [])

    truth = []
    keys_out = []
    for i in range(users):
        user = f"user-{i:05d}"
        iam.create_user("us-east-1", user)
        roll = rng.random()
        admin = None
        if roll < 0.06:
            iam.attach_user_policy(ADMIN_ARN, user)
            admin = "attached"
        elif roll < 0.09:
            iam.put_user_policy(user, "all", ALLOW_ALL)
            admin = "inline"
        elif roll < 0.12:
            iam.add_user_to_group("admins", user)
            admin = "group-attached"
        elif roll < 0.14:
            iam.add_user_to_group("ops", user)
            admin = "group-inline"
        elif roll < 0.16:
            iam.attach_user_policy(full.arn, user)
            admin = "customer-managed"
        elif roll < 0.30:
            iam.add_user_to_group("devs", user)
        elif roll < 0.40:
            iam.put_user_policy(user, "s3", S3_ONLY)
        elif roll < 0.45:
            iam.attach_user_policy(READONLY_ARN, user)

        n_keys = rng.choices([0, 1, 2], weights=[10, 60, 30])[0]
        active_ids = []
        for slot in range(n_keys):
            status = "Active" if rng.random() < 0.85 else "Inactive"
            key = iam.create_access_key(user, status=status)
            created = rng.choice(CREATED_DAYS)
            # A second apart: AWS creates one key at a time, and the credential report tells a
            # user's two keys apart by their creation second.
            key.create_date = now - timedelta(days=created, seconds=slot)
            used = None
            if rng.random() >= 0.25:
                used = min(rng.choice(USED_DAYS), created)
                key.last_used = AccessKeyLastUsed(timestamp=now - timedelta(days=used), service="s3", region="eu-west-1")
            kid = key.access_key_id
            keys_out.append({"external_id": kid, "owner": owner_prefix + user, "status": status.lower(), "created_days": created, "used_days": used})
            if status != "Active":
                continue
            active_ids.append(kid)
            if created > THRESHOLDS["key_not_rotated"]:
                truth.append(["key_not_rotated", owner_prefix + user, kid])
            if used is not None and used > THRESHOLDS["key_unused"]:
                truth.append(["key_unused", owner_prefix + user, kid])
            if used is None and created > THRESHOLDS["key_never_used"]:
                truth.append(["key_never_used", owner_prefix + user, kid])
            if admin:
                truth.append(["owner_admin_access", owner_prefix + user, kid])
        if len(active_ids) >= 2:
            truth.append(["owner_two_active_keys", owner_prefix + user, None])
    return truth, keys_out


def seed_organization(args, rng, now):
    """An AWS Organization managed by ACCOUNT: `--org-accounts` member accounts of
    `--org-users` users each (moto creates OrganizationAccountAccessRole in each), one more
    account that is suspended, and one whose role was deleted. Returns the truth per account."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends

    patch_assume_role()
    org = organizations_backends[ACCOUNT]["aws"]
    org.create_organization("us-east-1", FeatureSet="ALL")
    out = {"accounts": [], "suspended": None, "no_role": None}
    for n in range(args.org_accounts + 2):
        name = f"member-{n:02d}"
        account = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        account_id = account["AccountId"]
        iam = iam_backends[account_id]["aws"]
        if n == args.org_accounts:
            org.close_account(AccountId=account_id)
            out["suspended"] = {"account_id": account_id, "account_name": name}
            continue
        truth, keys = seed_users(iam, args.org_users, rng, now, owner_prefix=f"{account_id}/")
        root = n % 2 == 0
        if root:
            iam.account_summary._account_access_keys_present = 1
        entry = {"account_id": account_id, "account_name": name, "findings": truth, "keys": keys, "root_key": root}
        if n == args.org_accounts + 1:
            iam.delete_role("OrganizationAccountAccessRole")
            out["no_role"] = entry
        else:
            out["accounts"].append(entry)
    return out


def patch_throttling(every):
    """Every `every`th ListAccessKeys and AssumeRole request is refused with `Throttling` (HTTP
    400), IAM's and STS's answer to too many requests; the counts are reported on stdin's
    `throttled` command."""
    from moto.iam.exceptions import IAMException
    from moto.iam.responses import IamResponse
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse

    def throttled(handler, error):
        def serve(self):
            THROTTLED["seen"] += 1
            if THROTTLED["seen"] % every == 0:
                THROTTLED["refused"] += 1
                raise error("Throttling", "Rate exceeded")
            return handler(self)
        return serve

    IamResponse.list_access_keys = throttled(IamResponse.list_access_keys, IAMException)
    TokenResponse.assume_role = throttled(TokenResponse.assume_role, STSClientError)


THROTTLED = {"seen": 0, "refused": 0}


def patch_assume_role():
    """moto's AssumeRole lets anyone assume any role, existing or not; AWS refuses a role that does
    not exist (or does not trust the caller) with AccessDenied. Make moto refuse a missing one."""
    import re

    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    plain = STSBackend.assume_role

    def assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs):
        found = re.match(r"arn:aws:iam::([0-9]{12}):role/(.+)$", role_arn)
        if found:
            account, name = found.groups()
            if not any(r.name == name for r in iam_backends[account]["aws"].get_roles()):
                raise STSClientError("AccessDenied", f"User: arn:aws:iam::{self.account_id}:root is not authorized "
                                     f"to perform: sts:AssumeRole on resource: {role_arn}")
        return plain(self, region_name, role_session_name, role_arn, *args, **kwargs)

    STSBackend.assume_role = assume_role


def patch_credential_report():
    """Makes moto's IAM credential report AWS's in the three ways a sync reads it: moto stamps every
    report 2015-02-02 (so no key would be older than it), leaves each key's last-used region and
    service `not_supported`, and writes no `<root_account>` row. AWS's format:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html"""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.iam.models import IAMBackend, User
    from moto.iam.responses import IamResponse

    plain_csv = User.to_csv

    def to_csv(self):
        row = plain_csv(self).rstrip("\n").split(",")
        for n, key in enumerate(self.access_keys[:2]):
            used = key.last_used
            if used is not None and getattr(used, "service", None):
                row[8 + 5 * n + 3], row[8 + 5 * n + 4] = used.region, used.service
        return ",".join(row) + "\n"

    plain_generate = IAMBackend.generate_report

    def generate_report(self):
        if not self.credential_report:
            self.report_generated_at = utcnow()
        plain_generate(self)

    def get_credential_report(self):
        report = self.backend.get_credential_report()
        header, rows = report.split("\n", 1)
        keys = "true,2020-01-01T00:00:00+00:00" if self.backend.account_summary._account_access_keys_present else "false,N/A"
        root = (f"<root_account>,arn:aws:iam::{self.backend.account_id}:root,2020-01-01T00:00:00+00:00,not_supported,N/A,"
                f"not_supported,not_supported,true,{keys},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
        generated = self.backend.report_generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return ActionResult({"Content": f"{header}\n{root}\n{rows}", "ReportFormat": "text/csv",
                             "GeneratedTime": generated})

    User.to_csv = to_csv
    IAMBackend.generate_report = generate_report
    IamResponse.get_credential_report = get_credential_report


def seed_apigateway(endpoint, rng):
    """API Gateway in two regions through moto's HTTP API (boto3): REST API keys (some disabled),
    usage plans with throttle and quota, a REST API with a stage, and HTTP APIs with an open
    route, an authorized route, a stage without access logs and CORS * with credentials.
    Returns the truth the connector must report."""
    import boto3

    creds = dict(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x", endpoint_url=endpoint)
    truth = {"keys": [], "routes": [], "stages": [], "apis": []}
    for region in ["us-east-1", "eu-west-1"]:
        v1 = boto3.client("apigateway", region_name=region, **creds)
        v2 = boto3.client("apigatewayv2", region_name=region, **creds)
        api = v1.create_rest_api(name=f"orders-{region}")
        root = v1.get_resources(restApiId=api["id"])["items"][0]["id"]
        v1.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE", apiKeyRequired=True)
        v1.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
        v1.create_deployment(restApiId=api["id"], stageName="prod")
        plan = v1.create_usage_plan(name=f"gold-{region}", apiStages=[{"apiId": api["id"], "stage": "prod"}],
                                    throttle={"burstLimit": 100, "rateLimit": 50.0}, quota={"limit": 10000, "period": "MONTH"})
        for i in range(rng.randint(3, 6)):
            enabled = i % 3 != 2
            key = v1.create_api_key(name=f"partner-{region}-{i}", enabled=enabled, customerId=f"customer-{i}")
            planned = i % 2 == 0
            if planned:
                v1.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
            truth["keys"].append({"external_id": f"{region}/{key['id']}", "name": key["name"], "enabled": enabled,
                                  "owner": f"customer-{i}", "usage_plan": plan["id"] if planned else None})
        http = v2.create_api(Name=f"public-{region}", ProtocolType="HTTP",
                             CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True})
        truth["apis"].append({"external_id": f"{region}/{http['ApiId']}", "cors_wildcard_with_credentials": True})
        open_route = v2.create_route(ApiId=http["ApiId"], RouteKey="GET /open", AuthorizationType="NONE")
        iam_route = v2.create_route(ApiId=http["ApiId"], RouteKey="GET /private", AuthorizationType="AWS_IAM")
        truth["routes"].append({"external_id": f"{region}/{http['ApiId']}/{open_route['RouteId']}", "open": True})
        truth["routes"].append({"external_id": f"{region}/{http['ApiId']}/{iam_route['RouteId']}", "open": False})
        v2.create_stage(ApiId=http["ApiId"], StageName="live")
        v2.create_stage(ApiId=http["ApiId"], StageName="audited",
                        AccessLogSettings={"DestinationArn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:api", "Format": "$context.requestId"},
                        DefaultRouteSettings={"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0})
        truth["stages"].append({"external_id": f"{region}/{http['ApiId']}/live", "access_logs": False, "throttling": False})
        truth["stages"].append({"external_id": f"{region}/{http['ApiId']}/audited", "access_logs": True, "throttling": True})
    return truth


def seed_apigateway_posture(endpoint):
    """One of each shape the API Gateway rules judge, in us-east-1, through boto3: REST methods
    open, behind a key alone, IAM, Cognito and Lambda authorizers, with and without request
    validators; an API never deployed; stages with and without WAF, access logs, throttling and
    execution logging; custom domains with TLS 1.0 and 1.2 (REST and HTTP); HTTP APIs with JWT,
    IAM, Lambda and no authorizers; a WebSocket API with a key-only and an open route.

    Returns, per rule, the resource ids it must fire for, written from the shapes seeded here
    (not from what Keyward reports)."""
    import boto3

    region = "us-east-1"
    creds = dict(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x", endpoint_url=endpoint,
                 region_name=region)
    v1 = boto3.client("apigateway", **creds)
    v2 = boto3.client("apigatewayv2", **creds)
    waf = boto3.client("wafv2", **creds)
    fires = {rule: set() for rule in [
        "apigw_method_no_auth", "apigw_api_key_only_auth", "apigw_method_no_validation", "apigw_stage_no_waf",
        "apigw_stage_execution_logs_off", "apigw_stage_no_access_logs", "apigw_stage_no_throttling",
        "apigw_domain_weak_tls", "apigw_route_no_auth", "apigw_route_no_central_authorizer"]}
    details = {}

    # ---- REST: one API with every kind of method, deployed to three stages.
    api = v1.create_rest_api(name="shop", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = [r for r in v1.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    items = v1.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    v1.create_model(restApiId=api, name="Item", contentType="application/json", schema="{}")
    body = v1.create_request_validator(restApiId=api, name="body", validateRequestBody=True,
                                       validateRequestParameters=False)["id"]
    params = v1.create_request_validator(restApiId=api, name="params", validateRequestBody=False,
                                         validateRequestParameters=True)["id"]
    cognito = v1.create_authorizer(restApiId=api, name="users", type="COGNITO_USER_POOLS",
                                   providerARNs=[f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{region}_shop"],
                                   identitySource="method.request.header.Authorization")["id"]
    lam = v1.create_authorizer(restApiId=api, name="partners", type="TOKEN",
                               authorizerUri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
                                             f"arn:aws:lambda:{region}:{ACCOUNT}:function:auth/invocations",
                               identitySource="method.request.header.Authorization")["id"]
    model = {"application/json": "Item"}
    methods = [  # (resource, verb, put_method arguments, rules that fire)
        (root, "GET", dict(authorizationType="NONE"), ["apigw_method_no_auth"]),
        (items, "GET", dict(authorizationType="NONE", apiKeyRequired=True), ["apigw_api_key_only_auth"]),
        (items, "POST", dict(authorizationType="AWS_IAM", requestModels=model), ["apigw_method_no_validation"]),
        (items, "PUT", dict(authorizationType="COGNITO_USER_POOLS", authorizerId=cognito, requestModels=model,
                            requestValidatorId=body), []),
        (items, "PATCH", dict(authorizationType="CUSTOM", authorizerId=lam, requestModels=model,
                              requestValidatorId=params), ["apigw_method_no_validation"]),
        (items, "DELETE", dict(authorizationType="AWS_IAM", apiKeyRequired=True), []),
    ]
    for resource, verb, kwargs, rules in methods:
        v1.put_method(restApiId=api, resourceId=resource, httpMethod=verb, **kwargs)
        v1.put_integration(restApiId=api, resourceId=resource, httpMethod=verb, type="MOCK")
        for rule in rules:
            fires[rule].add(f"{region}/{api}/{resource}/{verb}")
    # Deploy once (moto replaces a stage a second deployment names), then shape each stage.
    deployment = v1.create_deployment(restApiId=api, stageName="prod")["id"]
    v1.create_stage(restApiId=api, stageName="dev", deploymentId=deployment)
    v1.create_stage(restApiId=api, stageName="qa", deploymentId=deployment)
    replace = lambda path, value: {"op": "replace", "path": path, "value": value}
    v1.update_stage(restApiId=api, stageName="prod", patchOperations=[
        replace("/*/*/logging/loglevel", "ERROR"),
        replace("/*/*/throttling/rateLimit", "50"),
        replace("/*/*/throttling/burstLimit", "100"),
        replace("/accessLogSettings/destinationArn", f"arn:aws:logs:{region}:{ACCOUNT}:log-group:shop"),
        replace("/accessLogSettings/format", "$context.requestId"),
    ])
    acl = waf.create_web_acl(Name="shop", Scope="REGIONAL", DefaultAction={"Allow": {}},
                             VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                                               "MetricName": "shop"})["Summary"]["ARN"]
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=f"arn:aws:apigateway:{region}::/restapis/{api}/stages/prod")
    # qa: everything OFF but one method that logs its errors.
    v1.update_stage(restApiId=api, stageName="qa", patchOperations=[
        replace("/*/*/logging/loglevel", "OFF"), replace("/items/GET/logging/loglevel", "ERROR")])
    for stage in ["dev", "qa"]:
        for rule in ["apigw_stage_no_waf", "apigw_stage_no_access_logs"]:
            fires[rule].add(f"{region}/{api}/{stage}")
    # Writing a method setting fills in the default throttling (moto: 1000 requests/s), so only
    # dev, which has none, is unthrottled.
    fires["apigw_stage_no_throttling"].add(f"{region}/{api}/dev")
    # qa logs one method: the stage's default (*/*) still logs nothing.
    fires["apigw_stage_execution_logs_off"] |= {f"{region}/{api}/dev", f"{region}/{api}/qa"}

    # An API with an open method that was never deployed: nobody can call it.
    draft = v1.create_rest_api(name="draft")["id"]
    draft_root = v1.get_resources(restApiId=draft)["items"][0]["id"]
    v1.put_method(restApiId=draft, resourceId=draft_root, httpMethod="GET", authorizationType="NONE")

    # ---- Custom domains: TLS 1.0 and 1.2, REST and HTTP.
    v1.create_domain_name(domainName="legacy.shop.example", securityPolicy="TLS_1_0",
                          regionalCertificateArn=f"arn:aws:acm:{region}:{ACCOUNT}:certificate/legacy",
                          endpointConfiguration={"types": ["REGIONAL"]})
    v1.create_domain_name(domainName="www.shop.example", securityPolicy="TLS_1_2",
                          certificateArn=f"arn:aws:acm:{region}:{ACCOUNT}:certificate/www",
                          endpointConfiguration={"types": ["EDGE"]})
    v2.create_domain_name(DomainName="hooks.shop.example", DomainNameConfigurations=[{
        "CertificateArn": f"arn:aws:acm:{region}:{ACCOUNT}:certificate/hooks", "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_0"}])
    v2.create_domain_name(DomainName="mtls.shop.example", DomainNameConfigurations=[{
        "CertificateArn": f"arn:aws:acm:{region}:{ACCOUNT}:certificate/mtls", "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2"}], MutualTlsAuthentication={"TruststoreUri": "s3://shop-truststore/ca.pem"})
    fires["apigw_domain_weak_tls"] |= {f"{region}/legacy.shop.example", f"{region}/hooks.shop.example"}

    # ---- HTTP APIs: JWT, IAM, Lambda and no authorizer; a WebSocket API.
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{region}_shop"
    for name, routes in [("jwt", [("GET /orders", "JWT"), ("GET /health", "NONE")]),
                         ("iam", [("GET /internal", "AWS_IAM")]),
                         ("lambda", [("POST /hook", "CUSTOM")]),
                         ("open", [("GET /status", "NONE")])]:
        http = v2.create_api(Name=f"{name}-api", ProtocolType="HTTP")["ApiId"]
        authorizer = None
        if any(a == "JWT" for _, a in routes):
            authorizer = v2.create_authorizer(ApiId=http, AuthorizerType="JWT", Name="shop-users",
                                              IdentitySource=["$request.header.Authorization"],
                                              JwtConfiguration={"Issuer": issuer, "Audience": ["shop-web"]})["AuthorizerId"]
            details[f"{region}/{http}"] = {"jwt_issuer": issuer, "jwt_audience": ["shop-web"]}
        if any(a == "CUSTOM" for _, a in routes):
            authorizer = v2.create_authorizer(ApiId=http, AuthorizerType="REQUEST", Name="signature",
                                              IdentitySource=["$request.header.X-Signature"],
                                              AuthorizerUri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
                                                            f"arn:aws:lambda:{region}:{ACCOUNT}:function:sig/invocations",
                                              AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True)["AuthorizerId"]
        for key, auth in routes:
            kwargs = {"AuthorizerId": authorizer} if auth in ("JWT", "CUSTOM") else {}
            route = v2.create_route(ApiId=http, RouteKey=key, AuthorizationType=auth, **kwargs)["RouteId"]
            if auth == "NONE":
                fires["apigw_route_no_auth"].add(f"{region}/{http}/{route}")
        # Authorized, but by no central issuer (an API with only open routes is route_no_auth's).
        if any(a == "CUSTOM" for _, a in routes) and not any(a in ("JWT", "AWS_IAM") for _, a in routes):
            fires["apigw_route_no_central_authorizer"].add(f"{region}/{http}")
    ws = v2.create_api(Name="live", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
    keyed = v2.create_route(ApiId=ws, RouteKey="$connect", AuthorizationType="NONE", ApiKeyRequired=True)["RouteId"]
    open_ws = v2.create_route(ApiId=ws, RouteKey="sendmessage", AuthorizationType="NONE")["RouteId"]
    fires["apigw_api_key_only_auth"].add(f"{region}/{ws}/{keyed}")
    fires["apigw_route_no_auth"].add(f"{region}/{ws}/{open_ws}")
    return {"fires": {rule: sorted(ids) for rule, ids in fires.items()}, "authorizers": details}


def seed_apigateway_rotation(endpoint, n):
    """N REST keys in us-east-1 for the rotation tests, each with a description, a customer id and
    tags: every key in the gold plan, every other one in a second (silver) plan too. Returns them
    with their plans. (No stage keys: moto answers them in the request's shape, not AWS's
    `restApiId/stage` strings, so the SDK could not read such a key back.)"""
    import boto3

    v1 = boto3.client("apigateway", region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                      aws_secret_access_key="x", endpoint_url=endpoint)
    api = v1.get_rest_apis()["items"][0]
    gold = next(p for p in v1.get_usage_plans()["items"] if p["name"] == "gold-us-east-1")
    silver = v1.create_usage_plan(name="silver-us-east-1", apiStages=[{"apiId": api["id"], "stage": "prod"}],
                                  throttle={"burstLimit": 10, "rateLimit": 5.0})
    out = []
    for i in range(n):
        key = v1.create_api_key(name=f"rotate-{i:02d}", enabled=True, customerId=f"tenant-{i}",
                                description=f"partner integration {i}", tags={"team": "payments", "n": str(i)})
        plans = [gold["id"]] + ([silver["id"]] if i % 2 == 0 else [])
        for plan in plans:
            v1.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
        out.append({"external_id": f"us-east-1/{key['id']}", "name": key["name"], "plans": sorted(plans)})
    return out


def api_keys(region):
    """The region's REST API keys read from moto's backend: id, name, enabled, value, description,
    customer id, tags, stage keys and the usage plans holding each."""
    from moto.apigateway.models import apigateway_backends

    gw = apigateway_backends[ACCOUNT][region]
    out = []
    for key in list(gw.keys.values()):
        plans = sorted(p for p, members in list(gw.usage_plan_keys.items()) if key.id in members)
        out.append({"id": key.id, "name": key.name, "enabled": key.enabled, "value": key.value,
                    "description": key.description, "customer_id": key.customer_id, "tags": key.tags,
                    "stage_keys": key.stage_keys, "created": key.created_date, "plans": plans})
    return out


if __name__ == "__main__":
    main()
