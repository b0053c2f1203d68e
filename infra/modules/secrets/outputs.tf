output "secret_ids" {
  description = "Secret id (short name) per key, for secret environment variables and volumes."
  value       = { for k, s in google_secret_manager_secret.this : k => s.secret_id }
}

output "names" {
  description = "Full resource name (projects/<number>/secrets/<id>) per key, for password_ref secretmanager:<name>/versions/<v>."
  value       = { for k, s in google_secret_manager_secret.this : k => s.name }
}

output "managed_versions" {
  description = "Keys of the secrets whose versions Terraform writes (write-only)."
  value       = sort(keys(google_secret_manager_secret_version.this))
}
