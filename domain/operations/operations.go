// Package operations is the two-person rule (四つの目) for the provider's privileged actions: tenant
// suspension or deletion, contract option changes, key rotation, restore, granting operator rights. One
// operator requests an action with its parameters and a reason; a different operator approves it; then it
// executes through the handler the integrator registered for its kind. The request, the decision and the
// execution are kept together as one work record (ports.OperationRequest), and each step is audited.
//
// Every transition is one atomic update of the record (ports.OperationRequestStore.UpdateOperationRequest),
// so of two operators approving at once exactly one succeeds, and of two executions exactly one claims the
// request (approved → executing) and runs the action. Requests expire RequestLifetime after they are made.
//
// Some actions cannot run inside the service: a restore replaces the database the service is running on.
// Their kinds are registered as OnServer: approval leaves the request approved, and the command on the
// server (`roumu restore --request ID`) claims it with RunOnServer, runs the action and completes the work
// record. Their approval expires with the request, so that it is used for the situation it was given for.
//
// Key rotation (keys.go) is the action of OpKeyRotation: a new key, then a background job that seals every
// stored value again under it and retires the old keys.
package operations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// RequestLifetime is how long a request waits for a decision. A day lets a second operator be found on any
// working day, while a request cannot linger to be approved after the situation that justified it changed;
// a request that expired is simply made again.
const RequestLifetime = 24 * time.Hour

// Limits on what a request carries, in characters.
const (
	maxParams     = 32
	maxKeyLen     = 64
	maxValueLen   = 1000
	maxReasonLen  = 1000
	maxCommentLen = 1000
	maxErrorLen   = 1000
)

// Deps are what the module needs. Handlers holds, for each operation kind that may be requested, the
// action that executes it (see ports.OperationHandler); OnServer holds the kinds a command on the server
// executes (see RunOnServer), each with the check of its parameters when it is requested. A kind in
// neither cannot be requested.
type Deps struct {
	Requests ports.OperationRequestStore
	Tx       ports.Transactor
	Audit    ports.AuditLog
	Clock    ports.Clock
	Handlers map[string]ports.OperationHandler
	OnServer map[string]func(ctx context.Context, params map[string]string) error
}

// Service implements ports.Operations.
type Service struct {
	Deps
}

var _ ports.Operations = (*Service)(nil)

// New builds the two-person rule service.
func New(deps Deps) (*Service, error) {
	if deps.Requests == nil || deps.Tx == nil || deps.Audit == nil || deps.Clock == nil {
		return nil, errors.New("operations: Requests, Tx, Audit and Clock are required")
	}
	for kind, h := range deps.Handlers {
		if kind == "" || h.Execute == nil {
			return nil, fmt.Errorf("operations: the handler of %q has no Execute", kind)
		}
	}
	for kind, check := range deps.OnServer {
		if _, both := deps.Handlers[kind]; both || kind == "" || check == nil {
			return nil, fmt.Errorf("operations: the server-side operation %q needs a check and no handler", kind)
		}
	}
	deps.Handlers, deps.OnServer = maps.Clone(deps.Handlers), maps.Clone(deps.OnServer)
	return &Service{Deps: deps}, nil
}

// onServer reports whether kind is executed by a command on the server.
func (s *Service) onServer(kind string) bool {
	_, ok := s.OnServer[kind]
	return ok
}

// Request implements ports.Operations.
func (s *Service) Request(ctx context.Context, p ports.Principal, cmd ports.RequestOperationCommand) (ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.request"); err != nil {
		return ports.OperationRequest{}, err
	}
	var fields []ports.FieldError
	check := s.Handlers[cmd.Kind].Check
	_, known := s.Handlers[cmd.Kind]
	if s.onServer(cmd.Kind) {
		check, known = s.OnServer[cmd.Kind], true
	}
	if !known {
		fields = append(fields, ports.FieldError{Field: "kind", Code: "unknown_operation",
			MessageEN: "is not an operation that can be requested", MessageJA: "申請できる操作ではありません"})
	}
	fields = append(fields, checkParams(cmd.Params)...)
	fields = append(fields, checkText("reason", cmd.Reason, maxReasonLen, true)...)
	if len(fields) > 0 {
		return ports.OperationRequest{}, invalid(fields)
	}
	if check != nil {
		if err := check(ctx, maps.Clone(cmd.Params)); err != nil {
			return ports.OperationRequest{}, err
		}
	}
	now := s.Clock.Now()
	r := ports.OperationRequest{ID: kernel.NewID(), Kind: cmd.Kind, Params: maps.Clone(cmd.Params), Reason: cmd.Reason,
		Status: ports.OperationPending, RequestedBy: p.AccountID, RequestedByLogin: p.Login, RequestedAt: now,
		ExpiresAt: now.Add(RequestLifetime), UpdatedAt: now}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Requests.CreateOperationRequest(ctx, r); err != nil {
			return err
		}
		return s.record(ctx, event(p, "operation.request", r))
	})
	if err != nil {
		return ports.OperationRequest{}, err
	}
	return r, nil
}

