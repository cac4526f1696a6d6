vcl 4.1;
# Varnish in front of Newsroom: caches the public read API at the edge and
# drops a page the moment the content it shows changes.
#
# Written for Varnish 7.1 with varnish-modules 0.20 (Debian bookworm:
# `apt-get install varnish varnish-modules`), which provides the xkey vmod.
# Check a change with `varnishd -C -f newsroom.vcl >/dev/null`; the end-to-end
# check is tests/scripts/varnish.sh.
#
# How it fits together:
# - Every cacheable public response names what it shows in `xkey` (and the
#   same keys in `Surrogate-Key`): `article-12 category-3 articles …`, and
#   says how long a shared cache may keep it (`s-maxage`), serve it stale
#   while refetching (`stale-while-revalidate`) and serve it stale while the
#   API is down (`stale-if-error`). This file honours all three.
# - After each write, the Newsroom instance that made it sends
#   `PURGE /` with `xkey-purge: article-12 articles …` to every URL in
#   NEWSROOM_PURGE_URLS (point it at this Varnish: `http://varnish-host:6081/`,
#   one URL per Varnish if you run several). Every cached object carrying one
#   of those keys is removed at once; everything else stays cached.
# - Staff traffic (`/api/v1/admin`, `/api/v1/auth`), anything with an
#   `Authorization` header and every method but GET/HEAD goes straight
#   through, never cached.
#
# Settings on the Newsroom side that go with this file:
#   NEWSROOM_PURGE_URLS=http://<this varnish>:<port>/
#   NEWSROOM_TRUSTED_PROXIES=<this varnish's address>/32   (Varnish adds
#     X-Forwarded-For; without this every reader looks like one address to
#     the view counter and its per-address limit)
#   NEWSROOM_EDGE_TTL / NEWSROOM_STALE_WHILE_REVALIDATE /
#     NEWSROOM_STALE_IF_ERROR set the lifetimes this file obeys.
#
# Response headers added here:
#   X-Edge-Cache: HIT (from cache, possibly stale within the origin's
#     stale-while-revalidate / stale-if-error), MISS (fetched now and
#     stored) or PASS (never cached: staff, authenticated, uncacheable).
#   Age: seconds since the copy was fetched (Varnish's own).
# Debugging: a request with `X-Edge-Debug: 1` from an address in the
# `purgers` ACL also gets the surrogate keys (`xkey`, `Surrogate-Key`), the
# origin's in-process cache verdict (`X-Cache`) and `X-Edge-Object` (TTL
# left, grace, hits). Everyone else gets neither: the keys are long, mean
# nothing to a reader, and a CDN in front of this Varnish must not mistake
# them for its own.

import std;
import directors;
import xkey;

# ---------------------------------------------------------------------------
# Backends: your Newsroom instances.
#
# One `backend` block per instance, each added to the round-robin director
# in vcl_init below. For one instance, delete newsroom_b and its add_backend
# line; for more, copy a block (newsroom_c, …) and add it there too. All
# instances must share one PostgreSQL (DATABASE_URL) and one JWT_SECRET.
# A backend answering `/readyz` with anything but 200 (it answers 503 while
# its database is unreachable) is taken out of the rotation until it
# recovers; when none is healthy, cached copies are served for as long as
# the origin's stale-if-error allows.
# ---------------------------------------------------------------------------

probe newsroom_ready {
    .request =
        "GET /readyz HTTP/1.1"
        "Host: newsroom"
        "User-Agent: varnish-probe"
        "Connection: close";
    .interval = 2s;     # one probe every 2 s per backend
    .timeout = 1s;
    .window = 5;        # healthy while 3 of the last 5 probes succeeded
    .threshold = 3;
    .initial = 2;       # one good probe after start and it takes traffic
}

backend newsroom_a {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = newsroom_ready;
    .connect_timeout = 1s;
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 5s;
    .max_connections = 200;
}

backend newsroom_b {
    .host = "127.0.0.1";
    .port = "8081";
    .probe = newsroom_ready;
    .connect_timeout = 1s;
    .first_byte_timeout = 15s;
    .between_bytes_timeout = 5s;
    .max_connections = 200;
}

sub vcl_init {
    new newsroom = directors.round_robin();
    newsroom.add_backend(newsroom_a);
    newsroom.add_backend(newsroom_b);
}

# Who may purge (and ask for debug headers). Loopback only by default: add
# the addresses your Newsroom instances send their PURGE requests from, e.g.
#     "10.0.1.0"/24;
# The check is on the TCP peer (client.ip), never on X-Forwarded-For, which
# anyone can write. Behind a load balancer or the PROXY protocol, client.ip
# is the address it reports for the original client.
acl purgers {
    "127.0.0.1";
    "::1";
}

# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

