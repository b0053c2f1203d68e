variable "project_id" {
  description = "Google Cloud project id of the prod deployment."
  type        = string
}

variable "region" {
  description = "Region of the functions and scheduler jobs."
  type        = string
  default     = "europe-west1"
}

variable "source_archive_path" {
  description = "Function source zip built by `make package` (infra/scripts/package.sh), relative to this directory."
  type        = string
  default     = "../../../dist/function-source.zip"
}

variable "runtime" {
  description = "Cloud Functions Go runtime (go126 or newer)."
  type        = string
  default     = "go126"
}

variable "functions" {
  description = "Functions to deploy, keyed by entry point (see infra/modules/functions). Default: the API function only. Add any of CreateTask, GetTask, ListTasks, CancelTask, TaskLogs, TaskStats, ListClusters, GetCluster, CreateCluster, UpdateCluster, DeleteCluster to deploy it standalone; ExecuteTask and PreviewTask come with the merge engine."
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
  default = {
    API = {
      service_account = "api"
      description     = "hivemerge REST API (/api/v1, /docs, /health)"
      memory          = "512Mi"
      cpu             = "1"
      concurrency     = 40
      timeout_seconds = 300
      min_instances   = 1
      max_instances   = 20
      # Cloud Scheduler's jobs call the API with the scheduler account's ID tokens.
      oidc_roles = { scheduler = "operator" }
    }
    # ExecuteTask arrives with the merge engine (package functions does not
    # register it yet, and a function whose entry point is not registered
    # fails at start). Uncomment it then, together with the batch-create job
    # below and "executor" in the secrets' accessors:
    # ExecuteTask = {
    #   service_account = "executor"
    #   description     = "hivemerge task executor"
    #   memory          = "1Gi"
    #   cpu             = "1"
    #   concurrency     = 1
    #   timeout_seconds = 3600
    #   max_instances   = 20
    #   # The API hands started tasks to ExecuteTask. Calls from one function to
    #   # another count as internal only when the caller sends all its traffic
    #   # through the VPC (vpc_egress = ALL_TRAFFIC with Private Google Access),
    #   # so ExecuteTask accepts any network path and relies on IAM: only the api
    #   # account holds roles/run.invoker, and the application checks its ID
    #   # token (audience and role).
    #   ingress       = "ALLOW_ALL"
    #   invoker_roles = ["api"]
    #   oidc_roles    = { api = "operator" }
    # }
  }
}

variable "common_environment" {
  description = "Environment variables for every function (e.g. HIVEMERGE_LOG_LEVEL, HIVEMERGE_TOKENS_FILE)."
  type        = map(string)
  default     = { HIVEMERGE_LOG_LEVEL = "info" }
}

variable "secrets" {
  description = "Secrets (id hivemerge-prod-<key>): Hive passwords and Kerberos keytabs. accessors: api/executor accounts that read them through password_ref secretmanager:... at run time."
  type = map(object({
    value_version = optional(number, 0)
    base64        = optional(bool, false)
    accessors     = optional(list(string), [])
  }))
  # Add "executor" to the accessors together with ExecuteTask (merge engine);
  # naming it here would create the executor account before anything runs as it.
  default = {
    hive-password = { accessors = ["api"] }
    hive-keytab   = { base64 = true, accessors = ["api"] }
  }
}

variable "secret_values" {
  description = "Payloads for secrets with value_version > 0 (ephemeral, never stored): export TF_VAR_secret_values='{\"hive-password\":\"...\"}'."
  type        = map(string)
  default     = {}
  sensitive   = true
  ephemeral   = true
}

variable "network" {
  description = "VPC network that reaches HiveServer2 and HDFS (on-prem via VPN/Interconnect, or the Dataproc network)."
  type        = string
  default     = "default"
}

variable "egress_mode" {
  description = "connector (Serverless VPC Access) or direct (Direct VPC egress)."
  type        = string
  default     = "connector"
}

variable "connector" {
  description = "Serverless VPC Access connector settings (an unused /28 of the network)."
  type = object({
    ip_cidr_range = optional(string, "10.8.0.0/28")
    machine_type  = optional(string, "e2-micro")
    min_instances = optional(number, 2)
    max_instances = optional(number, 3)
  })
  default = {}
}

variable "direct_vpc" {
  description = "Direct VPC egress settings (egress_mode = direct): subnetwork, its CIDR and network tags."
  type = object({
    subnetwork  = optional(string)
    subnet_cidr = optional(string)
    tags        = optional(list(string), ["hivemerge-functions"])
  })
  default = {}
}

variable "hive_target_tags" {
  description = "Network tags of the HiveServer2 / NameNode VMs (Dataproc master)."
  type        = list(string)
  default     = ["hive"]
}

variable "firestore_location" {
  description = "Firestore location id."
  type        = string
  default     = "eur3"
}

variable "scheduler_time_zone" {
  description = "Default time zone of the scheduler jobs (IANA)."
  type        = string
  default     = "Etc/UTC"
}

variable "scheduler_jobs" {
  description = "Cloud Scheduler jobs: name -> schedule, target function (entry point), HTTP path and JSON body. Default: check-pending only; batch-create comes with the merge engine."
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
  default = {
    # Requeues tasks whose worker lease expired. The scheduler account's ID
    # token is an operator on the API (the API function's oidc_roles).
    check-pending = {
      schedule                 = "*/5 * * * *"
      target_function          = "API"
      http_path                = "/api/v1/scheduler/check-pending"
      description              = "Requeue tasks whose worker lease expired"
      attempt_deadline_seconds = 300
      retry_count              = 0
    }
    # batch-create arrives with the merge engine (the API does not serve
    # /api/v1/scheduler/batch-create yet). Uncomment it then:
    # batch-create = {
    #   schedule        = "0 2 * * *"
    #   target_function = "API"
    #   http_path       = "/api/v1/scheduler/batch-create"
    #   description     = "Create merge tasks for tables over the small-file thresholds"
    # }
  }
}
