#!/usr/bin/env python3
"""kube-apiserver.py - a stand-in for the Kubernetes API server in tests (none can run on the test machines).

It serves, over HTTPS, the pods of tests/fixtures/kube/pods-NAMESPACE.json as the real API does:
  GET /api/v1/namespaces/NS/pods?labelSelector=k=v,k2=v2&limit=N[&continue=TOKEN]
  GET /api/v1/namespaces/NS/pods/NAME
with a bearer token required (401 otherwise, as a metav1.Status), equality-based label selectors,
paging with metadata.continue, and faults a test asks for in a file it may rewrite at any time:
  {"fail": [503, 500], "expire_continue": 1, "forbid": false}
"fail": the next requests get these statuses, one each; "expire_continue": that many continue
tokens are answered 410 Gone, as an expired one is; "forbid": every request gets 403.
Fixture files are read on every request, so a test can replace a pod mid-run.
"""
import json
import os
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES, PORT_FILE, CERT, KEY, TOKEN, FAULTS = sys.argv[1:7]


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


def faults():
    try:
        with open(FAULTS) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_faults(fl):
    with open(FAULTS + ".tmp", "w") as f:
        json.dump(fl, f)
    os.replace(FAULTS + ".tmp", FAULTS)


def matches(pod, selector):
    labels = pod.get("metadata", {}).get("labels", {})
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def pods(ns):
    try:
        with open(os.path.join(FIXTURES, "pods-%s.json" % ns)) as f:
            return json.load(f)["items"]
    except OSError:
        return []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return status(401, "Unauthorized", "Unauthorized")
        fl = faults()
        if fl.get("forbid"):
            return status(403, "Forbidden", 'pods is forbidden: User "system:serviceaccount:'
                          'throttlebot:controller" cannot list resource "pods"')
        if fl.get("fail"):
            code = fl["fail"].pop(0)
            save_faults(fl)
            return status(code, "InternalError", "etcdserver: request timed out")
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if len(parts) < 5 or parts[:3] != ["api", "v1", "namespaces"] or parts[4] != "pods":
            return status(404, "NotFound", "the server could not find the requested resource")
        items = pods(parts[3])
        if len(parts) == 6:
            for p in items:
                if p["metadata"]["name"] == parts[5]:
                    return 200, dict(p, kind="Pod", apiVersion="v1")
            return status(404, "NotFound", 'pods "%s" not found' % parts[5])
        items = [p for p in items if matches(p, query.get("labelSelector", [""])[0])]
        start = 0
        if "continue" in query:
            if fl.get("expire_continue", 0) > 0:
                fl["expire_continue"] -= 1
                save_faults(fl)
                return status(410, "Expired", "The provided continue parameter is too old to "
                              "display a consistent list result. You can start a new list "
                              "without the continue parameter.")
            start = int(query["continue"][0].split("-")[1])
        limit = int(query.get("limit", [len(items) or 1])[0])
        page = items[start:start + limit]
        meta = {"resourceVersion": "48290"}
        if start + limit < len(items):
            meta["continue"] = "page-%d" % (start + limit)
            meta["remainingItemCount"] = len(items) - start - limit
        return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": page}

    def do_GET(self):
        self.send(*self.answer())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
