variable "project_id" {
  description = "Google Cloud project id of the deployment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid project id (6-30 characters: lowercase letters, digits and hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler jobs, the connector and the source bucket (e.g. europe-west1)."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, prod, ...), passed to the functions as HIVEMERGE_ENV and used as a label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters or digits."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. hivemerge-dev (3-20 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels put on functions, secrets and the source bucket."
  type        = map(string)
  default     = {}
}

variable "source_archive_path" {
  description = "Path of the function source zip built by infra/scripts/package.sh."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions Go runtime (go126 or newer: go.mod declares go 1.26)."
  type        = string
  nullable    = false
  default     = "go126"
}

variable "functions" {
  description = <<-EOT
    Functions to deploy, keyed by entry point; see the functions module for the settings.
    Default: the API function (the whole REST router: /api/v1, /docs, /health) running as the
    api account, with the scheduler account as an operator; it hands execute requests to
    ExecuteTask (HIVEMERGE_EXECUTE_MODE=remote). ExecuteTask runs a task to the end within its
    request (HIVEMERGE_EXECUTE_MODE=sync, up to the 3600 s HTTP maximum) as the executor
    account, one task per instance, invoked by the api account (an operator there).
    RunSchedulerJob runs the scheduler jobs that outlast the API's 300 s (scan, batch-create,
    dispatch, resume-requeued) for up to 3600 s as the api account, handing tasks to
    ExecuteTask too. PreviewTask, PreviewMerge and RollbackTask are API-like functions running
    as the api account. Setting the variable replaces the whole map (null keeps this default):
    keep every function a scheduler job targets, with oidc_roles = { scheduler = "operator" },
    and ExecuteTask while a function runs in remote mode. Only the service accounts functions
    and secrets name are created.
  EOT
  type = map(object({
    service_account = string
    description     = optional(string, "")
    memory          = optional(string, "512Mi")
    cpu             = optional(string)
    timeout_seconds = optional(number, 300)
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 1)
    ingress         = optional(string, "ALLOW_INTERNAL_AND_GCLB")
    environment     = optional(map(string), {})
    secret_env      = optional(map(string), {})
    secret_volumes = optional(map(object({
      secret = string
      file   = string
    })), {})
    invoker_roles   = optional(list(string), [])
    invoker_members = optional(list(string), [])
    oidc_roles      = optional(map(string), {})
  }))
  nullable = false

  validation {
    condition     = alltrue([for _, f in var.functions : lookup(f.environment, "HIVEMERGE_EXECUTE_MODE", "") != "remote" || contains(keys(var.functions), "ExecuteTask")])
    error_message = "A function with HIVEMERGE_EXECUTE_MODE=remote hands tasks to ExecuteTask: deploy ExecuteTask too."
  }

  default = {
    API = {
      service_account = "api"
      description     = "hivemerge REST API (/api/v1, /docs, /health)"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 20
      timeout_seconds = 300
      max_instances   = 5
      # An execute request is handed to ExecuteTask, which runs the merge
      # beyond this function's 300 s (see README, "Deploy to Google Cloud").
      environment = { HIVEMERGE_EXECUTE_MODE = "remote" }
      # Cloud Scheduler's jobs call the API with the scheduler account's ID tokens.
      oidc_roles = { scheduler = "operator" }
    }
    # Merges run here and only here in the cloud: the request runs the task
    # to the end (or until the function's timeout; the lease then expires,
    # check-pending requeues the task and the next call resumes it from its
    # recorded step). One task per instance, so that a merge's memory and
    # CPU are its own; clusters cap their running tasks (max_running_tasks),
    # so more instances than the sum of the caps only get 429s.
    ExecuteTask = {
      service_account = "executor"
      description     = "hivemerge task executor (POST /api/v1/tasks/{id}/execute, synchronous)"
      memory          = "1Gi"
      cpu             = "1"
      concurrency     = 1
      timeout_seconds = 3600 # the HTTP maximum
      max_instances   = 5
      environment     = { HIVEMERGE_EXECUTE_MODE = "sync" }
      # The API and RunSchedulerJob hand tasks over with the api account's
      # ID tokens.
      invoker_roles = ["api"]
      oidc_roles    = { api = "operator" }
    }
    # Cloud Scheduler's long jobs: a scan of large tables, batch-create, and
    # the dispatch and resume-requeued jobs that hand pending tasks to
    # ExecuteTask. Called as /?name=<job>; the API keeps the short ones.
    RunSchedulerJob = {
      service_account = "api"
      description     = "hivemerge scheduler jobs longer than the API's timeout (POST ?name=scan|batch-create|dispatch|resume-requeued)"
      memory          = "1Gi"
      cpu             = "1"
      concurrency     = 4
      timeout_seconds = 3600
      max_instances   = 3
      environment     = { HIVEMERGE_EXECUTE_MODE = "remote" }
      oidc_roles      = { scheduler = "operator" }
    }
    PreviewTask = {
      service_account = "api"
      description     = "hivemerge exact preview of a task (GET /api/v1/tasks/{id}/preview)"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 10
      timeout_seconds = 300
      max_instances   = 5
    }
    PreviewMerge = {
      service_account = "api"
      description     = "hivemerge exact preview of a table (POST /api/v1/tables/{cluster}/{db}/{table}/merge-preview)"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 10
      timeout_seconds = 300
      max_instances   = 5
    }
    # A rollback points each merged partition back at its backup and carries
    # late files over: more statements than a read, so a longer timeout.
    RollbackTask = {
      service_account = "api"
      description     = "hivemerge rollback of a merged task (POST /api/v1/tasks/{id}/rollback)"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 10
      timeout_seconds = 900
      max_instances   = 5
    }
  }
}

