locals {
  # The functions the jobs call; the scheduler account may invoke these and
  # nothing else.
  targets = toset([for _, j in var.jobs : j.target_function])
}

resource "google_cloud_scheduler_job" "this" {
  for_each = var.jobs

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  schedule         = each.value.schedule
  time_zone        = coalesce(each.value.time_zone, var.time_zone)
  paused           = each.value.paused
  attempt_deadline = "${each.value.attempt_deadline_seconds}s"

  retry_config {
    retry_count          = each.value.retry_count
    min_backoff_duration = "10s"
    max_backoff_duration = "300s"
    max_doublings        = 3
  }

  http_target {
    http_method = each.value.http_method
    uri         = "${var.functions[each.value.target_function].url}${each.value.http_path}"
    body        = each.value.http_method == "GET" ? null : base64encode(each.value.body)
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = var.service_account_email
      audience              = var.functions[each.value.target_function].url
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.targets

  project  = var.project_id
  location = var.region
  name     = var.functions[each.key].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.service_account_email}"
}
