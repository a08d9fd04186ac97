package accounts

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/roumu/roumu/ports"
)

// The one password policy of the whole system: the service specification asks for at least 10 characters from
// at least 3 of 4 classes, with no per-account policy. Beyond it, as NIST SP 800-63B and OWASP ASVS 5.0 ask,
// long passphrases are accepted whole (never truncated), and common or context-derived passwords are refused.
const (
	PasswordMinLength  = 10
	PasswordMaxLength  = 256  // characters; far above the 64 the standards ask us to accept
	passwordMaxBytes   = 1024 // bounds the work a hostile request can cause before hashing
	passwordMinClasses = 3
	contextMinLen      = 3 // shorter login or tenant fragments are too common to forbid
)

//go:embed common_passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// PasswordContext is what a password must not be built from.
type PasswordContext struct {
	Login      string
	Name       string
	TenantCode string
	TenantName string
}

// normalizePassword applies NFKC so that the same password typed with full-width or half-width characters
// (a common IME accident in Japan) hashes the same. It is applied before the policy and before hashing.
func normalizePassword(p string) string { return norm.NFKC.String(p) }

// CheckPassword applies the password policy to an already normalised password and returns one field error
// per rule broken (empty when the password is acceptable).
func CheckPassword(field, password string, pc PasswordContext) []ports.FieldError {
	var errs []ports.FieldError
	add := func(code, en, ja string) {
		errs = append(errs, ports.FieldError{Field: field, Code: code, MessageEN: en, MessageJA: ja})
	}
	n := utf8.RuneCountInString(password)
	if n < PasswordMinLength {
		add("too_short", "must be at least 10 characters", "10文字以上にしてください")
	}
	if n > PasswordMaxLength || len(password) > passwordMaxBytes {
		add("too_long", "must be at most 256 characters", "256文字以内にしてください")
	}
	if classes(password) < passwordMinClasses {
		add("character_classes",
			"must contain at least 3 of: upper-case letters, lower-case letters, digits, symbols",
			"英大文字・英小文字・数字・記号のうち3種類以上を含めてください")
	}
	if strings.ContainsFunc(password, unicode.IsControl) {
		add("control_character", "must not contain control characters", "制御文字は使用できません")
	}
	if isCommon(password) {
		add("common", "is too common; choose a less predictable password",
			"よく使われるパスワードのため使用できません。推測されにくいものにしてください")
	}
	if containsContext(password, pc) {
		add("contains_identity", "must not contain your login, name or company",
			"ログインID・氏名・企業名を含めることはできません")
	}
	return errs
}

// classes counts the character classes present. Letters without case (kanji, kana) count as symbols: they are
// outside the attacker's usual alphabet, which is what the class rule is after.
func classes(p string) int {
	var upper, lower, digit, other bool
	for _, r := range p {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsControl(r):
			other = true
		}
	}
	n := 0
	for _, b := range []bool{upper, lower, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// isCommon reports whether the password is a listed common password once case, digits and symbols are
// stripped: "Password123!" is "password" with decoration, and attackers try exactly that.
func isCommon(p string) bool {
	lower := strings.ToLower(p)
	if commonPasswords[lower] {
		return true
	}
	letters := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, lower)
	return letters != "" && commonPasswords[letters]
}

func containsContext(p string, pc PasswordContext) bool {
	lower := strings.ToLower(p)
	for _, s := range []string{pc.Login, pc.TenantCode, pc.TenantName, pc.Name} {
		for _, part := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune("@._-+", r)
		}) {
			if utf8.RuneCountInString(part) >= contextMinLen && strings.Contains(lower, part) {
				return true
			}
		}
	}
	return false
}
