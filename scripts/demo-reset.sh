#!/usr/bin/env bash
# Deletes the demo's state (HIVEMERGE_DEMO_DIR: the warehouse, the store, logs and binaries) so
# that the next `make demo` starts over. It stops nothing: while a demo runs it refuses.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-lib.sh

if [[ ! -d $demo_dir ]]; then
  echo "demo: nothing to reset: $demo_dir does not exist"
  exit 0
fi
# Only a directory the demo made is deleted, whatever HIVEMERGE_DEMO_DIR says.
if [[ ! -e $demo_mark && ! -e $demo_dir/warehouse/metastore.json ]]; then
  die "$demo_dir was not made by the demo; not deleting it."
fi
if ! take_lock; then
  pid=$(holder)
  die "a demo is running on $demo_dir (PID $pid); stop it first (Ctrl-C in its terminal or 'kill $pid'), then reset."
fi
rm -rf -- "$demo_dir"
echo "demo: deleted $demo_dir; the next 'make demo' generates the warehouse again"
