package audit

import (
	"context"
	"strconv"
	"time"

	"github.com/roumu/roumu/ports"
)

// Search limits: the page a search returns when it names none, and the most it may ask for.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 1000
)

// Search implements ports.AuditSearch over the store the log appends to.
type Search struct {
	store ports.AuditStore
	log   ports.AuditLog
}

var _ ports.AuditSearch = (*Search)(nil)

// NewSearch returns the operators' search; log records each search.
func NewSearch(store ports.AuditStore, log ports.AuditLog) *Search {
	return &Search{store: store, log: log}
}

// SearchAudit implements ports.AuditSearch. It reads one record more than the page to tell whether another
// page follows.
func (s *Search) SearchAudit(ctx context.Context, p ports.Principal, f ports.AuditFilter) (ports.AuditPage, error) {
	e := ports.AuditEvent{ActorID: p.AccountID, ActorKind: p.Kind, Action: "audit.search", IP: p.Source.IP,
		UserAgent: p.Source.UserAgent, Outcome: ports.OutcomeSuccess}
	if !p.IsOperator() {
		e.TenantID, e.Outcome = p.TenantID, ports.OutcomeDenied
		if err := s.log.Record(ctx, e); err != nil {
			return ports.AuditPage{}, err
		}
		return ports.AuditPage{}, ports.NewError(ports.ErrForbidden, "forbidden",
			"Only provider operators may search the audit log.", "監査ログを検索できるのは運営事業者のオペレーターのみです。")
	}
	if f.Limit <= 0 {
		f.Limit = DefaultSearchLimit
	}
	f.Limit = min(f.Limit, MaxSearchLimit)
	e.Detail = searchDetail(f)
	if err := s.log.Record(ctx, e); err != nil {
		return ports.AuditPage{}, err
	}
	limit := f.Limit
	f.Limit++
	recs, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return ports.AuditPage{}, err
	}
	page := ports.AuditPage{Records: recs}
	if len(recs) > limit {
		page.Records = recs[:limit]
		page.Next = recs[limit-1].Seq
	}
	return page, nil
}

// searchDetail is the filter as the search's own audit entry keeps it.
func searchDetail(f ports.AuditFilter) map[string]string {
	d := map[string]string{"limit": strconv.Itoa(f.Limit)}
	for k, v := range map[string]string{"tenant_id": f.TenantID, "actor_id": f.ActorID, "action": f.Action} {
		if v != "" {
			d[k] = v
		}
	}
	for k, t := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		if !t.IsZero() {
			d[k] = t.UTC().Format(time.RFC3339)
		}
	}
	if f.AfterSeq > 0 {
		d["after_seq"] = strconv.FormatInt(f.AfterSeq, 10)
	}
	return d
}
