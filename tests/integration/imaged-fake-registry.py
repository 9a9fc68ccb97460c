#!/usr/bin/env python3
"""A small Distribution API v2 server that misbehaves on purpose, for crio-imaged's tests.

It serves manifests and blobs from files named in a JSON spec (--spec), and misbehaves as the spec tells:

  {"manifests": {"REPO/REF": {"file": PATH, "content_type": TYPE}},
   "blobs": {"sha256:HEX": {"file": PATH, "behavior": B, "param": N}},
   "basic_auth": "USER:PASSWORD",        optional: required on every /v2/ request
   "fail_first": {"/v2/...": N}}         optional: respond 503 to the first N requests of a path

Blob behaviors: "normal" (honours Range), "stall" (sends half, then sends nothing for 60 s),
"stall-once" (like stall the first time, normal afterwards), "drop-once" (the first response
declares the full length but the connection closes after N bytes), "slow" (the blob takes about N
milliseconds), "redirect" (307 to http://localhost:PORT/data/DIGEST, a different origin; that
path responds 400 when it receives an Authorization header).

The listening port goes to --port-file; every request is appended to --log as a JSON line:
method, path, range and whether it carried an Authorization header.
"""
import argparse
import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        entry = {"method": self.command, "path": self.path,
                 "range": self.headers.get("Range", ""),
                 "authorization": "Authorization" in self.headers}
        with self.server.lock, open(self.server.log, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def count(self, key):
        with self.server.lock:
            self.server.counts[key] = self.server.counts.get(key, 0) + 1
            return self.server.counts[key]

    def simple(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.simple(status, body, {"Content-Type": "application/json"})

    def authorized(self):
        expected = self.server.spec.get("basic_auth")
        if not expected:
            return True
        given = self.headers.get("Authorization", "")
        if given == "Basic " + base64.b64encode(expected.encode()).decode():
            return True
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                       "message": "authentication required"}]}).encode()
        self.simple(401, body, {"Content-Type": "application/json",
                                "WWW-Authenticate": 'Basic realm="fake registry"'})
        return False

    def do_GET(self):
        self.record()
        path = self.path
        if path.startswith("/data/"):
            if "Authorization" in self.headers:
                return self.error(400, "LEAKED", "Authorization sent to another origin")
            return self.send_blob(path[len("/data/"):], redirected=True)
        if not path.startswith("/v2/"):
            return self.error(404, "NOT_FOUND", "no such path")
        if not self.authorized():
            return
        failures = self.server.spec.get("fail_first", {}).get(path, 0)
        if failures and self.count("fail:" + path) <= failures:
            return self.error(503, "UNAVAILABLE", "try again")
        if path == "/v2/":
            return self.simple(200, b"{}", {"Content-Type": "application/json"})
        rest = path[len("/v2/"):]
        if "/manifests/" in rest:
            repo, _, ref = rest.partition("/manifests/")
            entry = self.server.spec.get("manifests", {}).get(repo + "/" + ref)
            if entry is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            with open(entry["file"], "rb") as f:
                body = f.read()
            return self.simple(200, body, {"Content-Type": entry["content_type"]})
        if "/blobs/" in rest:
            return self.send_blob(rest.partition("/blobs/")[2], redirected=False)
        return self.error(404, "NOT_FOUND", "no such path")

    def send_blob(self, digest, redirected):
        entry = self.server.spec.get("blobs", {}).get(digest)
        if entry is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown")
        behavior = entry.get("behavior", "normal")
        param = entry.get("param", 0)
        if behavior == "redirect" and not redirected:
            location = "http://localhost:%d/data/%s" % (self.server.server_address[1], digest)
            return self.simple(307, b"", {"Location": location})
        with open(entry["file"], "rb") as f:
            data = f.read()
        first = self.count("blob:" + digest) == 1

        start = 0
        requested = self.headers.get("Range", "")
        if requested.startswith("bytes=") and requested.endswith("-"):
            start = int(requested[len("bytes="):-1])
            if start >= len(data):
                return self.simple(416, b"", {"Content-Range": "bytes */%d" % len(data)})
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()

        if behavior == "stall" or (behavior == "stall-once" and first):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
        elif behavior == "drop-once" and first:
            self.wfile.write(body[:param])
            self.wfile.flush()
            self.close_connection = True
        elif behavior == "slow":
            pieces = 20
            step = max(1, len(body) // pieces + 1)
            for offset in range(0, len(body), step):
                self.wfile.write(body[offset:offset + step])
                self.wfile.flush()
                time.sleep(param / 1000.0 / pieces)
        else:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    with open(args.spec) as f:
        server.spec = json.load(f)
    server.log = args.log
    server.lock = threading.Lock()
    server.counts = {}
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
