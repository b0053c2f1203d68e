# The dev environment's defaults: API and ExecuteTask, and the two cron jobs
# calling the API function.

mock_provider "google" {
  mock_resource "google_service_account" {
    defaults = {
      email  = "mock@test-project.iam.gserviceaccount.com"
      member = "serviceAccount:mock@test-project.iam.gserviceaccount.com"
    }
  }
}

override_resource {
  target = module.hivemerge.module.iam.google_service_account.this["api"]
  values = {
    email  = "hivemerge-dev-api@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-dev-api@test-project.iam.gserviceaccount.com"
  }
}

override_resource {
  target = module.hivemerge.module.iam.google_service_account.this["executor"]
  values = {
    email  = "hivemerge-dev-executor@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-dev-executor@test-project.iam.gserviceaccount.com"
  }
}

variables {
  project_id          = "test-project"
  source_archive_path = "../../modules/hivemerge/tests/testdata/function-source.zip"
  secret_values       = {}
}

run "default_functions_and_jobs" {
  assert {
    condition     = toset(keys(output.function_urls)) == toset(["API", "ExecuteTask"])
    error_message = "dev must deploy API and ExecuteTask"
  }
  assert {
    condition     = output.scheduler_jobs["check-pending"].uri == "${output.function_urls["API"]}/api/v1/scheduler/check-pending" && output.scheduler_jobs["check-pending"].schedule == "*/5 * * * *"
    error_message = "check-pending must call the API every 5 minutes"
  }
  assert {
    condition     = output.scheduler_jobs["batch-create"].uri == "${output.function_urls["API"]}/api/v1/scheduler/batch-create" && output.scheduler_jobs["batch-create"].schedule == "0 2 * * *"
    error_message = "batch-create must call the API at 02:00"
  }
  assert {
    condition     = output.functions["API"].ingress == "ALLOW_INTERNAL_AND_GCLB" && output.functions["ExecuteTask"].ingress == "ALLOW_ALL"
    error_message = "The API stays internal (and load balancer); ExecuteTask is reached by the API over Google's network"
  }
  assert {
    condition     = output.functions["ExecuteTask"].timeout_seconds == 3600 && output.functions["ExecuteTask"].service_account == "hivemerge-dev-executor@test-project.iam.gserviceaccount.com" && output.functions["API"].service_account == "hivemerge-dev-api@test-project.iam.gserviceaccount.com"
    error_message = "ExecuteTask must run for up to an hour under its own account"
  }
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["api", "executor", "scheduler", "builder"])
    error_message = "dev must create one service account per role"
  }
}
