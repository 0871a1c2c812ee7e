#!/usr/bin/env python3
"""Proves the AWS credential doubles right with an independent client before our plugin is tested
against them: botocore's own credential chain resolves credentials from each double (IMDSv2, the
ECS and EKS Pod Identity container endpoints, STS AssumeRole from a source profile and from
credential_source, AssumeRoleWithWebIdentity from the environment and from a profile, over HTTP
and HTTPS with a CA bundle), and a botocore ElastiCache client signs DescribeUsers with them, which
the endpoint verifies. Then the refusals: what AWS refuses, the doubles refuse.

Usage: check_credential_doubles.py ENV_FILE   (the variables start-elasticache writes)
Loopback only: every metadata variable points at a double, so botocore never tries AWS's addresses.
"""
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import botocore
import botocore.session
import botocore.utils
from botocore.exceptions import ClientError


def load_env(path):
    values = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                values[k] = v
    return values


E = load_env(sys.argv[1])
REGION = E["DBSECRETS_TEST_ELASTICACHE_REGION"]
ENDPOINT = E["DBSECRETS_TEST_ELASTICACHE_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/dbsecrets-test-role"
folder = tempfile.mkdtemp(prefix="botocore-check-")


def control(action, **params):
    data = urllib.parse.urlencode(dict(Action=action, **params)).encode()
    with urllib.request.urlopen(urllib.request.Request(ENDPOINT, data=data), timeout=5) as r:
        return r.read().decode()


def write(name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def environment(**extra):
    """A clean environment: no AWS_* from the caller, no shared files, no real metadata service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.path.join(folder, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(folder, "none"),
               AWS_EC2_METADATA_DISABLED="true", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)
    env.update(extra)
    os.environ.clear()
    os.environ.update(env)


def resolve(expected_method, profile=None, endpoint=ENDPOINT):
    session = botocore.session.Session(profile=profile)
    credentials = session.get_credentials()
    assert credentials is not None, "botocore found no credentials"
    frozen = credentials.get_frozen_credentials()
    assert credentials.method == expected_method, "method %s, expected %s" % (credentials.method, expected_method)
    client = session.create_client("elasticache", region_name=REGION, endpoint_url=endpoint)
    users = client.describe_users()["Users"]
    assert any(u["UserId"] == "default" for u in users), users
    return frozen


checks = []


def check(name):
    def register(f):
        checks.append((name, f))
        return f
    return register


@check("IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT)")
def imds():
    before = int(control("TestIssuedCount", Source="imds"))
    environment(AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=E["DBSECRETS_TEST_AWS_IMDS_ENDPOINT"])
    frozen = resolve("iam-role")
    assert frozen.token and int(control("TestIssuedCount", Source="imds")) == before + 1


@check("ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)")
def container_relative():
    # botocore resolves the relative URI on 169.254.170.2; only that address is swapped.
    host = urllib.parse.urlparse(E["DBSECRETS_TEST_AWS_CONTAINER_ENDPOINT"]).netloc
    original = botocore.utils.ContainerMetadataFetcher.IP_ADDRESS
    botocore.utils.ContainerMetadataFetcher.IP_ADDRESS = host
    try:
        environment(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/dbsecrets-task")
        resolve("container-role")
    finally:
        botocore.utils.ContainerMetadataFetcher.IP_ADDRESS = original


@check("EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)")
def container_full():
    control("TestSetContainerToken", Token="pod-identity-token-1")
    environment(AWS_CONTAINER_CREDENTIALS_FULL_URI=E["DBSECRETS_TEST_AWS_CONTAINER_ENDPOINT"] + "/v1/credentials",
                AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=write("pod-token", "pod-identity-token-1"))
    resolve("container-role")


def base_profile():
    return ("[profile base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            % (E["DBSECRETS_TEST_ELASTICACHE_ACCESS_KEY_ID"], E["DBSECRETS_TEST_ELASTICACHE_SECRET_ACCESS_KEY"]))


@check("STS AssumeRole from a source_profile (AWS_ENDPOINT_URL_STS)")
def assume_role():
    config = write("config-assume", "[profile role]\nrole_arn = %s\nsource_profile = base\nrole_session_name = botocore-check\n\n"
                   % ROLE + base_profile())
    environment(AWS_CONFIG_FILE=config, AWS_PROFILE="role", AWS_ENDPOINT_URL_STS=E["DBSECRETS_TEST_AWS_STS_ENDPOINT"])
    resolve("assume-role")


@check("STS AssumeRole with credential_source = Environment")
def assume_role_environment():
    config = write("config-source", "[profile role]\nrole_arn = %s\ncredential_source = Environment\n" % ROLE)
    environment(AWS_CONFIG_FILE=config, AWS_ENDPOINT_URL_STS=E["DBSECRETS_TEST_AWS_STS_ENDPOINT"],
                AWS_ACCESS_KEY_ID=E["DBSECRETS_TEST_ELASTICACHE_ACCESS_KEY_ID"],
                AWS_SECRET_ACCESS_KEY=E["DBSECRETS_TEST_ELASTICACHE_SECRET_ACCESS_KEY"])
    # A profile chosen in code (not AWS_PROFILE) keeps botocore from taking the environment's keys directly.
    resolve("assume-role", profile="role")


@check("STS AssumeRoleWithWebIdentity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)")
def web_identity_environment():
    control("TestAcceptWebIdentityToken", Token="eyJhbGciOiJSUzI1NiJ9.irsa.check")
    environment(AWS_ROLE_ARN=ROLE, AWS_WEB_IDENTITY_TOKEN_FILE=write("irsa-token", "eyJhbGciOiJSUzI1NiJ9.irsa.check"),
                AWS_ROLE_SESSION_NAME="botocore-irsa", AWS_ENDPOINT_URL_STS=E["DBSECRETS_TEST_AWS_STS_ENDPOINT"])
    resolve("assume-role-with-web-identity")


@check("STS AssumeRoleWithWebIdentity from a profile's web_identity_token_file")
def web_identity_profile():
    control("TestAcceptWebIdentityToken", Token="eyJhbGciOiJSUzI1NiJ9.profile.check")
    token = write("profile-token", "eyJhbGciOiJSUzI1NiJ9.profile.check")
    config = write("config-web", "[profile web]\nrole_arn = %s\nweb_identity_token_file = %s\n" % (ROLE, token))
    environment(AWS_CONFIG_FILE=config, AWS_PROFILE="web", AWS_ENDPOINT_URL_STS=E["DBSECRETS_TEST_AWS_STS_ENDPOINT"])
    resolve("assume-role-with-web-identity")


@check("HTTPS with AWS_CA_BUNDLE: STS AssumeRole and ElastiCache")
def https_with_ca_bundle():
    config = write("config-tls", "[profile role]\nrole_arn = %s\nsource_profile = base\n\n" % ROLE + base_profile())
    environment(AWS_CONFIG_FILE=config, AWS_PROFILE="role", AWS_CA_BUNDLE=E["DBSECRETS_TEST_AWS_CA_BUNDLE"],
                AWS_ENDPOINT_URL_STS=E["DBSECRETS_TEST_AWS_STS_TLS_ENDPOINT"])
    resolve("assume-role", endpoint=E["DBSECRETS_TEST_ELASTICACHE_TLS_ENDPOINT"])


@check("refusals: IMDSv1, a bad signature, an expired session")
def refusals():
    try:
        urllib.request.urlopen(E["DBSECRETS_TEST_AWS_IMDS_ENDPOINT"] + "/latest/meta-data/iam/security-credentials/",
                               timeout=5)
        raise AssertionError("IMDS answered a request without a token")
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
    environment()
    session = botocore.session.Session()
    wrong = session.create_client("sts", region_name=REGION, endpoint_url=E["DBSECRETS_TEST_AWS_STS_ENDPOINT"],
                                  aws_access_key_id=E["DBSECRETS_TEST_ELASTICACHE_ACCESS_KEY_ID"],
                                  aws_secret_access_key="not-the-secret")
    try:
        wrong.assume_role(RoleArn=ROLE, RoleSessionName="refused")
        raise AssertionError("STS accepted a wrong signature")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
    control("TestSetCredentialLifetime", Seconds="0.3")
    try:
        fetcher = botocore.utils.InstanceMetadataFetcher(timeout=2, base_url=E["DBSECRETS_TEST_AWS_IMDS_ENDPOINT"] + "/",
                                                         env={})
        creds = fetcher.retrieve_iam_role_credentials()
    finally:
        control("TestReset")
    time.sleep(0.4)
    client = session.create_client("elasticache", region_name=REGION, endpoint_url=ENDPOINT,
                                   aws_access_key_id=creds["access_key"], aws_secret_access_key=creds["secret_key"],
                                   aws_session_token=creds["token"])
    try:
        client.describe_users()
        raise AssertionError("ElastiCache accepted an expired session")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ExpiredToken", e.response


failed = 0
print("botocore %s" % botocore.__version__)
for name, f in checks:
    try:
        f()
        print("ok    %s" % name)
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the exit status says it
        failed += 1
        print("FAIL  %s: %s: %s" % (name, type(e).__name__, e))
sys.exit(1 if failed else 0)
