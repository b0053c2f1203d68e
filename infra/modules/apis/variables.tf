variable "project_id" {
  description = "Google Cloud project id the services are enabled in."
  type        = string
}

variable "services" {
  description = "Service APIs hivemerge needs: Cloud Functions (2nd gen runs on Cloud Run and builds with Cloud Build into Artifact Registry), Firestore, Cloud Scheduler, Secret Manager, Serverless VPC Access and Compute (network, firewall)."
  type        = list(string)
  default = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "vpcaccess.googleapis.com",
  ]

  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z0-9-]+\\.googleapis\\.com$", s))])
    error_message = "Each service must be a service name such as run.googleapis.com."
  }
}

variable "disable_on_destroy" {
  description = "Disable the APIs when this module is destroyed. Off by default: other workloads in the project may use them."
  type        = bool
  default     = false
}
