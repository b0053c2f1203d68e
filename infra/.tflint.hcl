# tflint with its bundled terraform ruleset only (the google ruleset is a
# separate plugin download, unavailable offline): every rule of the
# "recommended" preset plus documentation, naming and module-structure rules.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
