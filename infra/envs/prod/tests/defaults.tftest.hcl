# The prod environment's defaults: the API function only and the check-pending
# job calling it. ExecuteTask and the batch-create job come with the merge
# engine and must not be deployed before the code registers them.

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
    email  = "hivemerge-prod-api@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-prod-api@test-project.iam.gserviceaccount.com"
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
  secret_values       = {}
}

run "default_functions_and_jobs" {
  assert {
    condition     = toset(keys(output.function_urls)) == toset(["API"])
    error_message = "prod must deploy the API function only (ExecuteTask comes with the merge engine)"
  }
  assert {
    condition     = toset(keys(output.scheduler_jobs)) == toset(["check-pending"])
    error_message = "prod must schedule check-pending only (batch-create comes with the merge engine)"
  }
  assert {
    condition     = output.scheduler_jobs["check-pending"].uri == "${output.function_urls["API"]}/api/v1/scheduler/check-pending" && output.scheduler_jobs["check-pending"].schedule == "*/5 * * * *"
    error_message = "check-pending must call the API every 5 minutes"
  }
  assert {
    condition     = output.functions["API"].ingress == "ALLOW_INTERNAL_AND_GCLB" && output.functions["API"].service_account == "hivemerge-prod-api@test-project.iam.gserviceaccount.com"
    error_message = "The API stays internal (and load balancer) and runs as the api account"
  }
}

run "scheduler_is_an_operator_on_the_api" {
  assert {
    condition     = output.scheduler_jobs["check-pending"].oidc_service_account == "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com" && output.scheduler_jobs["check-pending"].oidc_audience == output.function_urls["API"]
    error_message = "check-pending must send the scheduler account's ID token for the API's URL"
  }
  assert {
    condition     = output.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-prod-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "The API must give the scheduler account the operator role (check-pending needs it)"
  }
}

run "no_executor_without_execute_task" {
  # Project roles and secret grants follow the accounts; the hivemerge
  # module's wiring tests check them for an API-only deployment.
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["api", "scheduler", "builder"])
    error_message = "prod must create the api, scheduler and builder accounts, and no executor account while nothing runs as it"
  }
  assert {
    condition     = !contains(keys(jsondecode(output.functions["API"].environment["HIVEMERGE_FUNCTION_URLS"])), "ExecuteTask")
    error_message = "The API must not be told about an ExecuteTask function that is not deployed"
  }
}