variable "function_overrides" {
  description = "Sizing merged over the functions of the same entry point: each attribute set here replaces that function's value, the others (null) keep it. For what an environment changes, e.g. prod's { API = { concurrency = 40, min_instances = 1, max_instances = 20 } }. Every key must name a function in functions."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    min_instances   = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
  }))
  nullable = false
  default  = {}

  validation {
    condition     = length(setsubtract(keys(var.function_overrides), keys(var.functions))) == 0
    error_message = "function_overrides may only name functions in functions."
  }
}

variable "common_environment" {
  description = "Environment variables set on every function."
  type        = map(string)
  nullable    = false
  default     = {}
}

variable "secrets" {
  description = "Secrets by key (secret id <name_prefix>-<key>): value_version > 0 makes Terraform write a version from secret_values (write-only); base64 for binary keytabs; accessors lists the service account keys (api, executor) that read it by reference at run time (password_ref secretmanager:...). Functions that mount a secret get access automatically. Default: hive-password and hive-keytab (base64), read by the api and executor accounts; setting the variable replaces the map (null keeps it)."
  type = map(object({
    value_version = optional(number, 0)
    base64        = optional(bool, false)
    accessors     = optional(list(string), [])
  }))
  nullable = false
  # The api account reads them for previews and connection tests, the
  # executor account (ExecuteTask) for merges.
  default = {
    hive-password = { accessors = ["api", "executor"] }
    hive-keytab   = { base64 = true, accessors = ["api", "executor"] }
  }

  validation {
    condition     = alltrue(flatten([for _, s in var.secrets : [for a in s.accessors : contains(["api", "executor"], a)]]))
    error_message = "Secret accessors must be api or executor."
  }
}

variable "secret_values" {
  description = "Secret payloads by key for secrets with value_version > 0. Ephemeral and sensitive: set TF_VAR_secret_values, never a tfvars file."
  type        = map(string)
  default     = {}
  sensitive   = true
  ephemeral   = true
}

variable "network" {
  description = "VPC network (name or self link) that reaches HiveServer2 and HDFS (on-prem via VPN/Interconnect, or the Dataproc network)."
  type        = string
  nullable    = false
  default     = "default"
}

variable "egress_mode" {
  description = "connector (Serverless VPC Access) or direct (Direct VPC egress)."
  type        = string
  nullable    = false
  default     = "connector"
}

variable "vpc_egress" {
  description = "Which traffic goes through the VPC: PRIVATE_RANGES_ONLY (RFC 1918 destinations, e.g. on-prem over VPN) or ALL_TRAFFIC (then Google APIs need Private Google Access and the internet needs Cloud NAT)."
  type        = string
  default     = "PRIVATE_RANGES_ONLY"
}

variable "connector" {
  description = "Serverless VPC Access connector settings (see the network module)."
  type = object({
    ip_cidr_range = optional(string, "10.8.0.0/28")
    machine_type  = optional(string, "e2-micro")
    min_instances = optional(number, 2)
    max_instances = optional(number, 3)
  })
  nullable = false
  default  = {}
}

variable "direct_vpc" {
  description = "Direct VPC egress settings (see the network module)."
  type = object({
    subnetwork  = optional(string)
    subnet_cidr = optional(string)
    tags        = optional(list(string), ["hivemerge-functions"])
  })
  nullable = false
  default  = {}
}

variable "create_hive_firewall" {
  description = "Create the firewall rule from the functions to the Hive VMs (Dataproc)."
  type        = bool
  default     = true
}

variable "hive_target_tags" {
  description = "Network tags of the HiveServer2 / NameNode VMs (e.g. Dataproc cluster tags)."
  type        = list(string)
  nullable    = false
  default     = ["hive"]
}

variable "hive_ports" {
  description = "TCP ports to the Hive VMs: HiveServer2 10000 and NameNode 8020."
  type        = list(string)
  default     = ["10000", "8020"]
}

variable "firestore_location" {
  description = "Firestore location id (e.g. eur3, nam5 or a region)."
  type        = string
  nullable    = false
  default     = "eur3"
}

