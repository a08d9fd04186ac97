package ports

import (
	"net/netip"
	"testing"
)

func TestIsPublicAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"203.0.114.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.10", false},
		{"198.18.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},         // IPv4-compatible
		{"64:ff9b::7f00:1", false},     // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", false},      // NAT64 of 10.0.0.1
		{"2002:a00:1::1", false},       // 6to4 of 10.0.0.1
		{"2002:7f00:1::1", false},      // 6to4 of 127.0.0.1
		{"2001:db8::1", false},         // documentation
		{"2001:0:4136:e378::1", false}, // Teredo
		{"fe80::1%eth0", false},        // zoned link-local
		{"172.15.255.255", true},       // just outside 172.16/12
		{"100.63.255.255", true},       // just outside 100.64/10
		{"100.128.0.0", true},          // just past it
		{"169.253.255.255", true},      // just outside link-local
		{"fbff:ffff:ffff::1", false},   // 2000::/3 only is global unicast … fbff is not
		{"2a00:1450:4001:82b::200e", true},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := IsPublicAddr(a); got != tc.public {
			t.Errorf("IsPublicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
	if IsPublicAddr(netip.Addr{}) {
		t.Error("the zero address is public")
	}
}

func TestWebhookDestinationsAllowList(t *testing.T) {
	t.Parallel()
	d, err := ParseWebhookDestinations(true, []string{"127.0.0.1/32", " 10.20.0.0/16 ", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1":         true,
		"::ffff:127.0.0.1":  true, // mapped forms are judged as IPv4 in the allow-list too
		"127.0.0.2":         false,
		"10.20.3.4":         true,
		"10.21.0.1":         false,
		"fd00::1":           true,
		"fd00::2":           false,
		"93.184.216.34":     true,
		"::ffff:10.20.0.99": true,
	} {
		if got := d.AddrAllowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AddrAllowed(%s) = %v, want %v", addr, got, want)
		}
	}
	var none WebhookDestinations
	if none.AddrAllowed(netip.MustParseAddr("127.0.0.1")) || none.AllowHTTP {
		t.Error("the zero policy allows loopback or http")
	}
	if _, err := ParseWebhookDestinations(false, []string{"10.0.0.0/8", "not-a-range"}); err == nil {
		t.Error("a bad range was accepted")
	}
}
