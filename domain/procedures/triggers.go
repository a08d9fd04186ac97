package procedures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// Consumer is the module's name as a consumer of the outbox.
const Consumer = "procedures"

// consumedEvents are the event types the module handles.
var consumedEvents = []string{EventHired, EventSeparated, EventDependentAdded, EventDependentRemoved, EventChanged}

// eventPayload is what the employees module writes in the events the module reads (no personal data: the
// snapshot is read from the register).
type eventPayload struct {
	EmployeeID       string   `json:"employee_id"`
	ChangeID         string   `json:"change_id"`
	EffectiveOn      string   `json:"effective_on"`
	HireDate         string   `json:"hire_date"`
	SeparationDate   string   `json:"separation_date"`
	DependentID      string   `json:"dependent_id"`
	CancelledChanges []string `json:"cancelled_changes"`
}

// ConsumeEvents implements ports.Procedures: it handles every employee event the module has not consumed
// yet, oldest first, until none is left. Each event is handled in one transaction that also records its
// consumption, so a crash leaves it either wholly handled or still pending, and two instances racing on it
// handle it once (the loser's transaction rolls back). The procedures' dedup keys are a second guard: an
// event reporting the same change twice creates nothing new. An error stops the round; the event that
// failed stays pending for the next one.
func (s *Service) ConsumeEvents(ctx context.Context) (int, error) {
	return kernel.ConsumeOutbox(ctx, s.Outbox, Consumer, consumedEvents, s.HandleEvent)
}

// HandleEvent handles one outbox event exactly once: it reports false when the module had consumed it
// already. A dispatcher that pushes events may call it directly, as often as it likes.
func (s *Service) HandleEvent(ctx context.Context, ev ports.OutboxEvent) (bool, error) {
	var pl eventPayload
	if err := json.Unmarshal(ev.Payload, &pl); err != nil {
		pl = eventPayload{} // an unreadable payload creates nothing, and is consumed all the same
	}
	// The snapshot is read before the transaction: the register is another module, with its own calls.
	drafts, err := s.draftsFor(ctx, ev, pl)
	if err != nil {
		return false, err
	}
	sys := system(ev.TenantID, SystemActor)
	return kernel.ConsumeOnce(ctx, s.Tx, s.Outbox, Consumer, ev.ID, s.Clock.Now(), func(ctx context.Context) error {
		for _, d := range drafts {
			rec, err := s.build(d, SystemActor)
			if err != nil {
				return err
			}
			if _, err := s.create(ctx, sys, rec); err != nil {
				return err
			}
		}
		if ev.Type == EventChanged && len(pl.CancelledChanges) > 0 {
			return s.cancelForChanges(ctx, sys, pl.EmployeeID, pl.CancelledChanges)
		}
		return nil
	})
}

// draftsFor returns the procedures an event creates: for each kind the event triggers that covers the
// employee, a draft with the employee as of the fact and a dedup key of (type, change[, dependent]).
func (s *Service) draftsFor(ctx context.Context, ev ports.OutboxEvent, pl eventPayload) ([]draft, error) {
	kinds := kindsTriggeredBy(ev.Type)
	if len(kinds) == 0 || pl.EmployeeID == "" {
		return nil, nil
	}
	// The fact, and the day the employee is read as of: the hire date; for a separation the loss date (the
	// day after the last day) read as of the day the separation was recorded in effect, which holds its
	// reason; for a dependent removed, the day before (the last day they were supported).
	fact, err := calendar.ParseDate(pl.EffectiveOn)
	if ev.Type == EventHired && pl.HireDate != "" {
		fact, err = calendar.ParseDate(pl.HireDate)
	}
	if err != nil {
		return nil, nil // an event without a usable date cannot start a filing
	}
	asOf := fact
	var lastDay calendar.Date
	switch ev.Type {
	case EventSeparated:
		if lastDay, err = calendar.ParseDate(pl.SeparationDate); err != nil {
			return nil, nil
		}
		if lastDay.After(asOf) {
			asOf = lastDay
		}
		fact = lastDay.AddDays(1)
	case EventDependentRemoved:
		asOf = fact.AddDays(-1)
	}
	sys := system(ev.TenantID, SystemActor)
	emp, err := s.Employees.GetEmployee(ctx, sys, pl.EmployeeID, asOf.String())
	if errors.Is(err, ports.ErrNotFound) {
		return nil, nil // deleted from the register since: nothing to file
	}
	if err != nil {
		return nil, err
	}
	fields := snapshot(emp)
	dedup := "change:" + pl.ChangeID
	switch ev.Type {
	case EventSeparated:
		fields[fLossDate], fields[fSeparationDate] = fact.String(), lastDay.String()
	case EventDependentAdded, EventDependentRemoved:
		i := slices.IndexFunc(emp.Dependents, func(d ports.Dependent) bool { return d.ID == pl.DependentID })
		dep := ports.Dependent{ID: pl.DependentID}
		if i >= 0 {
			dep = emp.Dependents[i]
		}
		change := "added"
		if ev.Type == EventDependentRemoved {
			change = "removed"
		}
		dependentSnapshot(fields, dep, change)
		dedup += ":dependent:" + pl.DependentID
	}
	if pl.ChangeID == "" {
		dedup = "event:" + ev.ID
	}
	var out []draft
	for _, k := range kinds {
		if !k.covers(emp.EmploymentType) {
			continue
		}
		out = append(out, draft{kind: k, tenantID: ev.TenantID, employeeID: emp.ID, fact: fact, office: k.Office,
			data:     procData{Fields: maps.Clone(fields), SourceEvent: ev.ID, SourceChange: pl.ChangeID},
			dedupKey: k.Type + ":" + dedup, comment: autoComment(ev.Type)})
	}
	return out, nil
}

