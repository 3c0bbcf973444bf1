"""A real local Kubernetes control plane (etcd, kube-apiserver, controllers, kwok) as plain
processes."""
