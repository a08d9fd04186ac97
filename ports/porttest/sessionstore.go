package porttest

import "testing"

// TestSessionStore is the contract suite of ports.SessionStore.
func TestSessionStore(t *testing.T, factory Factory) {
	t.Helper()
}
