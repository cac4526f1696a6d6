"""Fault checks for newsroom (driven by tests/scripts/faults.sh).

1. PostgreSQL stopped (`pg_ctl stop -m fast`, then `-m immediate`) for a few
   seconds and restarted while readers, writers and view posts flow: while
   down every answer is a success or a 503 with Retry-After (never a 500,
   never a hang past the client timeout); the service recovers by itself;
   every write answered 2xx is there afterwards with its content; every view
   answered `counted: true` reaches article_daily_views.
2. Concurrent editors: N clients PATCH one article with the same If-Match;
   exactly one 200, the rest 412 version_mismatch, and the winner's change is
   what the article holds, one version later.

Usage: faults.py WORKDIR NEWSROOM_BINARY
"""

import sys
import threading
import time
import uuid
import random
import secrets
import urllib.parse

from harness import Cluster, Server, request

CLIENT_TIMEOUT = 10.0  # seconds; an answer later than this is a hang
DOWN_SECONDS = 3.0
WARM_SECONDS = 3.0
AFTER_SECONDS = 8.0
RECOVERY_LIMIT = 10.0  # seconds after the restart for the first success
SETTLE_SECONDS = 3.0  # after recovery, every answer must be a success again
READERS, WRITERS, VIEWERS = 4, 2, 2
EDITORS, EDIT_ROUNDS = 20, 5


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   - {what}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok


def info(text):
    print(f"       {text}", flush=True)


class Call:
    """One request made during a fault run and what came back."""

    __slots__ = ("started", "ended", "kind", "method", "path", "status", "retry_after",
                 "error", "body")

    def __init__(self, kind, method, path):
        self.kind, self.method, self.path = kind, method, path
        self.status = self.retry_after = self.error = self.body = None


class Load:
    """Readers, writers and viewers running until told to stop."""

    def __init__(self, port, token, slugs, category, label):
        self.port = port
        self.auth = {"Authorization": f"Bearer {token}"}
        self.slugs = slugs
        self.category = category
        self.label = label
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.calls = []
        # id -> {"title", "acked": (version, summary) or None, "maybe": [summary...]}
        self.articles = {}
        self.views_counted = 0
        self.views_not_counted = 0
        self.threads = []

    def call(self, kind, method, path, body=None, headers=None):
        c = Call(kind, method, path)
        c.started = time.monotonic()
        try:
            r = request(self.port, method, path, body, headers, timeout=CLIENT_TIMEOUT)
            c.status = r.status
            c.retry_after = r.headers.get("retry-after")
            c.body = r.body
            result = r
        except OSError as e:
            c.error = f"{type(e).__name__}: {e}"
            result = None
        c.ended = time.monotonic()
        with self.lock:
            self.calls.append(c)
        return result

    def reader(self, n):
        rng = random.Random(n)
        queries = ["quang ninh", "binh dang gioi", "nông dân", "giáo dục", "sạt lở"]
        while not self.stop.is_set():
            choice = rng.randrange(5)
            if choice == 0:
                path = "/api/v1/articles?limit=10"
            elif choice == 1:
                path = f"/api/v1/articles?category={self.category}&limit=5"
            elif choice == 2:
                path = f"/api/v1/articles/{rng.choice(self.slugs)}"
            elif choice == 3:
                path = "/api/v1/search?q=" + urllib.parse.quote(rng.choice(queries))
            else:
                path = "/api/v1/categories"
            self.call("read", "GET", path)
            time.sleep(0.02)

    def writer(self, n):
        serial = 0
        while not self.stop.is_set():
            serial += 1
            token = secrets.token_hex(4)
            title = f"Faults {self.label} w{n} #{serial} {token}"
            r = self.call("write", "POST", "/api/v1/admin/articles", {
                "title": title,
                "category": self.category,
                "summary": f"created {token}",
                "body": [{"type": "paragraph", "text": f"Bài thử nghiệm {token}."}],
            }, self.auth)
            if r is None or r.status != 201:
                time.sleep(0.1)
                continue
            article = r.json()
            record = {"title": title, "acked": (article["version"], f"created {token}"),
                      "maybe": []}
            with self.lock:
                self.articles[article["id"]] = record
            version = article["version"]
            for edit in range(3):
                if self.stop.is_set():
                    break
                summary = f"edit {edit} of {token} {secrets.token_hex(3)}"
                r = self.call("write", "PATCH", f"/api/v1/admin/articles/{article['id']}",
                              {"summary": summary}, dict(self.auth, **{"If-Match": f'"v{version}"'}))
                if r is not None and r.status == 200:
                    version = r.json()["version"]
                    with self.lock:
                        record["acked"] = (version, summary)
                        record["maybe"] = []
                    continue
                # Unknown outcome (503 or no answer): it may or may not have
                # committed. Read the article back before editing it again.
                with self.lock:
                    record["maybe"].append(summary)
                version = self.resync(article["id"])
                if version is None:
                    break
            time.sleep(0.05)

    def resync(self, article_id):
        while not self.stop.is_set():
            r = self.call("write", "GET", f"/api/v1/admin/articles/{article_id}",
                          headers=self.auth)
            if r is not None and r.status == 200:
                return r.json()["version"]
            time.sleep(0.2)
        return None

    def viewer(self, n):
        rng = random.Random(100 + n)
        serial = 0
        while not self.stop.is_set():
            serial += 1
            client = f"faults-{self.label}-{n}-{serial}-{uuid.uuid4().hex[:8]}"
            r = self.call("view", "POST", f"/api/v1/articles/{rng.choice(self.slugs)}/views",
                          headers={"X-Client-Id": client})
            if r is not None and r.status == 202:
                counted = r.json().get("counted")
                with self.lock:
                    if counted is True:
                        self.views_counted += 1
                    else:
                        self.views_not_counted += 1
            time.sleep(0.02)

    def start(self):
        for kind, count in ((self.reader, READERS), (self.writer, WRITERS), (self.viewer, VIEWERS)):
            for n in range(count):
                t = threading.Thread(target=kind, args=(n,), daemon=True)
                t.start()
                self.threads.append(t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=CLIENT_TIMEOUT + 5)
        return all(not t.is_alive() for t in self.threads)


