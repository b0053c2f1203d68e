variable "project_id" {
  description = "Google Cloud project id that owns the service accounts."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every account id, e.g. hivemerge-dev (the account id becomes <prefix>-<name>, 6 to 30 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "service_accounts" {
  description = <<-EOT
    One service account per role, with the project-level roles it needs and nothing more.
    api: serves the REST API and the read/create functions (Firestore read/write).
    executor: runs merges in ExecuteTask (Firestore read/write).
    scheduler: identity of Cloud Scheduler's OIDC tokens; it gets roles/run.invoker only on the
    functions its jobs call (granted by the scheduler module), no project role.
    builder: Cloud Build identity that builds the function images (instead of the default
    compute service account, which often holds Editor).
    Secret Manager access is granted per secret by the secrets module, never project-wide.
  EOT
  type = map(object({
    description   = optional(string, "")
    project_roles = optional(list(string), [])
  }))
  default = {
    api = {
      description   = "hivemerge REST API and task functions"
      project_roles = ["roles/datastore.user"]
    }
    executor = {
      description   = "hivemerge task executor (ExecuteTask)"
      project_roles = ["roles/datastore.user"]
    }
    scheduler = {
      description = "hivemerge Cloud Scheduler jobs (OIDC caller)"
    }
    builder = {
      description   = "hivemerge Cloud Functions builds"
      project_roles = ["roles/cloudbuild.builds.builder"]
    }
  }

  validation {
    condition     = alltrue([for k, _ in var.service_accounts : can(regex("^[a-z][a-z0-9]{1,9}$", k))])
    error_message = "Service account keys must be 2-10 lowercase letters or digits (they become part of the account id)."
  }

  validation {
    condition = alltrue(flatten([
      for _, sa in var.service_accounts : [for r in sa.project_roles : !contains(["roles/owner", "roles/editor", "roles/secretmanager.secretAccessor"], r)]
    ]))
    error_message = "Broad roles (owner, editor) and project-wide secretAccessor are not allowed; grant secrets per secret."
  }
}

variable "accounts" {
  description = "Keys of service_accounts to create, e.g. only those the deployment's functions, jobs and secrets use (other names, such as e-mails, are ignored). null creates every account."
  type        = list(string)
  default     = null
}
