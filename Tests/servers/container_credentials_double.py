"""A local stand-in for the container credentials endpoints:

  GET /v2/credentials/dbsecrets-task   ECS task role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; no token)
  GET /v1/credentials                  EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI), which
                                       needs the Authorization token set by TestSetContainerToken

Answers are JSON documents with AccessKeyId, SecretAccessKey, Token, Expiration (and RoleArn or
AccountId), fresh credentials each time; refusals are JSON {"code", "message"}.
"""
import json
import threading

from aws_doubles import ACCOUNT, QuietHandler

ECS_PATH = "/v2/credentials/dbsecrets-task"
POD_IDENTITY_PATH = "/v1/credentials"


class ContainerState:
    def __init__(self, registry):
        self.lock = threading.Lock()
        self.registry = registry
        self.token = None
        self.authorizations = []

    def reset(self):
        with self.lock:
            self.token = None


class ContainerHandler(QuietHandler):
    def refuse(self, status, code, message):
        self.send_body(status, json.dumps({"code": code, "message": message}), "application/json")

    def do_GET(self):
        state = self.server.state
        authorization = self.headers.get("Authorization")
        with state.lock:
            state.authorizations.append(authorization)
            token = state.token
        if self.path == ECS_PATH:
            creds = state.registry.issue("container", 6 * 3600)
            creds["RoleArn"] = "arn:aws:iam::%s:role/dbsecrets-test-task-role" % ACCOUNT
        elif self.path == POD_IDENTITY_PATH:
            if token is None or authorization != token:
                return self.refuse(401 if authorization is None else 403, "AccessDeniedException",
                                   "Service account token cannot be empty" if authorization is None
                                   else "The service account token is invalid")
            creds = state.registry.issue("container", 6 * 3600)
            creds["AccountId"] = ACCOUNT
        else:
            return self.refuse(404, "NotFound", "no credentials at %s" % self.path)
        self.send_body(200, json.dumps(creds), "application/json")
