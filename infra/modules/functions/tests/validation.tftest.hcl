# Settings the platform rejects are refused at plan time, with a message.

mock_provider "google" {}

variables {
  project_id          = "test-project"
  region              = "europe-west1"
  name_prefix         = "hivemerge-test"
  source_archive_path = "../hivemerge/tests/testdata/function-source.zip"
  service_accounts = {
    api      = "api@test-project.iam.gserviceaccount.com"
    executor = "executor@test-project.iam.gserviceaccount.com"
  }
  functions = {
    ExecuteTask = { service_account = "executor", timeout_seconds = 3600 }
  }
}

run "defaults" {
  command = plan

  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].ingress_settings == "ALLOW_INTERNAL_AND_GCLB"
    error_message = "Ingress must default to ALLOW_INTERNAL_AND_GCLB"
  }
  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].build_config[0].runtime == "go126"
    error_message = "The runtime must default to go126"
  }
  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].vpc_connector == null && length(google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].direct_vpc_network_interface) == 0
    error_message = "Without vpc_access no VPC attachment is made"
  }
}

run "direct_vpc_egress" {
  command = plan

  variables {
    vpc_access = {
      network    = "hive-net"
      subnetwork = "functions"
      tags       = ["hivemerge-functions"]
    }
  }

  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].direct_vpc_network_interface[0].subnetwork == "functions"
    error_message = "Direct VPC egress must use the given subnetwork"
  }
  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].direct_vpc_egress == "VPC_EGRESS_PRIVATE_RANGES_ONLY"
    error_message = "Direct VPC egress must default to private ranges"
  }
  assert {
    condition     = google_cloudfunctions2_function.this["ExecuteTask"].service_config[0].vpc_connector == null
    error_message = "Direct VPC egress and a connector are exclusive"
  }
}

run "timeout_above_one_hour_is_refused" {
  command = plan

  variables {
    functions = {
      ExecuteTask = { service_account = "executor", timeout_seconds = 3601 }
    }
  }

  expect_failures = [var.functions]
}

run "unknown_ingress_is_refused" {
  command = plan

  variables {
    functions = {
      API = { service_account = "api", ingress = "INTERNAL" }
    }
  }

  expect_failures = [var.functions]
}

run "unknown_service_account_is_refused" {
  command = plan

  variables {
    functions = {
      API = { service_account = "scheduler" }
    }
  }

  expect_failures = [var.functions]
}

run "undeclared_secret_is_refused" {
  command = plan

  variables {
    functions = {
      API = { service_account = "api", secret_env = { HIVEMERGE_SECRET_HIVE_PASSWORD = "hive-password" } }
    }
  }

  expect_failures = [var.functions]
}

run "unknown_application_role_is_refused" {
  command = plan

  variables {
    functions = {
      API = { service_account = "api", oidc_roles = { scheduler = "superuser" } }
    }
  }

  expect_failures = [var.functions]
}

run "old_go_runtime_is_refused" {
  command = plan

  variables {
    runtime = "go125"
  }

  expect_failures = [var.runtime]
}