def describe(c):
    return f"{c.method} {c.path} -> {c.status or c.error}"


def views_in_database(cluster):
    return int(cluster.psql("SELECT coalesce(sum(views), 0) FROM article_daily_views"))


def wait_for_views(cluster, expected, timeout=20.0):
    deadline = time.monotonic() + timeout
    seen = views_in_database(cluster)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = views_in_database(cluster)
    return seen


def outage(checks, cluster, server, token, slugs, category, mode):
    print(f"\n# PostgreSQL stopped with -m {mode} for {DOWN_SECONDS:.0f} s under mixed load", flush=True)
    views_before = views_in_database(cluster)
    load = Load(server.port, token, slugs, category, mode)
    load.start()
    time.sleep(WARM_SECONDS)
    t_stop = time.monotonic()
    cluster.stop(mode)
    t_down = time.monotonic()
    time.sleep(DOWN_SECONDS)
    t_start = time.monotonic()
    cluster.start()
    t_up = time.monotonic()
    info(f"pg_ctl stop took {t_down - t_stop:.2f} s, start {t_up - t_start:.2f} s; "
         f"down {t_up - t_down:.1f} s in all")

    # Recovery, seen by a probe that always needs the database (admin reads
    # are never cached).
    recovered = None
    while time.monotonic() - t_up < RECOVERY_LIMIT + CLIENT_TIMEOUT:
        r = load.call("probe", "GET", "/api/v1/admin/articles?limit=1",
                      headers={"Authorization": f"Bearer {token}"})
        if r is not None and r.status == 200:
            recovered = time.monotonic()
            break
        time.sleep(0.1)
    time.sleep(AFTER_SECONDS)
    threads_done = load.finish()
    calls = load.calls

    checks.check(server.alive(), f"[{mode}] newsroom kept running (no restart)")
    checks.check(threads_done, f"[{mode}] every client thread finished")
    checks.check(
        recovered is not None and recovered - t_up <= RECOVERY_LIMIT,
        f"[{mode}] recovered by itself within {RECOVERY_LIMIT:.0f} s of the restart",
        f"first database-backed success {recovered - t_up:.2f} s after restart"
        if recovered else "no success at all",
    )

    window_end = (recovered or t_up) + SETTLE_SECONDS
    during = [c for c in calls if c.ended >= t_stop and c.started <= window_end]
    outside = [c for c in calls if c.ended < t_stop or c.started > window_end]
    info(f"{len(calls)} requests in all, {len(during)} of them during the outage and recovery:")
    for kind in ("read", "write", "view", "probe"):
        by_status = {}
        for c in during:
            if c.kind == kind:
                key = c.status or "no answer"
                by_status[key] = by_status.get(key, 0) + 1
        info(f"  {kind + 's':7} " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items(), key=str)))

    errors = [c for c in calls if c.error]
    checks.check(not errors, f"[{mode}] no request hung past {CLIENT_TIMEOUT:.0f} s or lost its connection",
                 "; ".join(f"{describe(c)}" for c in errors[:5]))
    slowest = max((c.ended - c.started for c in calls), default=0)
    info(f"slowest answer {slowest:.2f} s")
    server_errors = [c for c in calls if c.status and c.status >= 500 and c.status != 503]
    checks.check(not server_errors, f"[{mode}] no 5xx other than 503 (no 500)",
                 "; ".join(f"{describe(c)} {c.body[:200]!r}" for c in server_errors[:5]))
    bare_503 = [c for c in calls if c.status == 503 and not c.retry_after]
    checks.check(not bare_503, f"[{mode}] every 503 carries Retry-After",
                 "; ".join(describe(c) for c in bare_503[:5]))
    unexpected = [c for c in during
                  if c.status is not None and not (200 <= c.status < 300 or c.status == 503)]
    checks.check(not unexpected, f"[{mode}] while down, every answer was a success or a 503",
                 "; ".join(f"{describe(c)} {c.body[:200]!r}" for c in unexpected[:5]))
    seen_503 = sum(1 for c in during if c.status == 503)
    checks.check(seen_503 > 0, f"[{mode}] the outage was visible to clients",
                 f"{seen_503} answers were 503 + Retry-After")
    not_ok_outside = [c for c in outside if c.status is not None and not 200 <= c.status < 300]
    checks.check(not not_ok_outside,
                 f"[{mode}] before the stop and from {SETTLE_SECONDS:.0f} s after recovery, every answer was a success",
                 "; ".join(f"{describe(c)} at +{c.started - t_up:.1f} s after restart"
                           for c in not_ok_outside[:5]))

    # Committed writes, read back over HTTP.
    lost = []
    auth = {"Authorization": f"Bearer {token}"}
    for article_id, record in sorted(load.articles.items()):
        r = request(server.port, "GET", f"/api/v1/admin/articles/{article_id}", headers=auth)
        if r.status != 200:
            lost.append(f"article {article_id}: GET answered {r.status}")
            continue
        got = r.json()
        version, summary = record["acked"]
        allowed = [summary] + record["maybe"]
        if got["title"] != record["title"]:
            lost.append(f"article {article_id}: title {got['title']!r}, expected {record['title']!r}")
        if got["summary"] not in allowed or got["version"] < version:
            lost.append(f"article {article_id}: summary {got['summary']!r} v{got['version']}, "
                        f"acknowledged {summary!r} v{version}")
    acked_edits = sum(1 for c in calls if c.method == "PATCH" and c.status == 200)
    checks.check(load.articles and not lost, f"[{mode}] no acknowledged write lost",
                 f"{len(load.articles)} articles created and {acked_edits} edits acknowledged, all read back"
                 if not lost else "; ".join(lost[:5]))

    # Buffered views: flushed every second, retried after failures.
    expected = views_before + load.views_counted
    seen = wait_for_views(cluster, expected)
    checks.check(load.views_counted > 0 and seen == expected,
                 f"[{mode}] every view answered counted:true reached article_daily_views",
                 f"{load.views_counted} counted, database sum {views_before} -> {seen}"
                 if seen == expected else
                 f"expected {expected} (= {views_before} + {load.views_counted}), database has {seen}")
    if load.views_not_counted:
        info(f"{load.views_not_counted} views answered counted:false")


