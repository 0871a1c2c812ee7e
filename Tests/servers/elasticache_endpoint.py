#!/usr/bin/env python3
"""A local stand-in for the AWS ElastiCache Query API, for the plugin's integration tests.

It checks every API request's SigV4 signature with botocore's signer (an independent
implementation of the algorithm), answers DescribeUsers and ModifyUser in the XML shapes AWS
uses, keeps each user's status, and applies password changes to a real redis-server through
`ACL SETUSER <UserName> resetpass >new`, so a test can log in with the rotated password.

Test-only actions (not AWS, not signed), POSTed form-encoded like the real ones:
  TestCreateUser   UserId, [UserName], [AccessString], [Passwords.member.N], [Status]
  TestSetStatus    UserId, Status
  TestInjectFailure  [Count=1], [Status=400], [Code=Throttling], [Message], [Body, ContentType], [Delay]
                   the next Count signed requests get this answer instead (after the signature check)
  TestSetModifyingSeconds  Seconds
                   after each ModifyUser the user stays `modifying` this long, as on AWS (default 0)
  TestReset        drop pending injected failures, modifying time back to 0
"""
import argparse
import hmac
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "http://elasticache.amazonaws.com/doc/2015-02-02/"
VERSION = "2015-02-02"
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
ACCOUNT = "123456789012"


class AWSError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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

    @staticmethod
    def settle(u):
        if u.get("ModifyingUntil") and time.monotonic() >= u["ModifyingUntil"]:
            u["Status"], u["ModifyingUntil"] = "active", None

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
            self.redis.command("ACL", "SETUSER", u["UserName"], "resetpass", *[">" + p for p in pws])
            u["PasswordCount"] = len(pws)
            if self.modifying_seconds > 0:
                u["Status"], u["ModifyingUntil"] = "modifying", time.monotonic() + self.modifying_seconds
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
        with self.lock:
            u = self.find(params.get("UserId"))
            u["Status"], u["ModifyingUntil"] = params.get("Status") or "active", None

    def set_modifying_seconds(self, params):
        with self.lock:
            self.modifying_seconds = float(params.get("Seconds") or 0)

    def reset(self, params):
        with self.lock:
            self.failures.clear()
            self.modifying_seconds = 0.0

    def inject(self, params):
        entry = {
            "status": int(params.get("Status") or 400),
            "code": params.get("Code") or "Throttling",
            "message": params.get("Message") or "Rate exceeded",
            "body": params.get("Body"),
            "content_type": params.get("ContentType") or "text/xml",
            "delay": float(params.get("Delay") or 0),
        }
        with self.lock:
            self.failures.extend([entry] * int(params.get("Count") or 1))

    def next_failure(self):
        with self.lock:
            return self.failures.pop(0) if self.failures else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "elasticache-endpoint"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (datetime.now(timezone.utc).strftime("%H:%M:%S"), fmt % args))

    def send(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", self.request_id)
        self.end_headers()
        self.wfile.write(data)

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
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.state
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            action = params.get("Action", "")
            test_actions = {"TestCreateUser": state.create_user, "TestSetStatus": state.set_status,
                            "TestInjectFailure": state.inject, "TestSetModifyingSeconds": state.set_modifying_seconds,
                            "TestReset": state.reset}
            if action in test_actions:
                test_actions[action](params)
                self.send(200, "OK", "text/plain")
                return
            self.verify_signature(body)
            failure = state.next_failure()
            if failure:
                time.sleep(failure["delay"])
                if failure["body"] is not None:
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

    def verify_signature(self, body):
        auth = self.headers.get("Authorization")
        if not auth:
            raise AWSError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        prefix = "AWS4-HMAC-SHA256 "
        if not auth.startswith(prefix):
            raise AWSError(403, "IncompleteSignature", "Unsupported authorization type")
        try:
            parts = dict(p.strip().split("=", 1) for p in auth[len(prefix):].split(","))
            key_id, date, region, service, terminator = parts["Credential"].split("/")
            signed = parts["SignedHeaders"].split(";")
            signature = parts["Signature"]
        except (KeyError, ValueError):
            raise AWSError(403, "IncompleteSignature", "Authorization header is malformed")
        keys = self.server.keys
        if key_id not in keys:
            raise AWSError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        secret, token = keys[key_id]
        if token is not None and self.headers.get("X-Amz-Security-Token") != token:
            raise AWSError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        amz_date = self.headers.get("X-Amz-Date") or ""
        if len(amz_date) != 16:
            raise AWSError(403, "IncompleteSignature", "Authorization header requires existence of a 'X-Amz-Date' header.")
        if region != self.server.state.region:
            raise AWSError(403, "SignatureDoesNotMatch",
                           "Credential should be scoped to a valid region, not '%s'." % region)
        if date != amz_date[:8] or service != "elasticache" or terminator != "aws4_request":
            raise AWSError(403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'elasticache'.")
        sent = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        if abs((datetime.now(timezone.utc) - sent).total_seconds()) > 15 * 60:
            raise AWSError(403, "SignatureDoesNotMatch", "Signature expired: %s is not within 15 minutes of now." % amz_date)
        for required in ("host", "x-amz-date"):
            if required not in signed:
                raise AWSError(403, "SignatureDoesNotMatch", "'%s' must be a signed header." % required)
        headers = {}
        for name in signed:
            value = self.headers.get(name)
            if value is None:
                raise AWSError(403, "SignatureDoesNotMatch", "Signed header %s is missing." % name)
            headers[name] = value
        request = AWSRequest(method="POST", url="http://%s%s" % (headers["host"], self.path), headers=headers, data=body)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(key_id, secret, token), "elasticache", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise AWSError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--session-access-key")
    p.add_argument("--session-secret-key")
    p.add_argument("--session-token")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--redis-password", required=True)
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.state = State(a.region, Redis(a.redis_port, a.redis_password))
    server.keys = {a.access_key: (a.secret_key, None)}
    if a.session_access_key:
        server.keys[a.session_access_key] = (a.session_secret_key, a.session_token)
    server.serve_forever()


if __name__ == "__main__":
    main()
