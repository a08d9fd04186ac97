package porttest

import "testing"

// TestTenantStore is the contract suite of ports.TenantStore.
func TestTenantStore(t *testing.T, factory Factory) {
	t.Helper()
}
