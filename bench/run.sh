#!/usr/bin/env bash
# Throughput and latency of the Newsroom API against a bare actix-web
# "ceiling" server (examples/ceiling.rs), measured with wrk.
#
# Usage: bench/run.sh            (from anywhere; it works from the repo root)
#
# Environment knobs:
#   BENCH_ARTICLES     synthetic articles to seed on first run (default 100000)
#   BENCH_SECONDS      duration of each measured wrk run, in seconds (default 15)
#   BENCH_CONNECTIONS  wrk connections (default 32; wrk always uses 2 threads)
#   BENCH_LONG_TAIL_WARMUP  seconds of long-tail traffic before the measured
#                      long-tail run with the cache on (default 60)
#   BENCH_EDITS        title edits saved by bench/partners.py for the webhook
#                      throughput and the change feed's busy hour (default 1000)
#   BENCH_PARTNER_ARTICLES  articles unpublished and published again one at a
#                      time to time publish-to-webhook (default 50)
#   BENCH_DATA_DIR     the cluster's folder, relative to the repository root
#                      (default bench/.data), say to keep a small set beside
#                      the 100,000-article one
#   BENCH_DEEP_PAGE    the deep cursor page measured (default 1000; the last
#                      page when there are fewer)
#   BENCH_PARTNERS     1 (default) runs bench/partners.py (webhooks, and the
#                      change feed's token); 0 leaves the data untouched
#   BENCH_MODES        which sets to run: "uncached", "default" or both
#                      (default "uncached default")
#   BENCH_OUT          where results go (default bench/results/<timestamp>)
#   BENCH_PROFILE      the cargo profile of the binaries measured (default
#                      release; "dev" only to try the script out quickly)
#
# Uses its own PostgreSQL cluster under bench/.data (never the dev database).
# Delete that folder to seed again from scratch. Results (raw wrk outputs,
# the Markdown table, EXPLAIN ANALYZE plans, the long tail's slug list, the
# server's memory and the response sizes) go to bench/results/<timestamp>/.
#
# Besides single hot URLs, it measures a long tail: article reads drawn from
# a Zipf(s=1) law over every published article, newest most read
# (bench/zipf.lua), with the cache off and with the default settings.
#
# The per-address limit for anonymous readers is raised far above what wrk
# (one address) sends, so the runs measure what the limiter costs, not its
# 429s; "article by slug, keyed" reads with a partner key (X-Api-Key) whose
# limit is as high, to compare with the anonymous read.
set -euo pipefail

cd "$(dirname "$0")/.."

ARTICLES=${BENCH_ARTICLES:-100000}
SECONDS_PER_RUN=${BENCH_SECONDS:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WARMUP_SECONDS=3
# The long tail with the cache on is measured in its steady state: a cache
# that has served a minute of the same traffic, as any running site's has.
LONG_TAIL_WARMUP_SECONDS=${BENCH_LONG_TAIL_WARMUP:-60}
DATA_DIR=${BENCH_DATA_DIR:-bench/.data}
PID_FILE=$DATA_DIR/pg/postmaster.pid
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-bench/results/$STAMP}
DEEP_PAGE=${BENCH_DEEP_PAGE:-1000}
MODES=" ${BENCH_MODES:-uncached default} "
PROFILE=${BENCH_PROFILE:-release}
PROFILE_DIR=$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")
BIN=target/$PROFILE_DIR/newsroom
CEILING_BIN=target/$PROFILE_DIR/examples/ceiling

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
fi
command -v psql >/dev/null || die "psql is needed to read query plans (apt-get install postgresql-client)"
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed"

# One run at a time: two runs would share (and stop) the same cluster.
mkdir -p bench/results
exec 9>bench/results/.lock
flock -n 9 || die "another bench/run.sh is running"

log "building ($PROFILE)"
cargo build --profile "$PROFILE" --bin newsroom --example ceiling

mkdir -p "$OUT"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
    echo "cores: $(nproc)"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
    echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "kernel: $(uname -sr)"
    echo "wrk: $(wrk -v 2>&1 | head -1 || true)"
    echo "postgresql: $(psql --version)"
    echo "rustc: $(rustc --version)"
} >"$OUT/environment.txt"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- background servers -------------------------------------------------------
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

