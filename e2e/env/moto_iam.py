"""moto's server with IAM enforced as AWS enforces it on the operator's calls.

moto 5.2.5 verifies signatures and evaluates the caller's identity policies once
INITIAL_NO_AUTH_ACTION_COUNT is 0, but three gaps would make that proof hollow:
  1. Secrets Manager calls are authorized against the resource "*": a policy scoped to secret ARNs
     (the template's SecretArnPattern) would deny every call, or a wildcard allow every secret. Here
     the resource is the secret's ARN, as SQS already does with the queue's.
  2. AssumeRoleWithWebIdentity must be signed (AWS serves it unsigned: the token is the credential),
     the token is not verified and the role's trust policy is not evaluated for it. Here the token's
     signature is checked against its issuer's keys (the files `--oidc-jwks-dir DIR/*.json`, each
     {"issuer": …, "jwks": …}: what STS would fetch from the issuer's discovery document, which is not
     served here; read on every call, so a cluster registered later counts), with its expiry and audience against the IAM OIDC
     provider, and the trust policy's Federated principal and StringEquals/StringLike conditions on
     `<issuer>:sub` and `<issuer>:aud` decide.
  3. An authorization failure is answered in XML whatever the protocol: the SDK cannot read it on a
     JSON service (Secrets Manager, SQS). Here it is answered as those services do, in JSON.
  4. SQS batch actions are authorized as themselves; AWS has no such permissions and authorizes
     DeleteMessageBatch as sqs:DeleteMessage (and so on). Here they are authorized as AWS does.
  5. A role created by CloudFormation keeps its inline policies as objects, which moto's policy
     evaluation cannot read (KeyError: the stack's role could not call anything). Here they are read.
  6. The static key everything else uses (testing/testing: tests' admin actions, ESO, CloudFormation)
     must belong to someone: an IAM user `local-admin` allowed everything.
And one change of speed, none of behaviour: moto finds each request's service by listing its own
package directory (some 200 isdir calls) and matching its URL patterns, under one lock every request
takes. At 50 rotations/s (~250 requests/s) on 2 cores the threads queued on that lock (about 20 at
any moment, py-spy, 2026-12-06) and moto became the machine's busiest process, the bench measuring
it rather than the operator. The answer is a function of the host alone, so it is kept per host.
Likewise a receive computed all the queue's attributes (three scans of its messages) to read the
retention period, once per message it looked at: quadratic in the queue's depth, and an operator
holding 100 messages in flight made each receive of moto's cost ~2x the floor's. Here the period is read.
Then moto's own server runs with the arguments given.
"""

import base64
import fnmatch
import glob
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException, _RESTError
from moto.core.utils import unix_time
from moto.iam import access_control
from moto.iam.access_control import IAMRequest
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main
from moto.sqs.models import SQSBackend
from moto.sqs.responses import SQSResponse
from moto.sts.responses import TokenResponse

PARTITION = "aws"
ADMIN_KEY = os.environ.get("MOTO_ADMIN_ACCESS_KEY", "testing")


class InvalidIdentityToken(ServiceException):
    code = "InvalidIdentityToken"


class ExpiredToken(ServiceException):
    code = "ExpiredTokenException"


class AccessDenied(ServiceException):
    code = "AccessDenied"


def _b64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


JWKS_DIR = None


def _issuer_keys():
    keys = {}
    for name in glob.glob(os.path.join(JWKS_DIR, "*.json")) if JWKS_DIR else []:
        with open(name) as f:
            entry = json.load(f)
        keys[entry["issuer"]] = entry["jwks"]
    return keys


