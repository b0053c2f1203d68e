# Cloud Scheduler limits and targets are checked at plan time.

mock_provider "google" {}

variables {
  project_id            = "test-project"
  region                = "europe-west1"
  name_prefix           = "hivemerge-test"
  service_account_email = "scheduler@test-project.iam.gserviceaccount.com"
  functions = {
    API = {
      url     = "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
      service = "hivemerge-test-api"
    }
  }
  jobs = {
    check-pending = {
      schedule        = "*/5 * * * *"
      target_function = "API"
      http_path       = "/api/v1/scheduler/check-pending"
    }
  }
}

run "job_targets_the_function_url" {
  command = plan

  assert {
    condition     = google_cloud_scheduler_job.this["check-pending"].http_target[0].uri == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api/api/v1/scheduler/check-pending"
    error_message = "The job must call the function URL plus the path"
  }
  assert {
    condition     = google_cloud_scheduler_job.this["check-pending"].http_target[0].oidc_token[0].service_account_email == "scheduler@test-project.iam.gserviceaccount.com"
    error_message = "The job must use an OIDC token of the scheduler account"
  }
  assert {
    condition     = google_cloud_scheduler_job.this["check-pending"].http_target[0].oidc_token[0].audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
    error_message = "The OIDC audience must be the function URL"
  }
  assert {
    condition     = google_cloud_scheduler_job.this["check-pending"].name == "hivemerge-test-check-pending"
    error_message = "Job names must carry the prefix"
  }
  assert {
    condition     = google_cloud_run_v2_service_iam_member.invoker["API"].name == "hivemerge-test-api" && google_cloud_run_v2_service_iam_member.invoker["API"].role == "roles/run.invoker"
    error_message = "The scheduler account must be allowed to invoke the target service"
  }
}

# The retention job calls the scheduler's generic job endpoint; the scheduler
# account's ID token for the function URL authenticates it.
run "retention_job_calls_the_job_endpoint" {
  command = plan

  variables {
    jobs = {
      retention = {
        schedule        = "17 3 * * *"
        target_function = "API"
        http_path       = "/api/v1/scheduler/jobs/retention/run"
      }
    }
  }

  assert {
    condition     = google_cloud_scheduler_job.this["retention"].http_target[0].uri == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api/api/v1/scheduler/jobs/retention/run"
    error_message = "The retention job must call /api/v1/scheduler/jobs/retention/run on the function URL"
  }
  assert {
    condition     = google_cloud_scheduler_job.this["retention"].http_target[0].http_method == "POST" && google_cloud_scheduler_job.this["retention"].schedule == "17 3 * * *"
    error_message = "The retention job must POST daily at 03:17"
  }
  assert {
    condition = (
      google_cloud_scheduler_job.this["retention"].http_target[0].oidc_token[0].service_account_email == "scheduler@test-project.iam.gserviceaccount.com" &&
      google_cloud_scheduler_job.this["retention"].http_target[0].oidc_token[0].audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
    )
    error_message = "The retention job must send an OIDC token of the scheduler account for the function URL"
  }
}

