# tflint with its bundled Terraform ruleset only: no plugin is downloaded (the AWS ruleset is not
# reachable from CI), and remote modules are not inspected (they are never downloaded here).
config {
  call_module_type = "none"
  force            = false
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

# Wrapper modules (network, registry) only call terraform-aws-modules, and the example roots pin
# the exact versions of every provider their module tree uses: a required_providers entry
# without a resource of that provider is intended there.
rule "terraform_unused_required_providers" {
  enabled = false
}