wait_ready() { # URL
    local url=$1
    for _ in $(seq 1 600); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" == 200 ]]; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited before answering $url (see $OUT/*.log)"
        sleep 0.2
    done
    die "no answer from $url after 120 s"
}

NEWSROOM_PORT=""
start_newsroom() { # CACHE_TTL, or "default" for serve's own default (the cache on)
    local ttl=$1 cache=()
    NEWSROOM_PORT=$(free_port)
    if [[ "$ttl" == default ]]; then
        log "starting newsroom on 127.0.0.1:$NEWSROOM_PORT (default settings)"
    else
        log "starting newsroom on 127.0.0.1:$NEWSROOM_PORT (NEWSROOM_CACHE_TTL=$ttl)"
        cache=(NEWSROOM_CACHE_TTL="$ttl")
    fi
    # `env` runs the server in its own place, so SERVER_PID is the server's.
    env -u DATABASE_URL -u NEWSROOM_CACHE_TTL NEWSROOM_ADDR="127.0.0.1:$NEWSROOM_PORT" RUST_LOG=warn "${cache[@]}" \
        NEWSROOM_RATE_LIMIT_ANON_PER_MIN=100000000 NEWSROOM_RATE_LIMIT_ANON_BURST=100000 \
        NEWSROOM_WEBHOOK_ALLOW_PRIVATE=true \
        "$BIN" --data-dir "$DATA_DIR" serve >>"$OUT/newsroom-ttl$ttl.log" 2>&1 9>&- &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$NEWSROOM_PORT/readyz"
}

pg_port() { sed -n 4p "$PID_FILE" | tr -d '[:space:]'; }

psql_bench() { # psql arguments...
    # The private cluster asks for the superuser's password, kept (0600) in
    # its data folder.
    PGPASSWORD=$(sed -n 's/^superuser=//p' "$DATA_DIR/pg/newsroom.credentials") \
        psql -X -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$(pg_port)/newsroom" "$@"
}

api() { # PATH -> body on stdout; fails on a non-2xx answer
    curl -fsS "http://127.0.0.1:$NEWSROOM_PORT$1"
}

# --- data -----------------------------------------------------------------------
if [[ ! -d "$DATA_DIR" ]]; then
    log "seeding $ARTICLES synthetic articles into $DATA_DIR"
    started=$(date +%s.%N)
    env -u DATABASE_URL RUST_LOG=warn "$BIN" --data-dir "$DATA_DIR" seed --synthetic "$ARTICLES" \
        | tee "$OUT/seed.txt"
    finished=$(date +%s.%N)
    python3 -c "import sys; print(f'wall time of the seed command (cluster creation included): {float(sys.argv[2]) - float(sys.argv[1]):.1f}s')" \
        "$started" "$finished" | tee -a "$OUT/seed.txt"
    cp "$OUT/seed.txt" "$DATA_DIR/seed.txt"
elif [[ -f "$DATA_DIR/seed.txt" ]]; then
    cp "$DATA_DIR/seed.txt" "$OUT/seed.txt"
fi

# --- wrk ------------------------------------------------------------------------
RESULTS=$OUT/results.tsv
: >"$RESULTS"

# CPU time of every process on the machine, to tell afterwards how much of
# it other programs (say a compiler) took during a run: the figures are only
# meaningful on an otherwise idle machine.
cpu_snapshot() { # FILE
    python3 - "$1" <<'PY'
import json, os, sys
times = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    times[pid] = [stat[stat.index("(") + 1:stat.rindex(")")], int(fields[11]) + int(fields[12])]
json.dump(times, open(sys.argv[1], "w"))
PY
}

# The server's resident memory (VmRSS, kB) every half second while the
# measured run lasts; bounded by the run's length in any case.
RSS_PID=""
sample_rss() { # PID FILE
    local pid=$1 file=$2 i
    for ((i = 0; i < 2 * (SECONDS_PER_RUN + 10); i++)); do
        awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" >>"$file" 2>/dev/null || return 0
        sleep 0.5
    done
}

wrk_file() { # NAME MODE -> where bench writes wrk's output
    printf '%s/wrk-%s.txt' "$OUT" "$(printf '%s' "$1-$2" | tr -c 'A-Za-z0-9-' '-')"
}

