package ports

import "context"

// AuditPage is one page of an audit search, oldest first. Next is the AfterSeq that continues it, 0 when the
// search is exhausted.
type AuditPage struct {
	Records []AuditRecord
	Next    int64
}

// AuditSearch is the driving port through which provider operators read the audit log; tenants never see it
// (the service specification does not disclose logs).
type AuditSearch interface {
	// SearchAudit returns the records f selects, in chain order, at most f.Limit (a default when 0, capped).
	// Only a fully logged-in operator may search: anyone else is ErrForbidden. Every search is itself
	// audited, with its filter.
	SearchAudit(ctx context.Context, p Principal, f AuditFilter) (AuditPage, error)
}
