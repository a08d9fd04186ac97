package accounts

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/roumu/roumu/ports"
)

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		lines []string
		want  []string
		errs  []string
	}{
		{"IPv4 and IPv6, normalised", []string{" 192.0.2.77/24", "2001:DB8:0:1::/64", "198.51.100.5", "::ffff:203.0.113.9"},
			[]string{"192.0.2.0/24", "2001:db8:0:1::/64", "198.51.100.5/32", "203.0.113.9/32"}, nil},
		{"blank lines skipped, duplicates dropped", []string{"", "192.0.2.0/24", "  ", "192.0.2.1/24", "192.0.2.0/24"},
			[]string{"192.0.2.0/24"}, nil},
		{"one error per bad line", []string{"192.0.2.0/24", "192.0.2.0/33", "office", "10.0.0.1", "fe80::1%eth0", "2001:db8::/129"},
			[]string{"192.0.2.0/24", "10.0.0.1/32"},
			[]string{"allowed_cidrs[1]:invalid_cidr", "allowed_cidrs[2]:invalid_cidr", "allowed_cidrs[4]:invalid_cidr", "allowed_cidrs[5]:invalid_cidr"}},
		{"every address refused", []string{"0.0.0.0/0", "::/0"}, nil,
			[]string{"allowed_cidrs[0]:allows_everything", "allowed_cidrs[1]:allows_everything"}},
		{"nothing", nil, nil, nil},
	}
	for _, tc := range cases {
		l, errs := ParseAllowList(tc.lines)
		if got := l.Strings(); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: list %v, want %v", tc.name, got, tc.want)
		}
		var got []string
		for _, e := range errs {
			got = append(got, e.Field+":"+e.Code)
			if e.MessageEN == "" || e.MessageJA == "" {
				t.Errorf("%s: error without both messages: %+v", tc.name, e)
			}
		}
		if !slices.Equal(got, tc.errs) {
			t.Errorf("%s: errors %v, want %v", tc.name, got, tc.errs)
		}
	}
	_, errs := ParseAllowList([]string{"a\x1b[31mb"})
	if len(errs) != 1 || errs[0].MessageEN != `line 1: "a\x1b[31mb" is not an IPv4 or IPv6 address or CIDR range (e.g. 192.0.2.0/24)` {
		t.Errorf("the bad line is not quoted safely: %+v", errs)
	}
}

func TestAllowListLimit(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range MaxAllowListEntries + 1 {
		lines = append(lines, fmt.Sprintf("10.0.%d.0/24", i))
	}
	if _, errs := ParseAllowList(lines[:MaxAllowListEntries]); len(errs) != 0 {
		t.Errorf("%d entries: %v", MaxAllowListEntries, errs)
	}
	if _, errs := ParseAllowList(lines); len(errs) != 1 || errs[0].Code != "too_many" {
		t.Errorf("%d entries: %v, want too_many", len(lines), errs)
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	l, _ := ParseAllowList([]string{"192.0.2.0/24", "2001:db8:1::/48", "198.51.100.5"})
	for ip, want := range map[string]bool{
		"192.0.2.0": true, "192.0.2.255": true, "192.0.3.0": false, "198.51.100.5": true, "198.51.100.6": false,
		"2001:db8:1:ffff::1": true, "2001:db8:2::1": false, "::ffff:192.0.2.9": true, "fe80::1%eth0": false,
	} {
		if got := l.Allows(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", ip, got, want)
		}
	}
	if l.Allows(netip.Addr{}) || (AllowList{}).Allows(netip.MustParseAddr("192.0.2.1")) {
		t.Error("an unknown client or an empty list allows")
	}
}

func TestCheckAllowListChange(t *testing.T) {
	t.Parallel()
	on := ports.TenantRecord{IPRestriction: true}
	cases := []struct {
		name    string
		tenant  ports.TenantRecord
		lines   []string
		adminIP string
		code    string
	}{
		{"keeps the admin's address", on, []string{"192.0.2.0/24", "198.51.100.0/24"}, "192.0.2.10", ""},
		{"keeps the admin's IPv6 address", on, []string{"2001:db8::/32"}, "2001:db8::99", ""},
		{"would lock the admin out", on, []string{"198.51.100.0/24"}, "192.0.2.10", "would_lock_out"},
		{"empty list locks everyone out", on, nil, "192.0.2.10", "would_lock_out"},
		{"unknown admin address", on, []string{"192.0.2.0/24"}, "", "would_lock_out"},
		{"option off: only the lines are checked", ports.TenantRecord{}, []string{"198.51.100.0/24"}, "192.0.2.10", ""},
		{"bad lines before the lock-out check", on, []string{"nonsense"}, "192.0.2.10", "validation_failed"},
	}
	for _, tc := range cases {
		stored, err := CheckAllowListChange(tc.tenant, tc.lines, tc.adminIP)
		code := ""
		if e, ok := ports.AsError(err); ok {
			code = e.Code
			if !errors.Is(err, ports.ErrInvalid) || e.MessageJA == "" || len(e.Fields) == 0 {
				t.Errorf("%s: %+v", tc.name, e)
			}
		} else if err != nil {
			t.Errorf("%s: untyped error %v", tc.name, err)
		}
		if code != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, code, tc.code)
		}
		if err == nil && len(stored) != len(tc.lines) {
			t.Errorf("%s: stored %v", tc.name, stored)
		}
	}
}

