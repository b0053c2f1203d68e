mock_provider "google" {}

variables {
  project_id  = "test-project"
  region      = "europe-west1"
  name_prefix = "hivemerge-test"
  network     = "hive-net"
}

run "connector_mode" {
  command = plan

  assert {
    condition     = length(google_vpc_access_connector.this) == 1 && google_vpc_access_connector.this[0].ip_cidr_range == "10.8.0.0/28"
    error_message = "connector mode must create one connector on the /28"
  }
  assert {
    condition     = google_compute_firewall.hive[0].source_ranges == toset(["10.8.0.0/28"])
    error_message = "The firewall must admit the connector range"
  }
}

run "direct_mode" {
  command = plan

  variables {
    egress_mode = "direct"
    direct_vpc = {
      subnetwork  = "functions"
      subnet_cidr = "10.20.0.0/24"
    }
  }

  assert {
    condition     = length(google_vpc_access_connector.this) == 0
    error_message = "direct mode needs no connector"
  }
  assert {
    condition     = google_compute_firewall.hive[0].source_ranges == toset(["10.20.0.0/24"])
    error_message = "The firewall must admit the Direct VPC subnet"
  }
  assert {
    condition     = output.vpc_access.subnetwork == "functions" && output.vpc_access.connector == null
    error_message = "direct mode must hand the subnetwork to the functions"
  }
}

run "direct_mode_needs_a_subnet" {
  command = plan

  variables {
    egress_mode = "direct"
  }

  expect_failures = [var.direct_vpc]
}

run "connector_range_must_be_a_28" {
  command = plan

  variables {
    connector = { ip_cidr_range = "10.8.0.0/24" }
  }

  expect_failures = [var.connector]
}