// autoComment is the history comment of a procedure an event created.
func autoComment(eventType string) string {
	return map[string]string{
		EventHired:            "入社により自動作成 (created on hire)",
		EventSeparated:        "退職により自動作成 (created on separation)",
		EventDependentAdded:   "扶養追加により自動作成 (created when a dependent was added)",
		EventDependentRemoved: "扶養削除により自動作成 (created when a dependent was removed)",
	}[eventType]
}

// cancelForChanges cancels the open procedures an employee change created when that change is taken back
// (a scheduled hire or separation cancelled before its day).
func (s *Service) cancelForChanges(ctx context.Context, sys ports.Principal, employeeID string, changes []string) error {
	recs, err := s.Procedures.ListProcedures(ctx, ports.ProcedureQuery{TenantID: sys.TenantID, EmployeeID: employeeID,
		Statuses: []string{ports.ProcedureDraft, ports.ProcedureReturned, ports.ProcedurePendingApproval, ports.ProcedureApproved}})
	if err != nil {
		return err
	}
	for _, r := range recs {
		d, err := decodeData(r.Data)
		if err != nil {
			return err
		}
		if d.SourceChange == "" || !slices.Contains(changes, d.SourceChange) {
			continue
		}
		_, err = s.transition(ctx, sys, r.ID, ports.ProcedureAction{Action: ports.ActionCancel,
			Comment: "元の変更が取り消されたため自動取消 (the change it reported was cancelled)"}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// Annual report (算定基礎届) rules, as data: it reports everyone insured on 1 July, except those whose
// insurance began on or after 1 June of that year (their standard remuneration was just set) —
// interpretation of 健康保険法41条 and 日本年金機構's guidance.
const (
	annualMonth       = time.July
	annualDay         = 1
	annualExcludeFrom = time.June // acquisitions from the 1st of this month are left out
)

// CreateAnnualReports implements ports.Procedures: a 算定基礎届 for every employee insured on 1 July of
// year, with the employee as of that day. Each has the dedup key (type, year, employee), so running it
// again (or twice at once) creates each once.
func (s *Service) CreateAnnualReports(ctx context.Context, p ports.Principal, year int) (int, error) {
	if err := requirePreparer(p); err != nil {
		return 0, err
	}
	july, err := calendar.NewDate(year, annualMonth, annualDay)
	if err != nil || year < calendar.MinYear || year > calendar.MaxYear {
		return 0, invalid([]ports.FieldError{{Field: "year", Code: "invalid_year",
			MessageEN: "is not a year the calendar knows", MessageJA: "対応していない年です"}})
	}
	cutoff, _ := calendar.NewDate(year, annualExcludeFrom, 1)
	k, _ := kindOf(ports.ProcedureAnnualRemunerationReport)
	created := 0
	f := ports.EmployeeFilter{HiredTo: cutoff.AddDays(-1).String(), Limit: MaxLimit}
	for {
		page, err := s.Employees.ListEmployees(ctx, p, f)
		if err != nil {
			return created, err
		}
		for _, e := range page.Items {
			if !insuredOn(e, july) || !k.covers(e.EmploymentType) {
				continue
			}
			emp, err := s.Employees.GetEmployee(ctx, p, e.ID, july.String())
			if err != nil {
				return created, err
			}
			fields := snapshot(emp)
			fields[fYear] = strconv.Itoa(year)
			rec, err := s.build(draft{kind: k, tenantID: p.TenantID, employeeID: e.ID, fact: july, office: k.Office,
				data: procData{Fields: fields}, dedupKey: fmt.Sprintf("%s:%d:%s", k.Type, year, e.ID),
				comment: fmt.Sprintf("%d年 算定基礎届 (annual report %d)", year, year)}, p.AccountID)
			if err != nil {
				return created, err
			}
			var isNew bool
			err = s.Tx.InTx(ctx, func(ctx context.Context) error {
				isNew, err = s.create(ctx, p, rec)
				return err
			})
			if err != nil {
				return created, err
			}
			if isNew {
				created++
			}
		}
		if page.NextCursor == "" {
			return created, nil
		}
		f.Cursor = page.NextCursor
	}
}

// insuredOn reports whether the employee (as listed today) was employed on day: hired by then and not
// separated before it (the separation date is the last day worked).
func insuredOn(e ports.Employee, day calendar.Date) bool {
	if e.HireDate == "" || e.HireDate > day.String() {
		return false
	}
	return e.SeparationDate == "" || e.SeparationDate >= day.String()
}
