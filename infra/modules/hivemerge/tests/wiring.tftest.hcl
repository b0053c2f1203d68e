# Wiring of a whole deployment, applied against a mocked google provider (no
# credentials, no network): which account runs which function, which URLs the
# scheduler calls with whose OIDC tokens, ingress, invokers, indexes and
# write-only secrets.

mock_provider "google" {
  # Computed attributes the provider would derive; the mock's random strings
  # are not valid e-mails.
  mock_resource "google_service_account" {
    defaults = {
      email  = "mock@test-project.iam.gserviceaccount.com"
      member = "serviceAccount:mock@test-project.iam.gserviceaccount.com"
    }
  }
}

override_resource {
  target = module.iam.google_service_account.this["api"]
  values = {
    email  = "hivemerge-test-api@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-test-api@test-project.iam.gserviceaccount.com"
    id     = "projects/test-project/serviceAccounts/hivemerge-test-api@test-project.iam.gserviceaccount.com"
  }
}

override_resource {
  target = module.iam.google_service_account.this["executor"]
  values = {
    email  = "hivemerge-test-executor@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-test-executor@test-project.iam.gserviceaccount.com"
    id     = "projects/test-project/serviceAccounts/hivemerge-test-executor@test-project.iam.gserviceaccount.com"
  }
}

override_resource {
  target = module.iam.google_service_account.this["scheduler"]
  values = {
    email  = "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-test-scheduler@test-project.iam.gserviceaccount.com"
    id     = "projects/test-project/serviceAccounts/hivemerge-test-scheduler@test-project.iam.gserviceaccount.com"
  }
}

override_resource {
  target = module.iam.google_service_account.this["builder"]
  values = {
    email  = "hivemerge-test-builder@test-project.iam.gserviceaccount.com"
    member = "serviceAccount:hivemerge-test-builder@test-project.iam.gserviceaccount.com"
    id     = "projects/test-project/serviceAccounts/hivemerge-test-builder@test-project.iam.gserviceaccount.com"
  }
}

variables {
  project_id          = "test-project"
  region              = "europe-west1"
  environment         = "test"
  name_prefix         = "hivemerge-test"
  source_archive_path = "tests/testdata/function-source.zip"
  network             = "default"
  firestore_location  = "eur3"

  functions = {
    API = {
      service_account = "api"
      cpu             = "1"
      concurrency     = 20
      secret_env      = { HIVEMERGE_SECRET_HIVE_PASSWORD = "hive-password" }
      oidc_roles      = { scheduler = "operator" }
    }
    ExecuteTask = {
      service_account = "executor"
      memory          = "1Gi"
      timeout_seconds = 3600
      invoker_roles   = ["api"]
      oidc_roles      = { api = "operator" }
      secret_env      = { HIVEMERGE_SECRET_HIVE_PASSWORD = "hive-password" }
      secret_volumes  = { "/etc/hivemerge/keytab" = { secret = "hive-keytab", file = "hive.keytab" } }
    }
  }

  secrets = {
    hive-password = { value_version = 1 }
    hive-keytab   = { value_version = 2, base64 = true }
    ldap-password = { accessors = ["api"] }
  }
  secret_values = {
    hive-password = "not-a-real-password"
    hive-keytab   = "a2V5dGFi"
  }

  scheduler_jobs = {
    check-pending = {
      schedule                 = "*/5 * * * *"
      target_function          = "API"
      http_path                = "/api/v1/scheduler/check-pending"
      attempt_deadline_seconds = 300
    }
    batch-create = {
      schedule        = "0 2 * * *"
      time_zone       = "Europe/Berlin"
      target_function = "API"
      http_path       = "/api/v1/scheduler/batch-create"
      body            = "{\"max_tasks\": 10}"
    }
  }
}

