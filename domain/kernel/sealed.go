package kernel

import (
	"context"
	"strings"

	"github.com/roumu/roumu/ports"
)

// sealedPage is how many values CountSealed reads at a time.
const sealedPage = 500

// SealedSecrets is the ports.SealedData of one kind of sealed value kept whole in a column of its
// records (ports.SealedValueStore): accounts' TOTP secrets, webhooks' signing secrets, Idempotency-Key
// answers. AD gives a value's additional data, as its module sealed it.
type SealedSecrets struct {
	Name   string
	Kind   string
	Store  ports.SealedValueStore
	Cipher ports.Cipher
	AD     func(ports.SealedValue) []byte
}

var _ ports.SealedData = SealedSecrets{}

// SealedName implements ports.SealedData.
func (s SealedSecrets) SealedName() string { return s.Name }

// ResealBatch implements ports.SealedData. A value is replaced only if it is still the one opened, so a
// secret changed meanwhile (sealed by its module under the newest key) is left as it is.
func (s SealedSecrets) ResealBatch(ctx context.Context, after string, limit int, stale func([]byte) bool) (ports.ResealBatch, error) {
	values, err := s.Store.SealedValues(ctx, s.Kind, RefCursor(after), limit)
	if err != nil {
		return ports.ResealBatch{}, err
	}
	var out ports.ResealBatch
	for _, v := range values {
		if !stale(v.Sealed) {
			continue
		}
		ad := s.AD(v)
		plain, err := s.Cipher.Open(ctx, v.Sealed, ad)
		if err != nil {
			out.Failures = append(out.Failures, ports.ResealFailure{Record: Cursor(v.SealedRef), Reason: err.Error()})
			continue
		}
		next, err := s.Cipher.Seal(ctx, plain, ad)
		clear(plain)
		if err != nil {
			return out, err
		}
		replaced, err := s.Store.ReplaceSealedValue(ctx, s.Kind, v, next)
		if err != nil {
			return out, err
		}
		if replaced {
			out.Resealed++
		}
	}
	if limit > 0 && len(values) == limit {
		out.Next = Cursor(values[len(values)-1].SealedRef)
	}
	return out, nil
}

// CountSealed implements ports.SealedData.
func (s SealedSecrets) CountSealed(ctx context.Context, stale func([]byte) bool) (int, error) {
	n := 0
	var after ports.SealedRef
	for {
		values, err := s.Store.SealedValues(ctx, s.Kind, after, sealedPage)
		if err != nil || len(values) == 0 {
			return n, err
		}
		for _, v := range values {
			if stale(v.Sealed) {
				n++
			}
		}
		after = values[len(values)-1].SealedRef
	}
}

// Cursor is a record's reference as a walk's cursor and in failure reports: "TENANT/ID" ("/ID" for an
// operator's). IDs never contain "/".
func Cursor(ref ports.SealedRef) string { return ref.TenantID + "/" + ref.ID }

// RefCursor reads a Cursor; "" is the zero ref, the start of a walk.
func RefCursor(cursor string) ports.SealedRef {
	tenantID, id, _ := strings.Cut(cursor, "/")
	return ports.SealedRef{TenantID: tenantID, ID: id}
}