# The scan and batch-create jobs call the same job endpoint with the scheduler
# account's ID token for the function URL.
run "policy_jobs_call_the_job_endpoint" {
  command = plan

  variables {
    jobs = {
      scan = {
        schedule                 = "23 */6 * * *"
        target_function          = "API"
        http_path                = "/api/v1/scheduler/jobs/scan/run"
        attempt_deadline_seconds = 1800
      }
      batch-create = {
        schedule        = "41 * * * *"
        target_function = "API"
        http_path       = "/api/v1/scheduler/jobs/batch-create/run"
      }
    }
  }

  assert {
    condition = (
      google_cloud_scheduler_job.this["scan"].http_target[0].uri == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api/api/v1/scheduler/jobs/scan/run" &&
      google_cloud_scheduler_job.this["batch-create"].http_target[0].uri == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api/api/v1/scheduler/jobs/batch-create/run"
    )
    error_message = "The scan and batch-create jobs must call their /api/v1/scheduler/jobs/<name>/run on the function URL"
  }
  assert {
    condition = (
      google_cloud_scheduler_job.this["scan"].schedule == "23 */6 * * *" && google_cloud_scheduler_job.this["scan"].attempt_deadline == "1800s" &&
      google_cloud_scheduler_job.this["batch-create"].schedule == "41 * * * *" && google_cloud_scheduler_job.this["batch-create"].http_target[0].http_method == "POST"
    )
    error_message = "scan must run every 6 hours with a 30 minute deadline, batch-create hourly by POST"
  }
  assert {
    condition = alltrue([for j in ["scan", "batch-create"] : (
      google_cloud_scheduler_job.this[j].http_target[0].oidc_token[0].service_account_email == "scheduler@test-project.iam.gserviceaccount.com" &&
      google_cloud_scheduler_job.this[j].http_target[0].oidc_token[0].audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
    )])
    error_message = "The scan and batch-create jobs must send an OIDC token of the scheduler account for the function URL"
  }
}

# Long jobs call RunSchedulerJob's URL with ?name=<job>; the token's audience
# is that function's URL alone, which is what the function checks, and the
# scheduler account may invoke each function a job calls.
run "long_jobs_call_run_scheduler_job" {
  command = plan

  variables {
    functions = {
      API = {
        url     = "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
        service = "hivemerge-test-api"
      }
      RunSchedulerJob = {
        url     = "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-run-scheduler-job"
        service = "hivemerge-test-run-scheduler-job"
      }
    }
    jobs = {
      check-pending = {
        schedule        = "*/5 * * * *"
        target_function = "API"
        http_path       = "/api/v1/scheduler/check-pending"
      }
      dispatch = {
        schedule        = "2-59/5 * * * *"
        target_function = "RunSchedulerJob"
        http_path       = "/?name=dispatch"
        retry_count     = 0
      }
    }
  }

  assert {
    condition     = google_cloud_scheduler_job.this["dispatch"].http_target[0].uri == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-run-scheduler-job/?name=dispatch" && google_cloud_scheduler_job.this["dispatch"].schedule == "2-59/5 * * * *"
    error_message = "dispatch must call RunSchedulerJob's URL with ?name=dispatch, every 5 minutes from :02"
  }
  assert {
    condition     = google_cloud_scheduler_job.this["dispatch"].http_target[0].oidc_token[0].audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-run-scheduler-job" && google_cloud_scheduler_job.this["check-pending"].http_target[0].oidc_token[0].audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
    error_message = "Each job's OIDC audience must be the URL of the function it calls, without path or query"
  }
  assert {
    condition     = toset(keys(google_cloud_run_v2_service_iam_member.invoker)) == toset(["API", "RunSchedulerJob"]) && google_cloud_run_v2_service_iam_member.invoker["RunSchedulerJob"].name == "hivemerge-test-run-scheduler-job"
    error_message = "The scheduler account must get roles/run.invoker on every function a job calls"
  }
}

run "attempt_deadline_above_30_minutes_is_refused" {
  command = plan

  variables {
    jobs = {
      check-pending = {
        schedule                 = "*/5 * * * *"
        target_function          = "API"
        attempt_deadline_seconds = 1801
      }
    }
  }

  expect_failures = [var.jobs]
}

run "unknown_target_function_is_refused" {
  command = plan

  variables {
    jobs = {
      check-pending = {
        schedule        = "*/5 * * * *"
        target_function = "ExecuteTask"
      }
    }
  }

  expect_failures = [var.jobs]
}

run "malformed_schedule_is_refused" {
  command = plan

  variables {
    jobs = {
      check-pending = {
        schedule        = "every 5 minutes"
        target_function = "API"
      }
    }
  }

  expect_failures = [var.jobs]
}

run "invalid_json_body_is_refused" {
  command = plan

  variables {
    jobs = {
      batch-create = {
        schedule        = "0 2 * * *"
        target_function = "API"
        body            = "{not json"
      }
    }
  }

  expect_failures = [var.jobs]
}