run "functions_run_as_their_own_accounts" {
  assert {
    condition     = module.functions.functions["API"].service_account == "hivemerge-test-api@test-project.iam.gserviceaccount.com"
    error_message = "API must run as the api service account"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].service_account == "hivemerge-test-executor@test-project.iam.gserviceaccount.com"
    error_message = "ExecuteTask must run as the executor service account"
  }
  assert {
    condition     = output.functions["ExecuteTask"].name == "hivemerge-test-execute-task"
    error_message = "ExecuteTask's function name must be <prefix>-execute-task"
  }
  assert {
    condition     = output.service_accounts["scheduler"] == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com"
    error_message = "The scheduler account must be exported"
  }
}

run "functions_build_and_limits" {
  assert {
    condition     = alltrue([for k, f in module.functions.functions : f.entry_point == k && f.runtime == "go126"])
    error_message = "Every function must build its own entry point on go126"
  }
  assert {
    condition     = alltrue([for _, f in module.functions.functions : f.build_service_account == "projects/test-project/serviceAccounts/hivemerge-test-builder@test-project.iam.gserviceaccount.com"])
    error_message = "Builds must run as the builder account"
  }
  assert {
    condition     = length(distinct([for _, f in module.functions.functions : "${f.source_bucket}/${f.source_object}"])) == 1
    error_message = "All functions must be built from one source archive"
  }
  assert {
    condition     = endswith(module.functions.source_object, "-${filemd5("tests/testdata/function-source.zip")}.zip")
    error_message = "The source object name must carry the archive's MD5 so that a new build redeploys"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].timeout_seconds == 3600
    error_message = "ExecuteTask must get the 60 minute HTTP maximum"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].memory == "1Gi" && module.functions.functions["API"].concurrency == 20
    error_message = "Per-function memory and concurrency not applied"
  }
  assert {
    condition     = jsondecode(module.functions.functions["API"].environment["HIVEMERGE_FUNCTION_URLS"])["ExecuteTask"] == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-execute-task"
    error_message = "The API must learn ExecuteTask's URL"
  }
  assert {
    condition     = module.functions.functions["API"].environment["HIVEMERGE_FIRESTORE_DATABASE"] == "(default)" && module.functions.functions["API"].environment["GOOGLE_CLOUD_PROJECT"] == "test-project" && module.functions.functions["API"].environment["HIVEMERGE_STORE"] == "firestore"
    error_message = "Functions must get the project and the Firestore database id"
  }
}

run "ingress_defaults_to_internal_and_load_balancer" {
  assert {
    condition     = alltrue([for _, f in module.functions.functions : f.ingress == "ALLOW_INTERNAL_AND_GCLB"])
    error_message = "Functions must default to ALLOW_INTERNAL_AND_GCLB ingress"
  }
}

run "functions_reach_hive_through_the_vpc" {
  assert {
    condition     = alltrue([for _, f in module.functions.functions : f.vpc_connector == module.network.vpc_access.connector && f.vpc_connector != null && f.vpc_connector_egress == "PRIVATE_RANGES_ONLY"])
    error_message = "Functions must egress to private ranges through the connector"
  }
  assert {
    condition     = join(",", module.network.firewall.tcp_ports) == "10000,8020"
    error_message = "The firewall must open HiveServer2 (10000) and the NameNode (8020)"
  }
  assert {
    condition     = join(",", module.network.firewall.source_ranges) == "10.8.0.0/28" && join(",", module.network.firewall.target_tags) == "hive"
    error_message = "The firewall must admit the connector's range to the Hive VMs only"
  }
}

