output "database" {
  description = "Firestore database id the functions use."
  value       = local.database
}

output "index_keys" {
  description = "Composite indexes declared, as <collection>:<field>:<asc|desc>,... keys."
  value       = sort(keys(google_firestore_index.this))
}

output "indexes" {
  description = "Composite indexes as deployed: collection, query scope and ordered fields (path, order)."
  value = [
    for k in sort(keys(google_firestore_index.this)) : {
      collection  = google_firestore_index.this[k].collection
      query_scope = google_firestore_index.this[k].query_scope
      fields      = [for f in google_firestore_index.this[k].fields : { path = f.field_path, order = f.order }]
    }
  ]
}

output "unindexed_fields" {
  description = "Fields exempted from indexing, as <collection>.<field>."
  value       = sort(keys(google_firestore_field.unindexed))
}