// Approve implements ports.Operations.
func (s *Service) Approve(ctx context.Context, p ports.Principal, id, comment string) (ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.approve"); err != nil {
		return ports.OperationRequest{}, err
	}
	approved, err := s.decide(ctx, p, id, comment, "operation.approve", func(r *ports.OperationRequest) error {
		if r.RequestedBy == p.AccountID {
			return errSelfApproval
		}
		r.Status = ports.OperationApproved
		return nil
	})
	if errors.Is(err, errSelfApproval) {
		return ports.OperationRequest{}, s.refuseSelfApproval(ctx, p, id)
	}
	if err != nil || s.onServer(approved.Kind) {
		return approved, err
	}
	out, err := s.execute(ctx, p, id)
	if e, ok := ports.AsError(err); ok && e.Code == codeNotApproved {
		// A concurrent Execute claimed the request between the approval and this run: it runs there.
		r, err := s.Requests.OperationRequest(ctx, id)
		return r, notFoundAs(err)
	}
	return out, err
}

// Reject implements ports.Operations.
func (s *Service) Reject(ctx context.Context, p ports.Principal, id, comment string) (ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.reject"); err != nil {
		return ports.OperationRequest{}, err
	}
	return s.decide(ctx, p, id, comment, "operation.reject", func(r *ports.OperationRequest) error {
		r.Status = ports.OperationRejected
		return nil
	})
}

// errSelfApproval stops the update of a request its own requester tried to approve.
var errSelfApproval = errors.New("operations: self-approval")

// decide moves a pending request to the decision that set makes, recording who decided, atomically with its
// audit entry. A request past its expiry is stored expired instead, and the caller told so.
func (s *Service) decide(ctx context.Context, p ports.Principal, id, comment, action string, set func(*ports.OperationRequest) error) (ports.OperationRequest, error) {
	if fields := checkText("comment", comment, maxCommentLen, false); len(fields) > 0 {
		return ports.OperationRequest{}, invalid(fields)
	}
	now := s.Clock.Now()
	var out ports.OperationRequest
	expired := false
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Requests.UpdateOperationRequest(ctx, id, func(r *ports.OperationRequest) error {
			if r.Status != ports.OperationPending {
				return notPending(s.effective(*r, now).Status)
			}
			if expired = expireIfDue(r, now); expired {
				return nil
			}
			if err := set(r); err != nil {
				return err
			}
			r.DecidedBy, r.DecidedByLogin, r.DecidedAt, r.DecisionComment, r.UpdatedAt = p.AccountID, p.Login, now, comment, now
			return nil
		})
		if err != nil {
			return notFoundAs(err)
		}
		if expired {
			return s.record(ctx, systemEvent("operation.expire", out))
		}
		return s.record(ctx, event(p, action, out))
	})
	if err != nil {
		return ports.OperationRequest{}, err
	}
	if expired {
		return ports.OperationRequest{}, errExpired()
	}
	return out, nil
}

func errExpired() error {
	return ports.NewError(ports.ErrConflict, "operation_expired",
		"This request has expired: make a new request.", "この申請は有効期限が切れています。改めて申請してください。")
}

