package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

// insertMany stores rows in multi-row INSERTs of s.batchRows rows at most; an empty slice is nothing to do.
// Callers run it inside s.InTx, so that a failing batch undoes the batches before it.
func insertMany[Row any](ctx context.Context, s *Store, op string, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	return translate(op, s.writer(ctx).CreateInBatches(rows, s.batchRows).Error)
}

type employeeRow struct {
	ID             string  `gorm:"column:id;primaryKey"`
	TenantID       string  `gorm:"column:tenant_id"`
	EmployeeNumber string  `gorm:"column:employee_number"`
	Status         string  `gorm:"column:status"`
	EmploymentType string  `gorm:"column:employment_type"`
	DepartmentID   optText `gorm:"column:department_id"`
	AccountID      optText `gorm:"column:account_id"`
	HireDate       string  `gorm:"column:hire_date"`
	SortKana       string  `gorm:"column:sort_kana"`
	SearchText     string  `gorm:"column:search_text"`
	Data           []byte  `gorm:"column:data"`
	EffectiveOn    string  `gorm:"column:effective_on"`
	NextChangeOn   optText `gorm:"column:next_change_on"`
	Version        int64   `gorm:"column:version"`
	CreatedAt      instant `gorm:"column:created_at"`
	UpdatedAt      instant `gorm:"column:updated_at"`
}

func (employeeRow) TableName() string { return "employees" }

// employeeColumns are what UpdateEmployee writes: everything but the identity (ID, TenantID).
var employeeColumns = []string{"employee_number", "status", "employment_type", "department_id", "account_id", "hire_date",
	"sort_kana", "search_text", "data", "effective_on", "next_change_on", "version", "created_at", "updated_at"}

func employeeRowOf(e ports.EmployeeRecord) employeeRow {
	return employeeRow{
		ID: e.ID, TenantID: e.TenantID, EmployeeNumber: e.EmployeeNumber, Status: e.Status,
		EmploymentType: e.EmploymentType, DepartmentID: optText(e.DepartmentID), AccountID: optText(e.AccountID),
		HireDate: e.HireDate,
		SortKana: e.SortKana, SearchText: e.SearchText, Data: blob(e.Data), EffectiveOn: e.EffectiveOn,
		NextChangeOn: optText(e.NextChangeOn), Version: e.Version,
		CreatedAt: instant(e.CreatedAt), UpdatedAt: instant(e.UpdatedAt),
	}
}

func (r *employeeRow) record() ports.EmployeeRecord {
	return ports.EmployeeRecord{
		ID: r.ID, TenantID: r.TenantID, EmployeeNumber: r.EmployeeNumber, Status: r.Status,
		EmploymentType: r.EmploymentType, DepartmentID: string(r.DepartmentID), AccountID: string(r.AccountID),
		HireDate: r.HireDate,
		SortKana: r.SortKana, SearchText: r.SearchText, Data: r.Data, EffectiveOn: r.EffectiveOn,
		NextChangeOn: string(r.NextChangeOn), Version: r.Version,
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt),
	}
}

// setRecord keeps the identity and makes the version the stored one plus one, whatever fn did with them.
func (r *employeeRow) setRecord(e, stored ports.EmployeeRecord) {
	e.ID, e.TenantID, e.Version = stored.ID, stored.TenantID, stored.Version+1
	*r = employeeRowOf(e)
}

type employeeChangeRow struct {
	ID          string  `gorm:"column:id;primaryKey"`
	TenantID    string  `gorm:"column:tenant_id"`
	EmployeeID  string  `gorm:"column:employee_id"`
	Seq         int64   `gorm:"column:seq"`
	EffectiveOn string  `gorm:"column:effective_on"`
	Kind        string  `gorm:"column:kind"`
	Patch       []byte  `gorm:"column:patch"`
	Trail       []byte  `gorm:"column:trail"`
	RecordedAt  instant `gorm:"column:recorded_at"`
	RecordedBy  string  `gorm:"column:recorded_by"`
}

func (employeeChangeRow) TableName() string { return "employee_changes" }

func employeeChangeRowOf(c ports.EmployeeChangeRecord, seq int64) employeeChangeRow {
	return employeeChangeRow{
		ID: c.ID, TenantID: c.TenantID, EmployeeID: c.EmployeeID, Seq: seq, EffectiveOn: c.EffectiveOn,
		Kind: c.Kind, Patch: blob(c.Patch), Trail: blob(c.Trail), RecordedAt: instant(c.RecordedAt),
		RecordedBy: c.RecordedBy,
	}
}