run "scheduler_calls_function_urls_with_its_own_oidc_token" {
  assert {
    condition     = module.scheduler.jobs["check-pending"].uri == "${module.functions.functions["API"].url}/api/v1/scheduler/check-pending"
    error_message = "check-pending must call the API function's /api/v1/scheduler/check-pending"
  }
  assert {
    condition     = module.scheduler.jobs["batch-create"].uri == "${module.functions.functions["API"].url}/api/v1/scheduler/batch-create"
    error_message = "batch-create must call the API function's /api/v1/scheduler/batch-create"
  }
  assert {
    condition     = alltrue([for _, j in module.scheduler.jobs : j.oidc_service_account == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com" && !j.uses_oauth_token])
    error_message = "Jobs must authenticate with OIDC tokens of the scheduler account"
  }
  assert {
    condition     = alltrue([for _, j in module.scheduler.jobs : j.oidc_audience == module.functions.functions["API"].url])
    error_message = "The OIDC audience must be the target function's URL"
  }
  assert {
    condition     = module.functions.functions["API"].oidc_audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-api"
    error_message = "The API must expect ID tokens minted for its own URL"
  }
  assert {
    condition     = module.functions.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "The API must give the scheduler account the operator role"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-api@test-project.iam.gserviceaccount.com:operator"
    error_message = "ExecuteTask must give the api account the operator role"
  }
  assert {
    condition     = alltrue([for _, j in module.scheduler.jobs : j.http_method == "POST"])
    error_message = "Jobs must POST"
  }
  assert {
    condition     = module.scheduler.jobs["batch-create"].time_zone == "Europe/Berlin" && module.scheduler.jobs["check-pending"].time_zone == "Etc/UTC"
    error_message = "Job time zones: the job's own, else the default"
  }
  assert {
    condition     = module.scheduler.jobs["check-pending"].schedule == "*/5 * * * *" && module.scheduler.jobs["batch-create"].schedule == "0 2 * * *"
    error_message = "Schedules not applied"
  }
  assert {
    condition     = module.scheduler.jobs["batch-create"].body == "{\"max_tasks\": 10}" && module.scheduler.jobs["check-pending"].body == "{}"
    error_message = "Job bodies must be the configured JSON"
  }
  assert {
    condition     = alltrue([for _, j in module.scheduler.jobs : tonumber(trimsuffix(j.attempt_deadline, "s")) <= 1800])
    error_message = "Attempt deadlines must not exceed 1800s"
  }
}

run "remote_mode_needs_execute_task" {
  command = plan

  variables {
    functions = {
      API = { service_account = "api", environment = { HIVEMERGE_EXECUTE_MODE = "remote" }, oidc_roles = { scheduler = "operator" } }
    }
    scheduler_jobs = {}
  }

  expect_failures = [var.functions]
}

run "run_invoker_only_where_needed" {
  assert {
    condition     = join(",", keys(module.scheduler.invokers)) == "API"
    error_message = "The scheduler account may invoke only the functions its jobs call"
  }
  assert {
    condition     = module.scheduler.invokers["API"].member == "serviceAccount:hivemerge-test-scheduler@test-project.iam.gserviceaccount.com" && module.scheduler.invokers["API"].role == "roles/run.invoker"
    error_message = "The scheduler account must get roles/run.invoker on the API function"
  }
  assert {
    condition     = module.scheduler.invokers["API"].service == module.functions.functions["API"].service
    error_message = "The scheduler's invoker grant must be on the API function's Cloud Run service"
  }
  assert {
    condition     = join(",", keys(module.functions.invokers)) == "ExecuteTask/api"
    error_message = "Only the api account may invoke ExecuteTask, and nobody else gets invoker grants"
  }
  assert {
    condition     = module.functions.invokers["ExecuteTask/api"].service == module.functions.functions["ExecuteTask"].service && module.functions.invokers["ExecuteTask/api"].member == "serviceAccount:hivemerge-test-api@test-project.iam.gserviceaccount.com"
    error_message = "The api account's invoker grant must be on ExecuteTask's service"
  }
}

run "least_privilege_project_roles" {
  assert {
    condition = toset(module.iam.project_roles) == toset([
      "api/roles/datastore.user",
      "executor/roles/datastore.user",
      "builder/roles/cloudbuild.builds.builder",
    ])
    error_message = "Project roles must be datastore.user for api and executor, the build role for builder, nothing else"
  }
}

run "accounts_only_for_what_uses_them" {
  # Without ExecuteTask (a functions map may leave it out) nothing runs as the
  # executor account: it must not exist, nor hold roles or secret grants.
  variables {
    functions = {
      API = { service_account = "api", oidc_roles = { scheduler = "operator" } }
    }
    secrets = {
      hive-password = { accessors = ["api"] }
    }
  }
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["api", "scheduler", "builder"])
    error_message = "Only the accounts something uses may be created (no executor without ExecuteTask)"
  }
  assert {
    condition     = toset(module.iam.project_roles) == toset(["api/roles/datastore.user", "builder/roles/cloudbuild.builds.builder"])
    error_message = "No project role may be granted to an account that is not created"
  }
  assert {
    condition     = toset(keys(module.secrets.accessors)) == toset(["hive-password/api"])
    error_message = "Secret grants must follow the accessors"
  }
}

