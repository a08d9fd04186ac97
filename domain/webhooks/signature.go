package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	HeaderSignature  = "Roumu-Signature"
	HeaderEventID    = "Roumu-Event-Id"
	HeaderEventType  = "Roumu-Event-Type"
	HeaderDeliveryID = "Roumu-Delivery-Id"
)

// DefaultTolerance is the replay window receivers should use: a delivery signed longer ago (or further in
// the future) than this is refused.
const DefaultTolerance = 5 * time.Minute

// Errors of VerifySignature.
var (
	ErrSignatureHeader   = errors.New("webhooks: malformed Roumu-Signature header")
	ErrSignatureExpired  = errors.New("webhooks: signature timestamp outside the tolerance")
	ErrSignatureMismatch = errors.New("webhooks: no signature matches")
)

// sign returns HMAC-SHA256 of "t.body" under secret, in hex.
func sign(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// signatureHeader is the Roumu-Signature value for body at instant at, with one v1 signature per secret.
func signatureHeader(secrets []string, at time.Time, body []byte) string {
	t := at.Unix()
	var b strings.Builder
	b.WriteString("t=" + strconv.FormatInt(t, 10))
	for _, s := range secrets {
		b.WriteString(",v1=" + sign(s, t, body))
	}
	return b.String()
}

// VerifySignature checks a delivery as a receiver should: header is the Roumu-Signature value, body the raw
// request body, secret the subscription's secret, now the receiver's clock and tolerance the replay window
// (DefaultTolerance). It returns nil when one v1 signature matches and the timestamp is within tolerance of
// now.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var t int64
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return ErrSignatureHeader
		case k == "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || t != 0 {
				return ErrSignatureHeader
			}
			t = n
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	if t == 0 || len(sigs) == 0 {
		return ErrSignatureHeader
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	want := []byte(sign(secret, t, body))
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}
