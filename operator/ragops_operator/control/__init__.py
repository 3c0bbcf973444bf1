"""The operator's I/O: the Kubernetes and Prometheus clients, and the loop around the planners.

One reconcile is gather (control/gather.py: read everything the pass needs into an Observed
snapshot) -> decide (planning/decide.py, pure) -> write (control/write.py: apply, prune, record
events, patch status). runtime.py serialises and coalesces reconciles; handlers.py wires kopf to
it; peering.py keeps a standby replica idle.
"""
