package porttest

import "testing"

// TestThrottleStore is the contract suite of ports.ThrottleStore.
func TestThrottleStore(t *testing.T, factory Factory) {
	t.Helper()
}
