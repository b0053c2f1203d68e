#!/usr/bin/env bash
# Offline checks of infra/: formatting, init + validate of every environment
# and module against the real google provider (built from the Go module proxy
# into a local filesystem mirror, never the Terraform registry), terraform test
# with mocked providers, tflint, the Go tests of infra/, and self-tests proving
# that broken configurations fail these checks.
#
# Usage: infra/scripts/check.sh [--quick | --self-test] [--no-go]
#   (default)    everything
#   --quick      skip the self-tests
#   --self-test  only the self-tests
#   --no-go      skip go test ./infra/... (when the caller runs go test ./... anyway)
#
# Environment:
#   HIVEMERGE_TF_CACHE  cache of the built provider, tflint and the mirror
#                       (default $HOME/.cache/hivemerge/terraform); the first
#                       run builds the provider (about 5 minutes, 180 MB)
#   TERRAFORM           terraform binary (default: terraform on PATH)
#   GO                  go binary (default: go on PATH)
set -euo pipefail

# The google provider 8.0.0 is not tagged as a Go module version: this is the
# pseudo-version of its v8.0.0 commit on the Go module proxy.
readonly PROVIDER_MODULE="github.com/hashicorp/terraform-provider-google"
readonly PROVIDER_PSEUDO_VERSION="v1.20.1-0.20260828184646-f3721fb45fa3"
readonly PROVIDER_VERSION="8.0.0"
readonly TFLINT_MODULE="github.com/terraform-linters/tflint"
readonly TFLINT_VERSION="v0.64.0"

MODE=all
RUN_GO=1
for arg in "$@"; do
	case "$arg" in
	--quick) MODE=quick ;;
	--self-test) MODE=self-test ;;
	--no-go) RUN_GO=0 ;;
	*)
		echo "usage: $0 [--quick | --self-test] [--no-go]" >&2
		exit 2
		;;
	esac
done

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$INFRA/.." && pwd)"
CACHE="${HIVEMERGE_TF_CACHE:-$HOME/.cache/hivemerge/terraform}"
TERRAFORM="${TERRAFORM:-terraform}"
GO="${GO:-go}"
PLATFORM="$("$GO" env GOOS)_$("$GO" env GOARCH)"

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

START=$SECONDS
step() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - START)); }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hivemerge-infra-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# go_install MODULE VERSION BINARY: build a tool from the Go module proxy into
# the cache once. Built outside the repository so that its go.mod and GOFLAGS
# do not apply; a marker records the version the binary was built from.
go_install() {
	local module=$1 version=$2 binary=$3
	local bin="$CACHE/bin/$binary" marker="$CACHE/bin/$binary.version"
	if [[ -x "$bin" && "$(cat "$marker" 2>/dev/null)" == "$module@$version" ]]; then
		return
	fi
	echo "building $module@$version (cached in $CACHE/bin)"
	mkdir -p "$CACHE/bin"
	local gobin
	gobin="$(mktemp -d "$CACHE/bin/.build.XXXXXX")"
	(cd "$gobin" && GOBIN="$gobin" GOFLAGS=-buildvcs=false "$GO" install "$module@$version")
	mv -f "$gobin/$binary" "$bin"
	rm -rf "$gobin"
	echo "$module@$version" >"$marker"
}

