package porttest

import "testing"

// TestAuditStore is the contract suite of ports.AuditStore.
func TestAuditStore(t *testing.T, factory Factory) {
	t.Helper()
}
