package webhooks

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/roumu/roumu/ports"
)

// urlMaxLen bounds a destination URL, in bytes.
const urlMaxLen = 2048

// internalSuffixes are host names that only ever name machines inside a network.
var internalSuffixes = []string{".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan",
	".home.arpa", ".corp", ".home"}

// checkDestination validates a subscription's URL against the policy as far as it can without resolving the
// host: the scheme, no credentials in the URL, a literal address that must be allowed, and host names that
// can only be internal. The sender checks every resolved address again when it connects.
func checkDestination(policy ports.WebhookDestinations, raw string) *ports.FieldError {
	bad := func(code, en, ja string) *ports.FieldError {
		return &ports.FieldError{Field: "url", Code: code, MessageEN: en, MessageJA: ja}
	}
	if raw == "" {
		return bad("required", "is required", "必須項目です")
	}
	if len(raw) > urlMaxLen || !utf8.ValidString(raw) || strings.ContainsAny(raw, " \t\r\n") {
		return bad("invalid_url", "must be an absolute https URL of at most 2048 characters",
			"2048文字以内の https の URL を入力してください")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("invalid_url", "must be an absolute https URL", "https で始まる URL を入力してください")
	}
	if !policy.SchemeAllowed(u.Scheme) {
		return bad("https_required", "must use https", "https の URL を入力してください")
	}
	if u.User != nil {
		return bad("credentials_in_url", "must not contain a user name or password; the signature authenticates deliveries",
			"URL にユーザー名やパスワードを含めないでください（配信は署名で認証されます）")
	}
	if u.Fragment != "" {
		return bad("invalid_url", "must not have a fragment (#…)", "URL に # 以降を含めないでください")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	notPublic := bad("destination_not_public",
		"must be reachable on the Internet: loopback, private and link-local destinations are refused",
		"インターネット上の宛先を指定してください（ループバック・プライベート・リンクローカルの宛先は使えません）")
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" || !policy.AddrAllowed(addr) {
			return notPublic
		}
		return nil
	}
	if !strings.Contains(host, ".") || host == "localhost" {
		return notPublic // a single label resolves through the search domains, inside the network
	}
	for _, s := range internalSuffixes {
		if strings.HasSuffix(host, s) {
			return notPublic
		}
	}
	if numericLabel(host[strings.LastIndexByte(host, '.')+1:]) {
		return notPublic // "127.1", "0x7f.1": resolvers read these as addresses; no top-level domain is numeric
	}
	return nil
}

// numericLabel tells a label made of digits, or a hexadecimal number (0x…), as the C resolver reads them.
func numericLabel(label string) bool {
	digits := strings.TrimPrefix(label, "0x")
	if digits == "" {
		return false
	}
	for _, r := range digits {
		if !('0' <= r && r <= '9' || label != digits && ('a' <= r && r <= 'f')) {
			return false
		}
	}
	return true
}