run "an_account_named_by_a_secret_is_created" {
  variables {
    functions = {
      API = { service_account = "api" }
    }
    secrets = {
      hive-password = { accessors = ["executor"] }
    }
  }
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["api", "executor", "scheduler", "builder"])
    error_message = "A secret's accessor must exist"
  }
  assert {
    condition     = module.secrets.accessors["hive-password/executor"].member == "serviceAccount:hivemerge-test-executor@test-project.iam.gserviceaccount.com"
    error_message = "The executor account must read the secret that names it"
  }
}

run "secrets_are_write_only_and_scoped" {
  assert {
    condition     = alltrue([for _, v in module.secrets.versions : v.write_only])
    error_message = "Secret payloads must go through secret_data_wo and never reach the state"
  }
  assert {
    condition     = module.secrets.versions["hive-keytab"].wo_version == "2" && module.secrets.versions["hive-keytab"].base64
    error_message = "The keytab version must be written base64 with its version number"
  }
  assert {
    condition     = !contains(keys(module.secrets.versions), "ldap-password")
    error_message = "Secrets without value_version get no Terraform-managed version"
  }
  assert {
    condition = toset(keys(module.secrets.accessors)) == toset([
      "hive-password/api",
      "hive-password/executor",
      "hive-keytab/executor",
      "ldap-password/api",
    ])
    error_message = "secretAccessor must be granted only on the secrets each account uses"
  }
  assert {
    condition     = alltrue([for _, a in module.secrets.accessors : a.role == "roles/secretmanager.secretAccessor"])
    error_message = "Secret grants must be secretAccessor"
  }
  assert {
    condition     = module.secrets.accessors["hive-keytab/executor"].member == "serviceAccount:hivemerge-test-executor@test-project.iam.gserviceaccount.com" && module.secrets.accessors["hive-keytab/executor"].secret == "hivemerge-test-hive-keytab"
    error_message = "The executor account must read the keytab secret"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].secret_volumes == { "/etc/hivemerge/keytab" = "hivemerge-test-hive-keytab" }
    error_message = "ExecuteTask must mount the keytab secret"
  }
  assert {
    condition     = module.functions.functions["API"].secret_env == { HIVEMERGE_SECRET_HIVE_PASSWORD = "hivemerge-test-hive-password" }
    error_message = "API must get HIVEMERGE_SECRET_HIVE_PASSWORD from the hive-password secret"
  }
}

run "an_index_for_every_listed_query" {
  assert {
    condition     = length(module.firestore.indexes) == length(jsondecode(file("../firestore/indexes.json")))
    error_message = "Every entry of indexes.json must become a google_firestore_index, and nothing else"
  }
  assert {
    condition = alltrue([
      for ix in jsondecode(file("../firestore/indexes.json")) :
      contains(module.firestore.indexes, {
        collection  = ix.collection
        query_scope = "COLLECTION"
        fields      = [for f in ix.fields : { path = f.path, order = try(f.descending, false) ? "DESCENDING" : "ASCENDING" }]
      })
    ])
    error_message = "An index listed in indexes.json has no matching google_firestore_index"
  }
  assert {
    condition     = contains(output.firestore_indexes, "tasks:status:asc,created_at:desc")
    error_message = "The status + created_at desc index on tasks must exist"
  }
  assert {
    condition     = module.firestore.unindexed_fields == sort([for f in jsondecode(file("../firestore/unindexed.json")) : "${f.collection}.${f.field}"]) && contains(module.firestore.unindexed_fields, "backups.snapshot")
    error_message = "Every field of unindexed.json must be exempted from indexing (backups.snapshot among them)"
  }
}

