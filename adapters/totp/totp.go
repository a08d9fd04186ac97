// Package totp implements ports.TOTPGenerator with github.com/pquerna/otp: RFC 6238 time-based one-time
// passwords with the parameters every authenticator app understands (30-second steps, 6 digits, HMAC-SHA-1,
// 20-byte secrets).
package totp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/roumu/roumu/ports"
)

const (
	// period is the RFC 6238 time step in seconds. Apps ignore or mishandle other values, so it is fixed.
	period = 30
	// digits is the code length; MatchStep refuses anything else before computing an HMAC.
	digits = 6
	// secretSize is 160 bits, the HMAC-SHA-1 output size that RFC 4226 recommends for the shared secret.
	secretSize = 20
)

// opts are the code parameters, shared by generation and matching so the two cannot drift apart.
var opts = pqtotp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Generator is the TOTP generator. The zero value is ready to use and safe for concurrent use.
type Generator struct{}

var _ ports.TOTPGenerator = Generator{}

// NewKey creates a random secret and the otpauth:// URL for enrolment by QR code. The label is
// "issuer:accountName" with both parts percent-encoded, including "/" and ":", so that a login containing them
// cannot shift the issuer/account split that apps perform on the label.
func (Generator) NewKey(issuer, accountName string) (ports.TOTPKey, error) {
	if issuer == "" || accountName == "" {
		return ports.TOTPKey{}, errors.New("totp: issuer and account name are required")
	}
	key, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      period,
		SecretSize:  secretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return ports.TOTPKey{}, fmt.Errorf("totp: generate key: %w", err)
	}
	// The library leaves "/" and ":" of the label unescaped; keep its query (secret, issuer, parameters) and
	// replace only the path.
	u, err := url.Parse(key.URL())
	if err != nil {
		return ports.TOTPKey{}, fmt.Errorf("totp: parse key URL: %w", err)
	}
	u.Path = "/" + issuer + ":" + accountName
	u.RawPath = "/" + escapeLabelPart(issuer) + ":" + escapeLabelPart(accountName)
	return ports.TOTPKey{Secret: key.Secret(), URL: u.String()}, nil
}

// escapeLabelPart percent-encodes one half of the otpauth label. url.PathEscape already escapes "/" and
// spaces (as %20, which apps expect rather than "+"); the colon is the label's separator, so it is escaped too.
func escapeLabelPart(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// MatchStep returns the earliest time step in [T-window, T+window], T being the step of at, whose code equals
// code. Every step in the window is computed and compared in constant time, so the response time does not tell
// which step (if any) matched. Codes other than exactly six ASCII digits, a negative window and an undecodable
// secret never match, nor does a time before 1970 (RFC 6238 counts steps from the Unix epoch, and the library
// would convert a negative counter to a meaningless unsigned one).
func (Generator) MatchStep(secret, code string, at time.Time, window int) (int64, bool) {
	if window < 0 || !isCode(code) || at.Unix() < 0 {
		return 0, false
	}
	current := at.Unix() / period
	var (
		matched int64
		found   bool
	)
	for step := current - int64(window); step <= current+int64(window); step++ {
		want, err := pqtotp.GenerateCodeCustom(secret, time.Unix(step*period, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			matched, found = step, true
		}
	}
	return matched, found
}

// isCode reports whether code is exactly six ASCII digits. Comparing bytes (not runes) refuses full-width and
// other Unicode digits, which unicode.IsDigit would accept.
func isCode(code string) bool {
	if len(code) != digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
