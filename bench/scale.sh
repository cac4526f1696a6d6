#!/usr/bin/env bash
# What a page costs as the archive grows: bench/run.sh's endpoints (the
# in-process cache off) at 10,000, 100,000 and 1,000,000 articles, in one
# run, on one database that grows (each size is the previous one topped up
# with `newsroom seed --synthetic`), and a table of p50 per endpoint with
# the ratio of the largest size to the smallest.
#
# Usage: bench/scale.sh                (from anywhere)
#
# Environment knobs:
#   SCALE_SIZES       article counts, ascending (default "10000 100000 1000000")
#   SCALE_DATA_DIR    the cluster's folder, relative to the repository root
#                     (default bench/results/.data-scale; deleted first, so every run
#                     starts from an empty database)
#   SCALE_KEEP        1 keeps the cluster's folder afterwards (default 0)
#   BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_PROFILE, BENCH_DEEP_PAGE (default
#                     here 10000)
#                     as for bench/run.sh
#
# A million articles take about 15 GB in PostgreSQL: the script stops
# before a size the disk cannot hold. Results: bench/results/scale-<timestamp>/
# (one folder per size from bench/run.sh, and table.md).
set -euo pipefail

cd "$(dirname "$0")/.."

SIZES=${SCALE_SIZES:-10000 100000 1000000}
DATA_DIR=${SCALE_DATA_DIR:-bench/results/.data-scale}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=bench/results/scale-$STAMP
export BENCH_DEEP_PAGE=${BENCH_DEEP_PAGE:-10000}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed"

# Bytes PostgreSQL needs per article, with its indexes and WAL (measured:
# about 11 KB of table and indexes per synthetic article, plus headroom).
BYTES_PER_ARTICLE=16000

mkdir -p "$OUT"
rm -rf "$DATA_DIR"
previous=""
for size in $SIZES; do
    free=$(df -PB1 . | awk 'NR == 2 {print $4}')
    need=$((size * BYTES_PER_ARTICLE))
    if ((free < need)); then
        log "stopping before $size articles: $((free / 1000000000)) GB free, about $((need / 1000000000)) GB needed"
        break
    fi
    log "$size articles"
    # bench/run.sh seeds its folder on first use and tops it up to
    # BENCH_ARTICLES later; only the uncached set: the cache hides what a
    # page costs. No partners run: its writes would change the set.
    BENCH_ARTICLES=$size BENCH_DATA_DIR=$DATA_DIR BENCH_MODES=uncached BENCH_PARTNERS=0 BENCH_OUT="$OUT/$size" \
        bench/run.sh
    previous="$previous $size"
done
if [[ "${SCALE_KEEP:-0}" != 1 ]]; then
    rm -rf "$DATA_DIR"
fi
[[ -n "$previous" ]] || die "no size was measured"

# The table: p50 per endpoint at every size. Names that carry the size
# (the deep page, the long tail) are matched by what they are.
python3 - "$OUT" $previous >"$OUT/table.md" <<'PY'
import re, sys
out, sizes = sys.argv[1], sys.argv[2:]
def key(name):
    if re.fullmatch(r"page [\d,]+", name) and name != "page 1":
        return "deep cursor page"
    if name.startswith("long tail"):
        return "long tail (Zipf over every published article)"
    return name
table, order, pages = {}, [], {}
for size in sizes:
    for line in open(f"{out}/{size}/results.tsv"):
        if not line.strip():
            continue
        name, mode, rps, p50, p99, non2xx, errors, other = line.rstrip("\n").split("\t")
        if name.startswith("ceiling") and "zipf" in name:
            continue
        k = (key(name), mode)
        if k not in table:
            table[k] = {}
            order.append(k)
        table[k][size] = (float(p50), float(p99), int(non2xx))
        if k[0] == "deep cursor page":
            pages[size] = name
def fmt(n):
    return f"{int(n):,}"
first, last = sizes[0], sizes[-1]
print("p50 latency (ms) per endpoint, the in-process cache off (NEWSROOM_CACHE_TTL=0), "
      "one database grown from one size to the next\n")
print("| endpoint | " + " | ".join(f"{fmt(s)} articles" for s in sizes)
      + f" | {fmt(last)} / {fmt(first)} | non-2xx |")
print("|---|" + "---:|" * len(sizes) + "---:|---:|")
for k in order:
    cells = table[k]
    row = [f"{cells[s][0]:.2f}" if s in cells else "-" for s in sizes]
    ratio = (f"{cells[last][0] / cells[first][0]:.2f}"
             if first in cells and last in cells and cells[first][0] > 0 else "-")
    bad = sum(c[2] for c in cells.values())
    name = k[0] if k[1] == "-" else f"{k[0]} ({k[1]})"
    print(f"| {name} | " + " | ".join(row) + f" | {ratio} | {bad} |")
if pages:
    print("\ndeep cursor page: " + ", ".join(f"{pages[s]} at {fmt(s)}" for s in sizes if s in pages)
          + " (the last page when there are fewer)")
print(f"\nPer-size details (wrk outputs, plans, targets): {out}/<size>/")
PY
cat "$OUT/table.md"
log "results in $OUT"
