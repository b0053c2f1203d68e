provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = "hivemerge"
    env = local.environment
  }
}

locals {
  environment = "prod"

  # What prod changes from the hivemerge module's defaults
  # (modules/hivemerge/variables.tf): one API instance always warm, more load
  # per instance and more instances; room for 20 merges at once (clusters'
  # max_running_tasks bound them further); info logs; a protected,
  # recoverable database.
  log_level = "info"

  function_overrides = {
    API         = { concurrency = 40, min_instances = 1, max_instances = 20 }
    ExecuteTask = { max_instances = 20 }
  }

  firestore = {
    delete_protection      = true
    point_in_time_recovery = true
  }
}

module "hivemerge" {
  source = "../../modules/hivemerge"

  project_id          = var.project_id
  region              = var.region
  environment         = local.environment
  name_prefix         = coalesce(var.name_prefix, "hivemerge-${local.environment}")
  source_archive_path = var.source_archive_path

  # A functions map set in terraform.tfvars replaces the module's default and
  # is deployed as written: this environment's function_overrides apply to the
  # default only.
  functions          = var.functions
  function_overrides = var.functions == null ? local.function_overrides : {}
  common_environment = { HIVEMERGE_LOG_LEVEL = local.log_level }

  secrets       = var.secrets
  secret_values = var.secret_values

  network          = var.network
  egress_mode      = var.egress_mode
  connector        = var.connector
  direct_vpc       = var.direct_vpc
  hive_target_tags = var.hive_target_tags

  firestore_location               = var.firestore_location
  firestore_delete_protection      = local.firestore.delete_protection
  firestore_point_in_time_recovery = local.firestore.point_in_time_recovery

  scheduler_jobs = var.scheduler_jobs
}
