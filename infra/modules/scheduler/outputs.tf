output "jobs" {
  description = "Per job: full name, schedule, time zone, HTTP method, target URL, JSON body, OIDC identity and audience, attempt deadline and retries."
  value = {
    for k, j in google_cloud_scheduler_job.this : k => {
      name                 = j.name
      schedule             = j.schedule
      time_zone            = j.time_zone
      http_method          = j.http_target[0].http_method
      uri                  = j.http_target[0].uri
      body                 = j.http_target[0].body == null ? null : base64decode(j.http_target[0].body)
      oidc_service_account = one(j.http_target[0].oidc_token[*].service_account_email)
      oidc_audience        = one(j.http_target[0].oidc_token[*].audience)
      uses_oauth_token     = length(j.http_target[0].oauth_token) > 0
      attempt_deadline     = j.attempt_deadline
      retry_count          = j.retry_config[0].retry_count
    }
  }
}

output "invokers" {
  description = "roles/run.invoker grants for the scheduler account, per target function: Cloud Run service, role and member."
  value = {
    for k, b in google_cloud_run_v2_service_iam_member.invoker : k => {
      service = b.name
      role    = b.role
      member  = b.member
    }
  }
}
