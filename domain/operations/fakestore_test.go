package operations_test

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/roumu/roumu/ports"
)

// fakeRequests is an in-test ports.OperationRequestStore until the memory and SQL adapters implement the
// port; it passes the contract suite in contract_test.go, which is meant to move to ports/porttest.
type fakeRequests struct {
	mu   sync.Mutex
	reqs map[string]ports.OperationRequest
}

func newFakeRequests() *fakeRequests { return &fakeRequests{reqs: map[string]ports.OperationRequest{}} }

// kept copies r as a store keeps it: its own parameter map, instants in UTC at microsecond precision.
func kept(r ports.OperationRequest) ports.OperationRequest {
	r = utcMicros(r)
	r.Params = maps.Clone(r.Params)
	return r
}

func (f *fakeRequests) CreateOperationRequest(_ context.Context, r ports.OperationRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.reqs[r.ID]; taken {
		return ports.ErrConflict
	}
	f.reqs[r.ID] = kept(r)
	return nil
}

func (f *fakeRequests) OperationRequest(_ context.Context, id string) (ports.OperationRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[id]
	if !ok {
		return ports.OperationRequest{}, ports.ErrNotFound
	}
	return kept(r), nil
}

func (f *fakeRequests) ListOperationRequests(_ context.Context, filter ports.OperationFilter) ([]ports.OperationRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ports.OperationRequest
	for _, r := range f.reqs {
		if (filter.Status == "" || r.Status == filter.Status) && (filter.Kind == "" || r.Kind == filter.Kind) {
			out = append(out, kept(r))
		}
	}
	slices.SortFunc(out, func(a, b ports.OperationRequest) int {
		return cmp.Or(b.RequestedAt.Compare(a.RequestedAt), cmp.Compare(a.ID, b.ID))
	})
	if filter.Limit > 0 && len(out) > filter.Limit {
		out = out[:filter.Limit]
	}
	return out, nil
}

func (f *fakeRequests) UpdateOperationRequest(_ context.Context, id string, fn func(*ports.OperationRequest) error) (ports.OperationRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[id]
	if !ok {
		return ports.OperationRequest{}, ports.ErrNotFound
	}
	r = kept(r)
	if err := fn(&r); err != nil {
		return ports.OperationRequest{}, err
	}
	r.ID = id
	f.reqs[id] = kept(r)
	return kept(r), nil
}
