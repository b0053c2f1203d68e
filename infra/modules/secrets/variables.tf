variable "project_id" {
  description = "Google Cloud project id that owns the secrets."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every secret id: the secret for key k is <prefix>-<k>."
  type        = string
}

variable "labels" {
  description = "Labels put on every secret."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = <<-EOT
    Secrets by key (Hive passwords, LDAP passwords, Kerberos keytabs).
    value_version = 0 (default): Terraform creates only the secret; add versions out of band
    (gcloud secrets versions add <id> --data-file=...).
    value_version > 0: Terraform writes a version from secret_values[key] through the write-only
    argument secret_data_wo (nothing reaches the state); bump the number to rotate.
    base64 = true for binary content (keytabs): pass the value base64-encoded.
  EOT
  type = map(object({
    value_version = optional(number, 0)
    base64        = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, _ in var.secrets : can(regex("^[a-z][-a-z0-9_]{0,62}$", k))])
    error_message = "Secret keys must start with a lowercase letter and contain only lowercase letters, digits, '-' and '_'."
  }

  validation {
    condition     = alltrue([for _, s in var.secrets : s.value_version >= 0 && floor(s.value_version) == s.value_version])
    error_message = "value_version must be a whole number >= 0."
  }
}

variable "secret_values" {
  description = "Secret payloads by key for the secrets with value_version > 0. Ephemeral: never stored in plan or state. Pass with TF_VAR_secret_values='{\"hive-password\":\"...\"}'."
  type        = map(string)
  default     = {}
  sensitive   = true
  ephemeral   = true
}

variable "accessors" {
  description = "roles/secretmanager.secretAccessor grants on single secrets, keyed by a static string (e.g. <secret key>/<role>): secret is a key of var.secrets, member an IAM member."
  type = map(object({
    secret = string
    member = string
  }))
  default = {}

  validation {
    condition     = alltrue([for _, a in var.accessors : contains(keys(var.secrets), a.secret)])
    error_message = "Every accessor must name a secret declared in var.secrets."
  }
}
