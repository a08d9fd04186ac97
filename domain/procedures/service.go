package procedures

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// Deps are what the module needs.
type Deps struct {
	Procedures ports.ProcedureStore
	// Outbox gives the register's employee events to the module's consumer, and takes the module's own
	// procedure.created and procedure.status_changed events (for webhooks).
	Outbox ports.Outbox
	// Employees is the register's driving port: the module reads the employee snapshot a filing reports
	// through it (never the register's store), as a system principal of the tenant.
	Employees ports.Employees
	Tx        ports.Transactor
	Audit     ports.AuditLog
	Clock     ports.Clock
	// Calendar decides the days the offices are open; the zero Calendar knows the national holidays and the
	// year end (12/29–1/3).
	Calendar calendar.Calendar
	// Filer files approved procedures electronically; nil records filings made on paper, and completion is
	// then marked by hand.
	Filer ports.ProcedureFiler
	// Gateway, when Filer is nil, makes New file through it (e-Gov): Filer becomes a GatewayFiler that sends
	// the module's own FilingAttachments.
	Gateway ports.FilingGateway
	// Renderer renders the forms as PDF; nil makes no PDF (ErrUnavailable), and FilingAttachments then fails.
	Renderer ports.DocumentRenderer
	// Employers gives a tenant's employer block, under what a procedure's employer.* fields say; nil leaves
	// the block to those fields.
	Employers ports.FilingEmployers
	// Scanner checks attached files for malware before they are stored, and Attachments keeps them; without
	// both, attachments are ErrUnavailable.
	Scanner     ports.MalwareScanner
	Attachments ports.AttachmentStore
}

// Service implements ports.Procedures.
type Service struct {
	Deps
}

var _ ports.Procedures = (*Service)(nil)

// New builds the procedures module.
func New(deps Deps) (*Service, error) {
	if deps.Procedures == nil || deps.Outbox == nil || deps.Employees == nil || deps.Tx == nil ||
		deps.Audit == nil || deps.Clock == nil {
		return nil, errors.New("procedures: every dependency but Calendar, Filer, Gateway, Renderer, Employers, Scanner and Attachments is required")
	}
	s := &Service{Deps: deps}
	if s.Filer == nil && s.Gateway != nil {
		s.Filer = GatewayFiler{Gateway: s.Gateway, Attachments: s.FilingAttachments}
	}
	return s, nil
}

// System actors: the account IDs recorded for what the module does by itself.
const (
	SystemActor = "system:procedures" // procedures created from events and by the annual job
	FilingActor = "system:filing"     // an office's answer to an electronic filing
)

// SystemPrincipal is the principal of the module's own work in a tenant (SystemActor), for callers without
// a person, such as a scheduled CreateAnnualReports.
func SystemPrincipal(tenantID string) ports.Principal { return system(tenantID, SystemActor) }

// system is the principal the module acts as for a tenant when no person does: an hr member, so that the
// register shows it the whole record.
func system(tenantID, actor string) ports.Principal {
	return ports.Principal{AccountID: actor, TenantID: tenantID, Kind: ports.KindMember, Stage: ports.StageFull,
		Roles: []string{ports.RoleHR}, Name: actor}
}

// today is the current day in Asia/Tokyo.
func (s *Service) today() calendar.Date {
	return calendar.DateOf(s.Clock.Now())
}

// record appends an audit event; a failure fails the operation that wanted it recorded.
func (s *Service) record(ctx context.Context, p ports.Principal, action, target, outcome string, detail map[string]string) error {
	kind := p.Kind
	if p.AccountID == SystemActor || p.AccountID == FilingActor {
		kind = "system"
	}
	err := s.Audit.Record(ctx, ports.AuditEvent{At: s.Clock.Now(), TenantID: p.TenantID, ActorID: p.AccountID,
		ActorKind: kind, Action: action, Target: target, IP: p.Source.IP, UserAgent: p.Source.UserAgent,
		Outcome: outcome, Detail: detail})
	if err != nil {
		return fmt.Errorf("procedures: audit: %w", err)
	}
	return nil
}

// Errors of the module.

