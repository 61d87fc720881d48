"""A small Azure Key Vault (secrets) server for Keystack's tests.

Written from Microsoft's public REST reference for Key Vault secrets
(api-versions 7.0–7.6, 2025-07-01 and 2026-04-01) and checked by Microsoft's own Python
client (azure-keyvault-secrets with azure-identity) in Keystack's suite.
It is test tooling: `cargo xtask emulators up` generates its certificate
authority and starts it; it is never shipped.

What it serves, over HTTPS only (Microsoft's clients send tokens over
HTTPS only):

- Entra ID's client-credentials token endpoint, `POST /{tenant}/oauth2/v2.0/token`
  (and the OpenID configuration MSAL reads first). Tokens are stateless
  (an HMAC of the client ID), so a restarted server still accepts them.
- The vault: `PUT/GET/PATCH /secrets/{name}[/{version}]`, `GET /secrets`,
  `GET /secrets/{name}/versions` (`maxresults`, `nextLink`), `DELETE
  /secrets/{name}`, `GET /deletedsecrets[/{name}]`, `DELETE
  /deletedsecrets/{name}` (purge), `POST /deletedsecrets/{name}/recover`.
  A request without a token gets the 401 bearer challenge the clients
  need before they send one.
- Soft delete with Key Vault's timing: a deleted secret is "being
  deleted" for --delete-seconds, a purged name stays in conflict for
  --purge-seconds, a recovered one is "being recovered" for
  --recover-seconds. --purge-protection refuses purges.
- `POST /_test/faults` with {"status": 503, "count": 2}: the next
  requests fail so (retry tests); `POST /_test/reset` empties the vault.
- `--request-log FILE`: each request (but these) appended to FILE as
  `METHOD PATH`, for request budgets counted at the HTTP layer.

Limits (see docs/backends/azure.md): secrets only (no keys, certificates
or backup/restore), no expiry or not-before enforcement, in memory.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets as random
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSIONS = re.compile(r"^(7\.[0-6](-preview)?|2025-07-01|2026-04-01)$")
NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_VALUE = 25 * 1024
RETENTION_DAYS = 90
RESOURCE = "https://vault.azure.net"


def now():
    return int(time.time())


class Vault:
    """The vault's state. Names compare without regard to case, as in Key Vault."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.live = {}  # lower name -> {"name", "versions": [bundle...]}
        self.deleted = {}  # lower name -> {"name", "versions", "deleted", "ready"}
        self.busy = {}  # lower name -> (until, inner code, message)
        self.faults = []

    def level(self):
        if self.args.purge_protection:
            return "Recoverable"
        return "Recoverable+Purgeable"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "keystack-keyvault-test"
    # Headers and body go out in two writes; with Nagle's algorithm the
    # second waits for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, fmt % args))

    # -- plumbing ---------------------------------------------------------

    def base(self):
        return "https://%s" % self.headers.get("Host", "127.0.0.1")

    def send_json(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", random.token_hex(16))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message, inner=None):
        body = {"error": {"code": code, "message": message}}
        if inner:
            body["error"]["innererror"] = {"code": inner}
        self.send_json(status, body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        body = self.read_body()
        vault = self.server.vault
        if path.startswith("/_test/"):
            return self.test_control(method, path, body)
        if self.server.args.request_log:
            # One line per request, for tests that count requests at the
            # HTTP layer (TLS keeps a proxy from seeing them).
            with vault.lock, open(self.server.args.request_log, "a") as log:
                log.write("%s %s\n" % (method, url.path))
        m = re.match(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$", path)
        if m and method == "GET":
            return self.openid(m.group(1))
        m = re.match(r"^/([^/]+)/oauth2/v2\.0/token$", path)
        if m and method == "POST":
            return self.token(m.group(1), body)
        with vault.lock:
            if vault.faults:
                status = vault.faults.pop(0)
                return self.error(status, "ServiceUnavailable" if status >= 500 else "Throttled",
                                  "Injected fault for a test.")
        role = self.authenticate()
        if role is None:
            return
        if not API_VERSIONS.match(query.get("api-version", "")):
            return self.error(400, "BadParameter",
                              "The request URI contains an invalid or missing api-version.")
        if body:
            try:
                body = json.loads(body)
            except ValueError:
                return self.error(400, "BadParameter", "The request body is not valid JSON.")
        else:
            body = {}
        routes = [
            ("GET", r"^/secrets/?$", self.list_secrets),
            ("GET", r"^/secrets/([^/]+)/versions/?$", self.list_versions),
            ("PUT", r"^/secrets/([^/]+)/?$", self.set_secret),
            ("GET", r"^/secrets/([^/]+)(?:/([^/]*))?/?$", self.get_secret),
            ("PATCH", r"^/secrets/([^/]+)(?:/([^/]*))?/?$", self.update_secret),
            ("DELETE", r"^/secrets/([^/]+)/?$", self.delete_secret),
            ("GET", r"^/deletedsecrets/?$", self.list_deleted),
            ("GET", r"^/deletedsecrets/([^/]+)/?$", self.get_deleted),
            ("DELETE", r"^/deletedsecrets/([^/]+)/?$", self.purge),
            ("POST", r"^/deletedsecrets/([^/]+)/recover/?$", self.recover),
        ]
        for route_method, pattern, action in routes:
            m = re.match(pattern, path)
            if m and route_method == method:
                writes = method in ("PUT", "PATCH", "DELETE", "POST")
                if writes and role != "officer":
                    return self.error(
                        403, "Forbidden",
                        "Caller is not authorized to perform action on resource. "
                        "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'",
                        "ForbiddenByRbac")
                groups = [urllib.parse.unquote(g) if g else g for g in m.groups()]
                with vault.lock:
                    return action(query, body, *groups)
        self.error(404, "NotFound", "The requested resource was not found.")

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_POST(self):
        self.handle_any("POST")

    # -- Entra ID ---------------------------------------------------------

    def token_for(self, client_id):
        mac = hmac.new(self.server.key, client_id.encode(), hashlib.sha256).hexdigest()
        return "kvtest.%s.%s" % (base64.urlsafe_b64encode(client_id.encode()).decode(), mac)

    def openid(self, tenant):
        base = "%s/%s" % (self.base(), tenant)
        self.send_json(200, {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "issuer": base + "/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "response_types_supported": ["code", "id_token", "token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "jwks_uri": base + "/discovery/v2.0/keys",
        })

    def token(self, tenant, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        client = self.server.clients.get(form.get("client_id", ""))
        if tenant != self.server.tenant:
            return self.send_json(400, {
                "error": "invalid_request",
                "error_description": "AADSTS90002: Tenant '%s' not found." % tenant,
                "error_codes": [90002]})
        if form.get("grant_type") != "client_credentials":
            return self.send_json(400, {
                "error": "unsupported_grant_type",
                "error_description": "AADSTS70003: only client_credentials is served here.",
                "error_codes": [70003]})
        if client is None or not hmac.compare_digest(client[0], form.get("client_secret", "")):
            return self.send_json(401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
                "error_codes": [7000215]})
        self.send_json(200, {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": self.token_for(form["client_id"]),
        })

    def authenticate(self):
        """The caller's role, or None after answering 401."""
        challenge = 'Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"' % (
            self.server.tenant, RESOURCE)
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            self.send_json(401, {"error": {
                "code": "Unauthorized",
                "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                {"WWW-Authenticate": challenge})
            return None
        token = header[len("Bearer "):]
        try:
            _, encoded, _ = token.split(".")
            client_id = base64.urlsafe_b64decode(encoded.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            client_id = ""
        client = self.server.clients.get(client_id)
        if client is None or not hmac.compare_digest(token, self.token_for(client_id)):
            self.send_json(401, {"error": {
                "code": "Unauthorized",
                "message": "AKV10032: Invalid issuer. The token was not issued for this vault."}},
                {"WWW-Authenticate": challenge})
            return None
        return client[1]

    # -- state helpers (called with the lock held) -------------------------

    def settle(self, key):
        vault = self.server.vault
        busy = vault.busy.get(key)
        if busy and busy[0] <= time.time():
            del vault.busy[key]
            busy = None
        return busy

    def conflict(self, name, key):
        """Answers 409 if `name` is deleted or busy; True if it did."""
        vault = self.server.vault
        busy = self.settle(key)
        if busy:
            self.error(409, "Conflict", busy[2] % name, busy[1])
            return True
        if key in vault.deleted:
            self.error(409, "Conflict",
                       "Secret %s is currently in a deleted but recoverable state, and its name "
                       "cannot be reused; in this state, the secret can only be recovered or "
                       "purged." % name, "ObjectIsDeletedButRecoverable")
            return True
        return False

    def attributes(self, version):
        a = dict(version["attributes"])
        a["recoveryLevel"] = self.server.vault.level()
        a["recoverableDays"] = RETENTION_DAYS
        return a

    def bundle(self, name, version, value=True):
        out = {
            "id": "%s/secrets/%s/%s" % (self.base(), name, version["version"]),
            "attributes": self.attributes(version),
        }
        if value:
            out["value"] = version["value"]
        if version.get("tags") is not None:
            out["tags"] = version["tags"]
        if version.get("contentType") is not None:
            out["contentType"] = version["contentType"]
        return out

    def item(self, name, version, with_version=False):
        out = self.bundle(name, version, value=False)
        if not with_version:
            out["id"] = "%s/secrets/%s" % (self.base(), name)
        return out

    def deleted_bundle(self, key, value=False):
        entry = self.server.vault.deleted[key]
        out = self.bundle(entry["name"], entry["versions"][-1], value=value)
        out["recoveryId"] = "%s/deletedsecrets/%s" % (self.base(), entry["name"])
        out["deletedDate"] = entry["deleted"]
        out["scheduledPurgeDate"] = entry["deleted"] + RETENTION_DAYS * 86400
        if not value:
            out.pop("value", None)
        return out

    def not_found(self, name, deleted=False):
        if deleted:
            return self.error(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        self.error(404, "SecretNotFound",
                   "A secret with (name/id) %s was not found in this key vault. If you recently "
                   "deleted this secret you may be able to recover it using the correct recovery "
                   "command. For help resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125182" % name)

    def live(self, name):
        key = name.lower()
        self.settle(key)
        entry = self.server.vault.live.get(key)
        if entry is None or key in self.server.vault.busy:
            return None
        return entry

    def page(self, items, query, path):
        """Answers one page of `items`, (sort key, item) pairs in key order.

        The continuation marker is the last key served, as Key Vault's is
        opaque and stable: secrets added or removed between two pages never
        make the listing skip or repeat one that stayed.
        """
        try:
            size = int(query.get("maxresults", "25"))
        except ValueError:
            size = 0
        if not 1 <= size <= 25:
            return self.error(400, "BadParameter",
                              "maxresults must be between 1 and 25.")
        after = query.get("$skiptoken")
        if after is not None:
            items = [(k, item) for k, item in items if k > after]
        chunk = items[:size]
        next_link = None
        if len(items) > size:
            next_link = "%s%s?api-version=%s&$skiptoken=%s&maxresults=%d" % (
                self.base(), path, query["api-version"],
                urllib.parse.quote(chunk[-1][0], safe=""), size)
        self.send_json(200, {"value": [item for _, item in chunk], "nextLink": next_link})

    # -- the vault --------------------------------------------------------

    def set_secret(self, query, body, name):
        vault = self.server.vault
        if not NAME.match(name):
            return self.error(400, "BadParameter",
                              "The request URI contains an invalid name: %s" % name)
        value = body.get("value")
        if not isinstance(value, str):
            return self.error(400, "BadParameter", "Property 'value' is required.")
        if len(value.encode()) > MAX_VALUE:
            return self.error(400, "BadParameter",
                              "Secret value is too large: the limit is 25 KB.")
        key = name.lower()
        if self.conflict(name, key):
            return
        stamp = now()
        attributes = dict(body.get("attributes") or {})
        attributes.setdefault("enabled", True)
        attributes.update({"created": stamp, "updated": stamp})
        version = {
            "version": random.token_hex(16),
            "value": value,
            "tags": body.get("tags"),
            "contentType": body.get("contentType"),
            "attributes": attributes,
        }
        entry = vault.live.setdefault(key, {"name": name, "versions": []})
        entry["versions"].append(version)
        self.send_json(200, self.bundle(entry["name"], version))

    def find_version(self, entry, version_id):
        if not version_id:
            return entry["versions"][-1]
        for v in entry["versions"]:
            if v["version"] == version_id:
                return v
        return None

    def get_secret(self, query, body, name, version_id=None):
        entry = self.live(name)
        version = entry and self.find_version(entry, version_id)
        if not version:
            return self.not_found(name)
        if not version["attributes"].get("enabled", True):
            return self.error(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                              "SecretDisabled")
        self.send_json(200, self.bundle(entry["name"], version))

    def update_secret(self, query, body, name, version_id=None):
        entry = self.live(name)
        version = entry and self.find_version(entry, version_id)
        if not version:
            return self.not_found(name)
        if "contentType" in body:
            version["contentType"] = body["contentType"]
        if "tags" in body:
            version["tags"] = body["tags"]
        for k, v in (body.get("attributes") or {}).items():
            if k in ("enabled", "exp", "nbf"):
                version["attributes"][k] = v
        version["attributes"]["updated"] = now()
        self.send_json(200, self.bundle(entry["name"], version, value=False))

    def list_secrets(self, query, body):
        vault = self.server.vault
        items = [(k, self.item(e["name"], e["versions"][-1]))
                 for k, e in sorted(vault.live.items()) if self.live(e["name"])]
        self.page(items, query, "/secrets")

    def list_versions(self, query, body, name):
        entry = self.live(name)
        if not entry:
            return self.not_found(name)
        items = [("%08d" % i, self.item(entry["name"], v, with_version=True))
                 for i, v in enumerate(entry["versions"])]
        self.page(items, query, "/secrets/%s/versions" % name)

    def delete_secret(self, query, body, name):
        vault = self.server.vault
        entry = self.live(name)
        if not entry:
            return self.not_found(name)
        key = name.lower()
        del vault.live[key]
        vault.deleted[key] = {"name": entry["name"], "versions": entry["versions"],
                              "deleted": now()}
        vault.busy[key] = (time.time() + self.server.args.delete_seconds, "ObjectIsBeingDeleted",
                           "Secret %s is currently being deleted.")
        self.send_json(200, self.deleted_bundle(key))

    def deleted_visible(self, name):
        key = name.lower()
        self.settle(key)
        vault = self.server.vault
        if key not in vault.deleted or key in vault.busy:
            return None
        return key

    def list_deleted(self, query, body):
        vault = self.server.vault
        items = []
        for key in sorted(vault.deleted):
            if self.deleted_visible(key):
                item = self.deleted_bundle(key)
                item["id"] = "%s/secrets/%s" % (self.base(), vault.deleted[key]["name"])
                items.append((key, item))
        self.page(items, query, "/deletedsecrets")

    def get_deleted(self, query, body, name):
        key = self.deleted_visible(name)
        if not key:
            return self.not_found(name, deleted=True)
        self.send_json(200, self.deleted_bundle(key))

    def purge(self, query, body, name):
        vault = self.server.vault
        key = name.lower()
        busy = self.settle(key)
        if busy and key in vault.deleted:
            return self.error(409, "Conflict", busy[2] % name, busy[1])
        if not self.deleted_visible(name):
            return self.not_found(name, deleted=True)
        if self.server.args.purge_protection:
            return self.error(
                403, "Forbidden",
                "Operation \"purge\" is not allowed because purge protection is enabled for this "
                "vault. Key Vault service will automatically purge it after the retention period "
                "has passed.")
        del vault.deleted[key]
        vault.busy[key] = (time.time() + self.server.args.purge_seconds, "ObjectIsBeingPurged",
                           "Secret %s is currently being purged and cannot be re-created; retry later.")
        self.send_json(204, None)

    def recover(self, query, body, name):
        vault = self.server.vault
        key = self.deleted_visible(name)
        if not key:
            return self.not_found(name, deleted=True)
        entry = vault.deleted.pop(key)
        vault.live[key] = {"name": entry["name"], "versions": entry["versions"]}
        vault.busy[key] = (time.time() + self.server.args.recover_seconds, "ObjectIsBeingRecovered",
                           "Secret %s is currently being recovered and cannot be re-created; retry later.")
        self.send_json(200, self.bundle(entry["name"], entry["versions"][-1], value=False))

    # -- test control -------------------------------------------------------

    def test_control(self, method, path, body):
        vault = self.server.vault
        if method == "POST" and path == "/_test/reset":
            with vault.lock:
                vault.reset()
            return self.send_json(204, None)
        if method == "POST" and path == "/_test/faults":
            spec = json.loads(body or b"{}")
            with vault.lock:
                vault.faults.extend([int(spec.get("status", 503))] * int(spec.get("count", 1)))
            return self.send_json(204, None)
        if method == "GET" and path == "/_test/health":
            return self.send_json(200, {"ok": True})
        self.error(404, "NotFound", "No such test endpoint.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--tenant", default="00000000-0000-0000-0000-00000000cafe")
    parser.add_argument("--client", action="append", default=[],
                        help="ID:SECRET:ROLE (role: officer or reader); repeatable")
    parser.add_argument("--delete-seconds", type=float, default=0.3)
    parser.add_argument("--purge-seconds", type=float, default=0.3)
    parser.add_argument("--recover-seconds", type=float, default=0.3)
    parser.add_argument("--purge-protection", action="store_true")
    parser.add_argument("--request-log", help="append METHOD PATH of each request to this file")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.args = args
    server.tenant = args.tenant
    server.clients = {}
    for spec in args.client or ["keystack-test:keystack-test-secret:officer"]:
        client_id, secret, role = spec.split(":")
        server.clients[client_id] = (secret, role)
    # Tokens are HMACs under a key every server with these clients shares.
    server.key = hashlib.sha256(json.dumps(sorted(server.clients.items())).encode()).digest()
    server.vault = Vault(args)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    # The handshake happens in the request's thread, on its first read, so a
    # client that connects and says nothing never blocks the others.
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False)
    server.serve_forever()


if __name__ == "__main__":
    main()
