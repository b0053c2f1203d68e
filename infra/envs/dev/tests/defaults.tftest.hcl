# What the dev environment deploys. The module's defaults themselves (the
# API's settings, the check-pending job, accounts, network) are asserted in
# modules/hivemerge/tests/wiring.tftest.hcl; here: what dev deploys, its own
# settings, and that the scheduler's identity is wired through this root
# (envs/prod's tests check that a functions map replaces the default).

mock_provider "google" {
  mock_resource "google_service_account" {
    defaults = {
      email  = "mock@test-project.iam.gserviceaccount.com"
      member = "serviceAccount:mock@test-project.iam.gserviceaccount.com"
    }
  }
}

override_resource {
  target = module.hivemerge.module.iam.google_service_account.this["scheduler"]
  values = {
    email  = "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com"
  }
}

variables {
  project_id          = "test-project"
  source_archive_path = "../../modules/hivemerge/tests/testdata/function-source.zip"
  secret_values       = {} # ephemeral: unset at plan means unset at apply
}

run "api_check_pending_and_retention_only" {
  assert {
    condition     = toset(keys(output.function_urls)) == toset(["API"]) && toset(keys(output.scheduler_jobs)) == toset(["check-pending", "retention"])
    error_message = "dev must deploy the API function and the check-pending and retention jobs only (ExecuteTask and batch-create come with the merge engine)"
  }
  assert {
    condition     = output.functions["API"].name == "hivemerge-dev-api" && toset(keys(output.service_accounts)) == toset(["api", "scheduler", "builder"])
    error_message = "dev must name its resources hivemerge-dev-* and create no executor account"
  }
}

run "dev_sizing" {
  assert {
    condition     = output.functions["API"].concurrency == 20 && output.functions["API"].min_instances == 0 && output.functions["API"].max_instances == 5
    error_message = "dev must keep the module's API sizing (concurrency 20, 0-5 instances)"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_LOG_LEVEL"] == "debug" && output.functions["API"].environment["HIVEMERGE_ENV"] == "dev"
    error_message = "dev must log at debug level"
  }
}

run "scheduler_is_an_operator_on_the_api" {
  assert {
    condition     = output.scheduler_jobs["check-pending"].oidc_service_account == "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com" && output.scheduler_jobs["check-pending"].oidc_audience == output.function_urls["API"]
    error_message = "check-pending must send the scheduler account's ID token for the API's URL"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "The API must give the scheduler account the operator role (check-pending needs it)"
  }
}