// Execute implements ports.Operations.
func (s *Service) Execute(ctx context.Context, p ports.Principal, id string) (ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.execute"); err != nil {
		return ports.OperationRequest{}, err
	}
	r, err := s.Requests.OperationRequest(ctx, id)
	if err != nil {
		return ports.OperationRequest{}, notFoundAs(err)
	}
	if s.onServer(r.Kind) {
		return ports.OperationRequest{}, ports.NewError(ports.ErrConflict, "runs_on_server",
			"This operation is executed on the server with the command that names the request.",
			"この操作はサーバー上で申請番号を指定したコマンドで実行します。")
	}
	return s.execute(ctx, p, id)
}

// codeNotApproved refuses to execute a request that is not approved or already ran.
const codeNotApproved = "not_approved"

// execute claims an approved request (approved → executing, so that it runs at most once), then runs its
// handler in a transaction that also marks it executed. When the handler fails, its writes are rolled back
// and the request is marked failed with the reason.
func (s *Service) execute(ctx context.Context, p ports.Principal, id string) (ports.OperationRequest, error) {
	claimed, err := s.Requests.UpdateOperationRequest(ctx, id, func(r *ports.OperationRequest) error {
		if r.Status != ports.OperationApproved {
			return ports.NewError(ports.ErrConflict, codeNotApproved,
				"Only an approved request that has not run can be executed.", "承認済みで未実行の申請のみ実行できます。")
		}
		now := s.Clock.Now()
		r.Status, r.ExecutedBy, r.ExecutedByLogin, r.StartedAt, r.UpdatedAt = ports.OperationExecuting, p.AccountID, p.Login, now, now
		return nil
	})
	if err != nil {
		return ports.OperationRequest{}, notFoundAs(err)
	}
	var out ports.OperationRequest
	runErr := s.Tx.InTx(ctx, func(ctx context.Context) error {
		handler, ok := s.Handlers[claimed.Kind]
		if !ok {
			return fmt.Errorf("no handler is registered for %q", claimed.Kind)
		}
		result, err := handler.Execute(ctx, claimed)
		if err != nil {
			return err
		}
		out, err = s.finish(ctx, id, func(r *ports.OperationRequest) { r.Status, r.Result = ports.OperationExecuted, result })
		if err != nil {
			return err
		}
		return s.record(ctx, event(p, "operation.execute", out))
	})
	if runErr == nil {
		return out, nil
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.finish(ctx, id, func(r *ports.OperationRequest) { r.Status, r.Error = ports.OperationFailed, errorText(runErr) })
		if err != nil {
			return err
		}
		e := event(p, "operation.execute", out)
		e.Outcome = ports.OutcomeFailure
		return s.record(ctx, e)
	})
	if err != nil {
		return ports.OperationRequest{}, fmt.Errorf("operations: recording the failure of %s (%v): %w", id, runErr, err)
	}
	return out, nil
}

// finish ends the execution of a request this call claimed.
func (s *Service) finish(ctx context.Context, id string, set func(*ports.OperationRequest)) (ports.OperationRequest, error) {
	return s.Requests.UpdateOperationRequest(ctx, id, func(r *ports.OperationRequest) error {
		if r.Status != ports.OperationExecuting {
			return fmt.Errorf("operations: %s is %s, not executing", id, r.Status)
		}
		now := s.Clock.Now()
		set(r)
		r.FinishedAt, r.UpdatedAt = now, now
		return nil
	})
}

// Get implements ports.Operations.
func (s *Service) Get(ctx context.Context, p ports.Principal, id string) (ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.read"); err != nil {
		return ports.OperationRequest{}, err
	}
	r, err := s.Requests.OperationRequest(ctx, id)
	if err != nil {
		return ports.OperationRequest{}, notFoundAs(err)
	}
	return s.effective(r, s.Clock.Now()), nil
}

// List implements ports.Operations.
func (s *Service) List(ctx context.Context, p ports.Principal, f ports.OperationFilter) ([]ports.OperationRequest, error) {
	if err := s.requireOperator(ctx, p, "operation.read"); err != nil {
		return nil, err
	}
	recs, err := s.Requests.ListOperationRequests(ctx, f)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	out := make([]ports.OperationRequest, 0, len(recs))
	for _, r := range recs {
		out = append(out, s.effective(r, now))
	}
	return out, nil
}

