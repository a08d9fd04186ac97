package employees

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// effectiveOn parses the day a change takes effect; "" stays "": now, i.e. the employee's current day
// (today, or the hire date of a future hire), which only the timeline knows.
func effectiveOn(s string) (string, []ports.FieldError) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	d, p := ParseDate(s)
	if p != nil {
		return "", []ports.FieldError{p.fieldError("effective_on")}
	}
	return d, nil
}

// parseEmployeeInput parses the fields of an input and resolves the department; errs lists every problem.
func parseEmployeeInput(fields map[string]string, ix deptIndex) (map[string]string, []ports.FieldError) {
	values, errs := employeeFields.parse(fields)
	return values, append(errs, ix.resolve(values)...)
}

// parseInput is parseEmployeeInput with the tenant's departments, and the linked account checked: account_id
// must name an account of the tenant (another tenant's is as unknown as one that does not exist).
func (s *Service) parseInput(ctx context.Context, tenantID string, fields map[string]string) (map[string]string, []ports.FieldError, error) {
	ix, err := s.departmentIndex(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	values, errs := parseEmployeeInput(fields, ix)
	if id := values[fAccountID]; id != "" {
		_, err := s.Accounts.AccountByID(ctx, tenantID, id)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			errs = append(errs, ports.FieldError{Field: fAccountID, Code: "unknown_account",
				MessageEN: "is not an account of this company", MessageJA: "この企業のアカウントではありません"})
		case err != nil:
			return nil, nil, err
		}
	}
	return values, errs, nil
}

// newEmployee plans a new employee from parsed values: the first change ("hire", or kind) effective on
// effective (default: the hire date), and the record it makes.
func (s *Service) newEmployee(ctx context.Context, p ports.Principal, values map[string]string, effective, kind, reason, today string) (ports.EmployeeRecord, planned, error) {
	if values[fStatus] == "" {
		values[fStatus] = ports.EmployeeActive
		if values[fSeparationDate] != "" { // someone registered after they left (a register taken over late)
			values[fStatus] = ports.EmployeeSeparated
		}
	}
	if errs := employeeFields.missing(values); len(errs) > 0 {
		return ports.EmployeeRecord{}, planned{}, invalid(errs)
	}
	if effective == "" {
		effective = values[fHireDate]
	}
	now := s.Clock.Now()
	rec := ports.EmployeeRecord{ID: kernel.NewID(), TenantID: p.TenantID, Version: 1, CreatedAt: now, UpdatedAt: now}
	pl, err := s.plan(ctx, s.sealer(p.TenantID, rec.ID), p, nil,
		draft{kind: kind, effectiveOn: effective, values: values, reason: reason}, today)
	if err != nil {
		return ports.EmployeeRecord{}, planned{}, err
	}
	refresh(&rec, pl.timeline, today)
	return rec, pl, nil
}

// CreateEmployee implements ports.Employees: the employee's first change is its hire, effective on the hire
// date unless EffectiveOn says otherwise.
func (s *Service) CreateEmployee(ctx context.Context, p ports.Principal, in ports.EmployeeInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return ports.Employee{}, err
	}
	values, errs, err := s.parseInput(ctx, p.TenantID, in.Fields)
	if err != nil {
		return ports.Employee{}, err
	}
	today := s.today()
	var effective string
	if strings.TrimSpace(in.EffectiveOn) != "" {
		var more []ports.FieldError
		effective, more = effectiveOn(in.EffectiveOn)
		errs = append(errs, more...)
	}
	if len(errs) > 0 {
		return ports.Employee{}, invalid(append(errs, employeeFields.missing(values, errs...)...))
	}
	rec, pl, err := s.newEmployee(ctx, p, values, effective, KindHire, in.Reason, today)
	if err != nil {
		return ports.Employee{}, err
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Employees.CreateEmployees(ctx, []ports.EmployeeRecord{rec}, []ports.EmployeeChangeRecord{pl.change}); err != nil {
			return numberTaken(err)
		}
		if err := s.appendEvents(ctx, s.changeEvents(p.TenantID, rec.ID, pl, nil, today)...); err != nil {
			return err
		}
		return s.record(ctx, auditEvent(p, "employee.create", "employee:"+rec.ID,
			map[string]string{"fields": strconv.Itoa(len(pl.trail))}))
	})
	if err != nil {
		return ports.Employee{}, err
	}
	st, err := decodeState(rec.Data)
	if err != nil {
		return ports.Employee{}, err
	}
	return s.view(ctx, a, rec, st, pl.timeline.currentDay(today))
}