func (r *employeeChangeRow) record() ports.EmployeeChangeRecord {
	return ports.EmployeeChangeRecord{
		ID: r.ID, TenantID: r.TenantID, EmployeeID: r.EmployeeID, Seq: r.Seq, EffectiveOn: r.EffectiveOn,
		Kind: r.Kind, Patch: r.Patch, Trail: r.Trail, RecordedAt: time.Time(r.RecordedAt), RecordedBy: r.RecordedBy,
	}
}

// CreateEmployees stores new employees and their first changes in multi-row INSERTs, all or none (in one
// transaction, or a savepoint of the caller's). Each employee's changes are numbered 1, 2, … in the order
// given. ErrConflict when an ID or an employee number is taken in the tenant, or a department is not the
// tenant's; ErrInvalid when a change is not of one of recs.
func (s *Store) CreateEmployees(ctx context.Context, recs []ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) error {
	const op = "create employees"
	rows := make([]employeeRow, len(recs))
	seqs := make(map[ports.EmployeeKey]int64, len(recs))
	for i, r := range recs {
		rows[i] = employeeRowOf(r)
		seqs[ports.EmployeeKey{TenantID: r.TenantID, ID: r.ID}] = 0
	}
	changeRows := make([]employeeChangeRow, len(changes))
	for i, c := range changes {
		k := ports.EmployeeKey{TenantID: c.TenantID, ID: c.EmployeeID}
		seq, ok := seqs[k]
		if !ok {
			return fmt.Errorf("sqlstore: %s: change %d is not of a new employee: %w", op, i, ports.ErrInvalid)
		}
		seqs[k] = seq + 1
		changeRows[i] = employeeChangeRowOf(c, seq+1)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := insertMany(ctx, s, op, rows); err != nil {
			return err
		}
		if err := insertMany(ctx, s, op, changeRows); err != nil {
			return err
		}
		s.stats.added(ctx, s, len(recs))
		return nil
	})
}

func employee(tenantID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB { return inTenant(tenantID)(db).Where("id = ?", id) }
}

// EmployeeByID returns the employee of tenantID; another tenant's is ErrNotFound.
func (s *Store) EmployeeByID(ctx context.Context, tenantID, id string) (ports.EmployeeRecord, error) {
	return first(ctx, s, "employee by id", employee(tenantID, id), (*employeeRow).record)
}

// EmployeeByNumber returns the employee of tenantID with that number; ErrNotFound when there is none.
func (s *Store) EmployeeByNumber(ctx context.Context, tenantID, number string) (ports.EmployeeRecord, error) {
	return first(ctx, s, "employee by number", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("employee_number = ?", number)
	}, (*employeeRow).record)
}

// keysetOrder is one order of a list: its column, and how a cursor's AfterKey becomes a value of it.
type keysetOrder struct {
	column string
	key    func(string) (any, error)
}

// employeeSorts are the orders of ports.EmployeeQuery.Sort; "" is the employee number's.
var employeeSorts = map[string]keysetOrder{
	"":                         {"employee_number", textKey},
	ports.EmployeeSortNumber:   {"employee_number", textKey},
	ports.EmployeeSortKana:     {"sort_kana", textKey},
	ports.EmployeeSortHireDate: {"hire_date", textKey},
	ports.EmployeeSortUpdated:  {"updated_at", instantKey},
}

func textKey(k string) (any, error) { return k, nil }

// instantKey reads the AfterKey of an order by instants: an RFC 3339 instant (any zone, any precision; the
// column keeps microseconds, and so does the comparison).
func instantKey(k string) (any, error) {
	t, err := time.Parse(time.RFC3339Nano, k)
	if err != nil {
		return nil, fmt.Errorf("cursor key is not an RFC 3339 instant: %w", ports.ErrInvalid)
	}
	return instant(t), nil
}

// page returns the scope of one keyset page in this order: rows after (afterKey, afterID) when afterID is
// set, by (column, id), at most limit (all when 0). The row-value comparison (column, id) > (key, id) walks
// an index on (tenant_id, column, id) from the cursor on, in both dialects.
func (o keysetOrder) page(afterKey, afterID string, limit int) (func(*gorm.DB) *gorm.DB, error) {
	var after any
	if afterID != "" {
		var err error
		if after, err = o.key(afterKey); err != nil {
			return nil, err
		}
	}
	return func(db *gorm.DB) *gorm.DB {
		if afterID != "" {
			db = db.Where("("+o.column+", id) > (?, ?)", after, afterID)
		}
		if limit > 0 {
			db = db.Limit(limit)
		}
		return db.Order(o.column).Order("id")
	}, nil
}

