#!/usr/bin/env python3
"""The partners' part of bench/run.sh: webhook delivery and the change feed.

Against a running server (its base URL), signed in as the admin whose
e-mail and password are given, it:

1. starts a webhook receiver on a free loopback port (a real HTTP server,
   answering 200 at once) and registers it for every event;
2. takes a change-feed token ("now");
3. publish to delivery: unpublishes and publishes again ARTICLES published
   articles one after the other, each time timing the wait from the
   publish's answer to the arrival of its `article.published` delivery;
4. throughput: saves EDITS title edits from WRITERS parallel writers as
   fast as the primary takes them (GET for the ETag, PATCH with If-Match),
   then times until every `article.updated` has arrived;
5. prints, as JSON on stdout: the figures, and the token from step 2, so
   that bench/run.sh can measure `GET /changes?since=` with everything
   from steps 3 and 4 behind it (an hour of a busy newsroom and more).

Bounded: every wait has a deadline; the receiver and the writers stop at
the end. Uses only the standard library.
"""

import argparse
import concurrent.futures
import http.client
import http.server
import json
import statistics
import sys
import threading
import time
import urllib.parse


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: the sender's concurrent
    # connections beyond it would wait out a SYN retransmit (a second).
    request_queue_size = 128

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.arrived = []  # (monotonic time, event type, article id)
        self.changed = threading.Condition(self.lock)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        at = time.monotonic()
        event = json.loads(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with self.server.lock:
            self.server.arrived.append((at, event["type"], event["data"]["id"]))
            self.server.changed.notify_all()

    def log_message(self, *args):
        pass


class Api:
    """One keep-alive connection per thread."""

    def __init__(self, base, token=None):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.token = token
        self.local = threading.local()

    def call(self, method, path, body=None, headers=None, expect=(200, 201, 204)):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed a connection idle past its keep-alive
            # before reading this request: send it on a new one.
            conn.close()
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
        raw = response.read()
        if response.status not in expect:
            sys.exit(f"{method} {path}: {response.status} {raw[:300]!r}")
        return response, (json.loads(raw) if raw else None)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()

    anonymous = Api(args.base)
    _, login = anonymous.call(
        "POST", "/api/v1/auth/login", {"email": args.email, "password": args.password}
    )
    admin = Api(args.base, login["access_token"])

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    _, hook = admin.call(
        "POST", "/api/v1/admin/webhooks",
        {"url": hook_url, "events": ["*"], "description": "bench/run.sh"},
    )
    hook_id = hook["webhook"]["id"]

    _, start = anonymous.call("GET", "/api/v1/changes")
    since = start["next"]

    _, page = anonymous.call("GET", f"/api/v1/articles?limit={args.articles}&fields=id")
    ids = [item["id"] for item in page["items"]]

    def wait_for(kind, article_id, after, deadline=30.0):
        end = time.monotonic() + deadline
        with receiver.changed:
            while True:
                for at, got_kind, got_id in receiver.arrived:
                    if got_kind == kind and got_id == article_id and at >= after:
                        return at
                left = end - time.monotonic()
                if left <= 0:
                    sys.exit(f"no {kind} delivery for article {article_id} within {deadline} s")
                receiver.changed.wait(left)

    # 3. Publish to delivery, one at a time.
    latencies = []
    for article_id in ids:
        admin.call("POST", f"/api/v1/admin/articles/{article_id}/unpublish")
        admin.call("POST", f"/api/v1/admin/articles/{article_id}/publish")
        answered = time.monotonic()
        arrived = wait_for("article.published", article_id, answered - 5)
        latencies.append(max(0.0, arrived - answered) * 1000)

    # 4. Throughput: many edits from parallel writers, then the deliveries.
    with receiver.lock:
        before = len(receiver.arrived)
    targets = [ids[i % len(ids)] for i in range(args.edits)]

    def edit(n):
        article_id = targets[n]
        response, _ = admin.call("GET", f"/api/v1/admin/articles/{article_id}")
        etag = response.getheader("ETag")
        for _ in range(20):  # another writer may save the same article first
            response, body = admin.call(
                "PATCH", f"/api/v1/admin/articles/{article_id}",
                {"title": f"Bản tin số {n}: cập nhật lúc {time.strftime('%H:%M:%S')}"},
                {"If-Match": etag}, expect=(200, 412),
            )
            if response.status == 200:
                return
            response, _ = admin.call("GET", f"/api/v1/admin/articles/{article_id}")
            etag = response.getheader("ETag")
        sys.exit(f"article {article_id}: 20 saves in a row lost to other writers")

    first_write = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.writers) as pool:
        list(pool.map(edit, range(args.edits)))
    writes_done = time.monotonic()
    deadline = writes_done + 120
    with receiver.changed:
        while len(receiver.arrived) - before < args.edits:
            left = deadline - time.monotonic()
            if left <= 0:
                sys.exit(f"{len(receiver.arrived) - before} of {args.edits} updates delivered within 120 s")
            receiver.changed.wait(left)
        last = max(at for at, kind, _ in receiver.arrived[before:])

    admin.call("DELETE", f"/api/v1/admin/webhooks/{hook_id}")
    receiver.shutdown()
    print(json.dumps({
        "since": since,
        "publish_to_delivery_ms": {
            "count": len(latencies),
            "p50": round(statistics.median(latencies), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies), 1),
        },
        "edits": args.edits,
        "writers": args.writers,
        "saves_per_second": round(args.edits / (writes_done - first_write), 1),
        "deliveries_per_second": round(args.edits / (last - first_write), 1),
        "last_delivery_after_last_save_ms": round(max(0.0, last - writes_done) * 1000, 1),
    }))


if __name__ == "__main__":
    main()
