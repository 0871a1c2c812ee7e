"""A local stand-in for AWS STS (Query API, 2011-06-15): AssumeRole, signed with SigV4 and checked
with botocore, and AssumeRoleWithWebIdentity, unsigned, with a token the test declared valid.

Each call issues fresh temporary credentials, which the ElastiCache endpoint then accepts until
they expire. Roles whose name contains "denied" are refused, as a role whose trust policy does not
name the caller; a role can be made to require an ExternalId (TestRequireExternalId).
"""
import re
import threading
import uuid
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from aws_doubles import ACCOUNT, AWSError, QuietHandler, verify_sigv4

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,128}$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


class STSState:
    def __init__(self, region, registry):
        self.lock = threading.Lock()
        self.region = region
        self.registry = registry
        self.web_identity_tokens = set()
        self.external_ids = {}
        self.calls = []

    def reset(self):
        with self.lock:
            self.web_identity_tokens.clear()
            self.external_ids.clear()

    def role(self, params):
        arn = params.get("RoleArn") or ""
        if not ROLE_ARN.match(arn):
            raise AWSError(400, "ValidationError", "%s is invalid" % (arn or "RoleArn"))
        session = params.get("RoleSessionName") or ""
        if not SESSION_NAME.match(session):
            raise AWSError(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed "
                           "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*" % session)
        duration = int(params.get("DurationSeconds") or 3600)
        if not 900 <= duration <= 43200:
            raise AWSError(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        return arn, session, duration

    def issue(self, action, arn, session, duration, source):
        with self.lock:
            self.calls.append((action, arn, session))
        creds = self.registry.issue(source, duration)
        role_name = arn.rsplit("/", 1)[1]
        return ("<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
                "<AssumedRoleUser><AssumedRoleId>AROA%s:%s</AssumedRoleId>"
                "<Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn></AssumedRoleUser>") % (
                    escape(creds["AccessKeyId"]), escape(creds["SecretAccessKey"]), escape(creds["Token"]),
                    creds["Expiration"], ACCOUNT, escape(session), ACCOUNT, escape(role_name), escape(session))

    def assume_role(self, handler, params, body):
        verify_sigv4(handler, body, "sts", self.region, self.registry)
        arn, session, duration = self.role(params)
        if "denied" in arn:
            raise AWSError(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: %s" % arn)
        with self.lock:
            wanted = self.external_ids.get(arn)
        if wanted is not None and params.get("ExternalId") != wanted:
            raise AWSError(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: %s" % arn)
        return self.issue("AssumeRole", arn, session, duration, "assume-role") + "<PackedPolicySize>6</PackedPolicySize>"

    def assume_role_with_web_identity(self, handler, params, body):
        arn, session, duration = self.role(params)
        token = params.get("WebIdentityToken") or ""
        with self.lock:
            known = token in self.web_identity_tokens
        if not known:
            raise AWSError(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS.")
        if "denied" in arn:
            raise AWSError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        return (self.issue("AssumeRoleWithWebIdentity", arn, session, duration, "web-identity")
                + "<SubjectFromWebIdentityToken>system:serviceaccount:default:dbsecrets</SubjectFromWebIdentityToken>"
                "<Audience>sts.amazonaws.com</Audience><Provider>oidc.eks.test</Provider>")


class STSHandler(QuietHandler):
    def do_POST(self):
        request_id = str(uuid.uuid4())
        state = self.server.state
        body = self.read_body()
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            action = params.get("Action", "")
            actions = {"AssumeRole": state.assume_role, "AssumeRoleWithWebIdentity": state.assume_role_with_web_identity}
            if action not in actions:
                raise AWSError(400, "InvalidAction", "Could not find operation %s for version %s"
                               % (action, params.get("Version", "NO_VERSION_SPECIFIED")))
            if params.get("Version") != "2011-06-15":
                raise AWSError(400, "InvalidAction", "Could not find operation %s for version %s"
                               % (action, params.get("Version", "NO_VERSION_SPECIFIED")))
            result = actions[action](self, params, body)
            self.log_message("%s %s -> 200", action, params.get("RoleArn", "-"))
            self.send_body(200, '<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s'
                           '</RequestId></ResponseMetadata></%sResponse>'
                           % (action, NS, action, result, action, request_id, action), "text/xml",
                           [("x-amzn-RequestId", request_id)])
        except AWSError as e:
            self.log_message("error %s %s", e.status, e.code)
            self.send_body(e.status, '<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code>'
                           '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                           % (NS, escape(e.code), escape(e.message), request_id), "text/xml",
                           [("x-amzn-RequestId", request_id)])