// ListEmployees returns at most q.Limit employees of q.TenantID (all when Limit is 0) that match q, in q.Sort
// order with the ID as tie-breaker, after (AfterKey, AfterID) when AfterID is set (keyset pages).
// ErrInvalid for an unknown sort or a bad cursor key.
func (s *Store) ListEmployees(ctx context.Context, q ports.EmployeeQuery) ([]ports.EmployeeRecord, error) {
	scope, err := s.employeePage(q)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, "list employees", scope, (*employeeRow).record)
}

// employeePage is the query of ListEmployees: q's filters, cursor, order and limit.
func (s *Store) employeePage(q ports.EmployeeQuery) (func(*gorm.DB) *gorm.DB, error) {
	order, ok := employeeSorts[q.Sort]
	if !ok {
		return nil, fmt.Errorf("sqlstore: list employees: unknown sort %q: %w", q.Sort, ports.ErrInvalid)
	}
	page, err := order.page(q.AfterKey, q.AfterID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list employees: %w", err)
	}
	return func(db *gorm.DB) *gorm.DB { return page(s.employeeFilter(q)(db)) }, nil
}

// CountEmployees counts the employees that q's filters select; the cursor, sort and limit do not count.
func (s *Store) CountEmployees(ctx context.Context, q ports.EmployeeQuery) (int, error) {
	var n int64
	err := s.employeeFilter(q)(s.reader(ctx).Model(&employeeRow{})).Count(&n).Error
	return int(n), translate("count employees", err)
}

// employeeFilter scopes a query to q's tenant and filters. A "" among DepartmentIDs selects the employees
// without a department.
func (s *Store) employeeFilter(q ports.EmployeeQuery) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		db = inTenant(q.TenantID)(db)
		if q.Text != "" {
			db = s.containsText(db, q.Text)
		}
		if q.EmployeeNumber != "" {
			db = db.Where("employee_number = ?", q.EmployeeNumber)
		}
		if len(q.Statuses) > 0 {
			db = db.Where("status IN ?", q.Statuses)
		}
		if len(q.EmploymentTypes) > 0 {
			db = db.Where("employment_type IN ?", q.EmploymentTypes)
		}
		if len(q.DepartmentIDs) > 0 {
			ids := slices.DeleteFunc(slices.Clone(q.DepartmentIDs), func(id string) bool { return id == "" })
			switch {
			case len(ids) == len(q.DepartmentIDs):
				db = db.Where("department_id IN ?", ids)
			case len(ids) == 0:
				db = db.Where("department_id IS NULL")
			default:
				db = db.Where("(department_id IN ? OR department_id IS NULL)", ids)
			}
		}
		if q.AccountID != "" {
			db = db.Where("account_id = ?", q.AccountID)
		}
		if q.HiredFrom != "" {
			db = db.Where("hire_date >= ?", q.HiredFrom)
		}
		if q.HiredTo != "" {
			db = db.Where("hire_date <= ?", q.HiredTo)
		}
		if !q.UpdatedSince.IsZero() {
			db = db.Where("updated_at >= ?", instant(q.UpdatedSince))
		}
		return db
	}
}

