# One hivemerge deployment: APIs, service accounts, secrets, network access,
# Firestore, the functions and their Cloud Scheduler jobs. infra/envs/* call
# this module with per-environment settings.

locals {
  # var.functions with each entry point's function_overrides merged over it
  # (attributes left null in an override keep the function's value).
  functions = {
    for k, f in var.functions : k => merge(f, {
      for a, v in try(var.function_overrides[k], {}) : a => v if v != null
    })
  }

  # The service accounts this deployment uses: the scheduler's (OIDC caller)
  # and the builder's always, the others only when a function runs as them,
  # may invoke a function, gets an application role, or reads a secret. An
  # account nothing uses would hold grants for nothing (e.g. executor before
  # ExecuteTask is deployed).
  service_accounts_used = distinct(concat(
    ["scheduler", "builder"],
    [for _, f in local.functions : f.service_account],
    flatten([for _, f in local.functions : f.invoker_roles]),
    flatten([for _, f in local.functions : keys(f.oidc_roles)]),
    flatten([for _, s in var.secrets : s.accessors]),
  ))

  # Service accounts whose secrets a function reads (env vars and volumes).
  function_secret_accessors = merge([
    for _, f in local.functions : {
      for s in distinct(concat(values(f.secret_env), [for _, v in f.secret_volumes : v.secret])) :
      "${s}/${f.service_account}" => { secret = s, role = f.service_account }
    }
  ]...)

  # Service accounts that read secrets by reference at run time
  # (password_ref secretmanager:projects/P/secrets/S/versions/V).
  declared_secret_accessors = merge([
    for s, def in var.secrets : {
      for role in def.accessors : "${s}/${role}" => { secret = s, role = role }
    }
  ]...)

  secret_accessors = {
    for k, a in merge(local.function_secret_accessors, local.declared_secret_accessors) : k => {
      secret = a.secret
      member = module.iam.members[a.role]
    }
  }
}

module "apis" {
  source = "../apis"

  project_id = var.project_id
}

module "iam" {
  source = "../iam"

  project_id  = var.project_id
  name_prefix = var.name_prefix
  accounts    = local.service_accounts_used

  depends_on = [module.apis]
}

module "secrets" {
  source = "../secrets"

  project_id    = var.project_id
  name_prefix   = var.name_prefix
  labels        = var.labels
  secrets       = { for k, s in var.secrets : k => { value_version = s.value_version, base64 = s.base64 } }
  secret_values = var.secret_values
  accessors     = local.secret_accessors

  depends_on = [module.apis]
}

module "network" {
  source = "../network"

  project_id       = var.project_id
  region           = var.region
  name_prefix      = var.name_prefix
  network          = var.network
  egress_mode      = var.egress_mode
  connector        = var.connector
  direct_vpc       = var.direct_vpc
  create_firewall  = var.create_hive_firewall
  hive_target_tags = var.hive_target_tags
  hive_ports       = var.hive_ports

  depends_on = [module.apis]
}

module "firestore" {
  source = "../firestore"

  project_id             = var.project_id
  location_id            = var.firestore_location
  database_name          = var.firestore_database
  create_database        = var.create_firestore_database
  point_in_time_recovery = var.firestore_point_in_time_recovery
  delete_protection      = var.firestore_delete_protection

  depends_on = [module.apis]
}

module "functions" {
  source = "../functions"

  project_id            = var.project_id
  region                = var.region
  name_prefix           = var.name_prefix
  labels                = var.labels
  source_archive_path   = var.source_archive_path
  runtime               = var.runtime
  service_accounts      = { for k, e in module.iam.emails : k => e if k != "builder" }
  build_service_account = module.iam.ids["builder"]
  secret_ids            = module.secrets.secret_ids
  functions             = local.functions

  vpc_access = merge(module.network.vpc_access, { egress = var.vpc_egress })

  common_environment = merge(
    {
      HIVEMERGE_STORE              = "firestore"
      HIVEMERGE_FIRESTORE_DATABASE = module.firestore.database
      HIVEMERGE_ENV                = var.environment
    },
    var.common_environment,
  )

  # Cloud Functions checks at deploy time that the runtime accounts can read
  # the secrets they mount: grant access first.
  depends_on = [module.apis, module.secrets]
}

module "scheduler" {
  source = "../scheduler"

  project_id            = var.project_id
  region                = var.region
  name_prefix           = var.name_prefix
  time_zone             = var.scheduler_time_zone
  service_account_email = module.iam.emails["scheduler"]
  functions             = module.functions.functions
  jobs                  = var.scheduler_jobs
}
