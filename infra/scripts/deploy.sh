#!/usr/bin/env bash
# Deploys one environment: builds the function source archive, then runs
# terraform init (gcs backend) and apply in infra/envs/<env>.
#
# Usage: infra/scripts/deploy.sh <env> [extra terraform apply arguments]
#   e.g. infra/scripts/deploy.sh dev -var project_id=my-project
#
# Needs: Terraform >= 1.11 with access to the Terraform registry, Google
# credentials (gcloud auth application-default login, or
# GOOGLE_APPLICATION_CREDENTIALS), TF_STATE_BUCKET (an existing GCS bucket for
# the state) and the environment's variables (infra/envs/<env>/terraform.tfvars,
# see terraform.tfvars.example). Secret payloads only through the ephemeral
# TF_VAR_secret_values, never a file.
set -euo pipefail
ENV_NAME="${1:?usage: $0 <env> [terraform apply arguments]}"
shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/infra/envs/$ENV_NAME"
[[ -d "$DIR" ]] || {
	echo "no environment $ENV_NAME in infra/envs" >&2
	exit 2
}
: "${TF_STATE_BUCKET:?set TF_STATE_BUCKET to the GCS bucket holding Terraform state}"
TERRAFORM="${TERRAFORM:-terraform}"

"$ROOT/infra/scripts/package.sh" "$ROOT/dist/function-source.zip"
cd "$DIR"
"$TERRAFORM" init -input=false -backend-config="bucket=$TF_STATE_BUCKET"
"$TERRAFORM" apply -input=false -var "source_archive_path=$ROOT/dist/function-source.zip" "$@"