// ExpireDue implements ports.Operations: pending requests, and approved ones of the server-side kinds,
// past their expiry are stored expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	pending, err := s.Requests.ListOperationRequests(ctx, ports.OperationFilter{Status: ports.OperationPending})
	if err != nil {
		return 0, err
	}
	approved, err := s.Requests.ListOperationRequests(ctx, ports.OperationFilter{Status: ports.OperationApproved})
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	n := 0
	for _, r := range append(pending, approved...) {
		if s.effective(r, now).Status != ports.OperationExpired {
			continue
		}
		expired := false
		err := s.Tx.InTx(ctx, func(ctx context.Context) error {
			out, err := s.Requests.UpdateOperationRequest(ctx, r.ID, func(r *ports.OperationRequest) error {
				expired = s.expiring(*r) && expireIfDue(r, now)
				return nil
			})
			if err != nil || !expired {
				return err
			}
			return s.record(ctx, systemEvent("operation.expire", out))
		})
		if err != nil {
			return n, err
		}
		if expired {
			n++
		}
	}
	return n, nil
}

// expireIfDue marks a request expired when now is past its expiry, and reports whether it did. The decision
// of a pending request is its expiry; an approved one keeps its approval on record.
func expireIfDue(r *ports.OperationRequest, now time.Time) bool {
	if now.Before(r.ExpiresAt) {
		return false
	}
	if r.Status == ports.OperationPending {
		r.DecidedAt = now
	}
	r.Status, r.UpdatedAt = ports.OperationExpired, now
	return true
}

// expiring reports whether r is in a status that expires: pending, or approved for a command on the server.
func (s *Service) expiring(r ports.OperationRequest) bool {
	return r.Status == ports.OperationPending || r.Status == ports.OperationApproved && s.onServer(r.Kind)
}

// effective returns r with the status it has at now: a request that expires, past its expiry, is expired.
func (s *Service) effective(r ports.OperationRequest, now time.Time) ports.OperationRequest {
	if s.expiring(r) && !now.Before(r.ExpiresAt) {
		r.Status = ports.OperationExpired
	}
	return r
}

// requireOperator lets through only a fully logged-in provider operator; anyone else is refused, audited.
func (s *Service) requireOperator(ctx context.Context, p ports.Principal, action string) error {
	return requireOperator(ctx, s.Audit, s.Clock, p, action)
}

func requireOperator(ctx context.Context, log ports.AuditLog, clock ports.Clock, p ports.Principal, action string) error {
	if p.IsOperator() {
		return nil
	}
	if err := record(ctx, log, clock, denied(p, action, "")); err != nil {
		return err
	}
	return ports.NewError(ports.ErrForbidden, "forbidden",
		"Only provider operators may do this.", "この操作は運営事業者のオペレーターのみ行えます。")
}

// refuseSelfApproval audits an operator's attempt to approve their own request and returns the refusal.
func (s *Service) refuseSelfApproval(ctx context.Context, p ports.Principal, id string) error {
	if err := s.record(ctx, denied(p, "operation.approve", id)); err != nil {
		return err
	}
	return ports.NewError(ports.ErrForbidden, "self_approval",
		"You cannot approve your own request: another operator must approve it.",
		"自分が申請した操作は承認できません。別のオペレーターの承認が必要です。")
}

// record appends an audit event. The audit log is part of the control, so a failure to record fails the
// operation that wanted it recorded.
func (s *Service) record(ctx context.Context, e ports.AuditEvent) error {
	return record(ctx, s.Audit, s.Clock, e)
}

func record(ctx context.Context, log ports.AuditLog, clock ports.Clock, e ports.AuditEvent) error {
	e.At = clock.Now()
	if e.Outcome == "" {
		e.Outcome = ports.OutcomeSuccess
	}
	if err := log.Record(ctx, e); err != nil {
		return fmt.Errorf("operations: audit: %w", err)
	}
	return nil
}

// event is the audit entry of an operator's step on r. It names the kind, the status reached and a digest
// of the parameters, so that the work record can be checked against the hash-chained log without the log
// holding the parameters themselves.
func event(p ports.Principal, action string, r ports.OperationRequest) ports.AuditEvent {
	return ports.AuditEvent{TenantID: r.Params["tenant_id"], ActorID: p.AccountID, ActorKind: p.Kind, Action: action,
		Target: "operation:" + r.ID, IP: p.Source.IP, UserAgent: p.Source.UserAgent,
		Detail: map[string]string{"kind": r.Kind, "status": r.Status, "params_sha256": ParamsDigest(r.Params)}}
}

