package porttest

import "testing"

// TestMFAStore is the contract suite of ports.MFAStore.
func TestMFAStore(t *testing.T, factory Factory) {
	t.Helper()
}
