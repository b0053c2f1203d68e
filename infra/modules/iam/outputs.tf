output "emails" {
  description = "Service account e-mail per role (of api, executor, scheduler, builder: those created)."
  value       = { for k, sa in google_service_account.this : k => sa.email }
}

output "members" {
  description = "IAM member string (serviceAccount:<email>) per role."
  value       = { for k, sa in google_service_account.this : k => sa.member }
}

output "ids" {
  description = "Fully qualified service account id (projects/<p>/serviceAccounts/<email>) per role."
  value       = { for k, sa in google_service_account.this : k => sa.id }
}

output "project_roles" {
  description = "Project-level roles granted, as <role key>/<role> strings."
  value       = sort(keys(google_project_iam_member.this))
}