func forbidden() error {
	return ports.NewError(ports.ErrForbidden, "forbidden", "You are not allowed to do this.", "この操作を行う権限がありません。")
}

func procedureNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The procedure was not found.", "手続きが見つかりません。")
}

func invalid(fields []ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}

func staleVersion() error {
	return ports.NewError(ports.ErrPreconditionFailed, "stale_version",
		"The procedure was changed by someone else; reload it and try again.",
		"他の人が先に更新しました。再読み込みしてからやり直してください。")
}

func notEditable(status string) error {
	return ports.NewError(ports.ErrConflict, "not_editable",
		fmt.Sprintf("The procedure is %s; it can be edited only as a draft or when returned.", statusNames[status][1]),
		fmt.Sprintf("この手続きは「%s」のため編集できません（下書き・差戻しのときのみ編集できます）。", statusNames[status][0]))
}

// notFoundAs turns a store's ErrNotFound into the module's own error; the module's own errors pass.
func notFoundAs(err error) error {
	if _, ours := ports.AsError(err); !ours && errors.Is(err, ports.ErrNotFound) {
		return procedureNotFound()
	}
	return err
}

// requirePreparer refuses anyone but admin and hr members.
func requirePreparer(p ports.Principal) error {
	if !member(p, preparerRoles) {
		return forbidden()
	}
	return nil
}

// draft is a procedure about to be created.
type draft struct {
	kind       kind
	tenantID   string
	employeeID string
	fact       calendar.Date
	office     string
	data       procData
	dedupKey   string
	comment    string
}