def editors(checks, server, token, category):
    print(f"\n# {EDITORS} concurrent editors on one article, {EDIT_ROUNDS} rounds", flush=True)
    auth = {"Authorization": f"Bearer {token}"}
    r = request(server.port, "POST", "/api/v1/admin/articles", {
        "title": f"Faults editors {secrets.token_hex(4)}",
        "category": category,
        "summary": "start",
        "body": [{"type": "paragraph", "text": "Bài cho các biên tập viên."}],
    }, auth)
    if not checks.check(r.status == 201, "created the article to edit", f"{r.status}"):
        return
    article_id = r.json()["id"]
    path = f"/api/v1/admin/articles/{article_id}"
    for round_no in range(1, EDIT_ROUNDS + 1):
        before = request(server.port, "GET", path, headers=auth).json()
        version = before["version"]
        barrier = threading.Barrier(EDITORS)
        results = [None] * EDITORS

        def edit(i):
            summary = f"round {round_no} editor {i}"
            headers = dict(auth, **{"If-Match": f'"v{version}"'})
            barrier.wait()
            try:
                r = request(server.port, "PATCH", path, {"summary": summary}, headers,
                            timeout=CLIENT_TIMEOUT)
                results[i] = (summary, r.status, r.json() if r.body else None)
            except OSError as e:
                results[i] = (summary, f"{type(e).__name__}: {e}", None)

        threads = [threading.Thread(target=edit, args=(i,)) for i in range(EDITORS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [res for res in results if res[1] == 200]
        losers = [res for res in results
                  if res[1] == 412 and res[2] and res[2].get("code") == "version_mismatch"]
        others = [res for res in results if res not in winners and res not in losers]
        after = request(server.port, "GET", path, headers=auth).json()
        problems = []
        if len(winners) != 1:
            problems.append(f"{len(winners)} answers were 200")
        if others:
            problems.append("unexpected: " + "; ".join(f"{s}: {st} {b}" for s, st, b in others[:5]))
        if after["version"] != version + 1:
            problems.append(f"version went {version} -> {after['version']}")
        if len(winners) == 1 and after["summary"] != winners[0][0]:
            problems.append(f"article holds {after['summary']!r}, the winner sent {winners[0][0]!r}")
        checks.check(not problems,
                     f"round {round_no}: one 200, {EDITORS - 1} x 412 version_mismatch, the winner's change kept",
                     f"v{version} -> v{after['version']}" if not problems else "; ".join(problems))


def main():
    workdir, binary = sys.argv[1], sys.argv[2]
    started = time.monotonic()
    checks = Checks()
    cluster = Cluster(workdir)
    server = None
    try:
        print(f"# throwaway PostgreSQL cluster ({cluster.bindir}) on 127.0.0.1", flush=True)
        cluster.init()
        # Every simulated reader posts from 127.0.0.1: lift the per-address
        # cap on counted views, which would otherwise stop counting after
        # 20 views of an article (the cap is tested in tests/api).
        server = Server(binary, workdir, cluster.url(),
                        {"NEWSROOM_VIEW_FLUSH": "1",
                         "NEWSROOM_VIEWS_PER_ADDRESS": "1000000000"})
        server.cli("seed", "--demo")
        password = secrets.token_urlsafe(18)
        email = "faults-admin@example.test"
        server.cli("user", "create", "--email", email, "--role", "admin",
                   "--name", "Faults Admin", stdin=password + "\n")
        port = server.start()
        print(f"# newsroom serving on 127.0.0.1:{port} (log: {server.log})", flush=True)
        r = request(port, "POST", "/api/v1/auth/login", {"email": email, "password": password})
        if not checks.check(r.status == 200, "signed in as an admin over HTTP", str(r.status)):
            return 1
        token = r.json()["access_token"]
        r = request(port, "GET", "/api/v1/articles?limit=100&fields=slug")
        slugs = [item["slug"] for item in r.json()["items"]]
        categories = request(port, "GET", "/api/v1/categories").json()["items"]
        category = max(categories, key=lambda c: c.get("total_article_count", 0))["slug"]
        checks.check(len(slugs) >= 5, "demo content is served", f"{len(slugs)} articles")

        for mode in ("fast", "immediate"):
            outage(checks, cluster, server, token, slugs, category, mode)
        editors(checks, server, token, category)
    except Exception as e:  # a crash of the script itself is a failure too
        checks.check(False, "the fault run completed", f"{type(e).__name__}: {e}")
    finally:
        if server is not None:
            server.stop()
            with open(server.log, errors="replace") as f:
                internal = [line.rstrip() for line in f if "internal error" in line]
            if internal:
                print("\nserver log lines with 'internal error':")
                for line in internal[:20]:
                    print("  " + line)
            if checks.failed:
                print(f"\nlast lines of the server log ({server.log}):")
                with open(server.log, errors="replace") as f:
                    for line in f.readlines()[-30:]:
                        print("  " + line.rstrip())
        cluster.cleanup()
    print(f"\n# done in {time.monotonic() - started:.0f} s")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
