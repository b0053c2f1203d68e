#!/usr/bin/env bash
# Builds the Cloud Functions source archive that Terraform uploads
# (default dist/function-source.zip at the repository root; the environments'
# source_archive_path points there). Deterministic: same tree, same bytes.
#
# Usage: infra/scripts/package.sh [output.zip]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/dist/function-source.zip}"
cd "$ROOT"
exec "${GO:-go}" run ./infra/cmd/package-source -o "$OUT"
