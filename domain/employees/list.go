package employees

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// cursor is where a page ends: the sort, the sort column's value and the ID of the last row. It travels
// as opaque base64url JSON; the sort is in it so that a cursor cannot be replayed under another order.
type cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   string `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func invalidCursor() error {
	return ports.NewError(ports.ErrInvalid, "invalid_cursor",
		"The cursor is not valid for this list; start again from the first page.",
		"カーソルが正しくありません。最初のページからやり直してください。")
}

func decodeCursor(s, sort string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || len(s) > 1024 || json.Unmarshal(b, &c) != nil || c.Sort != sort || c.ID == "" {
		return cursor{}, invalidCursor()
	}
	return c, nil
}

// sortKey is the value of the sort column the store orders by; updated_at travels as an RFC 3339 instant.
func sortKey(r ports.EmployeeRecord, sort string) string {
	switch sort {
	case ports.EmployeeSortKana:
		return r.SortKana
	case ports.EmployeeSortHireDate:
		return r.HireDate
	case ports.EmployeeSortUpdated:
		return r.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return r.EmployeeNumber
}

// query validates a filter into a store query (without the cursor).
func query(tenantID string, f ports.EmployeeFilter) (ports.EmployeeQuery, error) {
	q := ports.EmployeeQuery{TenantID: tenantID, Text: SearchKey(f.Query), DepartmentIDs: departmentIDs(f.DepartmentIDs),
		UpdatedSince: f.UpdatedSince, Sort: f.Sort, Limit: f.Limit}
	var errs []ports.FieldError
	if q.Sort == "" {
		q.Sort = ports.EmployeeSortNumber
	}
	switch q.Sort {
	case ports.EmployeeSortNumber, ports.EmployeeSortKana, ports.EmployeeSortHireDate, ports.EmployeeSortUpdated:
	default:
		errs = append(errs, ports.FieldError{Field: "sort", Code: "invalid_sort",
			MessageEN: "must be employee_number, kana, hire_date or updated_at",
			MessageJA: "並び順は employee_number・kana・hire_date・updated_at のいずれかです"})
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0:
		errs = append(errs, ports.FieldError{Field: "limit", Code: "limit", MessageEN: "must be positive",
			MessageJA: "1以上を指定してください"})
	case q.Limit > MaxLimit:
		q.Limit = MaxLimit
	}
	if n := strings.TrimSpace(f.EmployeeNumber); n != "" {
		q.EmployeeNumber = NormalizeText(n)
	}
	for _, in := range []struct {
		field string
		vals  []string
		enum  enum
		out   *[]string
	}{{"statuses", f.Statuses, statuses, &q.Statuses}, {"employment_types", f.EmploymentTypes, employmentTypes, &q.EmploymentTypes}} {
		for _, v := range in.vals {
			code, p := in.enum.parse(v)
			if p != nil {
				errs = append(errs, p.fieldError(in.field))
				continue
			}
			*in.out = append(*in.out, code)
		}
	}
	for _, d := range []struct {
		field, in string
		out       *string
	}{{"hired_from", f.HiredFrom, &q.HiredFrom}, {"hired_to", f.HiredTo, &q.HiredTo}} {
		if strings.TrimSpace(d.in) == "" {
			continue
		}
		v, p := ParseDate(d.in)
		if p != nil {
			errs = append(errs, p.fieldError(d.field))
		}
		*d.out = v
	}
	if len(errs) > 0 {
		return q, invalid(errs)
	}
	return q, nil
}

// ListEmployees implements ports.Employees: a keyset-paginated page of the register, for admin and hr.
func (s *Service) ListEmployees(ctx context.Context, p ports.Principal, f ports.EmployeeFilter) (ports.EmployeePage, error) {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return ports.EmployeePage{}, err
	}
	q, err := query(p.TenantID, f)
	if err != nil {
		return ports.EmployeePage{}, err
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, q.Sort)
		if err != nil {
			return ports.EmployeePage{}, err
		}
		q.AfterKey, q.AfterID = c.Key, c.ID
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	recs, err := s.Employees.ListEmployees(ctx, q)
	if err != nil {
		return ports.EmployeePage{}, err
	}
	page := ports.EmployeePage{Items: make([]ports.Employee, 0, min(len(recs), limit))}
	if len(recs) > limit {
		recs = recs[:limit]
		last := recs[limit-1]
		page.NextCursor = cursor{Sort: q.Sort, Key: sortKey(last, q.Sort), ID: last.ID}.encode()
	}
	today := s.today()
	for _, r := range recs {
		st, err := decodeState(r.Data)
		if err != nil {
			return ports.EmployeePage{}, err
		}
		e, err := s.view(ctx, a, r, st, max(today, r.EffectiveOn))
		if err != nil {
			return ports.EmployeePage{}, err
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}

// OwnEmployee implements ports.Employees: the record linked to the caller's account, whatever the role.
func (s *Service) OwnEmployee(ctx context.Context, p ports.Principal) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	recs, err := s.Employees.ListEmployees(ctx, ports.EmployeeQuery{TenantID: p.TenantID, AccountID: p.AccountID,
		Sort: ports.EmployeeSortNumber, Limit: 1})
	if err != nil {
		return ports.Employee{}, err
	}
	if len(recs) == 0 || recs[0].AccountID != p.AccountID {
		return ports.Employee{}, employeeNotFound()
	}
	today := s.today()
	return s.employeeAsOf(ctx, a, recs[0], today, today)
}
