output "database" {
  description = "Firestore database id the functions use."
  value       = local.database
}

output "index_keys" {
  description = "Composite indexes declared, as <collection>:<field>:<asc|desc>,... keys."
  value       = sort(keys(google_firestore_index.this))
}

output "index_ids" {
  description = "Resource ids of the composite indexes."
  value       = { for k, ix in google_firestore_index.this : k => ix.id }
}
