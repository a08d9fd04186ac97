package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/roumu/roumu/ports"
)

// operationCopy returns r as the store keeps it: its own Params, normalised instants.
func operationCopy(r ports.OperationRequest) ports.OperationRequest {
	r.Params = maps.Clone(r.Params)
	r.RequestedAt, r.ExpiresAt, r.DecidedAt = norm(r.RequestedAt), norm(r.ExpiresAt), norm(r.DecidedAt)
	r.StartedAt, r.FinishedAt, r.UpdatedAt = norm(r.StartedAt), norm(r.FinishedAt), norm(r.UpdatedAt)
	return r
}

// CreateOperationRequest stores a new work record; ErrConflict when its ID is taken.
func (s *Store) CreateOperationRequest(ctx context.Context, r ports.OperationRequest) error {
	defer s.lock(ctx)()
	if _, ok := s.st.operations[r.ID]; ok {
		return conflict("operation request", r.ID)
	}
	s.st.operations[r.ID] = operationCopy(r)
	return nil
}

// OperationRequest returns a copy of one work record; ErrNotFound for an unknown ID.
func (s *Store) OperationRequest(ctx context.Context, id string) (ports.OperationRequest, error) {
	defer s.lock(ctx)()
	r, ok := s.st.operations[id]
	if !ok {
		return ports.OperationRequest{}, notFound("operation request", id)
	}
	return operationCopy(r), nil
}

// ListOperationRequests returns copies of the work records f selects, newest RequestedAt first, then by ID.
func (s *Store) ListOperationRequests(ctx context.Context, f ports.OperationFilter) ([]ports.OperationRequest, error) {
	defer s.lock(ctx)()
	out := []ports.OperationRequest{}
	for _, r := range s.st.operations {
		if (f.Status == "" || r.Status == f.Status) && (f.Kind == "" || r.Kind == f.Kind) {
			out = append(out, operationCopy(r))
		}
	}
	slices.SortFunc(out, func(a, b ports.OperationRequest) int {
		return cmp.Or(b.RequestedAt.Compare(a.RequestedAt), cmp.Compare(a.ID, b.ID))
	})
	return firstN(out, f.Limit), nil
}

// UpdateOperationRequest gives fn a copy of the work record under the store lock and stores the result;
// what fn does to the ID is discarded.
func (s *Store) UpdateOperationRequest(ctx context.Context, id string, fn func(*ports.OperationRequest) error) (ports.OperationRequest, error) {
	defer s.lock(ctx)()
	old, ok := s.st.operations[id]
	if !ok {
		return ports.OperationRequest{}, notFound("operation request", id)
	}
	r := operationCopy(old)
	if err := fn(&r); err != nil {
		return ports.OperationRequest{}, err
	}
	r.ID = id
	s.st.operations[id] = operationCopy(r)
	return operationCopy(r), nil
}
