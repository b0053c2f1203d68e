# The settings a terraform.tfvars may change. null (the default) keeps the
# hivemerge module's default, documented in modules/hivemerge/variables.tf;
# a map set here replaces the module's map (see infra/README.md).

variable "project_id" {
  description = "Google Cloud project id of the dev deployment."
  type        = string
}

variable "region" {
  description = "Region of the functions, scheduler jobs and connector."
  type        = string
  default     = "europe-west1"
}

variable "name_prefix" {
  description = "Prefix of every resource name (null: hivemerge-dev)."
  type        = string
  default     = null
}

variable "source_archive_path" {
  description = "Function source zip built by `make package` (infra/scripts/package.sh), relative to this directory."
  type        = string
  default     = "../../../dist/function-source.zip"
}

variable "functions" {
  description = "Functions by entry point, replacing the module's default (the API function) and this environment's sizing of it."
  type        = any
  default     = null
}

variable "scheduler_jobs" {
  description = "Scheduler jobs by name, replacing the module's default (check-pending, retention, scan, batch-create, cleanup-backups)."
  type        = any
  default     = null
}

variable "secrets" {
  description = "Secrets by key (id <name_prefix>-<key>), replacing the module's default (hive-password, hive-keytab)."
  type        = any
  default     = null
}

variable "secret_values" {
  description = "Payloads for secrets with value_version > 0 (ephemeral, never stored): export TF_VAR_secret_values='{\"hive-password\":\"...\"}'."
  type        = map(string)
  default     = {}
  sensitive   = true
  ephemeral   = true
}

variable "network" {
  description = "VPC network that reaches HiveServer2 and HDFS (module default: default)."
  type        = string
  default     = null
}

variable "egress_mode" {
  description = "connector (module default: Serverless VPC Access) or direct (Direct VPC egress)."
  type        = string
  default     = null
}

variable "connector" {
  description = "Serverless VPC Access connector settings (module default: 10.8.0.0/28, 2-3 e2-micro)."
  type        = any
  default     = null
}

variable "direct_vpc" {
  description = "Direct VPC egress settings for egress_mode = direct: subnetwork, subnet_cidr, tags."
  type        = any
  default     = null
}

variable "hive_target_tags" {
  description = "Network tags of the HiveServer2 / NameNode VMs (module default: hive)."
  type        = list(string)
  default     = null
}

variable "firestore_location" {
  description = "Firestore location id (module default: eur3)."
  type        = string
  default     = null
}