// GetEmployee implements ports.Employees. The current state comes from the stored record unless a
// scheduled change has come due and the periodic job has not rolled the record forward yet.
func (s *Service) GetEmployee(ctx context.Context, p ports.Principal, id, asOf string) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	today := s.today()
	day := today
	if strings.TrimSpace(asOf) != "" {
		d, pr := ParseDate(asOf)
		if pr != nil {
			return ports.Employee{}, invalid([]ports.FieldError{pr.fieldError("as_of")})
		}
		day = d
	}
	rec, err := s.Employees.EmployeeByID(ctx, p.TenantID, id)
	if err != nil {
		return ports.Employee{}, notFoundAs(err)
	}
	return s.employeeAsOf(ctx, a, rec, day, today)
}

// employeeAsOf shows rec as of day to a caller with access a (not found when a may not read it); the
// current record answers for today, the history for any other day.
func (s *Service) employeeAsOf(ctx context.Context, a Access, rec ports.EmployeeRecord, day, today string) (ports.Employee, error) {
	cur, err := decodeState(rec.Data)
	if err != nil {
		return ports.Employee{}, err
	}
	if !a.CanRead(cur.values[fAccountID]) {
		return ports.Employee{}, employeeNotFound()
	}
	if day == today && (rec.NextChangeOn == "" || rec.NextChangeOn > today) {
		return s.view(ctx, a, rec, cur, max(today, rec.EffectiveOn))
	}
	changes, err := s.Employees.EmployeeChanges(ctx, rec.TenantID, rec.ID)
	if err != nil {
		return ports.Employee{}, notFoundAs(err)
	}
	t, err := newTimeline(changes)
	if err != nil {
		return ports.Employee{}, err
	}
	day = max(day, t.first())
	return s.view(ctx, a, rec, t.at(day), day)
}

// writeOp is one write of an existing employee: what it records (build returns the draft, or nil when it
// only removes changes) and under which audit action.
type writeOp struct {
	action    string
	ifVersion int64
	build     func(t timeline, today string) (d *draft, remove []string, err error)
}

// outcome is what a write did, for its events and audit entry.
type outcome struct {
	planned
	removed []string
	record  ports.EmployeeRecord
}

// update runs op inside the store's update of the employee, so that the version check, the history and the
// record change atomically.
func (s *Service) update(ctx context.Context, p ports.Principal, a Access, r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord, op writeOp, today string) (outcome, error) {
	cur, err := decodeState(r.Data)
	if err != nil {
		return outcome{}, err
	}
	if !a.CanRead(cur.values[fAccountID]) {
		return outcome{}, employeeNotFound()
	}
	if op.ifVersion != 0 && op.ifVersion != r.Version {
		return outcome{}, staleVersion()
	}
	t, err := newTimeline(changes)
	if err != nil {
		return outcome{}, err
	}
	d, remove, err := op.build(t, today)
	if err != nil {
		return outcome{}, err
	}
	for _, id := range remove {
		t = t.without(id)
	}
	out := outcome{removed: remove}
	if d != nil {
		if out.planned, err = s.plan(ctx, s.sealer(r.TenantID, r.ID), p, t, *d, today); err != nil {
			return outcome{}, err
		}
	} else {
		if err := validateFrom(t, t.first(), today); err != nil {
			return outcome{}, err
		}
		out.timeline = t
	}
	refresh(r, out.timeline, today)
	r.UpdatedAt = s.Clock.Now()
	return out, nil
}

