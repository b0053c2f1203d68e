output "functions" {
  description = "Per entry point: function name, url (cloudfunctions.net), uri (Cloud Run URL, the OIDC audience), Cloud Run service name and runtime service account."
  value = {
    for k, f in google_cloudfunctions2_function.this : k => {
      name            = f.name
      url             = f.url
      uri             = f.service_config[0].uri
      service         = f.service_config[0].service
      service_account = f.service_config[0].service_account_email
    }
  }
}

output "urls" {
  description = "Function URL per entry point."
  value       = { for k, f in google_cloudfunctions2_function.this : k => f.service_config[0].uri }
}

output "source_bucket" {
  description = "Bucket holding the source archives."
  value       = google_storage_bucket.source.name
}

output "source_object" {
  description = "Object name of the deployed source archive (content-addressed)."
  value       = google_storage_bucket_object.source.name
}

output "invoker_bindings" {
  description = "roles/run.invoker grants made by this module, as <function>/<role or member> keys."
  value       = sort(keys(google_cloud_run_v2_service_iam_member.invoker))
}
