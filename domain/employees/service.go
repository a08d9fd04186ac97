// Package employees is the employee register (従業員台帳): employees with every field Japanese filings need,
// their effective-dated history, dependents, departments, CSV import and export, and the protection of My
// Number. It implements ports.Employees and reaches the world only through driven ports.
//
// The model in one paragraph: an employee is the fold of its changes (ports.EmployeeChangeRecord), each a
// patch of field values that takes effect on a day (適用日); the state on day D is every change up to D
// applied in (EffectiveOn, Seq) order. The stored record is that fold as of today, with the columns the
// register filters on, so lists never replay history. Sensitive values (My Number, insurance numbers, the
// bank account) are sealed by the Cipher inside every patch and the record, bound to their tenant, employee
// and field. The rules for each field are data: the catalogues in fields.go.
//
// Not yet: tenant-defined employment types (the seven standard codes only), a bulk re-encryption job after a
// key rotation (old keys keep opening old values; new writes use the newest key).
package employees

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// Deps are the driven ports the module needs.
type Deps struct {
	Employees   ports.EmployeeStore
	Departments ports.DepartmentStore
	// Accounts is read to check that a record's account_id names an account of its tenant.
	Accounts ports.AccountStore
	Outbox   ports.Outbox
	Jobs     ports.JobStore // import jobs; may be nil when no caller starts them
	Tx       ports.Transactor
	Cipher   ports.Cipher
	Audit    ports.AuditLog
	Clock    ports.Clock
}

// Service implements ports.Employees.
type Service struct {
	Deps
}

var _ ports.Employees = (*Service)(nil)

// New builds the employee register.
func New(deps Deps) (*Service, error) {
	if deps.Employees == nil || deps.Departments == nil || deps.Accounts == nil || deps.Outbox == nil || deps.Tx == nil ||
		deps.Cipher == nil || deps.Audit == nil || deps.Clock == nil {
		return nil, errors.New("employees: every dependency but Jobs is required")
	}
	return &Service{Deps: deps}, nil
}

// today is the current day in Asia/Tokyo, where the register's dates live.
func (s *Service) today() string {
	return s.Clock.Now().In(kernel.Tokyo).Format(time.DateOnly)
}

// record appends an audit event. The audit log is part of the control, so a failure to record fails the
// operation that wanted it recorded.
func (s *Service) record(ctx context.Context, e ports.AuditEvent) error {
	e.At = s.Clock.Now()
	if e.Outcome == "" {
		e.Outcome = ports.OutcomeSuccess
	}
	if err := s.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("employees: audit: %w", err)
	}
	return nil
}

// auditEvent starts an audit event for an action of principal p.
func auditEvent(p ports.Principal, action, target string, detail map[string]string) ports.AuditEvent {
	return ports.AuditEvent{TenantID: p.TenantID, ActorID: p.AccountID, ActorKind: p.Kind, Action: action,
		Target: target, IP: p.Source.IP, UserAgent: p.Source.UserAgent, Detail: detail}
}

// newEvent builds an outbox event; payload must never hold a sensitive value.
func (s *Service) newEvent(tenantID, typ, subject string, payload map[string]any) ports.OutboxEvent {
	b, err := json.Marshal(payload)
	if err != nil {
		panic("employees: event payload of plain values cannot fail to encode: " + err.Error())
	}
	return ports.OutboxEvent{ID: kernel.NewID(), TenantID: tenantID, Type: typ, SubjectID: subject, Payload: b,
		OccurredAt: s.Clock.Now()}
}

// appendEvents writes events to the outbox. Those of a write made with skip_webhooks=true (a partner writing
// back what a webhook told it) are marked so that webhooks pass them by; other consumers still see them.
func (s *Service) appendEvents(ctx context.Context, evs ...ports.OutboxEvent) error {
	if ports.SkipWebhooks(ctx) {
		for i := range evs {
			var m map[string]any
			if err := json.Unmarshal(evs[i].Payload, &m); err != nil {
				return fmt.Errorf("employees: event payload: %w", err)
			}
			m[ports.OutboxSkipWebhooks] = true
			evs[i].Payload, _ = json.Marshal(m)
		}
	}
	return s.Outbox.AppendEvents(ctx, evs...)
}

// Event types written to the outbox.
const (
	EventHired            = "employee.hired"
	EventChanged          = "employee.changed"
	EventSeparated        = "employee.separated"
	EventDeleted          = "employee.deleted"
	EventImported         = "employees.imported"
	EventDependentAdded   = "dependent.added"
	EventDependentRemoved = "dependent.removed"
)

// sealer seals and opens the sensitive values of one employee. The additional data is
// "tenant:employee:field", so a ciphertext copied to another field, employee or tenant does not open.
type sealer struct {
	cipher             ports.Cipher
	tenantID, employee string
}

func (s *Service) sealer(tenantID, employeeID string) sealer {
	return sealer{cipher: s.Cipher, tenantID: tenantID, employee: employeeID}
}

func (z sealer) ad(field string) []byte { return []byte(z.tenantID + ":" + z.employee + ":" + field) }

func (z sealer) seal(ctx context.Context, field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	b, err := z.cipher.Seal(ctx, []byte(plain), z.ad(field))
	if err != nil {
		return "", fmt.Errorf("employees: sealing %s: %w", field, err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func (z sealer) open(ctx context.Context, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("employees: sealed %s is not base64: %w", field, err)
	}
	plain, err := z.cipher.Open(ctx, b, z.ad(field))
	if err != nil {
		return "", fmt.Errorf("employees: opening %s: %w", field, err)
	}
	return string(plain), nil
}

// dependentField names a dependent's field where a whole-employee name is needed (sealing, the trail).
func dependentField(id, field string) string { return fDependentPrefix + id + "." + field }

// openState returns s with every sensitive value opened.
func (z sealer) openState(ctx context.Context, s state) (state, error) {
	return z.transform(ctx, s, z.open)
}

func (z sealer) transform(ctx context.Context, s state, fn func(context.Context, string, string) (string, error)) (state, error) {
	out := s.clone()
	if err := z.transformValues(ctx, out.values, employeeFields, "", fn); err != nil {
		return state{}, err
	}
	for _, d := range out.deps {
		if err := z.transformValues(ctx, d.values, dependentFields, fDependentPrefix+d.ID+".", fn); err != nil {
			return state{}, err
		}
	}
	return out, nil
}

// Errors of the module.

func forbidden() error {
	return ports.NewError(ports.ErrForbidden, "forbidden",
		"You are not allowed to do this.", "この操作を行う権限がありません。")
}

func employeeNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The employee was not found.", "従業員が見つかりません。")
}

func invalid(fields []ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}

func staleVersion() error {
	return ports.NewError(ports.ErrPreconditionFailed, "stale_version",
		"The record was changed by someone else; reload it and try again.",
		"他の人が先に更新しました。再読み込みしてからやり直してください。")
}

// numberTaken names the conflict a store reports on writing an employee (the module's own errors pass).
func numberTaken(err error) error {
	if _, ours := ports.AsError(err); !ours && errors.Is(err, ports.ErrConflict) {
		return ports.NewError(ports.ErrConflict, "employee_number_taken",
			"This employee number is already in use.", "この社員番号は既に使われています。")
	}
	return err
}

// notFoundAs turns a store's ErrNotFound into the module's own error (the store's text never reaches a
// client); the module's own errors pass.
func notFoundAs(err error) error {
	if _, ours := ports.AsError(err); !ours && errors.Is(err, ports.ErrNotFound) {
		return employeeNotFound()
	}
	return err
}
