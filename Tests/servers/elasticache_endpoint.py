#!/usr/bin/env python3
"""A local stand-in for the AWS ElastiCache Query API, for the plugin's integration tests.

It checks every API request's SigV4 signature with botocore's signer (an independent
implementation of the algorithm), answers DescribeUsers and ModifyUser in the XML shapes AWS
uses, keeps each user's status, and applies password changes to a real redis-server through
`ACL SETUSER <UserName> resetpass >new`, so a test can log in with the rotated password. As on
AWS, a change made while the user is `modifying` (TestSetModifyingSeconds) takes effect in Redis
only when the user is `active` again.

The same process runs the credential doubles (STS, instance metadata, container credentials) on
their own ports, sharing one registry of keys: credentials they issue are accepted here until
they expire (then: 403 ExpiredToken). The API also listens over HTTPS (the run's test certificate, for 127.0.0.1).

Test-only actions (not AWS, not signed), POSTed form-encoded like the real ones:
  TestCreateUser   UserId, [UserName], [AccessString], [Passwords.member.N], [Status]
  TestSetStatus    UserId, Status (active completes a pending ModifyUser)
  TestInjectFailure  [Count=1], [Status=400], [Code=Throttling], [Message], [Body, ContentType], [Delay], [Raw]
                   the next Count signed requests get this answer instead (after the signature check);
                   Raw (base64) is written to the socket as it is, then the connection is closed
  TestSetModifyingSeconds  Seconds
                   after each ModifyUser the user stays `modifying` this long, as on AWS (default 0)
  TestReset        drop pending injected failures, modifying time back to 0, the credential
                   doubles' settings back to their defaults
  TestSetCredentialLifetime  Seconds   lifetime of credentials the doubles issue from now on
  TestIssuedCount  Source   how many credentials a double issued (imds, container, assume-role, web-identity)
  TestAcceptWebIdentityToken  Token    the one token STS AssumeRoleWithWebIdentity accepts from now on
  TestSetContainerToken  Token        the Authorization the Pod Identity path requires
  TestRequireExternalId  RoleArn, ExternalId
"""
import argparse
import base64
import os
import socket
import sys
import threading
import time
import uuid
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_doubles import ACCOUNT, AWSError, KeyRegistry, QuietHandler, serve, verify_sigv4  # noqa: E402
from container_credentials_double import ContainerHandler, ContainerState  # noqa: E402
from imds_double import IMDSHandler, IMDSState  # noqa: E402
from sts_double import STSHandler, STSState  # noqa: E402

NS = "http://elasticache.amazonaws.com/doc/2015-02-02/"
VERSION = "2015-02-02"


