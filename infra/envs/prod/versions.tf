terraform {
  required_version = ">= 1.11"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 8.0"
    }
  }

  # Partial configuration: pass the state bucket at init time,
  #   terraform init -backend-config="bucket=<state bucket>"
  # (make deploy does this from TF_STATE_BUCKET).
  backend "gcs" {
    prefix = "hivemerge/prod"
  }
}
