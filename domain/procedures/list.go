package procedures

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
	// dashboardLimit caps each list of the dashboard; a longer one is a list page away.
	dashboardLimit = 100
)

// cursor is where a page ends: the sort, the sort column's value and the ID of its last procedure, as
// opaque base64url JSON; the sort is in it so that a cursor cannot be replayed under another order.
type cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   string `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || len(s) > 512 || json.Unmarshal(b, &c) != nil || c.Sort != sort || c.ID == "" || !keyOf(c.Key, sort) {
		return cursor{}, ports.NewError(ports.ErrInvalid, "invalid_cursor",
			"The cursor is not valid for this list; start again from the first page.",
			"カーソルが正しくありません。最初のページからやり直してください。")
	}
	return c, nil
}

// keyOf reports whether key can be a value of the sort column: an instant for created_at and updated_at.
func keyOf(key, sort string) bool {
	if sort == ports.ProcedureSortDue {
		return true
	}
	_, err := time.Parse(time.RFC3339Nano, key)
	return err == nil
}

// sortKey is the value of the sort column the store orders by; the instants travel in RFC 3339.
func sortKey(r ports.ProcedureRecord, sort string) string {
	switch sort {
	case ports.ProcedureSortCreated:
		return r.CreatedAt.UTC().Format(time.RFC3339Nano)
	case ports.ProcedureSortUpdated:
		return r.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return r.DueDate
}

// query validates a filter into a store query (cursor included).
func query(tenantID string, f ports.ProcedureFilter) (ports.ProcedureQuery, error) {
	q := ports.ProcedureQuery{TenantID: tenantID, EmployeeID: f.EmployeeID, UpdatedSince: f.UpdatedSince,
		Sort: cmp.Or(f.Sort, ports.ProcedureSortDue), Limit: f.Limit}
	var errs []ports.FieldError
	switch q.Sort {
	case ports.ProcedureSortDue, ports.ProcedureSortCreated, ports.ProcedureSortUpdated:
	default:
		errs = append(errs, ports.FieldError{Field: "sort", Code: "invalid_sort",
			MessageEN: "must be due_date, created_at or updated_at",
			MessageJA: "並び順は due_date・created_at・updated_at のいずれかです"})
	}
	for _, st := range f.Statuses {
		if _, ok := statusNames[st]; !ok {
			errs = append(errs, ports.FieldError{Field: "status", Code: "invalid_status",
				MessageEN: "must be draft, pending_approval, approved, filed, completed, returned or cancelled",
				MessageJA: "draft・pending_approval・approved・filed・completed・returned・cancelled のいずれかを指定してください"})
			continue
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, typ := range f.Types {
		if _, ok := kindOf(typ); !ok {
			errs = append(errs, ports.FieldError{Field: "type", Code: "invalid_type",
				MessageEN: "is not a procedure type", MessageJA: "手続きの種類が正しくありません"})
			continue
		}
		q.Types = append(q.Types, typ)
	}
	if f.DueBefore != "" {
		d, more := parseFactDate("due_before", f.DueBefore)
		errs = append(errs, more...)
		q.DueBefore = d.String()
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0:
		errs = append(errs, ports.FieldError{Field: "limit", Code: "limit", MessageEN: "must be positive", MessageJA: "1以上を指定してください"})
	case q.Limit > MaxLimit:
		q.Limit = MaxLimit
	}
	if len(errs) > 0 {
		return q, invalid(errs)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, q.Sort)
		if err != nil {
			return q, err
		}
		q.AfterKey, q.AfterID = c.Key, c.ID
	}
	return q, nil
}

// ListProcedures implements ports.Procedures: a keyset page in the filter's order, then by ID.
func (s *Service) ListProcedures(ctx context.Context, p ports.Principal, f ports.ProcedureFilter) (ports.ProcedurePage, error) {
	if err := requirePreparer(p); err != nil {
		return ports.ProcedurePage{}, err
	}
	q, err := query(p.TenantID, f)
	if err != nil {
		return ports.ProcedurePage{}, err
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	recs, err := s.Procedures.ListProcedures(ctx, q)
	if err != nil {
		return ports.ProcedurePage{}, err
	}
	page := ports.ProcedurePage{}
	if len(recs) > limit {
		recs = recs[:limit]
		last := recs[limit-1]
		page.NextCursor = cursor{Sort: q.Sort, Key: sortKey(last, q.Sort), ID: last.ID}.encode()
	}
	page.Items, err = views(recs)
	return page, err
}

func views(recs []ports.ProcedureRecord) ([]ports.Procedure, error) {
	out := make([]ports.Procedure, 0, len(recs))
	for _, r := range recs {
		v, err := view(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Dashboard implements ports.Procedures: the open procedures overdue, due today and due later this week
// (up to Sunday), by due date, in Asia/Tokyo.
func (s *Service) Dashboard(ctx context.Context, p ports.Principal) (ports.ProcedureDashboard, error) {
	if err := requirePreparer(p); err != nil {
		return ports.ProcedureDashboard{}, err
	}
	today := s.today()
	tomorrow := today.AddDays(1)
	nextMonday := today.AddDays(8 - int(isoWeekday(today)))
	d := ports.ProcedureDashboard{Today: today.String()}
	for _, bucket := range []struct {
		from, before calendar.Date
		out          *[]ports.Procedure
	}{
		{calendar.Date{}, today, &d.Overdue},
		{today, tomorrow, &d.DueToday},
		{tomorrow, nextMonday, &d.DueThisWeek},
	} {
		q := ports.ProcedureQuery{TenantID: p.TenantID, Statuses: slices.Clone(open), DueBefore: bucket.before.String(), Limit: dashboardLimit}
		if !bucket.from.IsZero() {
			q.DueFrom = bucket.from.String()
		}
		if !bucket.from.Before(bucket.before) && !bucket.from.IsZero() {
			*bucket.out = []ports.Procedure{}
			continue
		}
		recs, err := s.Procedures.ListProcedures(ctx, q)
		if err != nil {
			return ports.ProcedureDashboard{}, err
		}
		if *bucket.out, err = views(recs); err != nil {
			return ports.ProcedureDashboard{}, err
		}
	}
	return d, nil
}

// isoWeekday numbers Monday 1 … Sunday 7.
func isoWeekday(d calendar.Date) int {
	if w := d.Weekday(); w != time.Sunday {
		return int(w)
	}
	return 7
}
