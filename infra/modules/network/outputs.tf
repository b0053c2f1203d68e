output "vpc_access" {
  description = "What the functions module needs to attach functions to the VPC: connector id (connector mode) or Direct VPC interface settings (direct mode)."
  value = {
    connector  = local.use_connector ? google_vpc_access_connector.this[0].id : null
    network    = local.use_connector ? null : var.network
    subnetwork = local.use_connector ? null : var.direct_vpc.subnetwork
    tags       = local.use_connector ? [] : var.direct_vpc.tags
  }
}

output "source_ranges" {
  description = "CIDR ranges the functions' VPC traffic comes from (open these on on-prem firewalls too)."
  value       = local.source_ranges
}

output "firewall" {
  description = "The firewall rule to the Hive VMs (name, source ranges, target tags, TCP ports), or null."
  value = var.create_firewall ? {
    name          = google_compute_firewall.hive[0].name
    source_ranges = sort(google_compute_firewall.hive[0].source_ranges)
    target_tags   = sort(google_compute_firewall.hive[0].target_tags)
    tcp_ports     = sort(flatten([for a in google_compute_firewall.hive[0].allow : a.ports if a.protocol == "tcp"]))
  } : null
}
