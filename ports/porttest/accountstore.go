package porttest

import "testing"

// TestAccountStore is the contract suite of ports.AccountStore.
func TestAccountStore(t *testing.T, factory Factory) {
	t.Helper()
}
