package porttest

import "testing"

// TestTransactor is the contract suite of ports.Transactor.
func TestTransactor(t *testing.T, factory Factory) {
	t.Helper()
}
