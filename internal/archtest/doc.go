// Package archtest holds no code: its test checks the import rules of
// docs/ARCHITECTURE.md (stage packages do not import one another, one
// package owns each external system) against `go list`.
package archtest
