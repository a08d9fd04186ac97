package roumusync

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook delivery.
const (
	SignatureHeader = "Roumu-Signature"
	EventIDHeader   = "Roumu-Event-Id"
	EventTypeHeader = "Roumu-Event-Type"
)

// DefaultTolerance is the replay window: a delivery signed longer ago than this, or further in the future
// (clocks differ), is refused, so that a captured delivery cannot be sent again later.
const DefaultTolerance = 5 * time.Minute

// maxBody bounds a delivery's body; Roumu's events are a few kilobytes.
const maxBody = 1 << 20

// Errors of VerifySignature.
var (
	ErrMalformedSignature = errors.New("roumusync: malformed Roumu-Signature header")
	ErrSignatureTooOld    = errors.New("roumusync: signature timestamp outside the replay window")
	ErrSignatureMismatch  = errors.New("roumusync: no signature matches")
)

// VerifySignature checks a delivery: header is its Roumu-Signature, "t=<unix seconds>,v1=<hex>" (with a
// second v1 for a day after the secret is rotated, one per secret), body the raw request body, secret the
// subscription's whole secret ("whsec_…"), now your clock. It returns nil when the timestamp is within
// tolerance of now and one v1 equals hex(HMAC-SHA256(secret, t + "." + body)).
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var timestamp string
	var signatures []string
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return ErrMalformedSignature
		case key == "t" && timestamp != "":
			return ErrMalformedSignature
		case key == "t":
			timestamp = value
		case key == "v1":
			signatures = append(signatures, value)
		} // other schemes may come later: ignore them
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || len(signatures) == 0 {
		return ErrMalformedSignature
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return ErrSignatureTooOld
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	expected := []byte(hex.EncodeToString(mac.Sum(nil)))
	for _, s := range signatures {
		if hmac.Equal([]byte(s), expected) { // constant time: a timing difference would leak the signature
			return nil
		}
	}
	return ErrSignatureMismatch
}

// Event is a delivery's body.
type Event struct {
	ID         string          `json:"id"`   // the same on every attempt: handle each ID once
	Type       string          `json:"type"` // e.g. "employee.changed"
	TenantID   string          `json:"tenant_id"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"` // e.g. {"employee_id": "…", …}
}

// WebhookHandler receives Roumu's deliveries at the URL you subscribed.
type WebhookHandler struct {
	// Secret is the subscription's secret, shown once when it was created or rotated.
	Secret string
	// Handle is given each verified event; an error makes Roumu send the delivery again later.
	Handle func(context.Context, Event) error
	// Tolerance is the replay window; 0 is DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// ServeHTTP answers 204 to a delivery whose signature verifies and whose event Handle took, 401 to one whose
// signature does not, and 500 when Handle failed.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	// The signature covers the bytes as sent: read them all before any JSON parsing.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	now, tolerance := time.Now, h.Tolerance
	if h.Now != nil {
		now = h.Now
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	if err := VerifySignature(h.Secret, r.Header.Get(SignatureHeader), body, now(), tolerance); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if err := h.Handle(r.Context(), ev); err != nil {
		http.Error(w, "not handled; send again later", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