variable "firestore_database" {
  description = "Firestore database id."
  type        = string
  default     = "(default)"
}

variable "create_firestore_database" {
  description = "Create the Firestore database (false when it already exists)."
  type        = bool
  default     = true
}

variable "firestore_point_in_time_recovery" {
  description = "Enable Firestore point-in-time recovery."
  type        = bool
  default     = false
}

variable "firestore_delete_protection" {
  description = "Protect the Firestore database from deletion."
  type        = bool
  default     = true
}

variable "scheduler_time_zone" {
  description = "Default time zone of the scheduler jobs."
  type        = string
  nullable    = false
  default     = "Etc/UTC"
}

variable "scheduler_jobs" {
  description = "Cloud Scheduler jobs by name; see the scheduler module. Default, all with the scheduler account's ID token for the target's URL: on the API, check-pending every 5 minutes (POST /api/v1/scheduler/check-pending: requeues tasks whose worker lease expired) and retention daily at 03:17 (POST /api/v1/scheduler/jobs/retention/run); on RunSchedulerJob (POST ?name=<job>, 3600 s), dispatch every 5 minutes at :02 (hands the enabled policies' due pending tasks to ExecuteTask), resume-requeued every 5 minutes at :03 (hands requeued tasks back to ExecuteTask to resume from their recorded step), scan every 6 hours at :23, batch-create hourly at :41 and cleanup-backups hourly at :53 (deletes safe_merge backups older than HIVEMERGE_BACKUP_RETENTION). Setting the variable replaces the whole map (null keeps this default)."
  type = map(object({
    schedule                 = string
    target_function          = string
    http_path                = optional(string, "/")
    http_method              = optional(string, "POST")
    body                     = optional(string, "{}")
    time_zone                = optional(string)
    description              = optional(string, "")
    attempt_deadline_seconds = optional(number, 600)
    retry_count              = optional(number, 1)
    paused                   = optional(bool, false)
  }))
  nullable = false
  default = {
    # The scheduler account's ID token is an operator on the API (the API
    # function's oidc_roles).
    check-pending = {
      schedule                 = "*/5 * * * *"
      target_function          = "API"
      http_path                = "/api/v1/scheduler/check-pending"
      description              = "Requeue tasks whose worker lease expired"
      attempt_deadline_seconds = 300
      retry_count              = 0
    }
    # A retry of one run carries the same X-CloudScheduler-ScheduleTime, which
    # is the run's slot: a retry after the run started is refused (409), not
    # run twice.
    retention = {
      schedule                 = "17 3 * * *"
      target_function          = "API"
      http_path                = "/api/v1/scheduler/jobs/retention/run"
      description              = "Delete scheduler run records older than HIVEMERGE_RUN_RETENTION"
      attempt_deadline_seconds = 600
      retry_count              = 1
    }
    # Long jobs run on RunSchedulerJob (3600 s) rather than the API (300 s).
    # A scan cut short by the attempt deadline or the function's timeout is
    # taken up by the next one, which does not list unchanged partitions
    # again. Cloud Scheduler's attempt deadline is at most 1800 s.
    scan = {
      schedule                 = "23 */6 * * *"
      target_function          = "RunSchedulerJob"
      http_path                = "/?name=scan"
      description              = "Scan the clusters and databases the enabled policies cover"
      attempt_deadline_seconds = 1800
      retry_count              = 0
    }
    batch-create = {
      schedule                 = "41 * * * *"
      target_function          = "RunSchedulerJob"
      http_path                = "/?name=batch-create"
      description              = "Create merge tasks for the policies' candidates, in bulk"
      attempt_deadline_seconds = 900
      retry_count              = 1
    }
    # What a run does not reach stays due for the next one.
    cleanup-backups = {
      schedule                 = "53 * * * *"
      target_function          = "RunSchedulerJob"
      http_path                = "/?name=cleanup-backups"
      description              = "Delete safe_merge backups older than HIVEMERGE_BACKUP_RETENTION"
      attempt_deadline_seconds = 1800
      retry_count              = 0
    }
    # Two minutes after check-pending, so that what it requeued goes out in
    # the same cycle. A hand-off that fails leaves its task pending for the
    # next run.
    dispatch = {
      schedule                 = "2-59/5 * * * *"
      target_function          = "RunSchedulerJob"
      http_path                = "/?name=dispatch"
      description              = "Hand the enabled policies' due pending tasks to ExecuteTask"
      attempt_deadline_seconds = 600
      retry_count              = 0
    }
    resume-requeued = {
      schedule                 = "3-59/5 * * * *"
      target_function          = "RunSchedulerJob"
      http_path                = "/?name=resume-requeued"
      description              = "Hand tasks whose worker stopped back to ExecuteTask to resume from their recorded step"
      attempt_deadline_seconds = 600
      retry_count              = 0
    }
  }
}
