#!/usr/bin/env bash
# Runs the demo stack: the Hive sandbox over a generated warehouse of small files, and the local
# server (functions, REST API, docs, web console) on the embedded store. Ctrl-C stops both. The
# banner comes only once the server answers; on failure the script says why and what to change.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-lib.sh

: "${PORT:=8080}"
: "${HOST:=127.0.0.1}"
: "${HIVEMERGE_SANDBOX_ADDR:=127.0.0.1:10000}"
: "${HIVEMERGE_API_TOKEN:=demo-admin-token}"
: "${HIVEMERGE_DEMO_SCALE:=100}"

check_owned
mkdir -p "$demo_dir"
touch "$demo_mark"
if ! take_lock; then
  pid=$(holder)
  die "another demo is running on $demo_dir (PID $pid)." \
    "Stop it with Ctrl-C in its terminal or 'kill $pid', or run a second one with its own HIVEMERGE_DEMO_DIR, PORT and HIVEMERGE_SANDBOX_ADDR."
fi
echo $$ >"$pid_file"

abs_dir=$(cd "$demo_dir" && pwd)
bin_dir=$abs_dir/bin
sandbox_log=$abs_dir/hivesandbox.log
local_log=$abs_dir/local.log
export PORT HOST HIVEMERGE_API_TOKEN
# The embedded store, even in a shell whose GOOGLE_CLOUD_PROJECT would select Firestore.
export HIVEMERGE_STORE="${HIVEMERGE_STORE:-bolt}"
export HIVEMERGE_BOLT_PATH="${HIVEMERGE_BOLT_PATH:-$abs_dir/hivemerge.db}"
export HIVEMERGE_SANDBOX_WAREHOUSE=$abs_dir

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ $(cat "$pid_file" 2>/dev/null) != "$$" ]] || rm -f "$pid_file"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in_use tells whether something already answers on host and port.
in_use() { [[ $2 != 0 ]] && (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port_advice() {
  case $1 in
    sandbox) echo "the Hive sandbox's address $HIVEMERGE_SANDBOX_ADDR is in use; set HIVEMERGE_SANDBOX_ADDR to a free one, e.g. HIVEMERGE_SANDBOX_ADDR=127.0.0.1:10001 make demo" ;;
    server) echo "port $PORT on $HOST is in use; set PORT to a free one, e.g. PORT=8081 make demo" ;;
  esac
}
if in_use "${HIVEMERGE_SANDBOX_ADDR%:*}" "${HIVEMERGE_SANDBOX_ADDR##*:}"; then die "$(port_advice sandbox)"; fi
if in_use "$HOST" "$PORT"; then die "$(port_advice server)"; fi

# exited explains why a process of the demo ended: a port someone took meanwhile, or the end
# of its log.
exited() {
  local what=$1 log=$2
  if grep -q 'address already in use' "$log"; then die "$(port_advice "$what")"; fi
  {
    echo "demo: the $what exited; the last lines of $log:"
    tail -n 20 "$log" | sed 's/^/  /'
  } >&2
  exit 1
}

# The console is embedded into the local server: build it first, unless its build is newer
# than everything it is built from.
ui=functions/console/ui
built=functions/console/dist/app/index.html
if [[ ! -e $built || -n $(find "$ui/src" "$ui/public" "$ui/index.html" "$ui/package-lock.json" "$ui/vite.config.ts" -newer "$built" -print -quit) ]]; then
  command -v npm >/dev/null || die "building the web console needs Node.js and npm (20.19 or later); install them and run make demo again."
  echo "demo: building the web console (npm ci the first time, then vite build)"
  make --no-print-directory console >"$abs_dir/console-build.log" 2>&1 || {
    echo "demo: building the console failed; the last lines of $demo_dir/console-build.log:" >&2
    tail -n 20 "$abs_dir/console-build.log" | sed 's/^/  /' >&2
    exit 1
  }
fi

echo "demo: building the Hive sandbox and the local server (the first build compiles every dependency and takes a few minutes; later runs take seconds)"
mkdir -p "$bin_dir"
go build -o "$bin_dir/" ./shared/hivesandbox/cmd/hivesandbox ./functions/cmd/local

if [[ ! -e $abs_dir/generated.txt ]]; then
  size="about 33,000 small files; up to a minute"
  [[ $HIVEMERGE_DEMO_SCALE == 100 ]] || size="$HIVEMERGE_DEMO_SCALE% of the full 33,000 small files"
  echo "demo: generating the demo warehouse in $demo_dir/warehouse, once ($size)"
fi
"$bin_dir/hivesandbox" -addr "$HIVEMERGE_SANDBOX_ADDR" -warehouse "$abs_dir" -generate -scale "$HIVEMERGE_DEMO_SCALE" \
  >"$sandbox_log" 2>&1 9>&- &
pids+=($!)
sandbox_addr=
until [[ -n $sandbox_addr ]]; do
  kill -0 "${pids[0]}" 2>/dev/null || exited sandbox "$sandbox_log"
  sleep 0.2
  sandbox_addr=$(sed -n 's/.*listening: binary=\([^ ]*\).*/\1/p' "$sandbox_log")
done
export HIVEMERGE_SANDBOX_ADDR=$sandbox_addr

"$bin_dir/local" >"$local_log" 2>&1 9>&- &
pids+=($!)
url=
healthy() { (exec 3<>"/dev/tcp/$1/$2" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && read -r status <&3 && [[ $status == *" 200 "* ]]) 2>/dev/null; }
until [[ -n $url ]]; do
  kill -0 "${pids[1]}" 2>/dev/null || exited server "$local_log"
  sleep 0.2
  addr=$(sed -n '/"message":"listening"/s/.*"addr":"\([^"]*\)".*/\1/p' "$local_log")
  if [[ -n $addr ]] && healthy "${addr%:*}" "${addr##*:}"; then url=http://$addr; fi
done

reset="make demo-reset"
[[ $demo_dir == var/demo ]] || reset="HIVEMERGE_DEMO_DIR=$(printf %q "$demo_dir") $reset"
cat <<MSG

hivemerge demo is ready
  Console      : $url/console/  (sign in with the admin token)
  API docs     : $url/docs
  Admin token  : $HIVEMERGE_API_TOKEN
  Hive sandbox : $sandbox_addr (a HiveServer2 sandbox, not a Hive)
  Warehouse    : $demo_dir/warehouse
$(sed 's/^/    /' "$abs_dir/generated.txt" 2>/dev/null)
  Logs         : $sandbox_log, $local_log
Try:
  export HIVEMERGE_API_TOKEN=$HIVEMERGE_API_TOKEN
  curl -H "Authorization: Bearer \$HIVEMERGE_API_TOKEN" $url/api/v1/dashboard/summary                  # what is wrong
  curl -H "Authorization: Bearer \$HIVEMERGE_API_TOKEN" '$url/api/v1/clusters/demo/databases/ops/tables?sort=files&limit=3'
  Then preview, merge, watch and roll back: README.md, "Walk-through", or the console.
Ctrl-C stops the demo; '$reset' then deletes $demo_dir to start over.
MSG

wait -n "${pids[@]}" || true
for i in 0 1; do
  what=(sandbox server) log=("$sandbox_log" "$local_log")
  kill -0 "${pids[$i]}" 2>/dev/null || exited "${what[$i]}" "${log[$i]}"
done
