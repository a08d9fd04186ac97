package accounts

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzAllowList: a tenant admin's text (one range per line) either gives one error per bad line or a list in
// normal form that parses again to itself; and a list never allows an address that none of its ranges holds.
func FuzzAllowList(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24\n2001:db8::/32", "10.0.0.1", "::ffff:10.0.0.1/128", "0.0.0.0/0", " \n\n",
		"192.0.2.0/33", "fe80::1%eth0", "1.2.3.4/24", "\x00"} {
		f.Add(s, "192.0.2.10")
	}
	f.Fuzz(func(t *testing.T, text, ip string) {
		lines := strings.Split(text, "\n")
		list, errs := ParseAllowList(lines)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.MessageEN == "" || e.MessageJA == "" {
					t.Fatalf("error without field or messages: %+v", e)
				}
			}
			return
		}
		again, errs := ParseAllowList(list.Strings())
		if len(errs) > 0 || strings.Join(again.Strings(), ",") != strings.Join(list.Strings(), ",") {
			t.Fatalf("%q normalised to %q, which parses to %q, %v", lines, list.Strings(), again.Strings(), errs)
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil || !list.Allows(addr) {
			return
		}
		held := false
		for _, s := range list.Strings() {
			if p, err := netip.ParsePrefix(s); err == nil && p.Contains(addr.Unmap()) {
				held = true
			}
		}
		if !held {
			t.Fatalf("%q allows %s, which none of its ranges holds", list.Strings(), addr)
		}
	})
}
