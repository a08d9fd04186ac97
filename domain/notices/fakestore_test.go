package notices_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/roumu/roumu/ports"
)

// fakeNotices is an in-test ports.NoticeStore until the memory and SQL adapters implement the port; it passes
// the contract suite in contract_test.go, which is meant to move to ports/porttest.
type fakeNotices struct {
	mu      sync.Mutex
	notices map[string]ports.NoticeRecord
}

func newFakeNotices() *fakeNotices { return &fakeNotices{notices: map[string]ports.NoticeRecord{}} }

func (f *fakeNotices) CreateNotice(_ context.Context, n ports.NoticeRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.notices[n.ID]; taken {
		return ports.ErrConflict
	}
	f.notices[n.ID] = utcMicros(n)
	return nil
}

func (f *fakeNotices) UpdateNotice(_ context.Context, id string, fn func(*ports.NoticeRecord) error) (ports.NoticeRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.notices[id]
	if !ok {
		return ports.NoticeRecord{}, ports.ErrNotFound
	}
	if err := fn(&n); err != nil {
		return ports.NoticeRecord{}, err
	}
	n.ID = id
	f.notices[id] = utcMicros(n)
	return f.notices[id], nil
}

func (f *fakeNotices) ListCurrentNotices(_ context.Context, at time.Time) ([]ports.NoticeRecord, error) {
	out := f.list(func(n ports.NoticeRecord) bool {
		return !n.VisibleFrom.After(at) && (n.VisibleUntil.IsZero() || at.Before(n.VisibleUntil))
	})
	slices.SortFunc(out, func(a, b ports.NoticeRecord) int {
		return cmp.Or(b.VisibleFrom.Compare(a.VisibleFrom), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (f *fakeNotices) ListNotices(_ context.Context, filter ports.NoticeFilter) ([]ports.NoticeRecord, error) {
	out := f.list(func(n ports.NoticeRecord) bool {
		return (filter.Kind == "" || n.Kind == filter.Kind) &&
			(filter.StartsFrom.IsZero() || !n.StartsAt.Before(filter.StartsFrom)) &&
			(filter.StartsBefore.IsZero() || n.StartsAt.Before(filter.StartsBefore))
	})
	slices.SortFunc(out, func(a, b ports.NoticeRecord) int {
		return cmp.Or(b.PostedAt.Compare(a.PostedAt), cmp.Compare(a.ID, b.ID))
	})
	if filter.Limit > 0 && len(out) > filter.Limit {
		out = out[:filter.Limit]
	}
	return out, nil
}

func (f *fakeNotices) list(keep func(ports.NoticeRecord) bool) []ports.NoticeRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ports.NoticeRecord
	for _, n := range f.notices {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}
