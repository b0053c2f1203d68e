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
}

module "hivemerge" {
  source = "../../modules/hivemerge"

  project_id          = var.project_id
  region              = var.region
  environment         = local.environment
  name_prefix         = "hivemerge-${local.environment}"
  source_archive_path = var.source_archive_path
  runtime             = var.runtime

  functions          = var.functions
  common_environment = var.common_environment

  secrets       = var.secrets
  secret_values = var.secret_values

  network          = var.network
  egress_mode      = var.egress_mode
  connector        = var.connector
  direct_vpc       = var.direct_vpc
  hive_target_tags = var.hive_target_tags

  firestore_location               = var.firestore_location
  firestore_delete_protection      = true
  firestore_point_in_time_recovery = true

  scheduler_time_zone = var.scheduler_time_zone
  scheduler_jobs      = var.scheduler_jobs
}