// build makes the record of a new draft procedure, its deadline computed on the calendar.
func (s *Service) build(d draft, by string) (ports.ProcedureRecord, error) {
	dl, err := d.kind.Deadline.deadline(s.Calendar, d.fact)
	if err != nil {
		return ports.ProcedureRecord{}, invalid([]ports.FieldError{{Field: "fact_date", Code: "out_of_range",
			MessageEN: "is outside the years the calendar knows", MessageJA: "暦が対応していない年の日付です"}})
	}
	d.data.LegalDate = dl.LegalDate
	now := s.Clock.Now()
	return ports.ProcedureRecord{
		ID: kernel.NewID(), TenantID: d.tenantID, Type: d.kind.Type, EmployeeID: d.employeeID,
		Status: ports.ProcedureDraft, FactDate: d.fact.String(), DueDate: dl.DueDate, Office: d.office,
		DedupKey: d.dedupKey, Data: d.data.encode(),
		History: []ports.ProcedureTransition{{To: ports.ProcedureDraft, By: by, At: now, Comment: d.comment}},
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// create stores a new procedure, its procedure.created event and its audit record, in the caller's
// transaction. A taken dedup key is reported as created == false: the procedure exists already.
func (s *Service) create(ctx context.Context, p ports.Principal, rec ports.ProcedureRecord) (created bool, err error) {
	if err := s.Procedures.CreateProcedure(ctx, rec); err != nil {
		if errors.Is(err, ports.ErrConflict) && rec.DedupKey != "" {
			return false, nil
		}
		return false, err
	}
	if err := s.appendEvent(ctx, ports.EventProcedureCreated, rec, ""); err != nil {
		return false, err
	}
	return true, s.record(ctx, p, "procedure.create", "procedure:"+rec.ID, ports.OutcomeSuccess,
		map[string]string{"type": rec.Type, "employee": rec.EmployeeID, "due_date": rec.DueDate})
}

// CreateProcedure implements ports.Procedures: a draft of any type, for an employee of the register, with
// the snapshot of the employee at the fact date and the caller's overrides.
func (s *Service) CreateProcedure(ctx context.Context, p ports.Principal, in ports.ProcedureInput) (ports.Procedure, error) {
	if err := requirePreparer(p); err != nil {
		return ports.Procedure{}, err
	}
	var errs []ports.FieldError
	k, ok := kindOf(in.Type)
	if !ok {
		errs = append(errs, ports.FieldError{Field: "type", Code: "invalid_type",
			MessageEN: "is not a procedure type", MessageJA: "手続きの種類が正しくありません"})
	}
	fact, more := parseFactDate("fact_date", in.FactDate)
	errs = append(errs, more...)
	office := in.Office
	if office == "" {
		office = k.Office
	} else if !slices.Contains([]string{ports.OfficePension, ports.OfficeHelloWork, ports.OfficeHealthInsuranceSociety}, office) {
		errs = append(errs, ports.FieldError{Field: "office", Code: "invalid_office",
			MessageEN: "must be pension_office, hello_work or health_insurance_society",
			MessageJA: "pension_office・hello_work・health_insurance_society のいずれかを指定してください"})
	}
	if in.EmployeeID == "" {
		errs = append(errs, ports.FieldError{Field: "employee_id", Code: "required", MessageEN: "is required", MessageJA: "必須です"})
	}
	data := procData{Fields: map[string]string{}}
	errs = append(errs, setFields(data.Fields, in.Fields)...)
	if len(errs) > 0 {
		return ports.Procedure{}, invalid(errs)
	}
	emp, err := s.Employees.GetEmployee(ctx, p, in.EmployeeID, fact.String())
	if err != nil {
		return ports.Procedure{}, err
	}
	data.Fields = snapshot(emp)
	setFields(data.Fields, in.Fields)
	rec, err := s.build(draft{kind: k, tenantID: p.TenantID, employeeID: emp.ID, fact: fact, office: office,
		data: data, comment: in.Comment}, p.AccountID)
	if err != nil {
		return ports.Procedure{}, err
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.create(ctx, p, rec)
		return err
	})
	if err != nil {
		return ports.Procedure{}, err
	}
	return view(rec)
}

// GetProcedure implements ports.Procedures.
func (s *Service) GetProcedure(ctx context.Context, p ports.Principal, id string) (ports.Procedure, error) {
	if err := requirePreparer(p); err != nil {
		return ports.Procedure{}, err
	}
	rec, err := s.Procedures.ProcedureByID(ctx, p.TenantID, id)
	if err != nil {
		return ports.Procedure{}, notFoundAs(err)
	}
	return view(rec)
}

// UpdateProcedure implements ports.Procedures: while draft or returned, the snapshot's fields and the fact
// date (which recomputes the deadline) may change; the editor becomes one of its preparers, who may not
// approve it.
func (s *Service) UpdateProcedure(ctx context.Context, p ports.Principal, id string, in ports.ProcedureEdit) (ports.Procedure, error) {
	if err := requirePreparer(p); err != nil {
		return ports.Procedure{}, err
	}
	var fact calendar.Date
	if in.FactDate != "" {
		var errs []ports.FieldError
		if fact, errs = parseFactDate("fact_date", in.FactDate); len(errs) > 0 {
			return ports.Procedure{}, invalid(errs)
		}
	}
	var out ports.ProcedureRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Procedures.UpdateProcedure(ctx, p.TenantID, id, func(r *ports.ProcedureRecord) error {
			if in.IfVersion != 0 && in.IfVersion != r.Version {
				return staleVersion()
			}
			if !slices.Contains(editable, r.Status) {
				return notEditable(r.Status)
			}
			d, err := decodeData(r.Data)
			if err != nil {
				return err
			}
			if errs := setFields(d.Fields, in.Fields); len(errs) > 0 {
				return invalid(errs)
			}
			if !fact.IsZero() {
				k, _ := kindOf(r.Type)
				dl, err := k.Deadline.deadline(s.Calendar, fact)
				if err != nil {
					return invalid([]ports.FieldError{{Field: "fact_date", Code: "out_of_range",
						MessageEN: "is outside the years the calendar knows", MessageJA: "暦が対応していない年の日付です"}})
				}
				r.FactDate, r.DueDate, d.LegalDate = fact.String(), dl.DueDate, dl.LegalDate
			}
			d.addPreparer(p.AccountID)
			r.Data, r.UpdatedAt = d.encode(), s.Clock.Now()
			return nil
		})
		if err != nil {
			return notFoundAs(err)
		}
		return s.record(ctx, p, "procedure.update", "procedure:"+id, ports.OutcomeSuccess,
			map[string]string{"type": out.Type, "fields": fmt.Sprint(slices.Sorted(maps.Keys(in.Fields)))})
	})
	if err != nil {
		return ports.Procedure{}, err
	}
	return view(out)
}

