output "secret_ids" {
  description = "Secret id (short name) per key, for secret environment variables and volumes."
  value       = { for k, s in google_secret_manager_secret.this : k => s.secret_id }
}

output "names" {
  description = "Full resource name (projects/<number>/secrets/<id>) per key, for password_ref secretmanager:<name>/versions/<v>."
  value       = { for k, s in google_secret_manager_secret.this : k => s.name }
}

output "versions" {
  description = "Terraform-written versions per key: whether the payload stayed out of the state (write-only), the write-only version counter and the base64 flag."
  value = {
    for k, v in google_secret_manager_secret_version.this : k => {
      write_only = v.secret_data == null && v.secret_data_wo == null
      wo_version = v.secret_data_wo_version
      base64     = v.is_secret_data_base64
    }
  }
}

output "accessors" {
  description = "secretAccessor grants, keyed as given: secret id, role and member."
  value = {
    for k, a in google_secret_manager_secret_iam_member.accessor : k => {
      secret = a.secret_id
      role   = a.role
      member = a.member
    }
  }
}
