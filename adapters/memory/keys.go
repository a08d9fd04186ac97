package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/roumu/roumu/ports"
)

var (
	_ ports.ResealJobStore   = (*Store)(nil)
	_ ports.SealedValueStore = (*Store)(nil)
)

// resealJobCopy returns j as the store keeps it: its own slices, normalised instants.
func resealJobCopy(j ports.ResealJob) ports.ResealJob {
	j.Failures, j.RetiredKeys = slices.Clone(j.Failures), slices.Clone(j.RetiredKeys)
	j.LeaseUntil, j.StartedAt, j.FinishedAt, j.UpdatedAt = norm(j.LeaseUntil), norm(j.StartedAt), norm(j.FinishedAt), norm(j.UpdatedAt)
	return j
}

// CreateResealJob stores a new key rotation job; ErrConflict when its ID is taken.
func (s *Store) CreateResealJob(ctx context.Context, j ports.ResealJob) error {
	defer s.lock(ctx)()
	if _, ok := s.st.resealJobs[j.ID]; ok {
		return conflict("reseal job", j.ID)
	}
	s.st.resealJobs[j.ID] = resealJobCopy(j)
	return nil
}

// ResealJob returns a copy of one job; ErrNotFound for an unknown ID.
func (s *Store) ResealJob(ctx context.Context, id string) (ports.ResealJob, error) {
	defer s.lock(ctx)()
	j, ok := s.st.resealJobs[id]
	if !ok {
		return ports.ResealJob{}, notFound("reseal job", id)
	}
	return resealJobCopy(j), nil
}

// ListResealJobs returns copies of the jobs f selects, newest StartedAt first, then by ID.
func (s *Store) ListResealJobs(ctx context.Context, f ports.ResealJobFilter) ([]ports.ResealJob, error) {
	defer s.lock(ctx)()
	out := []ports.ResealJob{}
	for _, j := range s.st.resealJobs {
		if f.Status == "" || j.Status == f.Status {
			out = append(out, resealJobCopy(j))
		}
	}
	slices.SortFunc(out, func(a, b ports.ResealJob) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	return firstN(out, f.Limit), nil
}

// UpdateResealJob gives fn a copy of the job under the store lock and stores the result; what fn does to the
// ID is discarded.
func (s *Store) UpdateResealJob(ctx context.Context, id string, fn func(*ports.ResealJob) error) (ports.ResealJob, error) {
	defer s.lock(ctx)()
	old, ok := s.st.resealJobs[id]
	if !ok {
		return ports.ResealJob{}, notFound("reseal job", id)
	}
	j := resealJobCopy(old)
	if err := fn(&j); err != nil {
		return ports.ResealJob{}, err
	}
	j.ID = id
	s.st.resealJobs[id] = resealJobCopy(j)
	return resealJobCopy(j), nil
}

// sealedColumn reads and writes one kind of sealed value in the state.
type sealedColumn struct {
	all func(st *state) []ports.SealedValue
	set func(st *state, old ports.SealedValue, next []byte) bool
}

var sealedColumns = map[string]sealedColumn{
	ports.SealedTOTPSecret: {
		all: func(st *state) []ports.SealedValue {
			out := make([]ports.SealedValue, 0, len(st.totp))
			for k, r := range st.totp {
				out = append(out, ports.SealedValue{SealedRef: ports.SealedRef{TenantID: k.tenantID, ID: k.accountID}, Sealed: r.SecretSealed})
			}
			return out
		},
		set: func(st *state, old ports.SealedValue, next []byte) bool {
			k := owner{old.TenantID, old.ID}
			r, ok := st.totp[k]
			if !ok || !bytes.Equal(r.SecretSealed, old.Sealed) {
				return false
			}
			r.SecretSealed = bytes.Clone(next)
			st.totp[k] = r
			return true
		},
	},
	ports.SealedIdempotencyAnswer: {
		all: func(st *state) []ports.SealedValue {
			out := make([]ports.SealedValue, 0, len(st.idempotency))
			for _, r := range st.idempotency {
				if len(r.Body) > 0 {
					out = append(out, ports.SealedValue{SealedRef: ports.SealedRef{TenantID: r.TenantID, ID: r.ID},
						Names: []string{r.Principal, r.Key}, Sealed: r.Body})
				}
			}
			return out
		},
		set: func(st *state, v ports.SealedValue, next []byte) bool {
			if len(v.Names) != 2 {
				return false
			}
			k := idempotencyKey{tenantID: v.TenantID, principal: v.Names[0], key: v.Names[1]}
			r, ok := st.idempotency[k]
			if !ok || r.ID != v.ID || len(r.Body) == 0 || !bytes.Equal(r.Body, v.Sealed) {
				return false
			}
			r.Body = bytes.Clone(next)
			st.idempotency[k] = r
			return true
		},
	},
	ports.SealedWebhookSecret:         webhookSecretColumn(func(r *ports.WebhookSubscriptionRecord) *[]byte { return &r.SealedSecret }),
	ports.SealedWebhookPreviousSecret: webhookSecretColumn(func(r *ports.WebhookSubscriptionRecord) *[]byte { return &r.PreviousSealedSecret }),
}

func webhookSecretColumn(field func(*ports.WebhookSubscriptionRecord) *[]byte) sealedColumn {
	return sealedColumn{
		all: func(st *state) []ports.SealedValue {
			out := make([]ports.SealedValue, 0, len(st.webhookSubs))
			for _, r := range st.webhookSubs {
				if v := *field(&r); v != nil {
					out = append(out, ports.SealedValue{SealedRef: ports.SealedRef{TenantID: r.TenantID, ID: r.ID}, Sealed: v})
				}
			}
			return out
		},
		set: func(st *state, old ports.SealedValue, next []byte) bool {
			r, ok := st.webhookSubs[old.ID]
			if !ok || r.TenantID != old.TenantID || *field(&r) == nil || !bytes.Equal(*field(&r), old.Sealed) {
				return false
			}
			*field(&r) = bytes.Clone(next)
			st.webhookSubs[old.ID] = r
			return true
		},
	}
}

func column(kind string) (sealedColumn, error) {
	c, ok := sealedColumns[kind]
	if !ok {
		return sealedColumn{}, fmt.Errorf("memory: unknown kind of sealed value %q", kind)
	}
	return c, nil
}

// SealedValues returns copies of the values of kind after the record after, by (TenantID, ID).
func (s *Store) SealedValues(ctx context.Context, kind string, after ports.SealedRef, limit int) ([]ports.SealedValue, error) {
	c, err := column(kind)
	if err != nil {
		return nil, err
	}
	defer s.lock(ctx)()
	refOrder := func(a, b ports.SealedRef) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ID, b.ID))
	}
	var out []ports.SealedValue
	for _, v := range c.all(&s.st) {
		if refOrder(v.SealedRef, after) > 0 {
			v.Sealed, v.Names = bytes.Clone(v.Sealed), slices.Clone(v.Names)
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b ports.SealedValue) int { return refOrder(a.SealedRef, b.SealedRef) })
	return firstN(out, limit), nil
}

// ReplaceSealedValue swaps the value under the store lock when it is still old.Sealed.
func (s *Store) ReplaceSealedValue(ctx context.Context, kind string, old ports.SealedValue, next []byte) (bool, error) {
	c, err := column(kind)
	if err != nil {
		return false, err
	}
	defer s.lock(ctx)()
	return c.set(&s.st, old, next), nil
}
