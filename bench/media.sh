#!/usr/bin/env bash
# Media figures (issue 11): a 12-megapixel JPEG upload (time, and the
# server's peak memory), renditions made on first request (latency each;
# AVIF, made only on first request, at 640 px and at the widest),
# the full set of renditions made after an upload (time, peak memory), and
# served renditions' throughput against the bare actix-web "ceiling"
# (examples/ceiling.rs), both measured with wrk.
#
# Usage: bench/media.sh   (release build; a private cluster under a
# temporary folder; results in bench/results/media-<timestamp>/)
#
#   BENCH_SECONDS      duration of each wrk run (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
log() { echo "== $*" >&2; }

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
fi
command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow

cargo build --release --bin newsroom --example ceiling
BIN=target/release/newsroom
OUT=bench/results/media-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER=
CEILING=
cleanup() {
    for pid in $SERVER $CEILING; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Two 12-megapixel (4000 × 3000) photo-like JPEGs: noise over gradients,
# softened, quality 90 (a camera's file is about this size).
python3 - "$WORK" <<'EOF'
import sys
from PIL import Image, ImageFilter, ImageOps
w, h = 4000, 3000
noise = Image.effect_noise((w, h), 60)
across = Image.linear_gradient("L").resize((w, h))
down = Image.linear_gradient("L").rotate(90).resize((w, h))
picture = Image.merge("RGB", (noise, across, down)).filter(ImageFilter.GaussianBlur(1.2))
picture.save(f"{sys.argv[1]}/a.jpg", "JPEG", quality=90)
ImageOps.mirror(picture).save(f"{sys.argv[1]}/b.jpg", "JPEG", quality=90)
EOF
PHOTO_BYTES=$(stat -c %s "$WORK/a.jpg")

start_server() { # EAGER -> sets SERVER, API, TOKEN
    NEWSROOM_MEDIA_EAGER=$1 NEWSROOM_RATE_LIMIT_ANON_PER_MIN=0 RUST_LOG=info \
        "$BIN" --data-dir "$WORK/data" --addr 127.0.0.1:0 serve \
        >"$WORK/server-$1.out" 2>"$WORK/server-$1.log" &
    SERVER=$!
    local port=
    for _ in $(seq 1 600); do
        port=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server-$1.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { tail -20 "$WORK/server-$1.log" >&2; exit 1; }
    API="http://127.0.0.1:$port"
    if [ ! -f "$WORK/login.json" ]; then
        sed -n 's/^Demo admin for the write API: \(.*\) \/ \(.*\)$/{"email":"\1","password":"\2"}/p' \
            "$WORK/server-$1.out" >"$WORK/login.json"
    fi
    TOKEN=$(curl -fs -H 'content-type: application/json' -d @"$WORK/login.json" "$API/api/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}
stop_server() { kill "$SERVER"; wait "$SERVER" || true; SERVER=; }
peak_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }
upload() { # FILE -> prints seconds; the record in $WORK/upload.json
    curl -fs -o "$WORK/upload.json" -w '%{time_total}' -H "authorization: Bearer $TOKEN" \
        -H 'content-type: image/jpeg' --data-binary @"$1" "$API/api/v1/admin/media/files?alt=bench"
}
urls() { # JQ-ish selector in Python over the upload's renditions
    python3 -c "import json; m=json.load(open('$WORK/upload.json')); [print(r['url'].split('/media/',1)[1]) for c in m['renditions'].values() for r in c $1]"
}

# --- 1. renditions on first request (eager off) ------------------------------------
log "server with renditions made on first request"
start_server false
RSS_IDLE=$(rss_mb)
UPLOAD_S=$(upload "$WORK/a.jpg")
UPLOAD_PEAK=$(peak_mb)
log "12-MP upload: ${UPLOAD_S}s, peak RSS ${UPLOAD_PEAK} MB (idle ${RSS_IDLE} MB)"
# The webp of each frame: its first request makes the frame in both formats.
FIRST_TIMES=()
for key in $(urls "if r['format'] == 'webp'"); do
    FIRST_TIMES+=("$(curl -fs -o /dev/null -w '%{time_total}' "$API/media/$key")")
done
FIRST_N=${#FIRST_TIMES[@]}
FIRST_TOTAL=$(printf '%s\n' "${FIRST_TIMES[@]}" | awk '{s+=$1} END {printf "%.2f", s}')
FIRST_MEAN_MS=$(printf '%s\n' "${FIRST_TIMES[@]}" | awk '{s+=$1} END {printf "%.0f", 1000*s/NR}')
FIRST_PEAK=$(peak_mb)
log "first requests: $FIRST_N frames in ${FIRST_TOTAL}s (mean ${FIRST_MEAN_MS} ms), peak RSS ${FIRST_PEAK} MB"
# AVIF is made on first request only (never eagerly): its cost at 640 px
# and at the widest width of the whole picture.
AVIF_640=$(urls "if r['format'] == 'avif' and r['width'] == 640" | head -1)
AVIF_WIDE=$(python3 -c "import json; m=json.load(open('$WORK/upload.json')); print([r for r in m['renditions']['original'] if r['format'] == 'avif'][-1]['url'].split('/media/',1)[1])")
AVIF_640_S=$(curl -fs -o /dev/null -w '%{time_total}' "$API/media/$AVIF_640")
AVIF_WIDE_S=$(curl -fs -o "$WORK/wide.avif" -w '%{time_total}' "$API/media/$AVIF_WIDE")
AVIF_WIDE_BYTES=$(stat -c %s "$WORK/wide.avif")
AVIF_PEAK=$(peak_mb)
log "AVIF first requests: 640 px ${AVIF_640_S}s, ${AVIF_WIDE##*/} ${AVIF_WIDE_S}s (${AVIF_WIDE_BYTES} bytes), peak RSS ${AVIF_PEAK} MB"

# --- 2. served renditions against the ceiling ------------------------------------------
SERVED=$(urls "if r['format'] == 'webp' and r['width'] == 640" | head -1)
SERVED_BYTES=$(curl -fs "$API/media/$SERVED" | wc -c)
wrk -t2 -c"$CONNECTIONS" -d3s "$API/media/$SERVED" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$API/media/$SERVED" | tee "$OUT/wrk-rendition.txt" >&2
stop_server
CEILING_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/examples/ceiling "127.0.0.1:$CEILING_PORT" &
CEILING=$!
sleep 0.5
wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$CEILING_PORT/" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$CEILING_PORT/" | tee "$OUT/wrk-ceiling.txt" >&2
kill "$CEILING"; wait "$CEILING" 2>/dev/null || true; CEILING=
RPS_RENDITION=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$OUT/wrk-rendition.txt")
RPS_CEILING=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$OUT/wrk-ceiling.txt")
RATIO=$(awk -v a="$RPS_RENDITION" -v b="$RPS_CEILING" 'BEGIN {printf "%.0f", 100*a/b}')

# --- 3. the full set right after an upload (eager on) -------------------------------
log "server making every rendition after an upload"
start_server true
EAGER_UPLOAD_S=$(upload "$WORK/b.jpg")
for _ in $(seq 1 1200); do
    grep -q 'made [0-9]* renditions in' "$WORK/server-true.log" && break
    sleep 0.1
done
FULL_LINE=$(grep -o 'made [0-9]* renditions in [0-9]* ms' "$WORK/server-true.log" | tail -1)
FULL_N=$(awk '{print $2}' <<<"$FULL_LINE")
FULL_MS=$(awk '{print $5}' <<<"$FULL_LINE")
FULL_PEAK=$(peak_mb)
stop_server

cat >"$OUT/summary.md" <<EOF
# Media figures ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)

| what | figure | target |
| --- | --- | --- |
| 12-MP JPEG upload ($((PHOTO_BYTES / 1024)) KB): check, orient, strip, re-encode, store | ${UPLOAD_S} s | |
| server peak RSS after that upload (idle: ${RSS_IDLE} MB) | ${UPLOAD_PEAK} MB | < 300 MB |
| first requests, each making one frame (WebP + JPEG) from the 12-MP original | ${FIRST_N} frames, mean ${FIRST_MEAN_MS} ms, ${FIRST_TOTAL} s in all | |
| peak RSS after the first requests | ${FIRST_PEAK} MB | < 300 MB |
| AVIF on first request (decode, cut, encode one frame): 640 px / ${AVIF_WIDE##*/} | ${AVIF_640_S} s / ${AVIF_WIDE_S} s | |
| peak RSS after the AVIF requests | ${AVIF_PEAK} MB | < 300 MB |
| full set after an upload (one decode, all crops × widths, WebP + JPEG; AVIF is on first request) | ${FULL_N} renditions in ${FULL_MS} ms | < 3 s |
| peak RSS while making the full set (upload included) | ${FULL_PEAK} MB | < 300 MB |
| served rendition (640 px WebP, ${SERVED_BYTES} bytes), wrk -c${CONNECTIONS} | ${RPS_RENDITION} req/s | |
| ceiling (bare actix-web JSON) | ${RPS_CEILING} req/s | |
| served rendition / ceiling | ${RATIO} % | >= 30 % |
EOF
cat "$OUT/summary.md"