// write applies op to the employee id in one transaction with its events and audit entry, and returns the
// employee as it now stands. A write that changes nothing stores nothing.
func (s *Service) write(ctx context.Context, p ports.Principal, a Access, id string, op writeOp) (ports.Employee, error) {
	today := s.today()
	var out outcome
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Employees.UpdateEmployee(ctx, p.TenantID, id,
			func(r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
				o, err := s.update(ctx, p, a, r, changes, op, today)
				if err != nil {
					return ports.EmployeeUpdate{}, err
				}
				out = o
				up := ports.EmployeeUpdate{Remove: o.removed}
				if o.change.ID != "" {
					up.Append = []ports.EmployeeChangeRecord{o.change}
				}
				return up, nil
			})
		if err != nil {
			return numberTaken(notFoundAs(err))
		}
		out.record = rec
		if err := s.appendEvents(ctx, s.changeEvents(p.TenantID, id, out.planned, out.removed, today)...); err != nil {
			return err
		}
		detail := map[string]string{"fields": strconv.Itoa(len(out.trail))}
		if out.change.ID != "" {
			detail["change"], detail["effective_on"] = out.change.ID, out.change.EffectiveOn
		}
		if len(out.removed) > 0 {
			detail["removed"] = strings.Join(out.removed, ",")
		}
		return s.record(ctx, auditEvent(p, op.action, "employee:"+id, detail))
	})
	if errors.Is(err, errNoChange) {
		return s.GetEmployee(ctx, p, id, "")
	}
	if err != nil {
		return ports.Employee{}, err
	}
	st, err := decodeState(out.record.Data)
	if err != nil {
		return ports.Employee{}, err
	}
	return s.view(ctx, a, out.record, st, out.timeline.currentDay(today))
}

// employeeDraft parses an input into a draft, enforcing what the principal may write.
func (s *Service) employeeDraft(ctx context.Context, p ports.Principal, a Access, in ports.EmployeeInput, kind string) (draft, error) {
	for name := range in.Fields {
		if !a.CanWrite(name) {
			return draft{}, forbidden()
		}
	}
	values, errs, err := s.parseInput(ctx, p.TenantID, in.Fields)
	if err != nil {
		return draft{}, err
	}
	day, more := effectiveOn(in.EffectiveOn)
	if errs = append(errs, more...); len(errs) > 0 {
		return draft{}, invalid(errs)
	}
	return draft{kind: kind, effectiveOn: day, values: values, reason: in.Reason}, nil
}

// UpdateEmployee implements ports.Employees: a change effective today or earlier applies now (one dated in
// the past is inserted into the history), a later one is scheduled.
func (s *Service) UpdateEmployee(ctx context.Context, p ports.Principal, id string, in ports.EmployeeInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	d, err := s.employeeDraft(ctx, p, a, in, KindChange)
	if err != nil {
		return ports.Employee{}, err
	}
	return s.write(ctx, p, a, id, writeOp{action: "employee.update", ifVersion: in.IfVersion,
		build: func(timeline, string) (*draft, []string, error) { return &d, nil, nil }})
}

// scheduled returns the change id of t if it has not taken effect yet.
func scheduled(t timeline, id, today string) (step, error) {
	st, ok := t.find(id)
	if !ok {
		return step{}, ports.NewError(ports.ErrNotFound, "change_not_found",
			"The change was not found.", "変更予定が見つかりません。")
	}
	if st.rec.EffectiveOn <= t.currentDay(today) {
		return step{}, ports.NewError(ports.ErrConflict, "change_in_effect",
			"The change has already taken effect.", "この変更は既に適用されています。")
	}
	return st, nil
}

// UpdateScheduledChange implements ports.Employees: the change is replaced by one with the new fields (and
// date, when given), recorded anew.
func (s *Service) UpdateScheduledChange(ctx context.Context, p ports.Principal, employeeID, changeID string, in ports.EmployeeInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return ports.Employee{}, err
	}
	d, err := s.employeeDraft(ctx, p, a, in, KindChange)
	if err != nil {
		return ports.Employee{}, err
	}
	keepDate := strings.TrimSpace(in.EffectiveOn) == ""
	return s.write(ctx, p, a, employeeID, writeOp{action: "employee.update", ifVersion: in.IfVersion,
		build: func(t timeline, today string) (*draft, []string, error) {
			old, err := scheduled(t, changeID, today)
			if err != nil {
				return nil, nil, err
			}
			if strings.HasPrefix(old.rec.Kind, "dependent_") {
				return nil, nil, ports.NewError(ports.ErrConflict, "dependent_change",
					"A scheduled dependent change cannot be edited; cancel it and record a new one.",
					"扶養家族の変更予定は編集できません。取り消してから登録し直してください。")
			}
			if keepDate {
				d.effectiveOn = old.rec.EffectiveOn
			}
			return &d, []string{changeID}, nil
		}})
}

