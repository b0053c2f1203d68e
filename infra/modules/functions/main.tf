locals {
  # ExecuteTask -> <prefix>-execute-task (Cloud Functions names are lowercase).
  function_names = {
    for k, _ in var.functions : k => "${var.name_prefix}-${lower(replace(k, "/([a-z0-9])([A-Z])/", "$1-$2"))}"
  }

  function_urls = {
    for k, name in local.function_names : k => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}"
  }

  # The source archive is content-addressed: a new build gives a new object
  # name, which makes Terraform redeploy every function built from it.
  source_object = "${var.name_prefix}/function-source-${filemd5(var.source_archive_path)}.zip"

  common_environment = merge(
    {
      GOOGLE_CLOUD_PROJECT = var.project_id
      HIVEMERGE_REGION     = var.region
      # Entry point -> URL of every function of this deployment, so that the
      # API can hand a task to ExecuteTask. 2nd gen functions answer on
      # https://<region>-<project>.cloudfunctions.net/<name>, known before
      # they exist (a reference to the resource's url would be a cycle).
      HIVEMERGE_FUNCTION_URLS = jsonencode(local.function_urls)
    },
    var.common_environment,
  )

  use_connector = var.vpc_access.connector != null
  use_direct    = var.vpc_access.network != null || var.vpc_access.subnetwork != null

  # roles/run.invoker on a function for other deployment service accounts
  # (invoker_roles) and for extra members such as a group of operators.
  invoker_bindings = merge(
    merge([
      for fn, f in var.functions : {
        for role in f.invoker_roles : "${fn}/${role}" => {
          function = fn
          member   = "serviceAccount:${var.service_accounts[role]}"
        }
      }
    ]...),
    merge([
      for fn, f in var.functions : {
        for m in f.invoker_members : "${fn}/${m}" => {
          function = fn
          member   = m
        }
      }
    ]...),
  )
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-src"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_source_bucket
  labels                      = var.labels
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = local.source_object
  source = var.source_archive_path
}

resource "google_cloudfunctions2_function" "this" {
  for_each = var.functions

  project     = var.project_id
  location    = var.region
  name        = local.function_names[each.key]
  description = each.value.description
  labels      = merge(var.labels, { "hivemerge-function" = lower(each.key) })

  build_config {
    runtime     = var.runtime
    entry_point = each.key
    # The Go buildpack compiles the package at the root of the archive; the
    # archive's generated root package imports ./functions (see
    # infra/README.md, "How the function source is packaged").
    environment_variables = var.build_environment
    service_account       = var.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = var.service_accounts[each.value.service_account]
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_seconds
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true

    environment_variables = merge(
      local.common_environment,
      {
        # Application-level check of Google ID tokens (on top of the
        # roles/run.invoker check): the audience is this function's own URL,
        # which is what callers (Cloud Scheduler, the API) mint tokens for.
        HIVEMERGE_OIDC_AUDIENCE = local.function_urls[each.key]
      },
      length(each.value.oidc_roles) == 0 ? {} : {
        HIVEMERGE_OIDC_ROLES = join(",", [
          for who, role in each.value.oidc_roles : "${lookup(var.service_accounts, who, who)}:${role}"
        ])
      },
      each.value.environment,
    )

    vpc_connector                 = local.use_connector ? var.vpc_access.connector : null
    vpc_connector_egress_settings = local.use_connector ? var.vpc_access.egress : null
    direct_vpc_egress             = local.use_direct ? "VPC_EGRESS_${var.vpc_access.egress}" : null

    dynamic "direct_vpc_network_interface" {
      for_each = local.use_direct ? [var.vpc_access] : []
      content {
        network    = direct_vpc_network_interface.value.network
        subnetwork = direct_vpc_network_interface.value.subnetwork
        tags       = direct_vpc_network_interface.value.tags
      }
    }

    dynamic "secret_environment_variables" {
      for_each = each.value.secret_env
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = var.secret_ids[secret_environment_variables.value]
        version    = "latest"
      }
    }

    dynamic "secret_volumes" {
      for_each = each.value.secret_volumes
      content {
        mount_path = secret_volumes.key
        project_id = var.project_id
        secret     = var.secret_ids[secret_volumes.value.secret]
        versions {
          path    = secret_volumes.value.file
          version = "latest"
        }
      }
    }
  }
}

# 2nd gen functions are Cloud Run services: invocation is authorised by
# roles/run.invoker on the service.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoker_bindings

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this[each.value.function].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value.member
}
