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

run "functions_and_jobs" {
  assert {
    condition     = output.console_url == "${output.function_urls["API"]}/console/"
    error_message = "The console is served by the API function at /console/"
  }
  assert {
    condition     = toset(keys(output.function_urls)) == toset(["API", "ExecuteTask", "RunSchedulerJob", "PreviewTask", "PreviewMerge", "RollbackTask"]) && toset(keys(output.scheduler_jobs)) == toset(["check-pending", "retention", "scan", "batch-create", "cleanup-backups", "dispatch", "resume-requeued"])
    error_message = "dev must deploy API, ExecuteTask, RunSchedulerJob, PreviewTask, PreviewMerge and RollbackTask, and the check-pending, retention, scan, batch-create, cleanup-backups, dispatch and resume-requeued jobs"
  }
  assert {
    condition     = output.functions["API"].name == "hivemerge-dev-api" && output.functions["ExecuteTask"].name == "hivemerge-dev-execute-task" && toset(keys(output.service_accounts)) == toset(["api", "executor", "scheduler", "builder"])
    error_message = "dev must name its resources hivemerge-dev-* and create the executor account for ExecuteTask"
  }
  assert {
    condition     = output.functions["ExecuteTask"].timeout_seconds == 3600 && output.functions["ExecuteTask"].concurrency == 1 && output.functions["ExecuteTask"].environment["HIVEMERGE_EXECUTE_MODE"] == "sync"
    error_message = "dev's ExecuteTask must run one task per instance, synchronously, for up to 3600 s"
  }
  assert {
    condition     = output.functions["ExecuteTask"].environment["HIVEMERGE_OIDC_ROLES"] == "${output.service_accounts["api"]}:operator" && output.functions["API"].environment["HIVEMERGE_EXECUTE_MODE"] == "remote" && output.functions["RunSchedulerJob"].environment["HIVEMERGE_EXECUTE_MODE"] == "remote"
    error_message = "dev's API and RunSchedulerJob must hand tasks to ExecuteTask, which accepts the api account's ID tokens as an operator"
  }
  assert {
    condition     = alltrue([for k in ["PreviewTask", "PreviewMerge", "RollbackTask"] : output.functions[k].environment["HIVEMERGE_LOG_LEVEL"] == output.functions["API"].environment["HIVEMERGE_LOG_LEVEL"] && output.functions[k].concurrency == 10])
    error_message = "dev's API-like functions must share the API's environment and keep the module's sizing"
  }
}

run "dev_sizing" {
  assert {
    condition     = output.functions["API"].concurrency == 20 && output.functions["API"].min_instances == 0 && output.functions["API"].max_instances == 5
    error_message = "dev must keep the module's API sizing (concurrency 20, 0-5 instances)"
  }
  assert {
    condition     = output.functions["ExecuteTask"].max_instances == 5 && output.functions["ExecuteTask"].memory == "1Gi"
    error_message = "dev must keep the module's ExecuteTask sizing (1Gi, at most 5 instances)"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_LOG_LEVEL"] == "debug" && output.functions["API"].environment["HIVEMERGE_ENV"] == "dev"
    error_message = "dev must log at debug level"
  }
}

run "scheduler_is_an_operator_on_the_api" {
  assert {
    condition = {
      for k, j in output.scheduler_jobs : k => [j.uri, j.oidc_audience, j.oidc_service_account, j.schedule]
      } == {
      check-pending   = ["${output.function_urls["API"]}/api/v1/scheduler/check-pending", output.function_urls["API"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "*/5 * * * *"]
      retention       = ["${output.function_urls["API"]}/api/v1/scheduler/jobs/retention/run", output.function_urls["API"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "17 3 * * *"]
      scan            = ["${output.function_urls["RunSchedulerJob"]}/?name=scan", output.function_urls["RunSchedulerJob"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "23 */6 * * *"]
      batch-create    = ["${output.function_urls["RunSchedulerJob"]}/?name=batch-create", output.function_urls["RunSchedulerJob"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "41 * * * *"]
      cleanup-backups = ["${output.function_urls["RunSchedulerJob"]}/?name=cleanup-backups", output.function_urls["RunSchedulerJob"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "53 * * * *"]
      dispatch        = ["${output.function_urls["RunSchedulerJob"]}/?name=dispatch", output.function_urls["RunSchedulerJob"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "2-59/5 * * * *"]
      resume-requeued = ["${output.function_urls["RunSchedulerJob"]}/?name=resume-requeued", output.function_urls["RunSchedulerJob"], "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com", "3-59/5 * * * *"]
    }
    error_message = "Each job must call its function's URL with the scheduler account's ID token for that URL, on its schedule"
  }
  assert {
    condition     = output.functions["RunSchedulerJob"].timeout_seconds == 3600 && output.functions["RunSchedulerJob"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "RunSchedulerJob must run long jobs for up to 3600 s and accept the scheduler account's ID tokens as an operator"
  }
  assert {
    condition     = output.scheduler_jobs["check-pending"].oidc_service_account == "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com" && output.scheduler_jobs["check-pending"].oidc_audience == output.function_urls["API"]
    error_message = "check-pending must send the scheduler account's ID token for the API's URL"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-dev-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "The API must give the scheduler account the operator role (check-pending needs it)"
  }
}