// CancelScheduledChange implements ports.Employees.
func (s *Service) CancelScheduledChange(ctx context.Context, p ports.Principal, employeeID, changeID string, ifVersion int64) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return ports.Employee{}, err
	}
	return s.write(ctx, p, a, employeeID, writeOp{action: "employee.update", ifVersion: ifVersion,
		build: func(t timeline, today string) (*draft, []string, error) {
			if _, err := scheduled(t, changeID, today); err != nil {
				return nil, nil, err
			}
			return nil, []string{changeID}, nil
		}})
}

// DeleteEmployee implements ports.Employees: the employee and its whole history go (a register entry made
// by mistake); a separation is recorded with a separation date instead.
func (s *Service) DeleteEmployee(ctx context.Context, p ports.Principal, id string, ifVersion int64) error {
	if err := require(AccessOf(p).Full()); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Employees.EmployeeByID(ctx, p.TenantID, id)
		if err != nil {
			return notFoundAs(err)
		}
		if ifVersion != 0 && ifVersion != rec.Version {
			return staleVersion()
		}
		if err := s.Employees.DeleteEmployee(ctx, p.TenantID, id); err != nil {
			return notFoundAs(err)
		}
		ev := s.newEvent(p.TenantID, EventDeleted, id, map[string]any{"employee_id": id})
		if err := s.appendEvents(ctx, ev); err != nil {
			return err
		}
		return s.record(ctx, auditEvent(p, "employee.delete", "employee:"+id, nil))
	})
}

// History implements ports.Employees.
func (s *Service) History(ctx context.Context, p ports.Principal, id string) ([]ports.EmployeeChange, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return nil, err
	}
	rec, err := s.Employees.EmployeeByID(ctx, p.TenantID, id)
	if err != nil {
		return nil, notFoundAs(err)
	}
	cur, err := decodeState(rec.Data)
	if err != nil {
		return nil, err
	}
	if !a.CanRead(cur.values[fAccountID]) {
		return nil, employeeNotFound()
	}
	changes, err := s.Employees.EmployeeChanges(ctx, p.TenantID, id)
	if err != nil {
		return nil, notFoundAs(err)
	}
	t, err := newTimeline(changes)
	if err != nil {
		return nil, err
	}
	day := t.currentDay(s.today())
	out := make([]ports.EmployeeChange, 0, len(t))
	for i := len(t) - 1; i >= 0; i-- {
		out = append(out, historyView(t[i].rec, day))
	}
	return out, nil
}

// ApplyDueChanges implements ports.Employees: every employee with a scheduled change due today or earlier
// has its record folded forward. Events were written when the changes were recorded.
func (s *Service) ApplyDueChanges(ctx context.Context) (int, error) {
	today := s.today()
	n := 0
	for {
		due, err := s.Employees.EmployeesDue(ctx, today, 100)
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, k := range due {
			_, err := s.Employees.UpdateEmployee(ctx, k.TenantID, k.ID,
				func(r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
					t, err := newTimeline(changes)
					if err != nil {
						return ports.EmployeeUpdate{}, err
					}
					refresh(r, t, today)
					r.UpdatedAt = s.Clock.Now()
					return ports.EmployeeUpdate{}, nil
				})
			switch {
			case errors.Is(err, ports.ErrNotFound): // deleted meanwhile
			case err != nil:
				return n, err
			default:
				n++
			}
		}
	}
}

// Purposes for which My Number may be revealed (番号法: only for the procedures it names). "other:" must be
// followed by the reason.
const (
	PurposeSocialInsurance     = "social_insurance"
	PurposeEmploymentInsurance = "employment_insurance"
	PurposeTax                 = "tax"
	PurposeOtherPrefix         = "other:"
)

