package ports_test

import (
	"testing"

	"github.com/roumu/roumu/ports"
)

// FuzzClientIP: whatever a peer sends as X-Forwarded-For, the client address is valid or invalid (never a
// panic), and a peer that is not a trusted proxy is always the client itself.
func FuzzClientIP(f *testing.F) {
	f.Add("203.0.113.5:4711", "198.51.100.1, 10.0.0.2")
	f.Add("10.0.0.2:80", "198.51.100.1,  ,x")
	f.Add("[2001:db8::1]:443", "")
	f.Add("garbage", "\x00")
	tp, err := ports.ParseTrustedProxies([]string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		f.Fatal(err)
	}
	untrusted, err := ports.ParseTrustedProxies(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		_ = tp.ClientIP(peer, []string{xff})
		direct := untrusted.ClientIP(peer, nil)
		if got := untrusted.ClientIP(peer, []string{xff}); got != direct {
			t.Fatalf("with no trusted proxy, X-Forwarded-For %q changed the client of %q from %v to %v", xff, peer, direct, got)
		}
	})
}
