package accounts

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/roumu/roumu/ports"
)

// MaxAllowListEntries is how many ranges a tenant's IP allow-list may hold: enough for every office and VPN
// exit of a company, few enough that a list stays reviewable.
const MaxAllowListEntries = 100

// AllowList is a tenant's IP allow-list (the IP restriction contract option): IPv4 and IPv6 ranges in normal
// form (host bits cleared, IPv4-mapped IPv6 as IPv4), without duplicates, in the order given. The zero
// AllowList allows nothing.
type AllowList struct {
	prefixes []netip.Prefix
}

// ParseAllowList parses the lines an admin entered, one range ("192.0.2.0/24", "2001:db8::/48") or single
// address per line; blank lines are skipped and duplicates dropped. It returns one field error per bad line
// (field allowed_cidrs[i], for line i+1) and one for a list longer than MaxAllowListEntries. A range of every
// address (/0) is refused: switching the option off says that honestly.
func ParseAllowList(lines []string) (AllowList, []ports.FieldError) {
	var l AllowList
	var errs []ports.FieldError
	seen := map[netip.Prefix]bool{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, ok := ports.ParseAddrRange(line)
		switch {
		case !ok:
			errs = append(errs, lineError(i, line, "invalid_cidr",
				"is not an IPv4 or IPv6 address or CIDR range (e.g. 192.0.2.0/24)",
				"は IPv4・IPv6 のアドレスまたは CIDR 形式の範囲ではありません（例: 192.0.2.0/24）"))
		case p.Bits() == 0:
			errs = append(errs, lineError(i, line, "allows_everything",
				"allows every address; turn IP restriction off instead",
				"はすべてのアドレスを許可します。IP制限を無効にしてください"))
		case !seen[p]:
			seen[p] = true
			l.prefixes = append(l.prefixes, p)
		}
	}
	if len(l.prefixes) > MaxAllowListEntries {
		errs = append(errs, ports.FieldError{Field: "allowed_cidrs", Code: "too_many",
			MessageEN: fmt.Sprintf("at most %d entries", MaxAllowListEntries),
			MessageJA: fmt.Sprintf("登録できるのは%d件までです", MaxAllowListEntries)})
	}
	return l, errs
}

// lineError reports a bad line, quoting at most 64 characters of it (escaped, so that it cannot break a
// page or a log line).
func lineError(i int, line, code, en, ja string) ports.FieldError {
	if utf8.RuneCountInString(line) > 64 {
		line = string([]rune(line)[:64]) + "…"
	}
	return ports.FieldError{Field: fmt.Sprintf("allowed_cidrs[%d]", i), Code: code,
		MessageEN: fmt.Sprintf("line %d: %q %s", i+1, line, en),
		MessageJA: fmt.Sprintf("%d行目: %q %s", i+1, line, ja)}
}

// Strings returns the ranges in normal form, as TenantRecord.AllowedCIDRs stores them.
func (l AllowList) Strings() []string {
	out := make([]string, 0, len(l.prefixes))
	for _, p := range l.prefixes {
		out = append(out, p.String())
	}
	return out
}

// Allows reports whether ip falls in one of the ranges. The zero Addr (an unknown client) is never allowed.
func (l AllowList) Allows(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range l.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckAllowListChange is the policy for a tenant admin replacing the allow-list of tenant with lines, from
// the client address adminIP (Source.IP). It returns the list to store (normal form) or a validation error:
// one field error per bad line, or "would_lock_out" when the option is on and the new list would not allow
// adminIP, since the admin would lose access with the save and nobody in the tenant could undo it. An
// unknown adminIP cannot be shown to be allowed, so it is refused too. With the option off nothing is
// enforced yet and only the lines are checked.
func CheckAllowListChange(tenant ports.TenantRecord, lines []string, adminIP string) ([]string, error) {
	l, errs := ParseAllowList(lines)
	if len(errs) > 0 {
		return nil, ports.Invalid("validation_failed", "Some entries of the IP allow-list are invalid.",
			"IPアドレス制限の設定に誤りがあります。", errs...)
	}
	if admin := parseSourceIP(adminIP); tenant.IPRestriction && !l.Allows(admin) {
		return nil, ports.Invalid("would_lock_out",
			"This change would block your own connection ("+admin.String()+"): add it to the list first.",
			"この変更を保存すると、現在の接続元（"+admin.String()+"）からアクセスできなくなります。先にこのアドレスを許可してください。",
			ports.FieldError{Field: "allowed_cidrs", Code: "would_lock_out",
				MessageEN: "must allow the address you are connected from", MessageJA: "現在の接続元アドレスを含めてください"})
	}
	return l.Strings(), nil
}

// CheckSourceIP enforces the tenant's IP restriction for a request from ip (Source.IP): nil when the option
// is off or ip is allowed, else ErrForbidden "ip_not_allowed". Stored entries that do not parse allow
// nothing, so a damaged list fails closed.
func CheckSourceIP(tenant ports.TenantRecord, ip string) error {
	if !tenant.IPRestriction {
		return nil
	}
	l, _ := ParseAllowList(tenant.AllowedCIDRs)
	if l.Allows(parseSourceIP(ip)) {
		return nil
	}
	return ports.NewError(ports.ErrForbidden, "ip_not_allowed",
		"Access from this IP address is not allowed for this company.",
		"この企業では、このIPアドレスからのアクセスは許可されていません。")
}

// parseSourceIP parses Source.IP; anything else is the zero Addr, which no list allows.
func parseSourceIP(ip string) netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return netip.Addr{}
	}
	return a
}
