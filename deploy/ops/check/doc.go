// Package check validates the deployment files without a container engine
// or a cluster: deploy/compose against the Compose specification and
// earshot's strict configuration loader, and deploy/helm/earshot rendered
// with Helm's engine and decoded strictly into the Kubernetes API types.
// It is its own module (deploy/ops/go.mod) so that the main module does not
// build Helm and the Kubernetes API; `make deploycheck` runs it.
package check