// Act implements ports.Procedures: one step of the workflow, atomic in the store, recorded in the
// procedure's history and the audit log. A refusal by the two-person or role rule is audited as denied.
func (s *Service) Act(ctx context.Context, p ports.Principal, id string, a ports.ProcedureAction) (ports.Procedure, error) {
	if err := requirePreparer(p); err != nil {
		return ports.Procedure{}, err
	}
	if _, ok := workflow[a.Action]; !ok {
		return ports.Procedure{}, invalid([]ports.FieldError{{Field: "action", Code: "invalid_action",
			MessageEN: "must be submit, approve, return, file, complete or cancel",
			MessageJA: "submit・approve・return・file・complete・cancel のいずれかを指定してください"}})
	}
	var arrival string
	if a.Action == ports.ActionFile && s.Filer != nil {
		var err error
		if arrival, err = s.fileElectronically(ctx, p, id, a); err != nil {
			return ports.Procedure{}, err
		}
	}
	rec, err := s.transition(ctx, p, id, a, func(r *ports.ProcedureRecord) {
		if arrival != "" {
			r.ArrivalNumber = arrival
		}
	})
	if errors.Is(err, ports.ErrForbidden) {
		if auditErr := s.record(ctx, p, "procedure."+a.Action, "procedure:"+id, ports.OutcomeDenied,
			map[string]string{"reason": codeOf(err)}); auditErr != nil {
			return ports.Procedure{}, errors.Join(err, auditErr)
		}
	}
	if err != nil {
		return ports.Procedure{}, err
	}
	return view(rec)
}

func codeOf(err error) string {
	if e, ok := ports.AsError(err); ok {
		return e.Code
	}
	return ""
}

// transition applies action a of actor p to the procedure atomically: the store locks it, the workflow
// checks the status, roles and two-person rule on what is stored, and the status, history, the
// procedure.status_changed event and the audit record are written together. then may add to the record (e.g. the arrival number).
func (s *Service) transition(ctx context.Context, p ports.Principal, id string, a ports.ProcedureAction, then func(*ports.ProcedureRecord)) (ports.ProcedureRecord, error) {
	t := workflow[a.Action]
	var out ports.ProcedureRecord
	var from string
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Procedures.UpdateProcedure(ctx, p.TenantID, id, func(r *ports.ProcedureRecord) error {
			if a.IfVersion != 0 && a.IfVersion != r.Version {
				return staleVersion()
			}
			d, err := decodeData(r.Data)
			if err != nil {
				return err
			}
			if err := t.check(a.Action, r.Status, p, d.Preparers, a.Comment); err != nil {
				return err
			}
			switch a.Action {
			case ports.ActionSubmit:
				k, _ := kindOf(r.Type)
				if errs := missingFields(k, d.Fields); len(errs) > 0 {
					return ports.Invalid("incomplete_procedure", "Fill in every field the filing needs before submitting it.",
						"提出に必要な項目をすべて入力してから申請してください。", errs...)
				}
				d.addPreparer(p.AccountID)
				r.PreparedBy, r.ApprovedBy = p.AccountID, ""
			case ports.ActionApprove:
				r.ApprovedBy = p.AccountID
			}
			now := s.Clock.Now()
			from = r.Status
			r.History = append(r.History, ports.ProcedureTransition{From: r.Status, To: t.to, By: p.AccountID, At: now, Comment: a.Comment})
			r.Status, r.Data, r.UpdatedAt = t.to, d.encode(), now
			if then != nil {
				then(r)
			}
			return nil
		})
		if err != nil {
			return notFoundAs(err)
		}
		if err := s.appendEvent(ctx, ports.EventProcedureStatusChanged, out, from); err != nil {
			return err
		}
		return s.record(ctx, p, "procedure."+a.Action, "procedure:"+id, ports.OutcomeSuccess,
			map[string]string{"type": out.Type, "from": from, "to": out.Status})
	})
	return out, err
}
