#!/usr/bin/env bash
# Runs the demo stack: the Hive sandbox over a generated warehouse of small files, and the local
# server (functions, REST API, docs) on the embedded store. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${PORT:=8080}"
: "${HIVEMERGE_SANDBOX_ADDR:=127.0.0.1:10000}"
: "${HIVEMERGE_DEMO_DIR:=var/demo}"
: "${HIVEMERGE_API_TOKEN:=demo-admin-token}"
export PORT HIVEMERGE_API_TOKEN
export HIVEMERGE_BOLT_PATH="${HIVEMERGE_BOLT_PATH:-$HIVEMERGE_DEMO_DIR/hivemerge.db}"
export HIVEMERGE_SANDBOX_WAREHOUSE="$PWD/$HIVEMERGE_DEMO_DIR/warehouse"

mkdir -p "$HIVEMERGE_DEMO_DIR" bin
go build -o bin/ ./shared/hivesandbox/cmd/hivesandbox ./functions/cmd/local

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM

bin/hivesandbox -addr "$HIVEMERGE_SANDBOX_ADDR" -warehouse "$HIVEMERGE_SANDBOX_WAREHOUSE" -generate \
  >>"$HIVEMERGE_DEMO_DIR/hivesandbox.log" 2>&1 &
pids+=($!)
host=${HIVEMERGE_SANDBOX_ADDR%:*} port=${HIVEMERGE_SANDBOX_ADDR##*:}
for _ in $(seq 1 600); do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then break; fi
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: the Hive sandbox exited; see $HIVEMERGE_DEMO_DIR/hivesandbox.log" >&2; exit 1; }
  sleep 0.5
done

cat <<MSG
hivemerge demo
  API and docs : http://127.0.0.1:$PORT/docs
  Hive sandbox : $HIVEMERGE_SANDBOX_ADDR (warehouse $HIVEMERGE_SANDBOX_WAREHOUSE)
  Admin token  : $HIVEMERGE_API_TOKEN
Try:
  curl -H "Authorization: Bearer $HIVEMERGE_API_TOKEN" -d '{"cluster_id":"demo","task_name":"t1","database_name":"sales","table_name":"orders","merge_strategy":"safe_merge"}' http://127.0.0.1:$PORT/api/v1/tasks/
MSG
bin/local &
pids+=($!)
wait "${pids[1]}"
