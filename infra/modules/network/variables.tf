variable "project_id" {
  description = "Google Cloud project id of the VPC network."
  type        = string
}

variable "region" {
  description = "Region of the functions (and of the connector or the Direct VPC subnet)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of resource names, e.g. hivemerge-dev (connector names are limited to 25 characters)."
  type        = string

  validation {
    condition     = length(var.name_prefix) <= 21
    error_message = "name_prefix must be at most 21 characters (connector name <prefix>-vpc is limited to 25)."
  }
}

variable "network" {
  description = "Name or self link of the VPC network that reaches HiveServer2 and HDFS (peered with on-prem by VPN or Interconnect, or the Dataproc network)."
  type        = string
}

variable "egress_mode" {
  description = "How functions reach the VPC: connector (Serverless VPC Access connector) or direct (Direct VPC egress, no connector VMs)."
  type        = string
  default     = "connector"

  validation {
    condition     = contains(["connector", "direct"], var.egress_mode)
    error_message = "egress_mode must be connector or direct."
  }
}

variable "connector" {
  description = "Serverless VPC Access connector settings (egress_mode = connector): an unused /28 in the network, machine type and instance bounds."
  type = object({
    ip_cidr_range = optional(string, "10.8.0.0/28")
    machine_type  = optional(string, "e2-micro")
    min_instances = optional(number, 2)
    max_instances = optional(number, 3)
  })
  default = {}

  validation {
    condition     = can(cidrnetmask(var.connector.ip_cidr_range)) && endswith(var.connector.ip_cidr_range, "/28")
    error_message = "connector.ip_cidr_range must be a /28 CIDR range."
  }

  validation {
    condition     = var.connector.min_instances >= 2 && var.connector.max_instances > var.connector.min_instances && var.connector.max_instances <= 10
    error_message = "Connector instances: 2 <= min_instances < max_instances <= 10."
  }
}

variable "direct_vpc" {
  description = "Direct VPC egress settings (egress_mode = direct): subnetwork name, its primary CIDR (used as the firewall source) and network tags put on the functions."
  type = object({
    subnetwork  = optional(string)
    subnet_cidr = optional(string)
    tags        = optional(list(string), ["hivemerge-functions"])
  })
  default = {}

  validation {
    condition     = var.egress_mode != "direct" || (var.direct_vpc.subnetwork != null && can(cidrnetmask(var.direct_vpc.subnet_cidr)))
    error_message = "egress_mode = direct needs direct_vpc.subnetwork and direct_vpc.subnet_cidr."
  }
}

variable "create_firewall" {
  description = "Create the ingress firewall rule to HiveServer2 and the NameNode on VMs tagged hive_target_tags (Dataproc). Disable when the Hive endpoints are only on-prem."
  type        = bool
  default     = true
}

variable "hive_target_tags" {
  description = "Network tags of the VMs running HiveServer2 and the NameNode (e.g. the Dataproc cluster's tags)."
  type        = list(string)
  default     = ["hive"]

  validation {
    condition     = length(var.hive_target_tags) > 0
    error_message = "hive_target_tags must not be empty: a rule without target tags would apply to every VM in the network."
  }
}

variable "hive_ports" {
  description = "TCP ports opened to the Hive VMs: HiveServer2 (10000) and the HDFS NameNode RPC (8020). Add 10001 for HTTP transport, 9866 (DataNode) only if the functions read file data."
  type        = list(string)
  default     = ["10000", "8020"]

  validation {
    condition     = alltrue([for p in var.hive_ports : can(regex("^[0-9]{1,5}(-[0-9]{1,5})?$", p))])
    error_message = "hive_ports entries must be ports or port ranges such as 10000 or 9866-9867."
  }
}