sub vcl_recv {
    # Headers starting X-Edge- (but X-Edge-Debug) are this file's own
    # bookkeeping across restarts: never take them from a client.
    if (req.restarts == 0) {
        unset req.http.X-Edge-Cache;
        unset req.http.X-Edge-Grace;
        unset req.http.X-Edge-Purged;
    }

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge) {
            # Hard purge: the objects are gone now, not merely expired, so
            # the next read fetches the changed page (no stale copy served
            # in grace). Use xkey.softpurge() instead if you would rather
            # serve the old copy while the new one is fetched.
            set req.http.X-Edge-Purged = xkey.purge(req.http.xkey-purge);
            std.log("xkey purge: " + req.http.xkey-purge + " -> " + req.http.X-Edge-Purged);
            return (synth(200, "Purged"));
        }
        # Without keys: purge this one URL (every variant of it).
        return (purge);
    }

    set req.backend_hint = newsroom.backend();

    if (req.method != "GET" && req.method != "HEAD") {
        # Writes, preflights (OPTIONS) and anything else: straight through.
        return (pass);
    }
    if (req.http.Authorization) {
        # A signed-in request: its answer is for that user alone.
        return (pass);
    }
    if (req.url ~ "(?i)^/+api/+v1/+(admin|auth)([/?#]|$)") {
        # The staff API, signed in or not.
        return (pass);
    }

    # The API sets no cookies and reads none; a site's own cookies (analytics,
    # consent) sent along to a shared host must not make every read a miss.
    unset req.http.Cookie;

    # Tracking parameters that sharers and ad platforms add: Newsroom ignores
    # them, so one cached copy serves `?utm_source=zalo`, `?fbclid=…` and the
    # bare URL alike. Keep this list in step with the README's.
    if (req.url ~ "[?&](utm_[A-Za-z0-9_]*|fbclid|gclid|gbraid|wbraid|msclkid|yclid|ttclid|igshid|mc_cid|mc_eid|zarsrc|_)(=|&|$)") {
        set req.url = regsuball(req.url,
            "(?<=[?&])(utm_[A-Za-z0-9_]*|fbclid|gclid|gbraid|wbraid|msclkid|yclid|ttclid|igshid|mc_cid|mc_eid|zarsrc|_)(=[^&#]*)?(&|(?=#)|$)",
            "");
        set req.url = regsub(req.url, "[?&]+(#|$)", "\1");
    }

    # Compression: one cached copy per URL for every client that takes gzip.
    # Varnish asks Newsroom for gzip, stores the compressed body, and unzips
    # it on the fly for the rare client that does not accept gzip (Varnish's
    # `http_gzip_support`, on by default). Clients asking for br or zstd get
    # gzip from here; Newsroom's own br/zstd are for clients that reach it
    # directly. Normalising here keeps the `Vary: Accept-Encoding` variants
    # to two (gzip, none) whatever browsers send.
    if (req.http.Accept-Encoding ~ "(?i)\bgzip\b(?!\s*;\s*q\s*=\s*0(\.0*)?\s*(,|$))") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }

    # Stale copies: the grace lookup below decides (see vcl_hit).
    if (req.http.X-Edge-Grace == "none") {
        # Restarted from vcl_hit: the copy is past stale-while-revalidate
        # and the origin is up, so look again allowing no grace (a miss
        # that fetches while the client waits).
        set req.grace = 0s;
    } elsif (req.http.X-Edge-Grace == "stale-ok") {
        # Restarted after that fetch failed: any stale copy will do (req.grace
        # outlives a restart; the object's own grace is the limit again).
        set req.grace = 3650d;
    }
    return (hash);
}

sub vcl_hash {
    # The default key (URL and Host) is right: Newsroom builds its absolute
    # URLs from NEWSROOM_SITE_URL, not from Host.
}

sub vcl_hit {
    set req.http.X-Edge-Cache = "HIT";
    if (obj.ttl >= 0s) {
        return (deliver);
    }
    # Stale (past s-maxage). Serve it, refreshing in the background, while
    # within the origin's stale-while-revalidate; past that only while the
    # origin is down (stale-if-error, which bounds how long the object is
    # kept at all: beresp.grace below) or when a fetch just failed. Never
    # restart twice.
    if (req.http.X-Edge-Grace || !std.healthy(req.backend_hint)) {
        return (deliver);
    }
    if (obj.ttl + std.duration(regsub(obj.http.Cache-Control,
            "^.*\bstale-while-revalidate\s*=\s*([0-9]+).*$", "\1s"), 0s) > 0s) {
        return (deliver);
    }
    set req.http.X-Edge-Grace = "none";
    return (restart);
}

sub vcl_miss {
    set req.http.X-Edge-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Edge-Cache = "PASS";
}

# ---------------------------------------------------------------------------
# Fetches
# ---------------------------------------------------------------------------

