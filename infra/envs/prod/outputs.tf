output "function_urls" {
  description = "URL per function entry point."
  value       = module.hivemerge.function_urls
}

output "console_url" {
  description = "The web console (sign in with an API token)."
  value       = module.hivemerge.console_url
}

output "service_accounts" {
  description = "Service account e-mail per role."
  value       = module.hivemerge.service_accounts
}

output "scheduler_jobs" {
  description = "Scheduler jobs with their target URLs."
  value       = module.hivemerge.scheduler_jobs
}

output "secret_names" {
  description = "Secret resource names (password_ref secretmanager:<name>/versions/latest)."
  value       = module.hivemerge.secret_names
}

output "vpc_source_ranges" {
  description = "Source ranges of the functions' VPC traffic (allow them on on-prem firewalls)."
  value       = module.hivemerge.vpc_source_ranges
}

output "functions" {
  description = "Per function: name, URLs, Cloud Run service, service account, ingress, limits and secret references."
  value       = module.hivemerge.functions
}
