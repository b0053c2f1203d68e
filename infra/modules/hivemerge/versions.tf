terraform {
  required_version = ">= 1.11"

  # This module only composes the others, but declaring the provider lets its
  # tests mock it (mock_provider "google") and its callers pass one.
  required_providers {
    # tflint-ignore: terraform_unused_required_providers
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 9.0"
    }
  }
}