// systemEvent is the audit entry of a step the service takes on its own (expiry).
func systemEvent(action string, r ports.OperationRequest) ports.AuditEvent {
	return event(ports.Principal{Kind: "system"}, action, r)
}

// denied is the audit entry of a refused attempt.
func denied(p ports.Principal, action, id string) ports.AuditEvent {
	e := ports.AuditEvent{TenantID: p.TenantID, ActorID: p.AccountID, ActorKind: p.Kind, Action: action,
		IP: p.Source.IP, UserAgent: p.Source.UserAgent, Outcome: ports.OutcomeDenied}
	if id != "" {
		e.Target = "operation:" + id
	}
	return e
}

// ParamsDigest returns the hex SHA-256 of the parameters' canonical JSON (keys sorted), as the audit entries
// carry it.
func ParamsDigest(params map[string]string) string {
	if params == nil {
		params = map[string]string{}
	}
	b, err := json.Marshal(params) // maps marshal with sorted keys
	if err != nil {
		panic("operations: marshalling a map of strings: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkParams checks the parameters: a bounded number of keys of lower-case ASCII, digits, "_" and ".", and
// values of bounded length without control characters.
func checkParams(params map[string]string) []ports.FieldError {
	if len(params) > maxParams {
		return []ports.FieldError{{Field: "params", Code: "too_many",
			MessageEN: fmt.Sprintf("at most %d parameters", maxParams), MessageJA: fmt.Sprintf("パラメーターは%d個までです", maxParams)}}
	}
	var fields []ports.FieldError
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if !validKey(k) {
			fields = append(fields, ports.FieldError{Field: "params", Code: "invalid_key",
				MessageEN: fmt.Sprintf("parameter name %q must be 1 to %d characters of a-z, 0-9, _ and . starting with a letter", k, maxKeyLen),
				MessageJA: fmt.Sprintf("パラメーター名 %q は英小文字で始まる%d文字以内の a-z、0-9、_、. で指定してください", k, maxKeyLen)})
			continue
		}
		fields = append(fields, checkText("params."+k, params[k], maxValueLen, false)...)
	}
	return fields
}

func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkText checks a free text: required or not, at most maxLen characters, no control characters but
// newlines and tabs.
func checkText(field, value string, maxLen int, needed bool) []ports.FieldError {
	n := utf8.RuneCountInString(value)
	switch {
	case needed && n == 0:
		return []ports.FieldError{{Field: field, Code: "required", MessageEN: "is required", MessageJA: "必須項目です"}}
	case n > maxLen:
		return []ports.FieldError{{Field: field, Code: "length",
			MessageEN: fmt.Sprintf("must be at most %d characters", maxLen), MessageJA: fmt.Sprintf("%d文字以内で入力してください", maxLen)}}
	}
	for _, r := range value {
		if unicode.IsControl(r) && r != '\n' && r != '\t' || r == utf8.RuneError {
			return []ports.FieldError{{Field: field, Code: "control_character",
				MessageEN: "must not contain control characters", MessageJA: "制御文字は使用できません"}}
		}
	}
	return nil
}

// errorText is what the work record keeps of a failed execution: the English message of a boundary error,
// else the error's text, cut to a bounded length.
func errorText(err error) string {
	text := err.Error()
	if e, ok := ports.AsError(err); ok {
		text = e.MessageEN
	}
	if utf8.RuneCountInString(text) > maxErrorLen {
		text = string([]rune(text)[:maxErrorLen])
	}
	return text
}

func notPending(status string) error {
	return ports.NewError(ports.ErrConflict, "not_pending",
		"This request has already been decided ("+status+").", "この申請は既に処理されています（"+status+"）。")
}

// notFoundAs turns the store's ErrNotFound into the module's not-found error and passes other errors on.
func notFoundAs(err error) error {
	if errors.Is(err, ports.ErrNotFound) {
		return ports.NewError(ports.ErrNotFound, "not_found", "The request was not found.", "申請が見つかりません。")
	}
	return err
}

func invalid(fields []ports.FieldError) error {
	return ports.Invalid("validation_failed", "Some fields are invalid.", "入力内容に誤りがあります。", fields...)
}
