package memory

import (
	"context"
	"fmt"
	"maps"

	"github.com/roumu/roumu/ports"
)

// AppendAudit calls build with the head of the chain under the store lock, so appends are serialised, and
// appends what it returns.
func (s *Store) AppendAudit(ctx context.Context, build func(head ports.AuditRecord) (ports.AuditRecord, error)) (ports.AuditRecord, error) {
	defer s.lock(ctx)()
	var head ports.AuditRecord
	if n := len(s.st.audit); n > 0 {
		head = auditCopy(s.st.audit[n-1])
	}
	r, err := build(head)
	if err != nil {
		return ports.AuditRecord{}, err
	}
	if r.Seq != head.Seq+1 || r.PrevHash != head.Hash {
		// A record that does not continue the head would break the chain for good: refuse it.
		return ports.AuditRecord{}, fmt.Errorf("memory: audit record %d does not follow %d: %w", r.Seq, head.Seq, ports.ErrConflict)
	}
	r = auditCopy(r)
	s.st.audit = append(s.st.audit, r)
	return auditCopy(r), nil
}

// ListAudit returns the records f selects, by Seq. Since is inclusive, Until exclusive.
func (s *Store) ListAudit(ctx context.Context, f ports.AuditFilter) ([]ports.AuditRecord, error) {
	defer s.lock(ctx)()
	out := []ports.AuditRecord{}
	for _, r := range s.st.audit {
		e := r.Event
		switch {
		case r.Seq <= f.AfterSeq,
			f.TenantID != "" && e.TenantID != f.TenantID,
			f.ActorID != "" && e.ActorID != f.ActorID,
			f.Action != "" && e.Action != f.Action,
			!f.Since.IsZero() && e.At.Before(f.Since),
			!f.Until.IsZero() && !e.At.Before(f.Until):
			continue
		}
		out = append(out, auditCopy(r))
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func auditCopy(r ports.AuditRecord) ports.AuditRecord {
	r.Event.At = norm(r.Event.At)
	r.Event.Detail = maps.Clone(r.Event.Detail)
	return r
}