# The module's defaults, which every environment deploys unless it says
# otherwise: null inputs (what the environments pass for settings left unset)
# take them.
run "defaults_deploy_the_functions_and_jobs" {
  variables {
    functions        = null
    scheduler_jobs   = null
    secrets          = null
    secret_values    = {}
    network          = null
    hive_target_tags = null
    connector        = null
  }
  assert {
    condition     = toset(keys(module.functions.functions)) == toset(["API", "ExecuteTask", "RunSchedulerJob", "PreviewTask", "PreviewMerge", "RollbackTask"]) && toset(keys(module.scheduler.jobs)) == toset(["check-pending", "retention", "scan", "batch-create", "cleanup-backups", "dispatch", "resume-requeued"])
    error_message = "The defaults must deploy API, ExecuteTask, RunSchedulerJob, PreviewTask, PreviewMerge and RollbackTask, and the check-pending, retention, scan, batch-create, cleanup-backups, dispatch and resume-requeued jobs only"
  }
  # Short jobs call the API, long ones RunSchedulerJob (3600 s) as
  # /?name=<job>, each with the scheduler account's ID token for the URL of
  # the function it calls.
  assert {
    condition = {
      for k, j in module.scheduler.jobs : k => [j.uri, j.oidc_audience, j.oidc_service_account, j.schedule]
      } == {
      check-pending   = ["${module.functions.functions["API"].url}/api/v1/scheduler/check-pending", module.functions.functions["API"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "*/5 * * * *"]
      retention       = ["${module.functions.functions["API"].url}/api/v1/scheduler/jobs/retention/run", module.functions.functions["API"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "17 3 * * *"]
      scan            = ["${module.functions.functions["RunSchedulerJob"].url}/?name=scan", module.functions.functions["RunSchedulerJob"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "23 */6 * * *"]
      batch-create    = ["${module.functions.functions["RunSchedulerJob"].url}/?name=batch-create", module.functions.functions["RunSchedulerJob"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "41 * * * *"]
      cleanup-backups = ["${module.functions.functions["RunSchedulerJob"].url}/?name=cleanup-backups", module.functions.functions["RunSchedulerJob"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "53 * * * *"]
      dispatch        = ["${module.functions.functions["RunSchedulerJob"].url}/?name=dispatch", module.functions.functions["RunSchedulerJob"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "2-59/5 * * * *"]
      resume-requeued = ["${module.functions.functions["RunSchedulerJob"].url}/?name=resume-requeued", module.functions.functions["RunSchedulerJob"].url, "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com", "3-59/5 * * * *"]
    }
    error_message = "Each default job must call its function's URL with the scheduler account's ID token for that URL, on its schedule"
  }
  assert {
    condition = (
      module.functions.functions["RunSchedulerJob"].name == "hivemerge-test-run-scheduler-job" &&
      module.functions.functions["RunSchedulerJob"].oidc_audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-run-scheduler-job" &&
      module.functions.functions["RunSchedulerJob"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com:operator" &&
      module.functions.functions["RunSchedulerJob"].service_account == "hivemerge-test-api@test-project.iam.gserviceaccount.com" &&
      module.functions.functions["RunSchedulerJob"].timeout_seconds == 3600 && module.functions.functions["RunSchedulerJob"].ingress == "ALLOW_INTERNAL_AND_GCLB"
    )
    error_message = "RunSchedulerJob: api account, 3600 s, internal and load balancer ingress, accepting the scheduler account's ID tokens for its own URL as an operator"
  }
  assert {
    condition     = alltrue([for j in ["dispatch", "resume-requeued"] : module.scheduler.jobs[j].attempt_deadline == "600s" && module.scheduler.jobs[j].retry_count == 0 && module.scheduler.jobs[j].http_method == "POST" && !module.scheduler.jobs[j].uses_oauth_token])
    error_message = "dispatch and resume-requeued: POST, 600 s deadline, no retries (the next run retries), OIDC"
  }
  assert {
    condition = (
      module.scheduler.jobs["scan"].uri == "${module.functions.functions["RunSchedulerJob"].url}/?name=scan" &&
      module.scheduler.jobs["scan"].http_method == "POST" && module.scheduler.jobs["scan"].schedule == "23 */6 * * *" &&
      module.scheduler.jobs["scan"].time_zone == "Etc/UTC" &&
      module.scheduler.jobs["scan"].attempt_deadline == "1800s" && module.scheduler.jobs["scan"].retry_count == 0
    )
    error_message = "The default scan job must POST to RunSchedulerJob's ?name=scan every 6 hours at :23 UTC, 1800 s deadline, no retries"
  }
  assert {
    condition = (
      module.scheduler.jobs["batch-create"].uri == "${module.functions.functions["RunSchedulerJob"].url}/?name=batch-create" &&
      module.scheduler.jobs["batch-create"].http_method == "POST" && module.scheduler.jobs["batch-create"].schedule == "41 * * * *" &&
      module.scheduler.jobs["batch-create"].time_zone == "Etc/UTC" &&
      module.scheduler.jobs["batch-create"].attempt_deadline == "900s" && module.scheduler.jobs["batch-create"].retry_count == 1
    )
    error_message = "The default batch-create job must POST to RunSchedulerJob's ?name=batch-create hourly at :41 UTC, 900 s deadline, one retry"
  }
  assert {
    condition = (
      module.scheduler.jobs["cleanup-backups"].uri == "${module.functions.functions["RunSchedulerJob"].url}/?name=cleanup-backups" &&
      module.scheduler.jobs["cleanup-backups"].http_method == "POST" && module.scheduler.jobs["cleanup-backups"].schedule == "53 * * * *" &&
      module.scheduler.jobs["cleanup-backups"].time_zone == "Etc/UTC" &&
      module.scheduler.jobs["cleanup-backups"].attempt_deadline == "1800s" && module.scheduler.jobs["cleanup-backups"].retry_count == 0
    )
    error_message = "The default cleanup-backups job must POST to RunSchedulerJob's ?name=cleanup-backups hourly at :53 UTC, 1800 s deadline, no retries"
  }
  assert {
    condition = alltrue([for j in ["scan", "batch-create", "cleanup-backups"] : (
      module.scheduler.jobs[j].oidc_service_account == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com" &&
      module.scheduler.jobs[j].oidc_audience == module.functions.functions["RunSchedulerJob"].url && !module.scheduler.jobs[j].uses_oauth_token
    )])
    error_message = "The scan, batch-create and cleanup-backups jobs must send the scheduler account's ID token (OIDC) for RunSchedulerJob's URL"
  }
  assert {
    condition = (
      module.functions.functions["API"].service_account == "hivemerge-test-api@test-project.iam.gserviceaccount.com" &&
      module.functions.functions["API"].ingress == "ALLOW_INTERNAL_AND_GCLB" &&
      module.functions.functions["API"].memory == "512Mi" && module.functions.functions["API"].cpu == "1" &&
      module.functions.functions["API"].timeout_seconds == 300 && module.functions.functions["API"].concurrency == 20 &&
      module.functions.functions["API"].min_instances == 0 && module.functions.functions["API"].max_instances == 5
    )
    error_message = "The default API: api account, internal and load balancer ingress, 512Mi, 1 CPU, 300 s, concurrency 20, 0-5 instances"
  }
  assert {
    condition = (
      module.functions.functions["ExecuteTask"].service_account == "hivemerge-test-executor@test-project.iam.gserviceaccount.com" &&
      module.functions.functions["ExecuteTask"].timeout_seconds == 3600 && module.functions.functions["ExecuteTask"].concurrency == 1 &&
      module.functions.functions["ExecuteTask"].memory == "1Gi" && module.functions.functions["ExecuteTask"].cpu == "1" &&
      module.functions.functions["ExecuteTask"].min_instances == 0 && module.functions.functions["ExecuteTask"].max_instances == 5 &&
      module.functions.functions["ExecuteTask"].ingress == "ALLOW_INTERNAL_AND_GCLB"
    )
    error_message = "The default ExecuteTask: executor account, 3600 s (the HTTP maximum), one task per instance, 1Gi, 1 CPU, 0-5 instances, internal and load balancer ingress"
  }
  assert {
    condition = (
      module.functions.functions["ExecuteTask"].environment["HIVEMERGE_EXECUTE_MODE"] == "sync" &&
      alltrue([for k in ["API", "RunSchedulerJob"] : module.functions.functions[k].environment["HIVEMERGE_EXECUTE_MODE"] == "remote"])
    )
    error_message = "ExecuteTask must run tasks within its request (HIVEMERGE_EXECUTE_MODE=sync); the API and RunSchedulerJob hand them to it (remote)"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-api@test-project.iam.gserviceaccount.com:operator" && module.functions.functions["ExecuteTask"].oidc_audience == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-execute-task"
    error_message = "ExecuteTask must accept the api account's ID tokens (the API's and RunSchedulerJob's hand-offs) for its own URL as an operator"
  }
  assert {
    condition     = toset(keys(module.functions.invokers)) == toset(["ExecuteTask/api"]) && module.functions.invokers["ExecuteTask/api"].member == "serviceAccount:hivemerge-test-api@test-project.iam.gserviceaccount.com" && module.functions.invokers["ExecuteTask/api"].service == module.functions.functions["ExecuteTask"].service && toset(keys(module.scheduler.invokers)) == toset(["API", "RunSchedulerJob"])
    error_message = "By default only the api account may invoke ExecuteTask (the scheduler's jobs call the API and RunSchedulerJob), and no other function gets invoker grants"
  }
  assert {
    condition = alltrue([for k in ["PreviewTask", "PreviewMerge", "RollbackTask"] : (
      module.functions.functions[k].service_account == "hivemerge-test-api@test-project.iam.gserviceaccount.com" &&
      module.functions.functions[k].ingress == "ALLOW_INTERNAL_AND_GCLB" &&
      module.functions.functions[k].memory == "512Mi" && module.functions.functions[k].cpu == "1" &&
      module.functions.functions[k].concurrency == 10 && module.functions.functions[k].max_instances == 5 &&
      !contains(keys(module.functions.functions[k].environment), "HIVEMERGE_OIDC_ROLES") &&
      !contains(keys(module.functions.functions[k].environment), "HIVEMERGE_EXECUTE_MODE") &&
      module.functions.functions[k].oidc_audience == "https://europe-west1-test-project.cloudfunctions.net/${module.functions.functions[k].name}"
    )])
    error_message = "PreviewTask, PreviewMerge and RollbackTask must be API-like: api account, internal and load balancer ingress, 512Mi, 1 CPU, concurrency 10, at most 5 instances, no scheduler role"
  }
  assert {
    condition = (
      module.functions.functions["PreviewTask"].timeout_seconds == 300 && module.functions.functions["PreviewMerge"].timeout_seconds == 300 &&
      module.functions.functions["RollbackTask"].timeout_seconds == 900
    )
    error_message = "Previews get 300 s, a rollback 900 s"
  }
  assert {
    condition = (
      module.functions.functions["PreviewMerge"].name == "hivemerge-test-preview-merge" && module.functions.functions["RollbackTask"].name == "hivemerge-test-rollback-task" &&
      module.functions.functions["PreviewTask"].name == "hivemerge-test-preview-task" && module.functions.functions["ExecuteTask"].name == "hivemerge-test-execute-task"
    )
    error_message = "Function names must be <prefix>-<entry point in kebab case>"
  }
  assert {
    condition = (
      module.scheduler.jobs["check-pending"].uri == "${module.functions.functions["API"].url}/api/v1/scheduler/check-pending" &&
      module.scheduler.jobs["check-pending"].schedule == "*/5 * * * *" &&
      module.scheduler.jobs["check-pending"].attempt_deadline == "300s" && module.scheduler.jobs["check-pending"].retry_count == 0
    )
    error_message = "The default check-pending job must POST to the API every 5 minutes, 300 s deadline, no retries"
  }
  assert {
    condition = (
      module.scheduler.jobs["retention"].uri == "${module.functions.functions["API"].url}/api/v1/scheduler/jobs/retention/run" &&
      module.scheduler.jobs["retention"].http_method == "POST" && module.scheduler.jobs["retention"].schedule == "17 3 * * *" &&
      module.scheduler.jobs["retention"].time_zone == "Etc/UTC" &&
      module.scheduler.jobs["retention"].attempt_deadline == "600s" && module.scheduler.jobs["retention"].retry_count == 1
    )
    error_message = "The default retention job must POST to the API's /api/v1/scheduler/jobs/retention/run daily at 03:17 UTC, 600 s deadline, one retry"
  }
  assert {
    condition = (
      module.scheduler.jobs["retention"].oidc_service_account == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com" &&
      module.scheduler.jobs["retention"].oidc_audience == module.functions.functions["API"].url && !module.scheduler.jobs["retention"].uses_oauth_token
    )
    error_message = "The retention job must send the scheduler account's ID token (OIDC) for the API's URL"
  }
  assert {
    condition     = module.scheduler.jobs["check-pending"].oidc_service_account == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com" && module.functions.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "By default the scheduler account's ID tokens must be an operator on the API"
  }
  assert {
    condition     = alltrue([for k in ["API", "RunSchedulerJob"] : keys(jsondecode(module.functions.functions[k].environment["HIVEMERGE_FUNCTION_URLS"])) == ["API", "ExecuteTask", "PreviewMerge", "PreviewTask", "RollbackTask", "RunSchedulerJob"] && jsondecode(module.functions.functions[k].environment["HIVEMERGE_FUNCTION_URLS"])["ExecuteTask"] == "https://europe-west1-test-project.cloudfunctions.net/hivemerge-test-execute-task"])
    error_message = "Every function must be told the URLs of the deployed functions"
  }
  assert {
    condition     = toset(keys(output.service_accounts)) == toset(["api", "executor", "scheduler", "builder"])
    error_message = "The defaults must create the api, executor, scheduler and builder accounts"
  }
  assert {
    condition     = toset(keys(module.secrets.accessors)) == toset(["hive-password/api", "hive-keytab/api", "hive-password/executor", "hive-keytab/executor"]) && module.secrets.accessors["hive-password/executor"].member == "serviceAccount:hivemerge-test-executor@test-project.iam.gserviceaccount.com"
    error_message = "By default the api and executor accounts must read hive-password and hive-keytab, and nobody else"
  }
  assert {
    condition     = toset(module.iam.project_roles) == toset(["api/roles/datastore.user", "executor/roles/datastore.user", "builder/roles/cloudbuild.builds.builder"])
    error_message = "Default project roles: datastore.user for api and executor, the build role for builder"
  }
  assert {
    condition     = join(",", module.network.firewall.source_ranges) == "10.8.0.0/28" && join(",", module.network.firewall.target_tags) == "hive"
    error_message = "Network defaults: connector 10.8.0.0/28, firewall to the VMs tagged hive"
  }
}

run "function_overrides_merge_over_functions" {
  variables {
    function_overrides = {
      API = { concurrency = 40, min_instances = 1, max_instances = 20 }
    }
  }
  assert {
    condition     = module.functions.functions["API"].concurrency == 40 && module.functions.functions["API"].min_instances == 1 && module.functions.functions["API"].max_instances == 20
    error_message = "function_overrides must set the attributes it names"
  }
  assert {
    condition     = module.functions.functions["API"].cpu == "1" && module.functions.functions["API"].secret_env == { HIVEMERGE_SECRET_HIVE_PASSWORD = "hivemerge-test-hive-password" } && module.functions.functions["API"].environment["HIVEMERGE_OIDC_ROLES"] == "hivemerge-test-scheduler@test-project.iam.gserviceaccount.com:operator"
    error_message = "function_overrides must keep the attributes it leaves null"
  }
  assert {
    condition     = module.functions.functions["ExecuteTask"].concurrency == 1 && module.functions.functions["ExecuteTask"].memory == "1Gi"
    error_message = "function_overrides must leave the other functions alone"
  }
}

run "function_overrides_of_an_unknown_function_are_refused" {
  command = plan
  variables {
    function_overrides = {
      GetTask = { concurrency = 40 }
    }
  }
  expect_failures = [var.function_overrides]
}
