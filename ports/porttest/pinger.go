package porttest

import "testing"

// TestPinger is the contract suite of ports.Pinger.
func TestPinger(t *testing.T, factory Factory) {
	t.Helper()
}
