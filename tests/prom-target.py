#!/usr/bin/env python3
"""prom-target.py - a tiny scrape target for the prometheus test: /metrics, and a token-checking API stand-in.

usage: prom-target.py PORT
/metrics serves test_const 42, test_ramp (seconds since start), test_multi{k="a"|"b"}.
/api/v1/query answers value 7 only with "Authorization: Bearer s3cret" (401 otherwise):
Prometheus itself checks no tokens, so this stands in for an authenticating proxy.
"""
import http.server
import json
import sys
import time

START = time.time()


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body, ctype):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/metrics":
            body = ("# TYPE test_const gauge\ntest_const 42\n"
                    f"# TYPE test_ramp gauge\ntest_ramp {time.time() - START:.3f}\n"
                    "# TYPE test_multi gauge\ntest_multi{k=\"a\"} 1\ntest_multi{k=\"b\"} 2\n")
            self.reply(200, body, "text/plain; version=0.0.4")
        elif self.path.startswith("/api/v1/query?"):
            if self.headers.get("Authorization") == "Bearer s3cret":
                answer = {"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {}, "value": [time.time(), "7"]}]}}
                self.reply(200, json.dumps(answer), "application/json")
            else:
                self.reply(401, "Unauthorized: no or wrong bearer token\n", "text/plain")
        else:
            self.reply(404, "not found\n", "text/plain")

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
