package ports

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// TrustedProxies are the reverse proxies (load balancers, ingress) in front of the service whose
// X-Forwarded-For entries are believed. The HTTP adapter resolves each request's client address with
// ClientIP and passes it on as Source.IP, which audit entries and the tenants' IP allow-lists rely on.
// The zero value trusts no proxy: the peer address is the client. It lives in ports, as a pure function,
// because it defines what Source.IP means for every adapter that fills it.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// maxForwardedHops bounds the X-Forwarded-For entries ClientIP walks through.
const maxForwardedHops = 32

// ParseTrustedProxies parses CIDR ranges or single addresses (IPv4 or IPv6), naming the first bad entry.
func ParseTrustedProxies(entries []string) (TrustedProxies, error) {
	prefixes, err := parseAddrRanges("trusted proxy", entries)
	return TrustedProxies{prefixes: prefixes}, err
}

// parseAddrRanges parses configured entries with ParseAddrRange; an error names the first bad entry as a what.
func parseAddrRanges(what string, entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		p, ok := ParseAddrRange(e)
		if !ok {
			return nil, fmt.Errorf("%s %q is not an IP address or CIDR range", what, e)
		}
		out = append(out, p)
	}
	return out, nil
}

// containsAddr tells whether one of prefixes contains a.
func containsAddr(prefixes []netip.Prefix, a netip.Addr) bool {
	return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
}

// ParseAddrRange parses an IPv4 or IPv6 CIDR range ("192.0.2.0/24", "2001:db8::/32") or a single address
// (a range of one), surrounding spaces allowed, into its normal form: host bits cleared, IPv4-mapped IPv6
// written as IPv4. It refuses zones ("fe80::1%eth0"), which name a link, not a range.
func ParseAddrRange(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// Trusts reports whether a is the address of a trusted proxy.
func (tp TrustedProxies) Trusts(a netip.Addr) bool {
	return containsAddr(tp.prefixes, a.Unmap())
}

// ClientIP returns the client address of a request received from peer (http.Request.RemoteAddr: "host:port"
// or a bare address) with the X-Forwarded-For header values xff (every value, in order), or the zero Addr
// when peer is not an address.
//
// The header is believed only as far as trusted proxies vouch for it: when the peer is not a trusted proxy
// the header is ignored, since anyone can send one. Otherwise the entries are walked from the right (the
// one the nearest proxy appended) while they are trusted proxies themselves; the first entry that is not is
// the client. Entries left of it were written by the client or untrusted hops and are never believed. An
// entry that is not an address stops the walk at the hop that forwarded it. IPv4-mapped IPv6 addresses are
// returned as IPv4 and zones are dropped.
func (tp TrustedProxies) ClientIP(peer string, xff []string) netip.Addr {
	client, ok := parseHost(peer)
	if !ok {
		return netip.Addr{}
	}
	if !tp.Trusts(client) {
		return client
	}
	var hops []string
	for _, v := range xff {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxForwardedHops; i-- {
		hop, ok := parseHost(hops[i])
		if !ok {
			return client
		}
		client = hop
		if !tp.Trusts(hop) {
			return hop
		}
	}
	return client
}

// parseHost parses an address written bare, with a port ("192.0.2.1:443", "[2001:db8::1]:443") or in
// brackets, dropping the port and any zone and unmapping IPv4-mapped IPv6.
func parseHost(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}