class Redis:
    """Just enough RESP to run one command as the admin user."""

    def __init__(self, port, password):
        self.port, self.password = port, password

    @staticmethod
    def _encode(args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            b = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(b), b)
        return out

    def command(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(self._encode(["AUTH", "default", self.password]) + self._encode(list(args)))
            f = s.makefile("rb")
            for _ in range(2):
                line = f.readline().decode().rstrip("\r\n")
                if line.startswith("-"):
                    raise AWSError(500, "InternalFailure", "redis refused the change: " + line[1:].split(" ")[0])
            return line


class State:
    def __init__(self, region, redis):
        self.lock = threading.Lock()
        self.region = region
        self.redis = redis
        self.users = {"default": self._user("default", "default", "on ~* +@all", 0)}
        self.failures = []
        self.modifying_seconds = 0.0

    def _user(self, user_id, name, access, password_count, status="active"):
        return {"UserId": user_id, "UserName": name, "Status": status, "Engine": "redis",
                "AccessString": access, "PasswordCount": password_count}

    def user_xml(self, u):
        auth = ("<Authentication><Type>password</Type><PasswordCount>%d</PasswordCount></Authentication>"
                % u["PasswordCount"]) if u["PasswordCount"] else "<Authentication><Type>no-password</Type></Authentication>"
        arn = "arn:aws:elasticache:%s:%s:user:%s" % (self.region, ACCOUNT, u["UserId"])
        return ("<UserId>%s</UserId><UserName>%s</UserName><Status>%s</Status><Engine>redis</Engine>"
                "<MinimumEngineVersion>6.0</MinimumEngineVersion><AccessString>%s</AccessString>"
                "<UserGroupIds/>%s<ARN>%s</ARN>") % (
                    escape(u["UserId"]), escape(u["UserName"]), escape(u["Status"]), escape(u["AccessString"]),
                    auth, escape(arn))

    def find(self, user_id):
        if not user_id:
            raise AWSError(400, "MissingParameter", "The request must contain the parameter UserId")
        u = self.users.get(user_id)
        if u is None:
            raise AWSError(404, "UserNotFound", "User %s not found." % user_id)
        self.settle(u)
        return u

    def settle(self, u):
        if u.get("ModifyingUntil") and time.monotonic() >= u["ModifyingUntil"]:
            if u.get("Pending"):
                self.redis.command("ACL", "SETUSER", u["UserName"], "resetpass", *[">" + p for p in u["Pending"]])
            u["Status"], u["ModifyingUntil"], u["Pending"] = "active", None, None

    def settle_all(self):
        """Run by a background thread: users turn active on time, not only when someone asks."""
        while True:
            time.sleep(0.05)
            with self.lock:
                for u in self.users.values():
                    try:
                        self.settle(u)
                    except AWSError as e:
                        sys.stderr.write("settling %s failed: %s\n" % (u["UserId"], e.message))

    @staticmethod
    def passwords(params):
        pws = [v for k, v in sorted(params.items()) if k.startswith("Passwords.member.")]
        for p in pws:
            if not 16 <= len(p) <= 128:
                raise AWSError(400, "InvalidParameterValue", "Passwords length must be between 16-128 characters.")
            if any(c in p for c in ' "/@') or any(not 0x21 <= ord(c) <= 0x7E for c in p):
                raise AWSError(400, "InvalidParameterValue",
                               "Passwords must be printable ASCII and must not contain space, '\"', '/' or '@'.")
        if len(pws) > 2:
            raise AWSError(400, "InvalidParameterValue", "A user can have at most 2 passwords.")
        return pws

    # AWS actions

    def describe_users(self, params):
        with self.lock:
            if params.get("UserId"):
                users = [self.find(params["UserId"])]
            else:
                users = list(self.users.values())
                for u in users:
                    self.settle(u)
            members = "".join("<member>%s</member>" % self.user_xml(u) for u in users)
            return "<Users>%s</Users>" % members

    def modify_user(self, params):
        with self.lock:
            u = self.find(params.get("UserId"))
            if u["Status"] != "active":
                raise AWSError(400, "InvalidUserState", "User %s is not in active state." % u["UserId"])
            pws = self.passwords(params)
            if not pws:
                raise AWSError(400, "InvalidParameterCombination", "No modifications were requested.")
            u["PasswordCount"] = len(pws)
            if self.modifying_seconds > 0:
                u["Status"], u["ModifyingUntil"] = "modifying", time.monotonic() + self.modifying_seconds
                u["Pending"] = pws
            else:
                self.redis.command("ACL", "SETUSER", u["UserName"], "resetpass", *[">" + p for p in pws])
            return self.user_xml(u)

    # Test-only actions

    def create_user(self, params):
        with self.lock:
            user_id = params.get("UserId") or ""
            name = params.get("UserName") or user_id
            access = params.get("AccessString") or "on ~* +@all"
            pws = self.passwords(params)
            if user_id in self.users:
                raise AWSError(400, "UserAlreadyExists", "User %s already exists." % user_id)
            rules = access.split() + ([">" + p for p in pws] if pws else ["nopass"])
            self.redis.command("ACL", "SETUSER", name, "reset", *rules)
            self.users[user_id] = self._user(user_id, name, access, len(pws), params.get("Status") or "active")

    def set_status(self, params):
        """Setting `active` completes a pending ModifyUser, as AWS finishing the change would."""
        with self.lock:
            u = self.find(params.get("UserId"))
            status = params.get("Status") or "active"
            if status == "active" and u.get("Pending"):
                self.redis.command("ACL", "SETUSER", u["UserName"], "resetpass", *[">" + p for p in u["Pending"]])
            u["Status"], u["ModifyingUntil"], u["Pending"] = status, None, None

    def set_modifying_seconds(self, params):
        with self.lock:
            self.modifying_seconds = float(params.get("Seconds") or 0)

    def reset(self, params):
        with self.lock:
            self.failures.clear()
            self.modifying_seconds = 0.0
        self.registry.lifetime = None
        self.sts.reset()
        self.container.reset()

    def set_credential_lifetime(self, params):
        self.registry.lifetime = float(params.get("Seconds") or 3600)

    def issued_count(self, params):
        return str(self.registry.count(params.get("Source") or ""))

    def accept_web_identity_token(self, params):
        with self.sts.lock:
            self.sts.web_identity_tokens = {params.get("Token") or ""}

    def set_container_token(self, params):
        with self.container.lock:
            self.container.token = params.get("Token")

    def require_external_id(self, params):
        with self.sts.lock:
            self.sts.external_ids[params.get("RoleArn") or ""] = params.get("ExternalId")

    def inject(self, params):
        entry = {
            "status": int(params.get("Status") or 400),
            "code": params.get("Code") or "Throttling",
            "message": params.get("Message") or "Rate exceeded",
            "body": params.get("Body"),
            "content_type": params.get("ContentType") or "text/xml",
            "delay": float(params.get("Delay") or 0),
            "raw": base64.b64decode(params["Raw"]) if params.get("Raw") else None,
        }
        with self.lock:
            self.failures.extend([entry] * int(params.get("Count") or 1))

    def next_failure(self):
        with self.lock:
            return self.failures.pop(0) if self.failures else None


class Handler(QuietHandler):
    server_version = "elasticache-endpoint"

    def send(self, status, body, content_type="text/xml"):
        self.send_body(status, body, content_type, [("x-amzn-RequestId", self.request_id)])

    def send_error_xml(self, e):
        kind = "Receiver" if e.status >= 500 else "Sender"
        self.send(e.status, '<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>'
                  '</Error><RequestId>%s</RequestId></ErrorResponse>'
                  % (NS, kind, escape(e.code), escape(e.message), self.request_id))

    def do_GET(self):
        self.request_id = str(uuid.uuid4())
        self.send_error_xml(AWSError(400, "InvalidAction", "Only POST requests are supported here."))

    def do_POST(self):
        self.request_id = str(uuid.uuid4())
        body = self.read_body()
        state = self.server.state
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            action = params.get("Action", "")
            test_actions = {"TestCreateUser": state.create_user, "TestSetStatus": state.set_status,
                            "TestInjectFailure": state.inject, "TestSetModifyingSeconds": state.set_modifying_seconds,
                            "TestReset": state.reset, "TestSetCredentialLifetime": state.set_credential_lifetime,
                            "TestIssuedCount": state.issued_count,
                            "TestAcceptWebIdentityToken": state.accept_web_identity_token,
                            "TestSetContainerToken": state.set_container_token,
                            "TestRequireExternalId": state.require_external_id}
            if action in test_actions:
                answer = test_actions[action](params)
                self.send(200, answer if isinstance(answer, str) else "OK", "text/plain")
                return
            verify_sigv4(self, body, "elasticache", state.region, state.registry)
            failure = state.next_failure()
            if failure:
                time.sleep(failure["delay"])
                if failure["raw"] is not None:
                    self.wfile.write(failure["raw"])
                    self.wfile.flush()
                    self.close_connection = True
                elif failure["body"] is not None:
                    self.send(failure["status"], failure["body"], failure["content_type"])
                else:
                    self.send_error_xml(AWSError(failure["status"], failure["code"], failure["message"]))
                return
            if params.get("Version") != VERSION:
                raise AWSError(400, "InvalidAction", "Could not find operation %s for version %s"
                               % (action, params.get("Version", "NO_VERSION_SPECIFIED")))
            actions = {"DescribeUsers": state.describe_users, "ModifyUser": state.modify_user}
            if action not in actions:
                raise AWSError(400, "InvalidAction", "The action %s is not valid for this web service." % action)
            result = actions[action](params)
            self.log_message("%s UserId=%s -> 200", action, params.get("UserId", "-"))
            self.send(200, '<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s'
                      '</RequestId></ResponseMetadata></%sResponse>'
                      % (action, NS, action, result, action, self.request_id, action))
        except AWSError as e:
            self.log_message("error %s %s", e.status, e.code)
            self.send_error_xml(e)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ports-file", required=True, help="where the other servers' ports are written (NAME=PORT lines)")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--session-access-key")
    p.add_argument("--session-secret-key")
    p.add_argument("--session-token")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--redis-password", required=True)
    a = p.parse_args()
    registry = KeyRegistry()
    registry.add(a.access_key, a.secret_key)
    if a.session_access_key:
        registry.add(a.session_access_key, a.session_secret_key, a.session_token)
    state = State(a.region, Redis(a.redis_port, a.redis_password))
    state.registry = registry
    state.sts = STSState(a.region, registry)
    state.container = ContainerState(registry)
    threading.Thread(target=state.settle_all, daemon=True).start()
    servers = {
        "tls": serve("elasticache-tls", 0, Handler, state, tls=(a.cert, a.key)),
        "sts": serve("sts", 0, STSHandler, state.sts),
        "sts_tls": serve("sts-tls", 0, STSHandler, state.sts, tls=(a.cert, a.key)),
        "imds": serve("imds", 0, IMDSHandler, IMDSState(registry)),
        "container": serve("container", 0, ContainerHandler, state.container),
    }
    with open(a.ports_file + ".tmp", "w") as f:
        for name, server in servers.items():
            f.write("%s_port=%d\n" % (name, server.server_address[1]))
    os.rename(a.ports_file + ".tmp", a.ports_file)
    # Last: the start script waits for this port, so the others are up when it answers.
    serve("elasticache", a.port, Handler, state)
    threading.Event().wait()


if __name__ == "__main__":
    main()