func TestCheckSourceIP(t *testing.T) {
	t.Parallel()
	restricted := ports.TenantRecord{IPRestriction: true, AllowedCIDRs: []string{"192.0.2.0/24", "damaged entry"}}
	for _, tc := range []struct {
		tenant ports.TenantRecord
		ip     string
		ok     bool
	}{
		{restricted, "192.0.2.44", true},
		{restricted, "198.51.100.1", false},
		{restricted, "", false},
		{restricted, "not an ip", false},
		{ports.TenantRecord{AllowedCIDRs: []string{"192.0.2.0/24"}}, "198.51.100.1", true}, // option off
		{ports.TenantRecord{IPRestriction: true}, "192.0.2.44", false},                     // on, empty list
	} {
		err := CheckSourceIP(tc.tenant, tc.ip)
		if e, _ := ports.AsError(err); tc.ok != (err == nil) || (!tc.ok && (e == nil || e.Code != "ip_not_allowed" || !errors.Is(err, ports.ErrForbidden))) {
			t.Errorf("CheckSourceIP(%v, %q) = %v", tc.tenant.AllowedCIDRs, tc.ip, err)
		}
	}
}

// TestForgedForwardedForDoesNotPassTheAllowList runs the path a request takes: the HTTP adapter resolves the
// client with ports.TrustedProxies.ClientIP, and the allow-list judges that address, so a forged
// X-Forwarded-For naming an allowed address does not get an outsider in.
func TestForgedForwardedForDoesNotPassTheAllowList(t *testing.T) {
	t.Parallel()
	tenant := ports.TenantRecord{IPRestriction: true, AllowedCIDRs: []string{"192.0.2.0/24"}}
	proxies, err := ports.ParseTrustedProxies([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		ok         bool
	}{
		{"office through the load balancer", "10.0.0.5:443", []string{"192.0.2.10"}, true},
		{"outsider forging the office address, direct", "198.51.100.9:5000", []string{"192.0.2.10"}, false},
		{"outsider forging it through the load balancer", "10.0.0.5:443", []string{"192.0.2.10, 198.51.100.9"}, false},
	} {
		ip := proxies.ClientIP(tc.peer, tc.xff).String()
		if got := CheckSourceIP(tenant, ip) == nil; got != tc.ok {
			t.Errorf("%s: client %s allowed = %v, want %v", tc.name, ip, got, tc.ok)
		}
	}
}
