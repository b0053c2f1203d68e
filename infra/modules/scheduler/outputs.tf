output "jobs" {
  description = "Per job: full name, schedule, time zone and target URL."
  value = {
    for k, j in google_cloud_scheduler_job.this : k => {
      name      = j.name
      schedule  = j.schedule
      time_zone = j.time_zone
      uri       = j.http_target[0].uri
    }
  }
}

output "invoked_functions" {
  description = "Functions the scheduler service account may invoke."
  value       = sort(local.targets)
}
