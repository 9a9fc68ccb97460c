#!/usr/bin/env python3
"""Token service for docker-registry's "token" authentication, for crio-imaged's tests.

Issues JSON Web Tokens signed with RS256 by a key whose certificate the registry trusts
(auth.token.rootcertbundle); the certificate travels in the token header as "x5c". Signing is done
by the openssl command line tool, so the script needs nothing beyond the standard library.

  GET  /token?service=S&scope=repository:NAME:pull   Basic credentials optional
  POST /token  grant_type=refresh_token&refresh_token=T&service=S&scope=...   (OAuth2 form)

Known users come from --user NAME:PASSWORD and --refresh-token TOKEN:NAME. A valid user gets the
actions asked for; an anonymous request gets a token granting nothing (so the registry responds
401 insufficient_scope); a wrong password or refresh token gets 401. The listening port is written
to --port-file once the server accepts connections; every request is appended to --log as one JSON
line without secrets.
"""
import argparse
import base64
import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, entry):
        with self.server.log_lock, open(self.server.args.log, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        user = None
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return self.deny("malformed basic credentials")
            if self.server.users.get(name) != password:
                return self.deny("wrong password for " + name)
            user = name
        self.issue(query, user, "GET")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        if form.get("grant_type", [""])[0] != "refresh_token":
            return self.deny("unsupported grant type")
        user = self.server.refresh_tokens.get(form.get("refresh_token", [""])[0])
        if user is None:
            return self.deny("unknown refresh token")
        self.issue(form, user, "POST")

    def deny(self, reason):
        self.record({"method": self.command, "result": "denied", "reason": reason})
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": reason}]})

    def issue(self, params, user, method):
        service = params.get("service", [""])[0]
        access = []
        for scope in params.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if user is not None:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token = self.server.sign(user or "", service, access)
        self.record({"method": method, "result": "issued", "user": user, "access": access})
        if method == "POST":
            self.reply(200, {"access_token": token, "expires_in": 300})
        else:
            self.reply(200, {"token": token, "expires_in": 300})


class TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, args):
        super().__init__(("127.0.0.1", 0), TokenHandler)
        self.args = args
        self.log_lock = threading.Lock()
        self.users = dict(u.split(":", 1) for u in args.user)
        self.refresh_tokens = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in args.refresh_token}
        der = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()

    def sign(self, subject, service, access):
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        claims = {"iss": self.args.issuer, "sub": subject, "aud": service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.key],
                                   input=signing_input, check=True, capture_output=True).stdout
        return signing_input.decode() + "." + b64url(signature)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--refresh-token", action="append", default=[])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = TokenServer(args)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
