# What the prod environment deploys. The module's defaults themselves (the
# API's settings, the check-pending job, accounts, network) are asserted in
# modules/hivemerge/tests/wiring.tftest.hcl; here: what prod deploys, its own
# settings, and that the scheduler's identity is wired through this root.

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
    email  = "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com"
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
    error_message = "prod must deploy API, ExecuteTask, RunSchedulerJob, PreviewTask, PreviewMerge and RollbackTask, and the check-pending, retention, scan, batch-create, cleanup-backups, dispatch and resume-requeued jobs"
  }
  assert {
    condition     = output.functions["API"].name == "hivemerge-prod-api" && output.functions["ExecuteTask"].name == "hivemerge-prod-execute-task" && toset(keys(output.service_accounts)) == toset(["api", "executor", "scheduler", "builder"])
    error_message = "prod must name its resources hivemerge-prod-* and create the executor account for ExecuteTask"
  }
  assert {
    condition     = output.functions["ExecuteTask"].timeout_seconds == 3600 && output.functions["ExecuteTask"].concurrency == 1 && output.functions["ExecuteTask"].environment["HIVEMERGE_EXECUTE_MODE"] == "sync"
    error_message = "prod's ExecuteTask must run one task per instance, synchronously, for up to 3600 s"
  }
  assert {
    condition     = output.functions["ExecuteTask"].environment["HIVEMERGE_OIDC_ROLES"] == "${output.service_accounts["api"]}:operator" && output.functions["API"].environment["HIVEMERGE_EXECUTE_MODE"] == "remote" && output.functions["RunSchedulerJob"].environment["HIVEMERGE_EXECUTE_MODE"] == "remote"
    error_message = "prod's API and RunSchedulerJob must hand tasks to ExecuteTask, which accepts the api account's ID tokens as an operator"
  }
  assert {
    condition     = alltrue([for k in ["PreviewTask", "PreviewMerge", "RollbackTask"] : output.functions[k].environment["HIVEMERGE_LOG_LEVEL"] == output.functions["API"].environment["HIVEMERGE_LOG_LEVEL"] && output.functions[k].concurrency == 10])
    error_message = "prod's API-like functions must share the API's environment and keep the module's sizing"
  }
}

run "prod_sizing" {
  assert {
    condition     = output.functions["API"].concurrency == 40 && output.functions["API"].min_instances == 1 && output.functions["API"].max_instances == 20
    error_message = "prod must size the API for load: concurrency 40, 1-20 instances"
  }
  assert {
    condition     = output.functions["ExecuteTask"].max_instances == 20 && output.functions["ExecuteTask"].min_instances == 0 && output.functions["ExecuteTask"].memory == "1Gi" && output.functions["ExecuteTask"].timeout_seconds == 3600
    error_message = "prod must allow 20 ExecuteTask instances and keep the module's other ExecuteTask settings"
  }
  assert {
    condition     = output.functions["PreviewTask"].max_instances == 5 && output.functions["PreviewTask"].min_instances == 0
    error_message = "prod's sizing must leave the functions it does not name alone"
  }
  assert {
    condition     = output.functions["API"].memory == "512Mi" && output.functions["API"].cpu == "1" && output.functions["API"].timeout_seconds == 300
    error_message = "prod's sizing must keep the module's other API settings"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_LOG_LEVEL"] == "info" && output.functions["API"].environment["HIVEMERGE_ENV"] == "prod"
    error_message = "prod must log at info level"
  }
}

run "scheduler_is_an_operator_on_the_api" {
  assert {
    condition = {
      for k, j in output.scheduler_jobs : k => [j.uri, j.oidc_audience, j.oidc_service_account, j.schedule]
      } == {
      check-pending   = ["${output.function_urls["API"]}/api/v1/scheduler/check-pending", output.function_urls["API"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "*/5 * * * *"]
      retention       = ["${output.function_urls["API"]}/api/v1/scheduler/jobs/retention/run", output.function_urls["API"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "17 3 * * *"]
      scan            = ["${output.function_urls["RunSchedulerJob"]}/?name=scan", output.function_urls["RunSchedulerJob"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "23 */6 * * *"]
      batch-create    = ["${output.function_urls["RunSchedulerJob"]}/?name=batch-create", output.function_urls["RunSchedulerJob"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "41 * * * *"]
      cleanup-backups = ["${output.function_urls["RunSchedulerJob"]}/?name=cleanup-backups", output.function_urls["RunSchedulerJob"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "53 * * * *"]
      dispatch        = ["${output.function_urls["RunSchedulerJob"]}/?name=dispatch", output.function_urls["RunSchedulerJob"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "2-59/5 * * * *"]
      resume-requeued = ["${output.function_urls["RunSchedulerJob"]}/?name=resume-requeued", output.function_urls["RunSchedulerJob"], "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com", "3-59/5 * * * *"]
    }
    error_message = "Each job must call its function's URL with the scheduler account's ID token for that URL, on its schedule"
  }
  assert {
    condition     = output.functions["RunSchedulerJob"].timeout_seconds == 3600 && output.functions["RunSchedulerJob"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "RunSchedulerJob must run long jobs for up to 3600 s and accept the scheduler account's ID tokens as an operator"
  }
  assert {
    condition     = output.scheduler_jobs["check-pending"].oidc_service_account == "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com" && output.scheduler_jobs["check-pending"].oidc_audience == output.function_urls["API"]
    error_message = "check-pending must send the scheduler account's ID token for the API's URL"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "The API must give the scheduler account the operator role (check-pending needs it)"
  }
}

run "a_functions_map_replaces_the_default" {
  variables {
    functions = {
      API     = { service_account = "api", cpu = "1", concurrency = 10, oidc_roles = { scheduler = "operator" } }
      GetTask = { service_account = "api" }
    }
    # The default jobs call RunSchedulerJob, which this map leaves out.
    scheduler_jobs = {
      check-pending = { schedule = "*/5 * * * *", target_function = "API", http_path = "/api/v1/scheduler/check-pending" }
    }
  }
  assert {
    condition     = toset(keys(output.function_urls)) == toset(["API", "GetTask"])
    error_message = "A functions map must replace the default map"
  }
  assert {
    condition     = output.functions["API"].concurrency == 10 && output.functions["API"].min_instances == 0 && output.functions["API"].max_instances == 10
    error_message = "A functions map must be deployed as written, without this environment's sizing"
  }
}
