locals {
  # The accounts to create: all of them, or those named in var.accounts.
  accounts         = var.accounts == null ? keys(var.service_accounts) : var.accounts
  service_accounts = { for name, sa in var.service_accounts : name => sa if contains(local.accounts, name) }

  # One (account, project role) pair per binding, keyed by static strings so
  # that plans are stable.
  project_bindings = merge([
    for name, sa in local.service_accounts : {
      for role in sa.project_roles : "${name}/${role}" => {
        account = name
        role    = role
      }
    }
  ]...)
}

resource "google_service_account" "this" {
  for_each = local.service_accounts

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "hivemerge ${each.key} (${var.name_prefix})"
  description  = each.value.description
}

resource "google_project_iam_member" "this" {
  for_each = local.project_bindings

  project = var.project_id
  role    = each.value.role
  member  = google_service_account.this[each.value.account].member
}
