package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/roumu/roumu/ports"
)

// noticeCopy returns n as the store keeps it: normalised instants.
func noticeCopy(n ports.NoticeRecord) ports.NoticeRecord {
	for _, t := range []*time.Time{&n.KnownAt, &n.DeadlineAt, &n.ResolvedAt, &n.StartsAt, &n.EndsAt,
		&n.CancelledAt, &n.PostedAt, &n.VisibleFrom, &n.VisibleUntil, &n.UpdatedAt} {
		*t = norm(*t)
	}
	return n
}

// CreateNotice stores a new notice; ErrConflict when its ID is taken.
func (s *Store) CreateNotice(ctx context.Context, n ports.NoticeRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.notices[n.ID]; ok {
		return conflict("notice", n.ID)
	}
	s.st.notices[n.ID] = noticeCopy(n)
	return nil
}

// UpdateNotice gives fn a copy of the notice under the store lock and stores the result; what fn does to
// the ID is discarded.
func (s *Store) UpdateNotice(ctx context.Context, id string, fn func(*ports.NoticeRecord) error) (ports.NoticeRecord, error) {
	defer s.lock(ctx)()
	n, ok := s.st.notices[id]
	if !ok {
		return ports.NoticeRecord{}, notFound("notice", id)
	}
	if err := fn(&n); err != nil {
		return ports.NoticeRecord{}, err
	}
	n.ID = id
	n = noticeCopy(n)
	s.st.notices[id] = n
	return n, nil
}

// ListCurrentNotices returns the notices visible at at, newest VisibleFrom first, then by ID.
func (s *Store) ListCurrentNotices(ctx context.Context, at time.Time) ([]ports.NoticeRecord, error) {
	out := s.notices(ctx, func(n ports.NoticeRecord) bool {
		return !n.VisibleFrom.After(at) && (n.VisibleUntil.IsZero() || at.Before(n.VisibleUntil))
	})
	slices.SortFunc(out, func(a, b ports.NoticeRecord) int {
		return cmp.Or(b.VisibleFrom.Compare(a.VisibleFrom), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ListNotices returns the notices f selects, newest PostedAt first, then by ID. A start bound selects only
// notices with a start (maintenance windows), as the SQL stores' comparisons with NULL do.
func (s *Store) ListNotices(ctx context.Context, f ports.NoticeFilter) ([]ports.NoticeRecord, error) {
	out := s.notices(ctx, func(n ports.NoticeRecord) bool {
		bounded := !f.StartsFrom.IsZero() || !f.StartsBefore.IsZero()
		return (f.Kind == "" || n.Kind == f.Kind) &&
			(!bounded || !n.StartsAt.IsZero()) &&
			(f.StartsFrom.IsZero() || !n.StartsAt.Before(f.StartsFrom)) &&
			(f.StartsBefore.IsZero() || n.StartsAt.Before(f.StartsBefore))
	})
	slices.SortFunc(out, func(a, b ports.NoticeRecord) int {
		return cmp.Or(b.PostedAt.Compare(a.PostedAt), cmp.Compare(a.ID, b.ID))
	})
	return firstN(out, f.Limit), nil
}

// notices returns the notices that keep selects, in no order.
func (s *Store) notices(ctx context.Context, keep func(ports.NoticeRecord) bool) []ports.NoticeRecord {
	defer s.lock(ctx)()
	out := []ports.NoticeRecord{}
	for _, n := range s.st.notices {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

// firstN returns the first limit elements of s, or all of them when limit is 0.
func firstN[T any](s []T, limit int) []T {
	if limit > 0 && len(s) > limit {
		return s[:limit]
	}
	return s
}
