output "functions" {
  description = "Per entry point: function name, url (cloudfunctions.net: what callers use, and the OIDC audience), uri (the Cloud Run URL), Cloud Run service, and the settings as deployed (service account, ingress, limits, build, VPC access, environment, secret references)."
  value = {
    for k, f in google_cloudfunctions2_function.this : k => {
      name                  = f.name
      url                   = f.url
      uri                   = f.service_config[0].uri
      oidc_audience         = f.service_config[0].environment_variables["HIVEMERGE_OIDC_AUDIENCE"]
      service               = f.service_config[0].service
      service_account       = f.service_config[0].service_account_email
      ingress               = f.service_config[0].ingress_settings
      timeout_seconds       = f.service_config[0].timeout_seconds
      memory                = f.service_config[0].available_memory
      cpu                   = f.service_config[0].available_cpu
      concurrency           = f.service_config[0].max_instance_request_concurrency
      min_instances         = f.service_config[0].min_instance_count
      max_instances         = f.service_config[0].max_instance_count
      vpc_connector         = f.service_config[0].vpc_connector
      vpc_connector_egress  = f.service_config[0].vpc_connector_egress_settings
      direct_vpc_egress     = f.service_config[0].direct_vpc_egress
      environment           = f.service_config[0].environment_variables
      secret_env            = { for s in f.service_config[0].secret_environment_variables : s.key => s.secret }
      secret_volumes        = { for s in f.service_config[0].secret_volumes : s.mount_path => s.secret }
      entry_point           = f.build_config[0].entry_point
      runtime               = f.build_config[0].runtime
      build_service_account = f.build_config[0].service_account
      source_bucket         = f.build_config[0].source[0].storage_source[0].bucket
      source_object         = f.build_config[0].source[0].storage_source[0].object
    }
  }
}

output "urls" {
  description = "Function URL (https://<region>-<project>.cloudfunctions.net/<name>) per entry point."
  value       = { for k, f in google_cloudfunctions2_function.this : k => f.url }
}

output "source_bucket" {
  description = "Bucket holding the source archives."
  value       = google_storage_bucket.source.name
}

output "source_object" {
  description = "Object name of the deployed source archive (content-addressed)."
  value       = google_storage_bucket_object.source.name
}

output "invokers" {
  description = "roles/run.invoker grants made by this module, keyed <function>/<role or member>: Cloud Run service, role and member."
  value = {
    for k, b in google_cloud_run_v2_service_iam_member.invoker : k => {
      service = b.name
      role    = b.role
      member  = b.member
    }
  }
}
