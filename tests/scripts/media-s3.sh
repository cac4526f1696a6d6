#!/usr/bin/env bash
# Media on S3: the server stores uploads and renditions in a bucket of a real
# S3-compatible server (moto's standalone server, from PyPI) on loopback, and
# serves them back: upload, original, a rendition made on first request,
# ranges, immutable caching, and the objects really in the bucket.
#
# Usage: tests/scripts/media-s3.sh   (NEWSROOM_BIN picks the binary; default
# target/debug/newsroom, built when missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${NEWSROOM_BIN:-target/debug/newsroom}
[ -x "$BIN" ] || cargo build --bin newsroom
command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }
if ! command -v moto_server >/dev/null || ! python3 -c 'import flask, moto' 2>/dev/null; then
    python3 -m pip install --quiet 'moto[server]'
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the S3 server ---------------------------------------------------------------
S3_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$S3_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
S3="http://127.0.0.1:$S3_PORT"
for _ in $(seq 1 100); do curl -fs "$S3/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$S3/" >/dev/null || fail "moto did not start: $(cat "$WORK/moto.log")"
curl -fs -X PUT "$S3/newsroom-media" >/dev/null || fail "creating the bucket"
echo "moto S3 on $S3, bucket newsroom-media"

# --- the API, storing media in the bucket ----------------------------------------
NEWSROOM_MEDIA_S3_BUCKET=newsroom-media \
NEWSROOM_MEDIA_S3_ENDPOINT="$S3" \
NEWSROOM_MEDIA_S3_ACCESS_KEY_ID=test \
NEWSROOM_MEDIA_S3_SECRET_ACCESS_KEY=test \
NEWSROOM_MEDIA_EAGER=false \
RUST_LOG=info "$BIN" --data-dir "$WORK/data" --addr 127.0.0.1:0 serve \
    >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
PORT=
for _ in $(seq 1 600); do
    PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || fail "the server did not start: $(tail -20 "$WORK/server.log")"
API="http://127.0.0.1:$PORT"
LOGIN=$(sed -n 's/^Demo admin for the write API: \(.*\) \/ \(.*\)$/{"email":"\1","password":"\2"}/p' "$WORK/server.out")
TOKEN=$(curl -fs -H 'content-type: application/json' -d "$LOGIN" "$API/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
echo "API on $API"

# --- upload, serve, rendition, range ----------------------------------------------
curl -fs -o "$WORK/upload.json" -H "authorization: Bearer $TOKEN" -H 'content-type: image/jpeg' \
    --data-binary @src/seed/media/2147034_dsc_0597_11282810.jpg \
    "$API/api/v1/admin/media/files?alt=S3" || fail "the upload"
read -r URL RENDITION <<<"$(python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))
print(m["url"].split("/media/",1)[1], m["renditions"]["16x9"][1]["url"].split("/media/",1)[1])' "$WORK/upload.json")"
echo "uploaded: /media/$URL"

code=$(curl -s -o "$WORK/original" -w '%{http_code}' "$API/media/$URL")
[ "$code" = 200 ] || fail "original answered $code"
head -c 2 "$WORK/original" | od -An -tx1 | grep -q 'ff d8' || fail "the original is not a JPEG"

headers=$(curl -s -D - -o "$WORK/rendition" "$API/media/$RENDITION")
grep -q '^HTTP/1.1 200' <<<"$headers" || fail "the rendition: $headers"
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$headers" || fail "not immutable: $headers"
size=$(stat -c %s "$WORK/rendition")
part=$(curl -s -D - -o /dev/null -H 'range: bytes=10-19' "$API/media/$RENDITION")
grep -q '^HTTP/1.1 206' <<<"$part" || fail "range: $part"
grep -qi "^content-range: bytes 10-19/$size" <<<"$part" || fail "content-range: $part"

# --- the objects are in the bucket ---------------------------------------------------
listing=$(curl -fs "$S3/newsroom-media?list-type=2")
grep -q "<Key>$URL</Key>" <<<"$listing" || fail "the original is not in the bucket"
grep -q "<Key>$RENDITION</Key>" <<<"$listing" || fail "the rendition is not in the bucket"
objects=$(grep -o '<Key>' <<<"$listing" | wc -l)
[ -z "$(ls -A "$WORK/data/media" 2>/dev/null)" ] || fail "media were written to the local folder"
echo "ok: original, rendition (made on first request) and ranges served from S3; $objects objects in the bucket"
