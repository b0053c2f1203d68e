output "function_urls" {
  description = "URL per function entry point."
  value       = module.functions.urls
}

output "console_url" {
  description = "The web console, which the API function serves beside the API (null when API is not deployed)."
  value       = try("${module.functions.urls["API"]}/console/", null)
}

output "functions" {
  description = "Per function: name, url, uri, Cloud Run service and runtime service account."
  value       = module.functions.functions
}

output "service_accounts" {
  description = "Service account e-mail per role: scheduler and builder, and api/executor when a function, invoker grant, OIDC role or secret uses them."
  value       = module.iam.emails
}

output "scheduler_jobs" {
  description = "Scheduler jobs with schedule, time zone and target URL."
  value       = module.scheduler.jobs
}

output "secret_names" {
  description = "Secret resource names per key (for password_ref secretmanager:<name>/versions/<v>)."
  value       = module.secrets.names
}

output "firestore_database" {
  description = "Firestore database id."
  value       = module.firestore.database
}

output "firestore_indexes" {
  description = "Composite indexes declared."
  value       = module.firestore.index_keys
}

output "vpc_source_ranges" {
  description = "CIDR ranges the functions' VPC traffic comes from (open them on on-prem firewalls)."
  value       = module.network.source_ranges
}
