# Sourced by demo.sh and demo-reset.sh: where the demo keeps its state and how one demo at a
# time holds it.
: "${HIVEMERGE_DEMO_DIR:=var/demo}"
demo_dir=${HIVEMERGE_DEMO_DIR%/}
# The demo marks the directories it creates, because demo-reset deletes one whole.
demo_mark=$demo_dir/.hivemerge-demo
pid_file=$demo_dir/demo.pid
lock_file=$demo_dir/demo.lock

die() {
  printf 'demo: %s\n' "$@" >&2
  exit 1
}

# check_owned refuses a directory that is neither empty nor the demo's: the demo would write
# into it and demo-reset would delete it.
check_owned() {
  [[ -d $demo_dir ]] || return 0
  [[ -e $demo_mark ]] && return 0
  if [[ -e $demo_dir/warehouse/metastore.json ]]; then
    die "$demo_dir holds a demo of an older layout; run 'make demo-reset HIVEMERGE_DEMO_DIR=$demo_dir' to start over."
  fi
  if [[ -n $(ls -A "$demo_dir") ]]; then
    die "$demo_dir is not empty and was not made by the demo; set HIVEMERGE_DEMO_DIR to a new directory."
  fi
}

# take_lock holds the demo directory for this process, or fails while another demo holds it.
# flock's lock ends with the process whatever kills it; without flock, the PID file decides.
take_lock() {
  if command -v flock >/dev/null; then
    exec 9>>"$lock_file"
    flock -n 9
  else
    local pid
    pid=$(cat "$pid_file" 2>/dev/null) || return 0
    ! kill -0 "$pid" 2>/dev/null
  fi
}

# holder is the PID of the demo that holds the directory.
holder() {
  cat "$pid_file" 2>/dev/null || echo unknown
}
