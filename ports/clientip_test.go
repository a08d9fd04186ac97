package ports_test

import (
	"net/netip"
	"testing"

	"github.com/roumu/roumu/ports"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	// 10.0.0.0/8 is the load balancer network; 2001:db8:f::/48 an IPv6 ingress.
	tp, err := ports.ParseTrustedProxies([]string{"10.0.0.0/8", " 2001:db8:f::/48 ", "192.0.2.200"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		tp   ports.TrustedProxies
		peer string
		xff  []string
		want string
	}{
		{"no proxy trusted: the peer", ports.TrustedProxies{}, "198.51.100.7:51234", nil, "198.51.100.7"},
		{"forged header from an untrusted peer is ignored", tp, "198.51.100.7:51234", []string{"203.0.113.9"}, "198.51.100.7"},
		{"forged header ignored when no proxy is trusted", ports.TrustedProxies{}, "198.51.100.7:51234", []string{"10.1.1.1"}, "198.51.100.7"},
		{"through the load balancer", tp, "10.0.0.5:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"forged entry left of the real client is ignored", tp, "10.0.0.5:443", []string{"192.0.2.1, 203.0.113.9"}, "203.0.113.9"},
		{"forged trusted-looking entry left of the client", tp, "10.0.0.5:443", []string{"10.9.9.9, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted hops", tp, "10.0.0.5:443", []string{"203.0.113.9, 192.0.2.200"}, "203.0.113.9"},
		{"several header lines are one list", tp, "10.0.0.5:443", []string{"192.0.2.1", "203.0.113.9", "10.0.0.6"}, "203.0.113.9"},
		{"a peer without a port", tp, "10.0.0.5", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv6 peer and client", tp, "[2001:db8:f::1]:443", []string{"2001:db8:1::77"}, "2001:db8:1::77"},
		{"entries with ports and brackets", tp, "10.0.0.5:443", []string{"[2001:db8:1::77]:5555, 10.0.0.7:80"}, "2001:db8:1::77"},
		{"IPv4-mapped IPv6 peer is unmapped", tp, "[::ffff:10.0.0.5]:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a zone is dropped", ports.TrustedProxies{}, "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"garbage entry stops at the hop that forwarded it", tp, "10.0.0.5:443", []string{"203.0.113.9, unknown"}, "10.0.0.5"},
		{"empty header from a trusted peer", tp, "10.0.0.5:443", []string{""}, "10.0.0.5"},
		{"only trusted hops: the leftmost", tp, "10.0.0.5:443", []string{"10.0.0.9"}, "10.0.0.9"},
		{"peer not an address", tp, "not-an-ip", []string{"203.0.113.9"}, "invalid IP"},
	}
	for _, tc := range cases {
		if got := tc.tp.ClientIP(tc.peer, tc.xff).String(); got != tc.want {
			t.Errorf("%s: ClientIP(%q, %q) = %s, want %s", tc.name, tc.peer, tc.xff, got, tc.want)
		}
	}
}

func TestClientIPWalksABoundedNumberOfHops(t *testing.T) {
	t.Parallel()
	tp, _ := ports.ParseTrustedProxies([]string{"10.0.0.0/8"})
	xff := []string{"203.0.113.9"}
	for range 100 {
		xff = append(xff, "10.0.0.1")
	}
	if got := tp.ClientIP("10.0.0.5:443", xff); got != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("after the hop limit: %v, want the last trusted hop", got)
	}
}

func TestParseAddrRange(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.0/24": "192.0.2.0/24", " 192.0.2.77/24 ": "192.0.2.0/24", "192.0.2.1": "192.0.2.1/32",
		"2001:DB8::1/32": "2001:db8::/32", "2001:db8::1": "2001:db8::1/128", "::ffff:192.0.2.1": "192.0.2.1/32",
		"::ffff:192.0.2.0/120": "192.0.2.0/24", "0.0.0.0/0": "0.0.0.0/0",
	} {
		if p, ok := ports.ParseAddrRange(in); !ok || p.String() != want {
			t.Errorf("ParseAddrRange(%q) = %v, %v; want %s", in, p, ok, want)
		}
	}
	for _, bad := range []string{"", "192.0.2.0/", "192.0.2.0/33", "2001:db8::/129", "192.0.2.256", "fe80::1%eth0",
		"fe80::%eth0/64", "192.0.2.1:80", "*.example.jp", "192.0.2.0 /24", "192.0.2.0/24\x00"} {
		if p, ok := ports.ParseAddrRange(bad); ok {
			t.Errorf("ParseAddrRange(%q) = %v, want refused", bad, p)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "example.com", "fe80::1%eth0", "", "10.0.0.1-10.0.0.9"} {
		if _, err := ports.ParseTrustedProxies([]string{"10.0.0.0/8", bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	tp, err := ports.ParseTrustedProxies([]string{"::ffff:10.0.0.0/104", "192.0.2.9/24"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.1.2.3": true, "192.0.2.77": true, "192.0.3.1": false, "11.0.0.1": false} {
		if got := tp.Trusts(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Trusts(%s) = %v, want %v", addr, got, want)
		}
	}
}