// likeEscaper escapes LIKE's wildcards and its escape character, so that a search for "50%" or "a_b"
// matches those characters only.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsText selects the employees whose search_text contains text (already normalised by the domain),
// exactly, with no case folding. Postgres uses LIKE, which its trigram index (when pg_trgm is installed)
// serves; SQLite uses instr, because its LIKE folds ASCII case and no index would serve it anyway.
func (s *Store) containsText(db *gorm.DB, text string) *gorm.DB {
	if s.driver == DriverPostgres {
		return db.Where(`search_text LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(text)+"%")
	}
	return db.Where("instr(search_text, ?) > 0", text)
}

// UpdateEmployee locks the employee's row (FOR UPDATE on Postgres; SQLite's immediate transaction holds the
// write lock already), gives fn the record and its changes in order, and then, in the same transaction,
// removes and rewrites the changes fn names (of this employee only; unknown IDs are ignored; a change
// both removed and rewritten is removed), appends fn's changes
// numbered after the highest Seq (the lock makes that safe), and stores the record with Version
// incremented. fn's changes to ID and TenantID are discarded, as are the tenant and employee of the
// changes it appends. ErrConflict when the employee number is taken.
func (s *Store) UpdateEmployee(ctx context.Context, tenantID, id string, fn func(rec *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error)) (ports.EmployeeRecord, error) {
	const op = "update employee"
	return updateTx[ports.EmployeeRecord, employeeRow](ctx, s, op, employee(tenantID, id), employeeColumns,
		func(ctx context.Context, rec *ports.EmployeeRecord) error {
			changes, err := s.EmployeeChanges(ctx, tenantID, id)
			if err != nil {
				return err
			}
			var last int64
			for _, c := range changes {
				last = max(last, c.Seq)
			}
			upd, err := fn(rec, changes)
			if err != nil {
				return err
			}
			if len(upd.Remove) > 0 {
				err := employeeChangesOf(tenantID, id)(s.writer(ctx)).Where("id IN ?", upd.Remove).Delete(&employeeChangeRow{}).Error
				if err != nil {
					return translate(op, err)
				}
			}
			for _, c := range upd.Rewrite {
				err := employeeChangesOf(tenantID, id)(s.writer(ctx).Model(&employeeChangeRow{})).Where("id = ?", c.ID).
					Updates(map[string]any{"patch": blob(c.Patch), "trail": blob(c.Trail)}).Error
				if err != nil {
					return translate(op, err)
				}
			}
			rows := make([]employeeChangeRow, len(upd.Append))
			for i, c := range upd.Append {
				c.TenantID, c.EmployeeID = tenantID, id
				rows[i] = employeeChangeRowOf(c, last+int64(i)+1)
			}
			return insertMany(ctx, s, op, rows)
		})
}

func employeeChangesOf(tenantID, employeeID string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("tenant_id = ? AND employee_id = ?", tenantID, employeeID)
	}
}

// EmployeeChanges lists the employee's changes in the order they apply: by EffectiveOn, then Seq.
// ErrNotFound when the tenant has no such employee.
func (s *Store) EmployeeChanges(ctx context.Context, tenantID, employeeID string) ([]ports.EmployeeChangeRecord, error) {
	const op = "employee changes"
	changes, err := list(ctx, s, op, func(db *gorm.DB) *gorm.DB {
		return employeeChangesOf(tenantID, employeeID)(db).Order("effective_on").Order("seq")
	}, (*employeeChangeRow).record)
	if err != nil || len(changes) > 0 {
		return changes, err
	}
	// No changes: an employee without any (rare: a hire is recorded with the employee), or none at all.
	var n int64
	if err := employee(tenantID, employeeID)(s.reader(ctx).Model(&employeeRow{})).Count(&n).Error; err != nil {
		return nil, translate(op, err)
	}
	if n == 0 {
		return nil, translate(op, gorm.ErrRecordNotFound)
	}
	return changes, nil
}

// DeleteEmployee removes the employee and, by the foreign key's cascade, its changes; ErrNotFound when
// the tenant has no such employee.
func (s *Store) DeleteEmployee(ctx context.Context, tenantID, id string) error {
	return affected(employee(tenantID, id)(s.writer(ctx)).Delete(&employeeRow{}), "delete employee")
}

// EmployeeKeys lists, across tenants, at most limit employees (all when 0) after the key after, by
// (tenant_id, id): a row-value comparison that walks the unique index on (tenant_id, id) from the cursor on.
func (s *Store) EmployeeKeys(ctx context.Context, after ports.EmployeeKey, limit int) ([]ports.EmployeeKey, error) {
	db := s.reader(ctx).Model(&employeeRow{}).Where("(tenant_id, id) > (?, ?)", after.TenantID, after.ID)
	return employeeKeys(limitRows(db, limit).Order("tenant_id").Order("id"), "employee keys")
}

// employeeKeys runs a query of employees for their keys.
func employeeKeys(db *gorm.DB, op string) ([]ports.EmployeeKey, error) {
	var rows []struct{ TenantID, ID string }
	if err := db.Select("tenant_id", "id").Scan(&rows).Error; err != nil {
		return nil, translate(op, err)
	}
	keys := make([]ports.EmployeeKey, len(rows))
	for i, r := range rows {
		keys[i] = ports.EmployeeKey{TenantID: r.TenantID, ID: r.ID}
	}
	return keys, nil
}

// EmployeesDue lists, across tenants, at most limit employees (all when 0) with a scheduled change due on or
// before day, earliest first, from the partial index of scheduled changes.
func (s *Store) EmployeesDue(ctx context.Context, day string, limit int) ([]ports.EmployeeKey, error) {
	db := s.reader(ctx).Model(&employeeRow{}).Where("next_change_on IS NOT NULL AND next_change_on <= ?", day)
	return employeeKeys(limitRows(db, limit).Order("next_change_on").Order("tenant_id").Order("id"), "employees due")
}