def verified_claims(token):
    """The token's claims once its RS256 signature, issuer and expiry check out."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64(header_b64))
        claims = json.loads(_b64(payload_b64))
    except ValueError:
        raise InvalidIdentityToken("The web identity token is not a JWT")
    jwks = _issuer_keys().get(claims.get("iss"))
    if not jwks:
        raise InvalidIdentityToken(f"No keys known for issuer {claims.get('iss')}")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")]
    if header.get("alg") != "RS256" or not keys:
        raise InvalidIdentityToken("The token's signing key is not the issuer's")
    public = rsa.RSAPublicNumbers(
        int.from_bytes(_b64(keys[0]["e"]), "big"), int.from_bytes(_b64(keys[0]["n"]), "big")
    ).public_key()
    try:
        public.verify(
            _b64(signature_b64),
            f"{header_b64}.{payload_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except Exception:
        raise InvalidIdentityToken("The token's signature does not verify")
    if claims.get("exp", 0) < time.time():
        raise ExpiredToken("The web identity token has expired")
    return claims


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition, claims, issuer):
    for operator, entries in (condition or {}).items():
        if operator not in ("StringEquals", "StringLike"):
            return False
        for key, expected in entries.items():
            prefix, _, claim = key.rpartition(":")
            if prefix != issuer or claim not in ("sub", "aud"):
                return False
            actual = _as_list(claims.get(claim))
            match = (lambda a, e: a == e) if operator == "StringEquals" else fnmatch.fnmatchcase
            if not any(match(a, e) for a in actual for e in _as_list(expected)):
                return False
    return True


def trusted(account, role_arn, claims):
    """Whether the role's trust policy lets this token's subject assume it (explicit Deny wins)."""
    iam = iam_backends[account][PARTITION]
    issuer = claims["iss"].removeprefix("https://")
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{issuer}"
    try:
        provider = iam.get_open_id_connect_provider(provider_arn)
        role = iam.get_role_by_arn(role_arn)
    except Exception:
        return False
    if not set(_as_list(claims.get("aud"))) & set(provider.client_id_list):
        return False
    document = json.loads(role.assume_role_policy_document)
    allowed = False
    for statement in _as_list(document.get("Statement", [])):
        if "sts:AssumeRoleWithWebIdentity" not in _as_list(statement.get("Action")):
            continue
        if provider_arn not in _as_list((statement.get("Principal") or {}).get("Federated")):
            continue
        if not _conditions_hold(statement.get("Condition"), claims, issuer):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


_authorize_sts = TokenResponse._authenticate_and_authorize_normal_action
_assume_with_web_identity = TokenResponse.assume_role_with_web_identity


def _authorize_sts_unless_web_identity(self, resource="*"):
    if self._get_action() != "AssumeRoleWithWebIdentity":
        _authorize_sts(self, resource)


def _assume_after_checks(self):
    claims = verified_claims(self._get_param("WebIdentityToken") or "")
    role_arn = self._get_param("RoleArn")
    if not trusted(self.current_account, role_arn, claims):
        raise AccessDenied(
            f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {role_arn} as {claims.get('sub')}"
        )
    return _assume_with_web_identity(self)


def _secret_resource(self):
    secret_id = self._get_param("SecretId") or self._get_param("Name")
    if not secret_id:
        return "*"
    try:
        return self.backend.describe_secret(secret_id).arn
    except Exception:
        if secret_id.startswith("arn:"):
            return secret_id
        return f"arn:aws:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}"


# The error codes JSON-protocol services answer for what moto reports in XML.
JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}


def _json_errors(authorize):
    def authorize_answering_json(self, resource="*"):
        try:
            authorize(self, resource)
        except _RESTError as err:
            if "json" not in self.headers.get("Content-Type", ""):
                raise
            answer = type(err).to_json(err)
            answer.error_type = JSON_CODES.get(err.error_type, err.error_type)
            answer.description = json.dumps({"__type": answer.error_type, "message": err.message})
            raise answer

    return authorize_answering_json


# SQS authorizes a batch action by the permission of its single-message action.
SQS_BATCH = {
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "SendMessageBatch": "SendMessage",
}


class SqsIAMRequest(IAMRequest):
    def __init__(self, **kwargs):
        kwargs["action"] = SQS_BATCH.get(kwargs["action"], kwargs["action"])
        super().__init__(**kwargs)


def _authorize_sqs(self, resource="*"):
    self._authenticate_and_authorize_action(SqsIAMRequest, resource)


_policy_init = access_control.IAMPolicy.__init__


def _policy_from_object_too(self, policy):
    if isinstance(policy, dict) and "Statement" in policy:
        policy = json.dumps(policy)
    _policy_init(self, policy)


_backend_for_host = DomainDispatcherApplication.get_backend_for_host


def _backend_for_host_kept(self, host):
    # Called under the dispatcher's lock: the dict needs no lock of its own.
    kept = self.__dict__.setdefault("_kept_backends", {})
    if host not in kept:
        kept[host] = _backend_for_host(self, host)
    return kept[host]


def _retained(self, queue_name, message):
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


def _admin():
    iam = iam_backends[DEFAULT_ACCOUNT_ID][PARTITION]
    iam.create_user(region_name="us-east-1", user_name="local-admin")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy("local-admin", "everything", json.dumps(everything))
    key = iam.create_access_key("local-admin")
    key.access_key_id = ADMIN_KEY
    key.secret_access_key = os.environ.get("MOTO_ADMIN_SECRET_KEY", "testing")


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--oidc-jwks-dir" in args:
        at = args.index("--oidc-jwks-dir")
        JWKS_DIR = args[at + 1]
        del args[at : at + 2]
    TokenResponse._authenticate_and_authorize_normal_action = _authorize_sts_unless_web_identity
    TokenResponse.assume_role_with_web_identity = _assume_after_checks
    SecretsManagerResponse._determine_resource = _secret_resource
    SQSResponse._authenticate_and_authorize_normal_action = _authorize_sqs
    access_control.IAMPolicy.__init__ = _policy_from_object_too
    DomainDispatcherApplication.get_backend_for_host = _backend_for_host_kept
    SQSBackend.is_message_valid_based_on_retention_period = _retained
    for service in (SecretsManagerResponse, SQSResponse):
        service._authenticate_and_authorize_normal_action = _json_errors(
            service._authenticate_and_authorize_normal_action
        )
    _admin()
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    main(args)