# setup_terraform: provider in the filesystem mirror, CLI configuration that
# takes hashicorp/google from the mirror only, plugin cache so that init
# symlinks instead of copying 180 MB per working directory.
setup_terraform() {
	step "google provider $PROVIDER_VERSION from the Go module proxy"
	mkdir -p "$CACHE"
	(
		# One build at a time when several checks share the cache.
		if command -v flock >/dev/null; then
			flock 9
		fi
		go_install "$PROVIDER_MODULE" "$PROVIDER_PSEUDO_VERSION" terraform-provider-google
		local dir="$CACHE/mirror/registry.terraform.io/hashicorp/google/$PROVIDER_VERSION/$PLATFORM"
		local want="$dir/terraform-provider-google_v$PROVIDER_VERSION"
		if ! cmp -s "$CACHE/bin/terraform-provider-google" "$want"; then
			mkdir -p "$dir"
			cp "$CACHE/bin/terraform-provider-google" "$want.tmp"
			mv -f "$want.tmp" "$want"
			rm -rf "$CACHE/plugin-cache"
		fi
	) 9>"$CACHE/.lock"
	mkdir -p "$CACHE/plugin-cache"
	cat >"$CACHE/terraformrc" <<EOF
plugin_cache_dir = "$CACHE/plugin-cache"
provider_installation {
  filesystem_mirror {
    path    = "$CACHE/mirror"
    include = ["registry.terraform.io/hashicorp/google"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/google"]
  }
}
EOF
	export TF_CLI_CONFIG_FILE="$CACHE/terraformrc"
}

# copy_infra DEST: a scratch copy of infra/ so that init leaves no .terraform
# directories or lock files in the work tree.
copy_infra() {
	mkdir -p "$1"
	tar -C "$INFRA" --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' --exclude=dist -cf - . | tar -C "$1" -xf -
}

tf_init() {
	local dir=$1
	if ! (cd "$dir" && "$TERRAFORM" init -backend=false -input=false -no-color >"$WORK/init.log" 2>&1); then
		cat "$WORK/init.log" >&2
		fail "terraform init in ${dir#"$WORK/"}"
	fi
}

tf_dirs() {
	local base=$1
	find "$base/envs" "$base/modules" -mindepth 1 -maxdepth 1 -type d | sort
}

check_terraform() {
	local tree="$WORK/infra"
	copy_infra "$tree"

	step "terraform fmt -check -recursive"
	if ! (cd "$tree" && "$TERRAFORM" fmt -check -recursive -diff -no-color); then
		fail "terraform fmt: run 'terraform fmt -recursive infra'"
	fi

	local dir name
	for dir in $(tf_dirs "$tree"); do
		name="${dir#"$tree/"}"
		step "init + validate $name"
		tf_init "$dir"
		(cd "$dir" && "$TERRAFORM" validate -no-color) || fail "terraform validate $name"
		if [[ -d "$dir/tests" ]]; then
			step "terraform test $name"
			(cd "$dir" && "$TERRAFORM" test -no-color) || fail "terraform test $name"
		fi
	done

	step "tflint $TFLINT_VERSION (bundled terraform ruleset)"
	(
		if command -v flock >/dev/null; then
			flock 9
		fi
		go_install "$TFLINT_MODULE" "$TFLINT_VERSION" tflint
	) 9>"$CACHE/.lock"
	(cd "$tree" && "$CACHE/bin/tflint" --recursive --config="$tree/.tflint.hcl" --no-color) || fail "tflint"
}

check_go() {
	if [[ $RUN_GO == 0 ]]; then
		return
	fi
	step "go test ./infra/... (index coverage, source packaging)"
	(cd "$ROOT" && "$GO" test -count=1 ./infra/...) || fail "go test ./infra/..."
}

# expect_failure NAME LOG PATTERN COMMAND...: the command must fail and print
# PATTERN; a check that passes a broken configuration is itself broken.
expect_failure() {
	local name=$1 log=$2 pattern=$3
	shift 3
	if "$@" >"$log" 2>&1; then
		cat "$log" >&2
		fail "self-test '$name': the broken configuration passed"
	fi
	if ! grep -q -- "$pattern" "$log"; then
		cat "$log" >&2
		fail "self-test '$name': failed, but without '$pattern'"
	fi
	echo "ok: $name fails as it must ($pattern)"
}

# mutate FILE FROM TO: replace a literal string that must be present.
mutate() {
	local file=$1 from=$2 to=$3
	grep -qF -- "$from" "$file" || fail "self-test: '$from' not found in $file (update the self-test)"
	FROM="$from" TO="$to" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$file"
}

self_test() {
	local tree

	step "self-test: a misspelt argument fails validate"
	tree="$WORK/mut-attribute"
	copy_infra "$tree"
	mutate "$tree/modules/functions/main.tf" "ingress_settings                 =" "ingress_setting                  ="
	tf_init "$tree/envs/dev"
	expect_failure "unsupported argument" "$WORK/mut-attribute.log" "Unsupported argument" \
		bash -c "cd '$tree/envs/dev' && '$TERRAFORM' validate -no-color"

	step "self-test: a value the provider rejects fails validate"
	tree="$WORK/mut-enum"
	copy_infra "$tree"
	mutate "$tree/modules/firestore/main.tf" 'type                              = "FIRESTORE_NATIVE"' 'type                              = "FIRESTORE"'
	tf_init "$tree/modules/firestore"
	expect_failure "invalid enum" "$WORK/mut-enum.log" "expected type to be one of" \
		bash -c "cd '$tree/modules/firestore' && '$TERRAFORM' validate -no-color"

	step "self-test: miswired scheduler OIDC identity fails terraform test"
	tree="$WORK/mut-wiring"
	copy_infra "$tree"
	mutate "$tree/modules/scheduler/main.tf" "service_account_email = var.service_account_email" 'service_account_email = "someone-else@test-project.iam.gserviceaccount.com"'
	tf_init "$tree/modules/hivemerge"
	expect_failure "scheduler OIDC identity" "$WORK/mut-wiring.log" "Jobs must authenticate with OIDC tokens of the scheduler account" \
		bash -c "cd '$tree/modules/hivemerge' && '$TERRAFORM' test -no-color"

	step "self-test: prod without its own API sizing fails its terraform test"
	tree="$WORK/mut-env"
	copy_infra "$tree"
	mutate "$tree/envs/prod/main.tf" "function_overrides = var.functions == null ? local.function_overrides : {}" "function_overrides = {}"
	tf_init "$tree/envs/prod"
	expect_failure "prod sizing" "$WORK/mut-env.log" "prod must size the API for load" \
		bash -c "cd '$tree/envs/prod' && '$TERRAFORM' test -no-color"

	step "self-test: an index dropped from Terraform fails terraform test"
	tree="$WORK/mut-index"
	copy_infra "$tree"
	mutate "$tree/modules/firestore/main.tf" "for ix in local.indexes :" "for ix in slice(local.indexes, 1, length(local.indexes)) :"
	tf_init "$tree/modules/hivemerge"
	expect_failure "dropped index" "$WORK/mut-index.log" "Every entry of indexes.json must become a google_firestore_index" \
		bash -c "cd '$tree/modules/hivemerge' && '$TERRAFORM' test -no-color -filter=tests/wiring.tftest.hcl"

	step "self-test: an undocumented variable fails tflint"
	tree="$WORK/mut-lint"
	copy_infra "$tree"
	printf '\nvariable "undocumented" {\n  type = string\n}\n' >>"$tree/modules/apis/variables.tf"
	expect_failure "tflint" "$WORK/mut-lint.log" "terraform_documented_variables" \
		bash -c "cd '$tree' && '$CACHE/bin/tflint' --recursive --config='$tree/.tflint.hcl' --no-color"
}

command -v "$TERRAFORM" >/dev/null || fail "terraform not found (Terraform >= 1.11 is required)"
setup_terraform

case "$MODE" in
all)
	check_terraform
	check_go
	self_test
	;;
quick)
	check_terraform
	check_go
	;;
self-test)
	go_install "$TFLINT_MODULE" "$TFLINT_VERSION" tflint
	self_test
	;;
esac

step "infra checks passed"
