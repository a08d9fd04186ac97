package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// procedureCopy returns r as the store keeps it: its own Data and History, normalised instants.
func procedureCopy(r ports.ProcedureRecord) ports.ProcedureRecord {
	r.Data = bytes.Clone(r.Data)
	r.History = slices.Clone(r.History)
	for i := range r.History {
		r.History[i].At = norm(r.History[i].At)
	}
	r.CreatedAt = norm(r.CreatedAt)
	r.UpdatedAt = norm(r.UpdatedAt)
	return r
}

// CreateProcedure stores a new procedure; ErrConflict when its ID, or its DedupKey in its tenant, is taken.
func (s *Store) CreateProcedure(ctx context.Context, rec ports.ProcedureRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.procedures[rec.ID]; ok {
		return conflict("procedure", rec.ID)
	}
	dedup := tenantKey{rec.TenantID, rec.DedupKey}
	if rec.DedupKey != "" {
		if _, ok := s.st.procDedup[dedup]; ok {
			return conflict("procedure dedup key", rec.DedupKey)
		}
		s.st.procDedup[dedup] = rec.ID
	}
	s.st.procedures[rec.ID] = procedureCopy(rec)
	return nil
}

func (s *Store) procedure(tenantID, id string) (ports.ProcedureRecord, error) {
	return ofTenant(s.st.procedures, func(r ports.ProcedureRecord) string { return r.TenantID }, "procedure", tenantID, id)
}

// ProcedureByID returns the procedure of tenantID; ErrNotFound otherwise.
func (s *Store) ProcedureByID(ctx context.Context, tenantID, id string) (ports.ProcedureRecord, error) {
	defer s.lock(ctx)()
	r, err := s.procedure(tenantID, id)
	return procedureCopy(r), err
}

// selectsProcedure reports whether q's filters select r; it ignores the cursor and the limit.
func selectsProcedure(q ports.ProcedureQuery, r ports.ProcedureRecord) bool {
	return r.TenantID == q.TenantID &&
		oneOf(q.Statuses, r.Status) &&
		oneOf(q.Types, r.Type) &&
		(q.EmployeeID == "" || r.EmployeeID == q.EmployeeID) &&
		(q.DueFrom == "" || r.DueDate >= q.DueFrom) &&
		(q.DueBefore == "" || r.DueDate < q.DueBefore) &&
		updatedSince(r.UpdatedAt, q.UpdatedSince)
}

// procedureSortKey returns the function giving a procedure's value of the sort column, and whether that
// column holds instants.
func procedureSortKey(sortBy string) (key func(ports.ProcedureRecord) string, instants bool, err error) {
	switch sortBy {
	case ports.ProcedureSortDue, "":
		return func(r ports.ProcedureRecord) string { return r.DueDate }, false, nil
	case ports.ProcedureSortCreated:
		return func(r ports.ProcedureRecord) string { return instantKey(r.CreatedAt) }, true, nil
	case ports.ProcedureSortUpdated:
		return func(r ports.ProcedureRecord) string { return instantKey(r.UpdatedAt) }, true, nil
	}
	return nil, false, fmt.Errorf("memory: procedure sort %q: %w", sortBy, ports.ErrInvalid)
}

// ListProcedures returns the procedures q selects in q.Sort order (then by ID), after (AfterKey, AfterID)
// when AfterID is set, at most q.Limit of them (all when 0).
func (s *Store) ListProcedures(ctx context.Context, q ports.ProcedureQuery) ([]ports.ProcedureRecord, error) {
	defer s.lock(ctx)()
	key, instants, err := procedureSortKey(q.Sort)
	if err != nil {
		return nil, err
	}
	after := keyset{id: q.AfterID, key: q.AfterKey}
	if instants {
		if err := after.instant(); err != nil {
			return nil, err
		}
	}
	out := []ports.ProcedureRecord{}
	for _, r := range s.st.procedures {
		if selectsProcedure(q, r) {
			out = append(out, procedureCopy(r))
		}
	}
	return page(out, key, func(r ports.ProcedureRecord) string { return r.ID }, after, q.Limit), nil
}

// CountProcedures counts the procedures q's filters select, whatever its cursor and limit.
func (s *Store) CountProcedures(ctx context.Context, q ports.ProcedureQuery) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for _, r := range s.st.procedures {
		if selectsProcedure(q, r) {
			n++
		}
	}
	return n, nil
}

// UpdateProcedure gives fn a copy of the procedure under the store lock and stores the result with the next
// Version; what fn does to the identity (ID, TenantID, Type, EmployeeID, DedupKey, CreatedAt) is discarded.
func (s *Store) UpdateProcedure(ctx context.Context, tenantID, id string, fn func(*ports.ProcedureRecord) error) (ports.ProcedureRecord, error) {
	defer s.lock(ctx)()
	old, err := s.procedure(tenantID, id)
	if err != nil {
		return ports.ProcedureRecord{}, err
	}
	r := procedureCopy(old)
	if err := fn(&r); err != nil {
		return ports.ProcedureRecord{}, err
	}
	r.ID, r.TenantID, r.Type, r.EmployeeID, r.DedupKey, r.CreatedAt = old.ID, old.TenantID, old.Type, old.EmployeeID, old.DedupKey, old.CreatedAt
	r.Version = old.Version + 1
	r = procedureCopy(r)
	s.st.procedures[id] = r
	return procedureCopy(r), nil
}

// FiledProcedures lists, across tenants, the filed procedures with an arrival number, by ID after afterID,
// at most limit of them (all when 0).
func (s *Store) FiledProcedures(ctx context.Context, afterID string, limit int) ([]ports.ProcedureKey, error) {
	defer s.lock(ctx)()
	out := []ports.ProcedureKey{}
	for _, r := range s.st.procedures {
		if r.Status == ports.ProcedureFiled && r.ArrivalNumber != "" && r.ID > afterID {
			out = append(out, ports.ProcedureKey{TenantID: r.TenantID, ID: r.ID})
		}
	}
	slices.SortFunc(out, func(a, b ports.ProcedureKey) int { return strings.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