// RevealMyNumber implements ports.Employees: admin and hr only, for a stated purpose, audited (without the
// number).
func (s *Service) RevealMyNumber(ctx context.Context, p ports.Principal, employeeID, dependentID, purpose string) (string, error) {
	if !AccessOf(p).Full() {
		// A refused attempt is part of the access record too.
		e := auditEvent(p, "employee.my_number.reveal", "employee:"+employeeID, nil)
		e.Outcome = ports.OutcomeDenied
		if err := s.record(ctx, e); err != nil {
			return "", err
		}
		return "", forbidden()
	}
	purpose = NormalizeText(purpose)
	switch {
	case purpose == PurposeSocialInsurance, purpose == PurposeEmploymentInsurance, purpose == PurposeTax:
	case strings.HasPrefix(purpose, PurposeOtherPrefix) && strings.TrimSpace(purpose[len(PurposeOtherPrefix):]) != "":
		purpose, _ = textOf(200)(purpose)
	default:
		return "", invalid([]ports.FieldError{{Field: "purpose", Code: "purpose",
			MessageEN: "must be social_insurance, employment_insurance, tax or other: with the reason",
			MessageJA: "利用目的(社会保険・雇用保険・税務、またはその他: 理由)を指定してください"}})
	}
	rec, err := s.Employees.EmployeeByID(ctx, p.TenantID, employeeID)
	if err != nil {
		return "", notFoundAs(err)
	}
	st, err := decodeState(rec.Data)
	if err != nil {
		return "", err
	}
	field, sealed := fMyNumber, st.values[fMyNumber]
	if dependentID != "" {
		d, ok := st.dependent(dependentID)
		if !ok {
			return "", ports.NewError(ports.ErrNotFound, "not_found", "The dependent was not found.", "扶養家族が見つかりません。")
		}
		field, sealed = dependentField(dependentID, fMyNumber), d.values[fMyNumber]
	}
	if sealed == "" {
		return "", ports.NewError(ports.ErrNotFound, "no_my_number", "No My Number is recorded.", "個人番号が登録されていません。")
	}
	number, err := s.sealer(p.TenantID, employeeID).open(ctx, field, sealed)
	if err != nil {
		return "", err
	}
	detail := map[string]string{"purpose": purpose}
	if dependentID != "" {
		detail["dependent"] = dependentID
	}
	if err := s.record(ctx, auditEvent(p, "employee.my_number.reveal", "employee:"+employeeID, detail)); err != nil {
		return "", err
	}
	return number, nil
}

// changeEvents are the outbox events of a recorded change: hired, changed (with the field names, never
// values), separated, dependent added or removed. They are written when the change is recorded, with its
// effective date and whether it is scheduled, so that consumers (procedures) learn of it in advance.
func (s *Service) changeEvents(tenantID, employeeID string, pl planned, removed []string, today string) []ports.OutboxEvent {
	c := pl.change
	var evs []ports.OutboxEvent
	if c.ID == "" {
		if len(removed) > 0 {
			evs = append(evs, s.newEvent(tenantID, EventChanged, employeeID,
				map[string]any{"employee_id": employeeID, "cancelled_changes": removed}))
		}
		return evs
	}
	base := func() map[string]any {
		return map[string]any{"employee_id": c.EmployeeID, "change_id": c.ID, "effective_on": c.EffectiveOn,
			"scheduled": c.EffectiveOn > pl.timeline.currentDay(today)}
	}
	after := pl.timeline.at(c.EffectiveOn).values
	if c.Kind == KindHire {
		m := base()
		m["employee_number"], m["hire_date"] = after[fEmployeeNumber], after[fHireDate]
		return append(evs, s.newEvent(c.TenantID, EventHired, c.EmployeeID, m))
	}
	fields := make([]string, 0, len(pl.trail))
	deps := map[string]bool{}
	separated := false
	for _, t := range pl.trail {
		fields = append(fields, t.Field)
		if id, ok := strings.CutPrefix(t.Field, fDependentPrefix); ok {
			id, _, _ = strings.Cut(id, ".")
			deps[id] = true
		}
		if t.Field == fStatus && t.To == ports.EmployeeSeparated {
			separated = true
		}
	}
	m := base()
	m["kind"], m["fields"], m["cancelled_changes"] = c.Kind, fields, removed
	evs = append(evs, s.newEvent(c.TenantID, EventChanged, c.EmployeeID, m))
	if separated {
		m := base()
		m["separation_date"] = after[fSeparationDate]
		evs = append(evs, s.newEvent(c.TenantID, EventSeparated, c.EmployeeID, m))
	}
	for id := range deps {
		typ := map[string]string{KindDependentAdded: EventDependentAdded, KindDependentRemoved: EventDependentRemoved}[c.Kind]
		if typ != "" {
			m := base()
			m["dependent_id"] = id
			evs = append(evs, s.newEvent(c.TenantID, typ, c.EmployeeID, m))
		}
	}
	return evs
}
