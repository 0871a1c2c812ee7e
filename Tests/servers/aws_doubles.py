"""What the local AWS doubles share: their errors, the keys they know, and SigV4 verification.

The ElastiCache endpoint (elasticache_endpoint.py) runs the credential doubles (sts_double.py,
imds_double.py, container_credentials_double.py) in its own process, so that credentials one of
them issues are accepted by the others, exactly while they are valid.
"""
import base64
import hmac
import os
import ssl
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCOUNT = "123456789012"
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


class AWSError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def timestamp(epoch):
    """ISO 8601 in UTC with a Z, as STS, IMDS and the container endpoint write Expiration."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_text(alphabet, n):
    return "".join(alphabet[b % len(alphabet)] for b in os.urandom(n))


UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class KeyRegistry:
    """Every key pair the doubles accept: the fixed test pairs, and the temporary ones they issue
    (each with its expiry and the source that issued it, so tests can count refreshes)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}
        self.issued = {}
        self.lifetime = None

    def add(self, key_id, secret, token=None, expires=None, source="static"):
        with self.lock:
            self.keys[key_id] = {"secret": secret, "token": token, "expires": expires, "source": source}

    def issue(self, source, duration=3600):
        """Temporary credentials from `source` ("imds", "container", "assume-role", …). A lifetime
        set by the test (TestSetCredentialLifetime) replaces the asked duration: AWS's minimum
        is 15 minutes, a test has seconds."""
        with self.lock:
            lifetime = self.lifetime if self.lifetime is not None else duration
        key_id = "ASIA" + random_text(UPPER, 16)
        # Secrets and tokens carry '/', '+' and '=' as AWS's do: they must survive every encoding.
        secret = base64.b64encode(os.urandom(30)).decode()
        token = "IQoJb3JpZ2luX2Vj" + base64.b64encode(os.urandom(96)).decode()
        expires = time.time() + lifetime
        self.add(key_id, secret, token, expires, source)
        with self.lock:
            self.issued[source] = self.issued.get(source, 0) + 1
        return {"AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token, "Expiration": timestamp(expires)}

    def count(self, source):
        with self.lock:
            return self.issued.get(source, 0)

    def lookup(self, key_id):
        with self.lock:
            return self.keys.get(key_id)


def verify_sigv4(handler, body, service, region, registry):
    """Checks the request's SigV4 signature with botocore's signer (an implementation independent
    of ours), the session token, the scope, the clock and the key's expiry; raises AWSError."""
    auth = handler.headers.get("Authorization")
    if not auth:
        raise AWSError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    prefix = "AWS4-HMAC-SHA256 "
    if not auth.startswith(prefix):
        raise AWSError(403, "IncompleteSignature", "Unsupported authorization type")
    try:
        parts = dict(p.strip().split("=", 1) for p in auth[len(prefix):].split(","))
        key_id, date, scope_region, scope_service, terminator = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
        signature = parts["Signature"]
    except (KeyError, ValueError):
        raise AWSError(403, "IncompleteSignature", "Authorization header is malformed")
    key = registry.lookup(key_id)
    if key is None:
        raise AWSError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    if key["token"] is not None and handler.headers.get("X-Amz-Security-Token") != key["token"]:
        raise AWSError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    if key["expires"] is not None and time.time() >= key["expires"]:
        raise AWSError(403, "ExpiredToken", "The security token included in the request is expired")
    amz_date = handler.headers.get("X-Amz-Date") or ""
    if len(amz_date) != 16:
        raise AWSError(403, "IncompleteSignature", "Authorization header requires existence of a 'X-Amz-Date' header.")
    if scope_region != region:
        raise AWSError(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not '%s'." % scope_region)
    if date != amz_date[:8] or scope_service != service or terminator != "aws4_request":
        raise AWSError(403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'." % service)
    sent = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if abs((datetime.now(timezone.utc) - sent).total_seconds()) > 15 * 60:
        raise AWSError(403, "SignatureDoesNotMatch", "Signature expired: %s is not within 15 minutes of now." % amz_date)
    for required in ("host", "x-amz-date") + (("x-amz-security-token",) if key["token"] else ()):
        if required not in signed:
            raise AWSError(403, "SignatureDoesNotMatch", "'%s' must be a signed header." % required)
    headers = {}
    for name in signed:
        value = handler.headers.get(name)
        if value is None:
            raise AWSError(403, "SignatureDoesNotMatch", "Signed header %s is missing." % name)
        headers[name] = value
    request = AWSRequest(method=handler.command, url="http://%s%s" % (headers["host"], handler.path),
                         headers=headers, data=body)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key_id, key["secret"], key["token"]), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, signature):
        raise AWSError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    return key


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, one log line per request on stderr (the start script sends it to a file)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        import sys
        sys.stderr.write("%s %s %s\n" % (datetime.now(timezone.utc).strftime("%H:%M:%S"), self.server.name, fmt % args))

    def send_body(self, status, body, content_type, extra_headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


def serve(name, port, handler, state, tls=None):
    """Starts a threaded server on 127.0.0.1:port in the background; `tls` is (cert, key) for HTTPS."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.name = name
    server.state = state
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        # The handshake happens in the request's thread, so a client that never finishes it blocks nobody.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
