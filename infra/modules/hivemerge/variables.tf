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
  default     = "go126"
}

variable "functions" {
  description = "Functions to deploy, keyed by entry point; see the functions module for the settings. The API function serves the whole REST router; ExecuteTask (with the merge engine) runs merges as the executor account. Only the service accounts functions and secrets name are created."
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
}

variable "common_environment" {
  description = "Environment variables set on every function."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secrets by key (secret id <name_prefix>-<key>): value_version > 0 makes Terraform write a version from secret_values (write-only); base64 for binary keytabs; accessors lists the service account keys (api, executor) that read it by reference at run time (password_ref secretmanager:...). Functions that mount a secret get access automatically."
  type = map(object({
    value_version = optional(number, 0)
    base64        = optional(bool, false)
    accessors     = optional(list(string), [])
  }))
  default = {}

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
  description = "VPC network (name or self link) that reaches HiveServer2 and HDFS."
  type        = string
}

variable "egress_mode" {
  description = "connector (Serverless VPC Access) or direct (Direct VPC egress)."
  type        = string
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
  default = {}
}

variable "direct_vpc" {
  description = "Direct VPC egress settings (see the network module)."
  type = object({
    subnetwork  = optional(string)
    subnet_cidr = optional(string)
    tags        = optional(list(string), ["hivemerge-functions"])
  })
  default = {}
}

variable "create_hive_firewall" {
  description = "Create the firewall rule from the functions to the Hive VMs (Dataproc)."
  type        = bool
  default     = true
}

variable "hive_target_tags" {
  description = "Network tags of the HiveServer2 / NameNode VMs (e.g. Dataproc cluster tags)."
  type        = list(string)
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
  default     = "Etc/UTC"
}

variable "scheduler_jobs" {
  description = "Cloud Scheduler jobs by name; see the scheduler module."
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
  default = {}
}
