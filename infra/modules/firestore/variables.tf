variable "project_id" {
  description = "Google Cloud project id of the Firestore database."
  type        = string
}

variable "location_id" {
  description = "Firestore location (a region such as europe-west1 or a multi-region such as eur3/nam5). Cannot be changed after creation."
  type        = string
}

variable "database_name" {
  description = "Firestore database id; the functions get it as HIVEMERGE_FIRESTORE_DATABASE."
  type        = string
  default     = "(default)"

  validation {
    condition     = var.database_name == "(default)" || can(regex("^[a-z][-a-z0-9]{3,62}$", var.database_name))
    error_message = "database_name must be (default) or 4-63 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "create_database" {
  description = "Create the database. Set false when it already exists (e.g. a project whose (default) database was created by App Engine or by hand); indexes are still managed."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery (7 days of versions)."
  type        = bool
  default     = false
}

variable "delete_protection" {
  description = "Protect the database against deletion (and make Terraform abandon rather than delete it on destroy)."
  type        = bool
  default     = true
}

variable "indexes_file" {
  description = "JSON file listing the composite indexes: [{collection, fields: [{path, descending}]}]. Defaults to the module's indexes.json, which the Go test checks against the store's queries."
  type        = string
  default     = null
  nullable    = true
}
