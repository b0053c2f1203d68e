locals {
  use_connector = var.egress_mode == "connector"

  # Addresses the functions' traffic comes from inside the VPC: the
  # connector's /28, or the subnet Direct VPC egress takes addresses from.
  source_ranges = local.use_connector ? [var.connector.ip_cidr_range] : [var.direct_vpc.subnet_cidr]
}

resource "google_vpc_access_connector" "this" {
  count = local.use_connector ? 1 : 0

  project       = var.project_id
  region        = var.region
  name          = "${var.name_prefix}-vpc"
  network       = var.network
  ip_cidr_range = var.connector.ip_cidr_range
  machine_type  = var.connector.machine_type
  min_instances = var.connector.min_instances
  max_instances = var.connector.max_instances
}

# Lets the functions reach HiveServer2 and the HDFS NameNode on VMs in the VPC
# (Dataproc master nodes, or proxies towards on-prem). On-prem firewalls are
# outside Terraform's reach: open the same ports from local.source_ranges there.
resource "google_compute_firewall" "hive" {
  count = var.create_firewall ? 1 : 0

  project     = var.project_id
  name        = "${var.name_prefix}-to-hive"
  network     = var.network
  description = "hivemerge functions to HiveServer2 (10000) and the HDFS NameNode (8020)"
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = local.source_ranges
  target_tags   = var.hive_target_tags

  allow {
    protocol = "tcp"
    ports    = var.hive_ports
  }
}
