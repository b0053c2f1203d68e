variable "project_id" {
  description = "Google Cloud project id the functions run in."
  type        = string
}

variable "region" {
  description = "Cloud Functions region (also the location of the source bucket)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of function and bucket names, e.g. hivemerge-dev; ExecuteTask becomes <prefix>-execute-task."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels put on functions and the source bucket."
  type        = map(string)
  default     = {}
}

variable "source_archive_path" {
  description = "Path of the source zip built by infra/scripts/package.sh (go.mod, go.sum, functions/, shared/ and the generated root package)."
  type        = string
}

variable "force_destroy_source_bucket" {
  description = "Allow destroying the source bucket while it still holds archives."
  type        = bool
  default     = false
}

variable "runtime" {
  description = "Cloud Functions Go runtime. go.mod declares go 1.26, so go126 is the oldest runtime that can build the module (the provider does not validate this value; Cloud Functions lists go126 on the google-24 stack)."
  type        = string
  default     = "go126"

  validation {
    condition     = can(regex("^go1[0-9]{2}$", var.runtime)) && tonumber(substr(var.runtime, 2, 3)) >= 126
    error_message = "runtime must be a Go runtime id go126 or newer (go.mod requires Go 1.26)."
  }
}

variable "build_environment" {
  description = "Build-time environment variables for the Go buildpack (e.g. GOOGLE_GOLDFLAGS)."
  type        = map(string)
  default     = {}
}

variable "build_service_account" {
  description = "Fully qualified id (projects/<p>/serviceAccounts/<email>) of the account Cloud Build uses, or null for the project default."
  type        = string
  default     = null
}

variable "service_accounts" {
  description = "Runtime service account e-mail per role key (api, executor, ...); each function names its key in service_account."
  type        = map(string)
}

variable "secret_ids" {
  description = "Secret Manager secret id per secret key, for secret_env and secret_volumes."
  type        = map(string)
  default     = {}
}

variable "common_environment" {
  description = "Environment variables set on every function (e.g. HIVEMERGE_FIRESTORE_DATABASE, LOG_LEVEL)."
  type        = map(string)
  default     = {}
}

variable "vpc_access" {
  description = "How the functions reach HiveServer2 and HDFS: connector (Serverless VPC Access connector id) or network/subnetwork/tags (Direct VPC egress); egress PRIVATE_RANGES_ONLY (default) or ALL_TRAFFIC. All null: no VPC access."
  type = object({
    connector  = optional(string)
    network    = optional(string)
    subnetwork = optional(string)
    tags       = optional(list(string), [])
    egress     = optional(string, "PRIVATE_RANGES_ONLY")
  })
  default = {}

  validation {
    condition     = contains(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"], var.vpc_access.egress)
    error_message = "vpc_access.egress must be PRIVATE_RANGES_ONLY or ALL_TRAFFIC."
  }

  validation {
    condition     = !(var.vpc_access.connector != null && (var.vpc_access.network != null || var.vpc_access.subnetwork != null))
    error_message = "Use either a connector or Direct VPC egress (network/subnetwork), not both."
  }
}

variable "functions" {
  description = <<-EOT
    Functions to deploy, keyed by entry point: a name registered with functions.HTTP in
    package functions (API, CreateTask, GetTask, ListTasks, CancelTask, TaskLogs, TaskStats,
    ListClusters, GetCluster, CreateCluster, UpdateCluster, DeleteCluster,
    TestClusterConnection, CheckPending, ListSchedulerRuns, RunSchedulerJob, ListPolicies,
    GetPolicy, CreatePolicy, UpdatePolicy, DeletePolicy, DryRunPolicy, BatchCreateTasks,
    ExecuteTask, PreviewTask, PreviewMerge, RollbackTask). A name the
    code does not register fails at start. All are deployed from the same source archive.
    service_account: key of var.service_accounts (each function runs as its role's account).
    memory: 128Mi..32Gi (k, M, G, Mi, Gi units). cpu: e.g. "1" (null: derived from memory).
    timeout_seconds: at most 3600 (HTTP functions). concurrency > 1 needs cpu >= 1.
    ingress: ALLOW_INTERNAL_AND_GCLB (default: VPC, Cloud Scheduler and load balancer only),
    ALLOW_INTERNAL_ONLY or ALLOW_ALL.
    secret_env: environment variable -> secret key (version latest).
    secret_volumes: mount path -> {secret key, file name} (keytabs).
    invoker_roles: service account keys allowed to call the function (roles/run.invoker).
    oidc_roles: application role (viewer, operator, admin) of ID-token callers, keyed by service
    account key (api, scheduler, ...) or e-mail; rendered as HIVEMERGE_OIDC_ROLES.
    invoker_members: other IAM members allowed to call it (e.g. group:ops@example.com).
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

  validation {
    condition     = length(var.functions) > 0
    error_message = "Deploy at least one function."
  }

  validation {
    condition     = alltrue([for k, _ in var.functions : can(regex("^[A-Z][A-Za-z0-9]{0,39}$", k))])
    error_message = "Function keys must be exported Go entry point names (e.g. ExecuteTask)."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : f.timeout_seconds >= 1 && f.timeout_seconds <= 3600])
    error_message = "timeout_seconds must be between 1 and 3600 (the HTTP function maximum)."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], f.ingress)])
    error_message = "ingress must be ALLOW_INTERNAL_AND_GCLB, ALLOW_INTERNAL_ONLY or ALLOW_ALL."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : can(regex("^[0-9]+(k|M|G|Mi|Gi)$", f.memory))])
    error_message = "memory must be a number with a unit k, M, G, Mi or Gi, e.g. 512Mi or 1Gi."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : f.min_instances >= 0 && f.max_instances >= 1 && f.min_instances <= f.max_instances])
    error_message = "Instances: 0 <= min_instances <= max_instances and max_instances >= 1."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : f.concurrency >= 1 && f.concurrency <= 1000 && (f.concurrency == 1 || try(tonumber(f.cpu) >= 1, false))])
    error_message = "concurrency must be 1..1000, and above 1 only with cpu >= 1."
  }

  validation {
    condition     = alltrue([for _, f in var.functions : contains(keys(var.service_accounts), f.service_account)])
    error_message = "Every function's service_account must be a key of var.service_accounts."
  }

  validation {
    condition = alltrue(flatten([
      for _, f in var.functions : [for r in f.invoker_roles : contains(keys(var.service_accounts), r)]
    ]))
    error_message = "invoker_roles must be keys of var.service_accounts."
  }

  validation {
    condition     = alltrue(flatten([for _, f in var.functions : [for _, r in f.oidc_roles : contains(["viewer", "operator", "admin"], r)]]))
    error_message = "oidc_roles values must be viewer, operator or admin."
  }

  validation {
    condition = alltrue(flatten([
      for _, f in var.functions : concat(
        [for _, s in f.secret_env : contains(keys(var.secret_ids), s)],
        [for _, v in f.secret_volumes : contains(keys(var.secret_ids), v.secret)],
      )
    ]))
    error_message = "secret_env and secret_volumes must name secrets present in var.secret_ids."
  }
}