WRK_HEADERS=() # extra wrk arguments (-H "Name: value") for the next runs
bench() { # NAME MODE URL [ZIPF_SCRIPT SLUG_FILE [fixed]]
    # With a script, wrk draws the requests itself (bench/zipf.lua) and the
    # warm-up draws with other seeds than the measured run. WARMUP (seconds)
    # and HEADER (one request header) may be set for one call.
    local name=$1 mode=$2 url=$3
    local file warm=("${WRK_HEADERS[@]}") measured=("${WRK_HEADERS[@]}") sampler=""
    if [[ -n "${HEADER:-}" ]]; then
        warm+=(-H "$HEADER")
        measured+=(-H "$HEADER")
    fi
    if (($# > 3)); then
        warm+=(-s "$4" "$url" -- "$5" 1 1001 "${@:6}")
        measured+=(-s "$4" "$url" -- "$5" 1 1 "${@:6}")
    else
        warm+=("$url")
        measured+=("$url")
    fi
    file=$(wrk_file "$name" "$mode")
    log "wrk: $name ($mode): $url ${HEADER:+($HEADER)}"
    wrk -t2 -c"$CONNECTIONS" -d"${WARMUP:-$WARMUP_SECONDS}s" "${warm[@]}" >/dev/null
    cpu_snapshot "$OUT/.cpu-before"
    if [[ -n "$RSS_PID" ]]; then
        : >"$file.rss"
        sample_rss "$RSS_PID" "$file.rss" &
        sampler=$!
    fi
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "${measured[@]}" | tee "$file" >&2
    if [[ -n "$sampler" ]]; then
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
    fi
    cpu_snapshot "$OUT/.cpu-after"
    if (($# > 3)); then
        # Every wrk thread must have read the whole slug list.
        local want loaded
        want=$(grep -c . "$5")
        loaded=$(grep -c "^zipf thread [0-9]*: $want slugs loaded" "$file" || true)
        ((loaded == 2)) || die "$loaded of 2 wrk threads loaded the $want slugs of $5 (see $file)"
    fi
    python3 - "$name" "$mode" "$file" "$OUT/.cpu-before" "$OUT/.cpu-after" "$SECONDS_PER_RUN" >>"$RESULTS" <<'PY'
import json, os, re, sys
name, mode, path, before, after, seconds = sys.argv[1:7]
text = open(path).read()
def ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
# Cores' worth of CPU used by processes other than the benchmark's own
# (processes that started and ended within the run are missed).
ours = {"newsroom", "postgres", "ceiling", "wrk", "python3", "bash"}
b, a = json.load(open(before)), json.load(open(after))
other = sum(t - (b[pid][1] if pid in b and b[pid][0] == comm else 0)
            for pid, (comm, t) in a.items() if comm not in ours)
other /= os.sysconf("SC_CLK_TCK") * float(seconds)
print("\t".join([name, mode, f"{rps:.0f}", f"{p50:.2f}", f"{p99:.2f}",
                 non2xx.group(1) if non2xx else "0",
                 str(sum(map(int, errors.groups()))) if errors else "0",
                 f"{other:.2f}"]))
PY
    rm -f "$OUT/.cpu-before" "$OUT/.cpu-after"
}

# 1. The ceiling, alone on the machine.
CEILING_PORT=""
start_ceiling() {
    CEILING_PORT=$(free_port)
    log "starting the ceiling on 127.0.0.1:$CEILING_PORT"
    "$CEILING_BIN" "127.0.0.1:$CEILING_PORT" >>"$OUT/ceiling.log" 2>&1 9>&- &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$CEILING_PORT/"
}
start_ceiling
bench "ceiling GET /" "-" "http://127.0.0.1:$CEILING_PORT/"
stop_server

# 2. Newsroom, uncached: pick targets, capture plans, measure.
start_newsroom 0

count=$(psql_bench -At -c "SELECT count(*) FROM articles")
if ((count < ARTICLES)); then
    # bench/.data existed but holds fewer articles (say BENCH_ARTICLES grew):
    # top it up through the running cluster.
    log "the bench database holds $count articles; seeding $((ARTICLES - count)) more"
    env -u DATABASE_URL RUST_LOG=warn "$BIN" --data-dir "$DATA_DIR" seed --synthetic "$((ARTICLES - count))" \
        | tee -a "$OUT/seed.txt"
    count=$(psql_bench -At -c "SELECT count(*) FROM articles")
fi
log "the bench database holds $count articles"
# Settle the tables as autovacuum eventually would (visibility map, statistics),
# so that plans and timings do not depend on when it last ran.
psql_bench -c "VACUUM ANALYZE"

# The long tail's population: every published article, newest first (rank 1),
# in the list's own order.
VISIBLE="articles.public_status AND articles.published_at <= now()"
SLUGS=$OUT/slugs.txt
psql_bench -At -c "SELECT slug FROM articles WHERE $VISIBLE ORDER BY published_at DESC, id DESC" >"$SLUGS"
PUBLISHED=$(grep -c . "$SLUGS" || true)
((PUBLISHED > 20)) || die "only $PUBLISHED published articles: the bench needs more than one list page"
# Page 1,000 (BENCH_DEEP_PAGE) of the list, or its last page on a smaller set.
PAGE=$(((PUBLISHED + 19) / 20))
if ((PAGE > DEEP_PAGE)); then PAGE=$DEEP_PAGE; fi
PAGE_NAME=$(python3 -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$PAGE")

log "picking targets"
SLUG=$(api "/api/v1/articles?limit=1&fields=slug" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["slug"])')
CATEGORY=$(api "/api/v1/categories" \
    | python3 -c 'import json,sys; print(max(json.load(sys.stdin)["items"], key=lambda c: c["total_article_count"])["slug"])')
# The cursor of page N is the next_cursor of page N - 1 (cursors do not
# depend on `fields`, so the walk asks for ids only).
CURSOR=$(python3 - "http://127.0.0.1:$NEWSROOM_PORT/api/v1/articles?limit=20&fields=id" "$PAGE" <<'PY'
import json, sys, urllib.parse, urllib.request
url, pages, cursor = sys.argv[1], int(sys.argv[2]), None
for _ in range(pages - 1):
    page = url if cursor is None else f"{url}&cursor={urllib.parse.quote(cursor, safe='')}"
    with urllib.request.urlopen(page) as response:
        cursor = json.load(response)["next_cursor"]
    if cursor is None:
        sys.exit(f"fewer than {pages} pages of articles")
print(urllib.parse.quote(cursor, safe=""))
PY
)
# Search targets: a common term (in about one title in ten and most bodies)
# and a rare one (a reporter's full name, in a few dozen bodies).
COMMON_Q="phát triển"
RARE_Q="Huỳnh Ngọc Yến"
SUGGEST_Q="binh da"
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
matches() { # QUERY -> articles whose text matches it (folded)
    psql_bench -At -c "SELECT count(*) FROM articles a WHERE a.public_status
        AND a.search_all @@ plainto_tsquery('newsroom_fold', translate('$1', 'đĐ', 'dD'))"
}
{
    echo "articles in the database: $count"
    echo "article slug: $SLUG"
    echo "category slug: $CATEGORY"
    echo "published articles (the long tail's population): $PUBLISHED"
    echo "page $PAGE_NAME cursor: $CURSOR"
    echo "common search term: $COMMON_Q ($(matches "$COMMON_Q") matching articles)"
    echo "rare search term: $RARE_Q ($(matches "$RARE_Q") matching articles)"
    echo "suggest prefix: $SUGGEST_Q"
} | tee "$OUT/targets.txt" >&2

log "capturing query plans"
# The predicates mirror src/models (is_visible, list_page's keyset filter),
# with now() and literals where the app binds parameters.
CATEGORY_IDS=$(psql_bench -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM categories
    WHERE slug = '$CATEGORY' OR parent_id = (SELECT id FROM categories WHERE slug = '$CATEGORY')")
IFS='|' read -r PAGE999_TS PAGE999_ID < <(psql_bench -At -F '|' -c "SELECT published_at, id FROM articles
    WHERE $VISIBLE ORDER BY published_at DESC, id DESC OFFSET $((20 * (PAGE - 1) - 1)) LIMIT 1")
read -r ARTICLE_ID ARTICLE_CATEGORY < <(psql_bench -At -F ' ' -c "SELECT id, category_id FROM articles WHERE slug = '$SLUG'")
TAG_ID=$(psql_bench -At -c "SELECT tag_id FROM article_tags GROUP BY tag_id ORDER BY count(*) DESC, tag_id LIMIT 1")

explain() { # TITLE SQL
    printf '%s\n%s\n\n' "-- $1" "$2"
    psql_bench -At -c "EXPLAIN (ANALYZE, BUFFERS) $2"
    printf '\n'
}
{
    explain "a) newest 20" \
        "SELECT id FROM articles WHERE $VISIBLE ORDER BY published_at DESC, id DESC LIMIT 21;"
    explain "b) newest 20 in category '$CATEGORY' and its children" \
        "SELECT id FROM articles WHERE $VISIBLE AND category_id = ANY(ARRAY[$CATEGORY_IDS]::bigint[]) ORDER BY published_at DESC, id DESC LIMIT 21;"
    explain "c) page $PAGE_NAME (keyset after the last article of page $((PAGE - 1)))" \
        "SELECT id FROM articles WHERE $VISIBLE AND published_at <= '$PAGE999_TS' AND (published_at < '$PAGE999_TS' OR id < $PAGE999_ID) ORDER BY published_at DESC, id DESC LIMIT 21;"
    explain "d) related: newest in the article's category" \
        "SELECT id FROM articles WHERE $VISIBLE AND category_id = $ARTICLE_CATEGORY AND id <> $ARTICLE_ID ORDER BY published_at DESC, id DESC LIMIT 10;"
    explain "e) tag filter (tag $TAG_ID, the most used)" \
        "SELECT id FROM articles WHERE $VISIBLE AND id IN (SELECT article_id FROM article_tags WHERE tag_id = $TAG_ID) ORDER BY published_at DESC, id DESC LIMIT 21;"
    explain "f) sitemap index: one seek per sitemap (articles_sitemap_pages)" \
        "SELECT p.page, l.lastmod FROM generate_series(0, (SELECT coalesce(max(id), 0) FROM articles WHERE public_status) / 10000) AS p(page) CROSS JOIN LATERAL (SELECT a.updated_at AS lastmod FROM articles a WHERE a.public_status AND (a.id / 10000) = p.page AND a.published_at <= now() ORDER BY a.updated_at DESC LIMIT 1) l ORDER BY p.page;"
    explain "g) one sitemap: an id range of the primary key" \
        "SELECT slug, updated_at FROM articles WHERE $VISIBLE AND id >= 10000 AND id < 20000 ORDER BY id;"
    explain "h) news sitemap: the last 48 hours, at most 1,000" \
        "SELECT id, slug, title, published_at, language FROM articles WHERE $VISIBLE AND published_at >= now() - interval '48 hours' ORDER BY published_at DESC, id DESC LIMIT 1000;"
} >"$OUT/plans.txt"

# The search and related statements are built at run time (tiers, filters),
# so their plans are taken from the server itself: auto_explain logs the
# plan of every statement of one request of each kind, and the ones that
# touch the text search columns are kept.
log "capturing search and related plans with auto_explain"
psql_bench -c "ALTER DATABASE newsroom SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE newsroom SET auto_explain.log_min_duration = 0" \
    -c "ALTER DATABASE newsroom SET auto_explain.log_analyze = on" \
    -c "ALTER DATABASE newsroom SET auto_explain.log_buffers = on"
stop_server
start_newsroom 0
for path in "search?q=$(urlq "$COMMON_Q")&limit=10" "search?q=$(urlq "$RARE_Q")&limit=10" \
    "search/suggest?q=$(urlq "$SUGGEST_Q")" "articles/$SLUG/related"; do
    api "/api/v1/$path" >/dev/null # warm
    offset=$(stat -c %s "$DATA_DIR/pg/server.log")
    api "/api/v1/$path" >/dev/null
    sleep 0.5
    python3 - "$DATA_DIR/pg/server.log" "$offset" "GET /api/v1/$path" >>"$OUT/plans.txt" <<'PY'
import re, sys
log, offset, title = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(log, encoding="utf-8", errors="replace") as f:
    f.seek(offset)
    text = f.read()
entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
print(f"-- {title}\n")
for entry in entries:
    if "plan:" in entry and ("search_" in entry or "src_tags" in entry):
        print(entry.strip() + "\n")
PY
done
psql_bench -c "ALTER DATABASE newsroom RESET ALL"
stop_server
start_newsroom 0

run_newsroom_set() { # MODE
    local mode=$1 base="http://127.0.0.1:$NEWSROOM_PORT/api/v1"
    bench "article by slug" "$mode" "$base/articles/$SLUG"
    WRK_HEADERS=(-H "X-Api-Key: $PARTNER_KEY")
    bench "article by slug, keyed" "$mode" "$base/articles/$SLUG"
    WRK_HEADERS=()
    bench "newest 20 in category" "$mode" "$base/articles?category=$CATEGORY&limit=20"
    bench "page 1" "$mode" "$base/articles?limit=20"
    bench "page $PAGE_NAME" "$mode" "$base/articles?limit=20&cursor=$CURSOR"
    bench "related" "$mode" "$base/articles/$SLUG/related?strategy=category"
    bench "related (auto)" "$mode" "$base/articles/$SLUG/related"
    bench "search, common term" "$mode" "$base/search?q=$(urlq "$COMMON_Q")"
    bench "search, rare term" "$mode" "$base/search?q=$(urlq "$RARE_Q")"
    bench "suggest" "$mode" "$base/search/suggest?q=$(urlq "$SUGGEST_Q")"
    bench "RSS feed of a category" "$mode" "$base/feeds/rss.xml?category=$CATEGORY"
    bench "news sitemap" "$mode" "$base/sitemaps/news.xml"
    if [[ -n "$SINCE" ]]; then
        bench "changes since a busy hour" "$mode" "$base/changes?since=$SINCE"
    fi
}

# A partner key for the keyed reads, with a limit wrk cannot reach.
PARTNER_KEY=$(env -u DATABASE_URL RUST_LOG=warn "$BIN" --data-dir "$DATA_DIR" key create \
    --name "bench/run.sh $STAMP" --per-minute 60000000 --burst 100000 | sed -n 's/^secret[^:]*: //p')
[[ "$PARTNER_KEY" == nr_live_* ]] || die "no partner key was created"

LONG_TAIL="long tail, Zipf(1) over $(python3 -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$PUBLISHED") articles"
long_tail() { # MODE WARM-UP-SECONDS
    # As apps and browsers ask: every HTTP client that compresses takes gzip.
    WARMUP=$2 HEADER="Accept-Encoding: gzip" \
        bench "$LONG_TAIL" "$1" "http://127.0.0.1:$NEWSROOM_PORT/api/v1/articles/" bench/zipf.lua "$SLUGS"
}

# The share of long-tail reads the cache answered just after the measured
# run: 2,000 more Zipf draws (other seeds), each asked once, X-Cache read.
hit_ratio() {
    python3 - "$SLUGS" "$NEWSROOM_PORT" <<'PY'
import bisect, http.client, itertools, random, sys
slugs = [line.strip() for line in open(sys.argv[1]) if line.strip()]
cumulative = list(itertools.accumulate(1 / k for k in range(1, len(slugs) + 1)))
rng = random.Random(4242)
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]))
hits = 0
for _ in range(2000):
    k = bisect.bisect_left(cumulative, rng.random() * cumulative[-1])
    conn.request("GET", "/api/v1/articles/" + slugs[min(k, len(slugs) - 1)],
                 headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    response.read()
    hits += response.getheader("X-Cache") == "hit"
print(f"{hits / 20:.1f}%")
PY
}

vm() { # FIELD -> the server's /proc status field, in kB
    awk -v f="$1:" '$1 == f {print $2}' "/proc/$SERVER_PID/status"
}

# Bytes on the wire of a response for each Accept-Encoding (none: the header
# is not sent), as received: curl does not decode (no --compressed).
sizes() { # NAME PATH [PATH AS SHOWN]
    local name=$1 path=$2 shown=${3:-$2} encoding headers code got
    for encoding in none gzip br zstd; do
        headers=()
        [[ "$encoding" == none ]] || headers=(-H "Accept-Encoding: $encoding")
        code=$(curl -sS "${headers[@]}" -D "$OUT/.headers" -o "$OUT/.body" -w '%{http_code}' \
            "http://127.0.0.1:$NEWSROOM_PORT$path")
        got=$(awk -F': *' 'tolower($1) == "content-encoding" {sub(/\r$/, "", $2); print $2}' "$OUT/.headers")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$shown" "$encoding" "$code" "${got:-identity}" \
            "$(wc -c <"$OUT/.body" | tr -d ' ')" >>"$OUT/sizes.tsv"
    done
    rm -f "$OUT/.headers" "$OUT/.body"
}

# Partners: webhooks and the change feed (bench/partners.py), as an admin
# of this run. Its writes (unpublish and publish again the newest
# $BENCH_PARTNER_ARTICLES articles, then $BENCH_EDITS title edits from 4
# writers) are an hour of a very busy newsroom: the change feed is then
# measured from a token taken before them.
SINCE=""
if [[ "${BENCH_PARTNERS:-1}" == 1 ]]; then
    log "webhooks: publish to delivery, delivery throughput; the change feed's token"
    BENCH_EMAIL="bench-$STAMP@newsroom.test"
    BENCH_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
    printf '%s' "$BENCH_PASSWORD" | env -u DATABASE_URL RUST_LOG=warn "$BIN" --data-dir "$DATA_DIR" \
        user create --email "$BENCH_EMAIL" --role admin >/dev/null
    python3 bench/partners.py "http://127.0.0.1:$NEWSROOM_PORT" "$BENCH_EMAIL" "$BENCH_PASSWORD" \
        --articles "${BENCH_PARTNER_ARTICLES:-50}" --edits "${BENCH_EDITS:-1000}" >"$OUT/partners.json"
    SINCE=$(python3 -c 'import json, sys, urllib.parse; print(urllib.parse.quote(json.load(open(sys.argv[1]))["since"], safe=""))' "$OUT/partners.json")
    CHANGES_FIRST=$(api "/api/v1/changes?since=$SINCE" | python3 -c 'import json, sys; p = json.load(sys.stdin); print(len(p["changes"]), "articles, has_more:", p["has_more"])')
    log "the change feed's first page since the token: $CHANGES_FIRST"
    {
        explain "i) change feed: the page after a token an hour's writes old (no filter)" \
            "WITH snap AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin, now() AS now),
             ch AS (SELECT c.txid, c.seq, c.article_id FROM article_changes c
                    WHERE (c.txid, c.seq) > ((SELECT min(txid) - 1 FROM article_changes WHERE changed_at > now() - interval '1 hour'), 0)
                      AND c.txid < (SELECT xmin FROM snap) ORDER BY c.txid, c.seq LIMIT 100),
             due AS (SELECT a.published_at, a.id FROM articles a
                     WHERE a.public_status AND (a.published_at, a.id) > (now() - interval '1 hour', 0)
                       AND a.published_at <= (SELECT now FROM snap) ORDER BY a.published_at, a.id LIMIT 100)
             SELECT txid, seq, article_id FROM ch UNION ALL SELECT 0, id, id FROM due;"
    } >>"$OUT/plans.txt"
fi

if [[ "$MODES" == *" uncached "* ]]; then
    long_tail uncached "$WARMUP_SECONDS"
    run_newsroom_set uncached
fi
stop_server

# 3. Newsroom with its default settings (the in-process cache on): the long
# tail first, with the server's memory sampled while it runs, then the
# response sizes, then the hot URLs.
: >"$OUT/sizes.tsv"
if [[ "$MODES" == *" default "* ]]; then
start_newsroom default
RSS_IDLE=$(vm VmRSS)
RSS_PID=$SERVER_PID
long_tail default "$LONG_TAIL_WARMUP_SECONDS"
LONG_TAIL_HITS=$(hit_ratio)
RSS_PID=""
RSS_AFTER=$(vm VmRSS)
RSS_HWM=$(vm VmHWM)
RSS_SAMPLES="$(wrk_file "$LONG_TAIL" default).rss"
python3 - "$RSS_IDLE" "$RSS_SAMPLES" "$RSS_AFTER" "$RSS_HWM" "$LONG_TAIL" >"$OUT/memory.md" <<'PY'
import sys
idle, samples, after, hwm, name = sys.argv[1:6]
values = [int(line) for line in open(samples) if line.strip()]
mib = lambda kb: f"{int(kb) / 1024:.1f} MiB"
print(f"Server resident memory (newsroom process, /proc/PID/status), default settings, {name}:\n")
print("| when | VmRSS |")
print("|---|---:|")
print(f"| idle, after start | {mib(idle)} |")
if values:
    print(f"| under load, last sample (0.5 s period, {len(values)} samples) | {mib(values[-1])} |")
    print(f"| under load, highest sample | {mib(max(values))} |")
print(f"| right after the run | {mib(after)} |")
print(f"| peak since start (VmHWM, warm-up included) | {mib(hwm)} |")
PY
printf '\nLong-tail reads the cache answered right after the measured run (2,000 more Zipf draws, X-Cache): %s\n' \
    "$LONG_TAIL_HITS" >>"$OUT/memory.md"
sizes "list page, 20 items" "/api/v1/articles?limit=20"
sizes "article" "/api/v1/articles/$SLUG" "/api/v1/articles/{slug}"
run_newsroom_set default
stop_server
fi

# 4. The ceiling again, with wrk drawing Zipf ranks as in the long tail but
# always asking for GET /: what the drawing costs wrk (which shares the cores
# with the server), to read the long tail's ratio against.
start_ceiling
bench "ceiling GET /, wrk drawing with zipf.lua" "-" "http://127.0.0.1:$CEILING_PORT/" bench/zipf.lua "$SLUGS" fixed
stop_server

# --- report -------------------------------------------------------------------
python3 - "$RESULTS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$LONG_TAIL_WARMUP_SECONDS" >"$OUT/table.md" <<'PY'
import sys
path, connections, seconds, long_warmup = sys.argv[1:5]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
# The ceiling's rows first (the calibration one is measured last); the
# percentages are of the first, plain one.
rows.sort(key=lambda row: not row[0].startswith("ceiling"))
ceiling = float(rows[0][2])
print(f"wrk -t2 -c{connections} -d{seconds}s --latency (after a 3 s warm-up; the long tail with the cache on after a {long_warmup} s one)\n")
print("| endpoint | mode | req/s | % of ceiling | p50 (ms) | p99 (ms) | non-2xx | socket errors | other CPU |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for name, mode, rps, p50, p99, non2xx, errors, other in rows:
    print(f"| {name} | {mode} | {int(rps):,} | {100 * float(rps) / ceiling:.1f}% | {p50} | {p99} | {non2xx} | {errors} | {other} |")
print("\nother CPU: cores' worth of CPU that other programs on the machine used during the run (0 on an idle machine).")
print("uncached: NEWSROOM_CACHE_TTL=0; default: serve's default settings (the in-process cache on).")
print("The long tail's requests send Accept-Encoding: gzip, as apps and browsers do; the others send none.")
PY
python3 - "$OUT/sizes.tsv" >"$OUT/sizes.md" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print("Response sizes (bytes received, not decoded; default settings; {slug}: the article by slug of targets.txt):\n")
print("| response | Accept-Encoding | status | Content-Encoding | bytes | % of uncompressed |")
print("|---|---|---:|---|---:|---:|")
plain = {}
for name, path, asked, code, got, size in rows:
    if asked == "none":
        plain[name] = int(size)
    share = f"{100 * int(size) / plain[name]:.1f}%" if plain.get(name) else "-"
    print(f"| {name} (`{path}`) | {asked} | {code} | {got} | {int(size):,} | {share} |")
PY
if [[ -f "$OUT/partners.json" ]]; then
python3 - "$OUT/partners.json" >"$OUT/partners.md" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
d = p["publish_to_delivery_ms"]
print("Webhooks (bench/partners.py; a loopback receiver answering 200 at once; uncached server):\n")
print("| figure | value |")
print("|---|---:|")
print(f"| publish to delivery, p50 / p99 / max ({d['count']} publishes, one at a time) | {d['p50']} / {d['p99']} / {d['max']} ms |")
print(f"| title edits saved per second ({p['edits']} edits, {p['writers']} writers, GET + PATCH with If-Match each) | {p['saves_per_second']} |")
print(f"| webhook deliveries per second over the same span | {p['deliveries_per_second']} |")
print(f"| last delivery after the last save | {p['last_delivery_after_last_save_ms']} ms |")
PY
    {
        printf '\n'
        cat "$OUT/partners.md"
    } >>"$OUT/table.md"
fi
if [[ -f "$OUT/memory.md" ]]; then
    {
        printf '\n'
        cat "$OUT/memory.md"
        printf '\n'
        cat "$OUT/sizes.md"
    } >>"$OUT/table.md"
fi
cat "$OUT/table.md"
log "results in $OUT"
