locals {
  # Versions Terraform writes itself. The value comes from an ephemeral
  # variable and goes to the write-only secret_data_wo argument, so it never
  # lands in the plan or the state.
  managed_versions = { for k, s in var.secrets : k => s if s.value_version > 0 }
}

resource "google_secret_manager_secret" "this" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = "${var.name_prefix}-${each.key}"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "this" {
  for_each = local.managed_versions

  secret                 = google_secret_manager_secret.this[each.key].id
  secret_data_wo         = var.secret_values[each.key]
  secret_data_wo_version = tostring(each.value.value_version)
  is_secret_data_base64  = each.value.base64
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = var.accessors

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
