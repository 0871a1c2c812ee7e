"""A local stand-in for the EC2 instance metadata service, IMDSv2 only (HttpTokens=required), for
the credentials of the instance's role:

  PUT /latest/api/token                                  X-aws-ec2-metadata-token-ttl-seconds: 1..21600
  GET /latest/meta-data/iam/security-credentials/        the role's name
  GET /latest/meta-data/iam/security-credentials/ROLE    its credentials (JSON), fresh each time

Every GET needs a valid X-aws-ec2-metadata-token (401 otherwise, as an instance that requires
tokens answers IMDSv1 requests); a token request carrying X-Forwarded-For is refused (403), as
AWS refuses tokens through a proxy.
"""
import json
import os
import threading
import time

from aws_doubles import QuietHandler, timestamp

ROLE = "dbsecrets-test-instance-role"
PREFIX = "/latest/meta-data/iam/security-credentials/"


class IMDSState:
    def __init__(self, registry):
        self.lock = threading.Lock()
        self.registry = registry
        self.tokens = {}
        self.requests = 0

    def valid(self, token):
        with self.lock:
            expires = self.tokens.get(token or "")
        return expires is not None and time.time() < expires


class IMDSHandler(QuietHandler):
    def count(self):
        with self.server.state.lock:
            self.server.state.requests += 1

    def do_PUT(self):
        self.count()
        self.read_body()
        if self.path != "/latest/api/token":
            return self.send_body(404, "", "text/plain")
        if self.headers.get("X-Forwarded-For"):
            return self.send_body(403, "", "text/plain")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or "")
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self.send_body(400, "", "text/plain")
        token = "AQAEA" + os.urandom(24).hex()
        with self.server.state.lock:
            self.server.state.tokens[token] = time.time() + ttl
        self.send_body(200, token, "text/plain", [("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])

    def do_GET(self):
        self.count()
        state = self.server.state
        if not state.valid(self.headers.get("X-aws-ec2-metadata-token")):
            return self.send_body(401, "", "text/plain")
        if self.path == PREFIX:
            return self.send_body(200, ROLE, "text/plain")
        if self.path == PREFIX + ROLE:
            creds = state.registry.issue("imds", 6 * 3600)
            document = {"Code": "Success", "LastUpdated": timestamp(time.time()), "Type": "AWS-HMAC",
                        "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                        "Token": creds["Token"], "Expiration": creds["Expiration"]}
            return self.send_body(200, json.dumps(document, indent=2), "text/plain")
        self.send_body(404, "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><title>404 - Not Found</title>", "text/html")
