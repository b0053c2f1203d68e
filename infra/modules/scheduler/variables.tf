variable "project_id" {
  description = "Google Cloud project id of the jobs."
  type        = string
}

variable "region" {
  description = "Cloud Scheduler region (the functions' region)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of job names, e.g. hivemerge-dev; job check-pending becomes <prefix>-check-pending."
  type        = string
}

variable "time_zone" {
  description = "Default time zone (IANA name) of the jobs' schedules."
  type        = string
  default     = "Etc/UTC"
}

variable "service_account_email" {
  description = "E-mail of the scheduler service account: jobs send OIDC tokens minted for it, and it gets roles/run.invoker on the target functions only."
  type        = string
}

variable "functions" {
  description = "Deployed functions by entry point (the functions module's functions output): url (https://<region>-<project>.cloudfunctions.net/<name>, called and used as OIDC audience, which the function also expects as HIVEMERGE_OIDC_AUDIENCE) and Cloud Run service name."
  type = map(object({
    url     = string
    service = string
  }))
}

variable "jobs" {
  description = <<-EOT
    Cron jobs by name. schedule: unix-cron (5 fields). target_function: a key of var.functions.
    http_path: appended to the function URL (e.g. /api/v1/scheduler/check-pending for the API
    function). body: JSON request body. attempt_deadline_seconds: 15..1800 (Cloud Scheduler's
    limit for HTTP targets). retry_count: 0..5.
  EOT
  type = map(object({
    schedule                 = string
    target_function          = string
    http_path                = optional(string, "/")
    http_method              = optional(string, "POST")
    body                     = optional(string, "{}")
    time_zone                = optional(string)
    description              = optional(string, "")
    attempt_deadline_seconds = optional(number, 600)
    retry_count              = optional(number, 1)
    paused                   = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, _ in var.jobs : can(regex("^[a-z][-a-z0-9]{0,39}$", k))])
    error_message = "Job names must be lowercase letters, digits and hyphens, starting with a letter."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : length(split(" ", trimspace(j.schedule))) == 5])
    error_message = "schedule must be a unix-cron expression with 5 fields, e.g. */5 * * * *."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : j.attempt_deadline_seconds >= 15 && j.attempt_deadline_seconds <= 1800])
    error_message = "attempt_deadline_seconds must be between 15 and 1800 (Cloud Scheduler HTTP target limit: 30 minutes)."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : j.retry_count >= 0 && j.retry_count <= 5])
    error_message = "retry_count must be between 0 and 5."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : startswith(j.http_path, "/")])
    error_message = "http_path must start with /."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : contains(["POST", "GET", "PUT", "PATCH", "DELETE"], j.http_method)])
    error_message = "http_method must be POST, GET, PUT, PATCH or DELETE."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : can(jsondecode(j.body))])
    error_message = "body must be valid JSON."
  }

  validation {
    condition     = alltrue([for _, j in var.jobs : contains(keys(var.functions), j.target_function)])
    error_message = "target_function must be one of the deployed functions."
  }
}
