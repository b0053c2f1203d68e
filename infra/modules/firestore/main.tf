locals {
  # The composite indexes the Firestore task store's queries need. The list
  # lives in indexes.json so that the Go test (infra/indexes_test.go) can read
  # the very same data and compare it with taskstore/firestore.Indexes().
  indexes = jsondecode(file(coalesce(var.indexes_file, "${path.module}/indexes.json")))

  # Stable keys: collection plus the ordered field list, e.g.
  # "tasks:status:asc,created_at:desc".
  index_map = {
    for ix in local.indexes :
    "${ix.collection}:${join(",", [for f in ix.fields : "${f.path}:${try(f.descending, false) ? "desc" : "asc"}"])}" => ix
  }

  # Fields that hold opaque JSON or bytes, which no query uses: exempted from
  # the automatic single-field indexes (infra/indexes_store_test.go compares
  # the list with the store's firestore.UnindexedFields).
  unindexed = {
    for f in jsondecode(file("${path.module}/unindexed.json")) : "${f.collection}.${f.field}" => f
  }

  database = var.create_database ? google_firestore_database.this[0].name : var.database_name
}

resource "google_firestore_database" "this" {
  count = var.create_database ? 1 : 0

  project                           = var.project_id
  name                              = var.database_name
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = var.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.delete_protection ? "ABANDON" : "DELETE"
}

resource "google_firestore_index" "this" {
  for_each = local.index_map

  project     = var.project_id
  database    = local.database
  collection  = each.value.collection
  query_scope = try(each.value.query_scope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.path
      order      = try(fields.value.descending, false) ? "DESCENDING" : "ASCENDING"
    }
  }
}

# An empty index_config turns every automatic index of the field off.
resource "google_firestore_field" "unindexed" {
  for_each = local.unindexed

  project    = var.project_id
  database   = local.database
  collection = each.value.collection
  field      = each.value.field

  index_config {}
}
