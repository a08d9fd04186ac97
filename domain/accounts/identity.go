package accounts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/roumu/roumu/ports"
)

// Identifier rules. Logins are ASCII after NFKC so that a Cyrillic "а" can never pose as a Latin "a": full-width
// "ｙａｍａｄａ" is the same login as "yamada", and a login in another script is refused rather than confused.
const (
	loginMinLen      = 3
	loginMaxLen      = 64
	tenantCodeMinLen = 2
	tenantCodeMaxLen = 32
	nameMaxLen       = 100
)

var foldCase = cases.Fold()

// NormalizeLogin returns the login as stored (NFKC, trimmed) and its uniqueness key (also case-folded).
func NormalizeLogin(login string) (display, key string) {
	display = strings.TrimSpace(norm.NFKC.String(login))
	return display, foldCase.String(display)
}

// NormalizeTenantCode returns the canonical form of a tenant code as typed at login.
func NormalizeTenantCode(code string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(code)))
}

func validateLogin(field, display string) []ports.FieldError {
	n := utf8.RuneCountInString(display)
	if n < loginMinLen || n > loginMaxLen {
		return []ports.FieldError{{Field: field, Code: "length",
			MessageEN: "must be 3 to 64 characters", MessageJA: "3文字以上64文字以内で入力してください"}}
	}
	for _, r := range display {
		if !isLoginRune(r) {
			return []ports.FieldError{{Field: field, Code: "charset",
				MessageEN: "may contain only letters a-z, digits and . _ - @ +",
				MessageJA: "半角英数字と . _ - @ + のみ使用できます"}}
		}
	}
	return nil
}

func isLoginRune(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@+", r))
}

func validateTenantCode(code string) []ports.FieldError {
	bad := len(code) < tenantCodeMinLen || len(code) > tenantCodeMaxLen || code[0] == '-'
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			bad = true
		}
	}
	if bad {
		return []ports.FieldError{{Field: "code", Code: "tenant_code",
			MessageEN: "must be 2 to 32 characters of a-z, 0-9 and -, not starting with -",
			MessageJA: "半角英小文字・数字・ハイフンの2〜32文字で入力してください(先頭にハイフンは使えません)"}}
	}
	return nil
}

// normalizeName returns a display name in NFKC (half-width katakana become full-width) and checks it.
func normalizeName(field, name string) (string, []ports.FieldError) {
	name = strings.TrimSpace(norm.NFKC.String(name))
	n := utf8.RuneCountInString(name)
	if n == 0 || n > nameMaxLen {
		return name, []ports.FieldError{{Field: field, Code: "length",
			MessageEN: "must be 1 to 100 characters", MessageJA: "1文字以上100文字以内で入力してください"}}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return name, []ports.FieldError{{Field: field, Code: "control_character",
				MessageEN: "must not contain control characters", MessageJA: "制御文字は使用できません"}}
		}
	}
	return name, nil
}

// normalizeRoles validates and de-duplicates member roles, in a stable order.
func normalizeRoles(roles []string) ([]string, []ports.FieldError) {
	seen := map[string]bool{}
	for _, r := range roles {
		switch r {
		case ports.RoleAdmin, ports.RoleHR, ports.RoleEmployee:
			seen[r] = true
		default:
			return nil, []ports.FieldError{{Field: "roles", Code: "unknown_role",
				MessageEN: "roles must be admin, hr or employee", MessageJA: "ロールは admin・hr・employee のいずれかです"}}
		}
	}
	var out []string
	for _, r := range []string{ports.RoleAdmin, ports.RoleHR, ports.RoleEmployee} {
		if seen[r] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, []ports.FieldError{{Field: "roles", Code: "required",
			MessageEN: "at least one role is required", MessageJA: "ロールを1つ以上指定してください"}}
	}
	return out, nil
}