sub vcl_backend_fetch {
    unset bereq.http.X-Edge-Cache;
    unset bereq.http.X-Edge-Debug;
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        # A pass: deliver as is, store nothing.
        return (deliver);
    }

    # Newsroom says Cache-Control on everything a shared cache may keep;
    # whatever comes without it is not stored (for two minutes Varnish
    # fetches it anew every time, then looks again), instead of being kept
    # for Varnish's default_ttl with no keys to purge it by.
    if (!beresp.http.Cache-Control && !beresp.http.Expires) {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }

    # A failed refresh must not replace a good copy: keep serving the stale
    # one (stale-if-error). A background refresh simply gives up; a fetch a
    # client waits for gives up and the client is restarted onto the stale
    # copy (vcl_synth).
    if (beresp.status >= 500 && (bereq.is_bgfetch || bereq.http.X-Edge-Grace == "none")) {
        return (abandon);
    }

    # Varnish has set beresp.ttl from s-maxage (preferred over max-age, so
    # browsers still revalidate every time while the edge keeps its copy)
    # and beresp.grace from stale-while-revalidate. Keep the object for the
    # longer of stale-while-revalidate and stale-if-error: vcl_hit serves
    # it stale past stale-while-revalidate only when the origin is down.
    if (beresp.http.Cache-Control ~ "\bstale-if-error\s*=\s*[0-9]+") {
        set beresp.http.X-Edge-SIE = regsub(beresp.http.Cache-Control,
            "^.*\bstale-if-error\s*=\s*([0-9]+).*$", "\1s");
        if (std.duration(beresp.http.X-Edge-SIE, 0s) > beresp.grace) {
            set beresp.grace = std.duration(beresp.http.X-Edge-SIE, 0s);
        }
        unset beresp.http.X-Edge-SIE;
    }
    # After grace, keep the copy a while longer to revalidate it with
    # If-None-Match: an unchanged page then costs the origin a 304.
    set beresp.keep = 1h;

    # The xkey vmod indexes the object by its `xkey` header. Newsroom sends
    # both forms; should only Surrogate-Key come, index by it.
    if (!beresp.http.xkey && beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }

    # Everything else (no-store / private answers are not cached, responses
    # with Set-Cookie are not cached, …) as Varnish's built-in VCL does.
}

sub vcl_backend_error {
    if (bereq.is_bgfetch || bereq.http.X-Edge-Grace == "none") {
        # As in vcl_backend_response: keep the stale copy.
        return (abandon);
    }
    # No copy to fall back on: answer as Newsroom does, in problem+json.
    set beresp.http.Content-Type = "application/problem+json";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.Retry-After = "5";
    set beresp.body = {"{"type":"urn:newsroom:problem:service_unavailable","title":"Service unavailable","detail":"the API is not reachable from the edge cache","code":"service_unavailable","request_id":"edge-"} + bereq.xid + {"","status":503}"};
    set beresp.status = 503;
    return (deliver);
}

# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------

sub vcl_deliver {
    set resp.http.X-Edge-Cache = req.http.X-Edge-Cache;

    # Varnish's gzip handling appends its own `accept-encoding` to a Vary
    # that already names it; say it once.
    if (resp.http.Vary ~ "(?i)\baccept-encoding\b.*,\s*accept-encoding\s*$") {
        set resp.http.Vary = regsub(resp.http.Vary, ",\s*accept-encoding\s*$", "");
    }

    if (obj.hits > 0) {
        # The stored X-Request-Id belongs to the request that filled the
        # cache: give this one its own (the client's, else the edge's
        # transaction id, which `varnishlog -q 'vxid == N'` finds).
        if (req.http.X-Request-Id ~ "^[A-Za-z0-9._:-]{1,128}$") {
            set resp.http.X-Request-Id = req.http.X-Request-Id;
        } else {
            set resp.http.X-Request-Id = "edge-" + req.xid;
        }
    }

    if (req.http.X-Edge-Debug && client.ip ~ purgers) {
        set resp.http.X-Edge-Object = "ttl=" + obj.ttl + " grace=" + obj.grace + " hits=" + obj.hits;
    } else {
        unset resp.http.xkey;
        unset resp.http.Surrogate-Key;
        unset resp.http.X-Cache;
    }
}

sub vcl_synth {
    # A fetch the client waited for failed while a stale copy exists (see
    # vcl_backend_response): look again, this time taking the stale copy.
    if (resp.status == 503 && req.http.X-Edge-Grace == "none" && req.restarts < 3) {
        set req.http.X-Edge-Grace = "stale-ok";
        return (restart);
    }
    if (req.method == "PURGE") {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        if (resp.status == 200 && req.http.X-Edge-Purged) {
            set resp.body = "purged " + req.http.X-Edge-Purged + " objects" + {"
"};
        } else {
            set resp.body = resp.reason + {"
"};
        }
        return (deliver);
    }
}
