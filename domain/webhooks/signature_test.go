package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/webhooks"
)

// partnerSignature computes a signature the way the documented recipe says, independently of the module.
func partnerSignature(secret string, t int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", t, body)
	return hex.EncodeToString(mac.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test"
	const body = `{"id":"ev-1","type":"employee.hired"}`
	signed := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	ts := signed.Unix()
	good := fmt.Sprintf("t=%d,v1=%s", ts, partnerSignature(secret, ts, body))
	for _, tc := range []struct {
		name   string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", good, body, signed, nil},
		{"valid 5 minutes later", good, body, signed.Add(5 * time.Minute), nil},
		{"valid with the receiver's clock 5 minutes behind", good, body, signed.Add(-5 * time.Minute), nil},
		{"replayed after 5 minutes", good, body, signed.Add(5*time.Minute + time.Second), webhooks.ErrSignatureExpired},
		{"from the future", good, body, signed.Add(-6 * time.Minute), webhooks.ErrSignatureExpired},
		{"body changed", good, body + " ", signed, webhooks.ErrSignatureMismatch},
		{"other secret", fmt.Sprintf("t=%d,v1=%s", ts, partnerSignature("whsec_other", ts, body)), body, signed, webhooks.ErrSignatureMismatch},
		{"timestamp changed", fmt.Sprintf("t=%d,v1=%s", ts+1, partnerSignature(secret, ts, body)), body, signed, webhooks.ErrSignatureMismatch},
		{"second of two matches", fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, partnerSignature("whsec_new", ts, body), partnerSignature(secret, ts, body)), body, signed, nil},
		{"spaces after commas", fmt.Sprintf("t=%d, v1=%s", ts, partnerSignature(secret, ts, body)), body, signed, nil},
		{"unknown scheme ignored", fmt.Sprintf("t=%d,v0=abc,v1=%s", ts, partnerSignature(secret, ts, body)), body, signed, nil},
		{"only an unknown scheme", fmt.Sprintf("t=%d,v0=%s", ts, partnerSignature(secret, ts, body)), body, signed, webhooks.ErrSignatureHeader},
		{"empty", "", body, signed, webhooks.ErrSignatureHeader},
		{"no timestamp", "v1=" + partnerSignature(secret, ts, body), body, signed, webhooks.ErrSignatureHeader},
		{"two timestamps", fmt.Sprintf("t=%d,t=%d,v1=%s", ts, ts, partnerSignature(secret, ts, body)), body, signed, webhooks.ErrSignatureHeader},
		{"bad timestamp", "t=yesterday,v1=00", body, signed, webhooks.ErrSignatureHeader},
		{"no equals sign", "garbage", body, signed, webhooks.ErrSignatureHeader},
	} {
		if err := webhooks.VerifySignature(secret, tc.header, []byte(tc.body), tc.now, webhooks.DefaultTolerance); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
