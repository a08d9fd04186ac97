package totp_test

import (
	"encoding/base32"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/roumu/roumu/adapters/totp"
	"github.com/roumu/roumu/test/tools"
)

// rfcSecret is the SHA-1 seed of RFC 6238 appendix B, "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// codeAt is the 6-digit code of secret at t, computed by the library directly (not through the adapter).
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := pqtotp.GenerateCodeCustom(secret, at, pqtotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestRFC6238Vectors(t *testing.T) {
	// RFC 6238 appendix B, SHA-1 rows. The vectors have 8 digits; the 6-digit code is the same truncated value
	// modulo 10^6, i.e. the last six digits.
	vectors := []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	var g totp.Generator
	for _, v := range vectors {
		at := time.Unix(v.unix, 0).UTC()
		eight, err := pqtotp.GenerateCodeCustom(rfcSecret, at, pqtotp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		if err != nil || eight != v.code {
			t.Errorf("t=%d: 8-digit code %q, %v; want %q", v.unix, eight, err, v.code)
		}
		step, ok := g.MatchStep(rfcSecret, v.code[2:], at, 0)
		if !ok || step != v.unix/30 {
			t.Errorf("t=%d: MatchStep(%s) = %d, %v; want %d, true", v.unix, v.code[2:], step, ok, v.unix/30)
		}
	}
}

func TestMatchStepWindow(t *testing.T) {
	var g totp.Generator
	secret := rfcSecret                                 // fixed, so that no chance collision between steps can make the test flaky
	base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC) // a step boundary
	T := base.Unix() / 30

	tests := []struct {
		name     string
		codeAt   time.Time // when the app made the code
		at       time.Time // when the server checks it
		window   int
		wantStep int64
		wantOK   bool
	}{
		{"same step", base, base.Add(29 * time.Second), 0, T, true},
		{"next step, no window", base, base.Add(30 * time.Second), 0, 0, false},
		{"one step late, window 1", base, base.Add(30 * time.Second), 1, T, true},
		{"one step early, window 1", base.Add(30 * time.Second), base, 1, T + 1, true},
		{"two steps late, window 1", base, base.Add(60 * time.Second), 1, 0, false},
		{"two steps early, window 1", base.Add(60 * time.Second), base, 1, 0, false},
		{"negative window", base, base, -1, 0, false},
		{"before 1970", time.Unix(-30, 0), time.Unix(-30, 0), 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := g.MatchStep(secret, codeAt(t, secret, tt.codeAt), tt.at, tt.window)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Fatalf("MatchStep = %d, %v; want %d, %v", step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

func TestMatchStepBoundary(t *testing.T) {
	// RFC 6238 vector at t=59 is step 1; at t=60 step 2 begins and, without a window, the code is refused.
	var g totp.Generator
	if step, ok := g.MatchStep(rfcSecret, "287082", time.Unix(59, 0), 0); !ok || step != 1 {
		t.Fatalf("t=59: %d, %v; want 1, true", step, ok)
	}
	if _, ok := g.MatchStep(rfcSecret, "287082", time.Unix(60, 0), 0); ok {
		t.Fatal("t=60: code of step 1 accepted without a window")
	}
	if step, ok := g.MatchStep(rfcSecret, "287082", time.Unix(60, 0), 1); !ok || step != 1 {
		t.Fatalf("t=60, window 1: %d, %v; want 1, true", step, ok)
	}
}

func TestMatchStepRefusesMalformed(t *testing.T) {
	var g totp.Generator
	at := time.Unix(59, 0)
	for _, code := range []string{"", "12345", "1234567", "12a456", "１２３４５６", " 287082", "287082 ", "-28708", "+287082", "２８７０８２", "94287082"} {
		if _, ok := g.MatchStep(rfcSecret, code, at, 1); ok {
			t.Errorf("code %q accepted", code)
		}
	}
	if _, ok := g.MatchStep("not base32!", "287082", at, 1); ok {
		t.Error("an undecodable secret matched")
	}
}

func TestNewKey(t *testing.T) {
	var g totp.Generator
	account := "yamada/taro:1?x#y 山田@example.jp"
	key, err := g.NewKey("Roumu", account)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v; want 20 bytes of base32", key.Secret, len(raw), err)
	}

	if !strings.HasPrefix(key.URL, "otpauth://totp/Roumu:yamada%2Ftaro%3A1%3Fx%23y%20%E5%B1%B1%E7%94%B0@example.jp?") {
		t.Errorf("label not escaped: %s", key.URL)
	}
	u, err := url.Parse(key.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimPrefix(u.Path, "/Roumu:"); got != account {
		t.Errorf("account name round trip: %q; want %q", got, account)
	}
	q := u.Query()
	want := map[string]string{"secret": key.Secret, "issuer": "Roumu", "algorithm": "SHA1", "digits": "6", "period": "30"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("query %s = %q; want %q", k, q.Get(k), v)
		}
	}

	other, err := g.NewKey("Roumu", account)
	if err != nil || other.Secret == key.Secret {
		t.Fatalf("second key: %v, same secret %v", err, other.Secret == key.Secret)
	}
	if _, err := g.NewKey("", account); err == nil {
		t.Error("empty issuer accepted")
	}
	if _, err := g.NewKey("Roumu", ""); err == nil {
		t.Error("empty account name accepted")
	}
}

// TestOathtoolInterop checks codes against an independent implementation, Debian's oathtool.
func TestOathtoolInterop(t *testing.T) {
	oathtool := tools.Path(t, "oathtool", "apt-get install oathtool")
	var g totp.Generator
	secret := newSecret(t)
	for _, at := range []time.Time{
		time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 4, 1, 9, 0, 29, 0, time.UTC),
		time.Date(2026, 4, 1, 9, 0, 30, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), // past the 32-bit time_t limit
	} {
		now := at.Format("2006-01-02 15:04:05 UTC")
		out, err := exec.Command(oathtool, "--totp=SHA1", "-b", "-N", now, secret).Output()
		if err != nil {
			t.Fatalf("oathtool at %s: %v", now, err)
		}
		code := strings.TrimSpace(string(out))
		step, ok := g.MatchStep(secret, code, at, 0)
		if !ok || step != at.Unix()/30 {
			t.Errorf("%s: oathtool code %s: MatchStep = %d, %v; want %d, true", now, code, step, ok, at.Unix()/30)
		}
	}
}

func newSecret(t *testing.T) string {
	t.Helper()
	key, err := totp.Generator{}.NewKey("Roumu", "test@example.jp")
	if err != nil {
		t.Fatal(err)
	}
	return key.Secret
}
