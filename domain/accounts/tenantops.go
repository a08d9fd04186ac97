package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// MaxSeats bounds the seats a contract may name (0 means unlimited).
const MaxSeats = 1_000_000

// OperationHandlers returns the accounts module's actions under the two-person rule, for registration with
// the operations module: suspending, reactivating and deleting a tenant, changing its contract options and
// granting operator rights. Each Check refuses, when the request is made, parameters the action could never
// run with (an unknown tenant, a bad option value: 422 with one field error per parameter); each Execute
// checks again in its atomic update, since the tenant may have changed while the request waited, and writes
// with the ctx it receives, so it joins the transaction that marks the request executed.
//
// Parameters: every kind but OpGrantOperator takes "tenant_id". OpContractOptions takes any of
// "ip_restriction" and "mfa_required" ("true" or "false"), "seats" (0 = unlimited) and "allowed_cidrs" (the
// allow-list to start with, ranges separated by commas or newlines; switching IP restriction on needs a
// non-empty list, or the tenant's admins would be locked out with nobody able to let them in).
// OpGrantOperator takes "login" and "name".
func (s *Service) OperationHandlers() map[string]ports.OperationHandler {
	return map[string]ports.OperationHandler{
		ports.OpTenantSuspend:    s.statusHandler(ports.TenantSuspended, ports.TenantActive),
		ports.OpTenantReactivate: s.statusHandler(ports.TenantActive, ports.TenantSuspended),
		ports.OpTenantDelete:     s.statusHandler(ports.TenantDeleted, ports.TenantActive, ports.TenantSuspended),
		ports.OpContractOptions: {
			Check: func(ctx context.Context, params map[string]string) error {
				_, err := s.changeContract(ctx, params, s.Tenants.TenantByID)
				return err
			},
			Execute: func(ctx context.Context, req ports.OperationRequest) (string, error) {
				return s.executeContractChange(ctx, req)
			},
		},
		ports.OpGrantOperator: {
			Check: func(ctx context.Context, params map[string]string) error {
				_, err := s.checkGrant(ctx, params)
				return err
			},
			Execute: s.grantOperator,
		},
	}
}

// tenantLoader reads a tenant: a plain read in Check, a locking update in Execute.
type tenantLoader func(context.Context, string) (ports.TenantRecord, error)

// operationTenant loads the tenant a request names; an unknown or deleted tenant is a field error, reported
// with the fields already found wrong.
func operationTenant(ctx context.Context, params map[string]string, fields []ports.FieldError, load tenantLoader) (ports.TenantRecord, error) {
	var t ports.TenantRecord
	var err error
	if id := params["tenant_id"]; id == "" {
		fields = append(fields, kernel.ParamError("tenant_id", "required", "is required", "必須項目です"))
	} else if t, err = load(ctx, id); errors.Is(err, ports.ErrNotFound) || err == nil && t.Status == ports.TenantDeleted {
		fields = append(fields, kernel.ParamError("tenant_id", "unknown_tenant", "names no company", "該当する企業がありません"))
	} else if err != nil {
		return t, err
	}
	if len(fields) > 0 {
		return t, invalid(fields)
	}
	return t, nil
}

// opEvent is the audit entry of a change an approved request made: the executing operator acts, and the
// entry names the work record and both people of the two-person rule.
func opEvent(req ports.OperationRequest, action, target string, detail map[string]string) ports.AuditEvent {
	return ports.AuditEvent{TenantID: req.Params["tenant_id"], ActorID: req.ExecutedBy, ActorKind: ports.KindOperator,
		Action: action, Target: target, Detail: mergeDetail(detail,
			map[string]string{"operation": req.ID, "requested_by": req.RequestedBy, "approved_by": req.DecidedBy})}
}

// statusHandler moves a tenant to status from one of the statuses in from. Suspension and deletion also end
// every session of the tenant's members (Login and Authenticate refuse them anyway; ending the sessions keeps
// a later reactivation from reviving them).
func (s *Service) statusHandler(to string, from ...string) ports.OperationHandler {
	wrongStatus := func(t ports.TenantRecord) error {
		return ports.NewError(ports.ErrConflict, "tenant_status",
			fmt.Sprintf("The company %s is %s: it cannot become %s.", t.Code, t.Status, to),
			fmt.Sprintf("企業 %s の状態（%s）からは %s にできません。", t.Code, t.Status, to))
	}
	check := func(ctx context.Context, params map[string]string, load tenantLoader) (ports.TenantRecord, error) {
		t, err := operationTenant(ctx, params, kernel.UnknownParams(params, "tenant_id"), load)
		if err == nil && !slices.Contains(from, t.Status) {
			err = wrongStatus(t)
		}
		return t, err
	}
	return ports.OperationHandler{
		Check: func(ctx context.Context, params map[string]string) error {
			_, err := check(ctx, params, s.Tenants.TenantByID)
			return err
		},
		Execute: func(ctx context.Context, req ports.OperationRequest) (string, error) {
			// The locking update changes the status only from an allowed one; check then judges the status
			// found, and its refusal rolls the transaction back.
			t, err := check(ctx, req.Params, func(ctx context.Context, id string) (ports.TenantRecord, error) {
				var found ports.TenantRecord
				_, err := s.Tenants.UpdateTenant(ctx, id, func(t *ports.TenantRecord) error {
					found = *t
					if slices.Contains(from, t.Status) {
						t.Status, t.UpdatedAt = to, s.Clock.Now()
					}
					return nil
				})
				return found, err
			})
			if err != nil {
				return "", err
			}
			ended := 0
			if to != ports.TenantActive {
				if ended, err = s.endTenantSessions(ctx, t.ID); err != nil {
					return "", err
				}
			}
			e := opEvent(req, "tenant.status", "tenant:"+t.ID, map[string]string{"status": to, "sessions_ended": strconv.Itoa(ended)})
			if err := s.record(ctx, e); err != nil {
				return "", err
			}
			return fmt.Sprintf("company %s is %s; %d sessions ended", t.Code, to, ended), nil
		},
	}
}

// endTenantSessions ends every session of the tenant's members and returns how many.
func (s *Service) endTenantSessions(ctx context.Context, tenantID string) (int, error) {
	accts, err := s.Accounts.ListAccounts(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, a := range accts {
		n, err := s.Sessions.DeleteAccountSessions(ctx, a.ID, "")
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// contractChange is what an OpContractOptions request changes; nil fields stay as they are.
type contractChange struct {
	ipRestriction, mfaRequired *bool
	seats                      *int
	allowedCIDRs               []string
}

func parseBoolParam(params map[string]string, key string, fields *[]ports.FieldError) *bool {
	v, ok := params[key]
	if !ok {
		return nil
	}
	if v != "true" && v != "false" {
		*fields = append(*fields, kernel.ParamError(key, "boolean", `must be "true" or "false"`, `"true" または "false" を指定してください`))
		return nil
	}
	b := v == "true"
	return &b
}

// parseContractChange reads the options of a request.
func parseContractChange(params map[string]string) (contractChange, []ports.FieldError) {
	fields := kernel.UnknownParams(params, "tenant_id", "ip_restriction", "mfa_required", "seats", "allowed_cidrs")
	var c contractChange
	c.ipRestriction = parseBoolParam(params, "ip_restriction", &fields)
	c.mfaRequired = parseBoolParam(params, "mfa_required", &fields)
	if v, ok := params["seats"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxSeats {
			fields = append(fields, kernel.ParamError("seats", "seats",
				fmt.Sprintf("must be a whole number from 0 (unlimited) to %d", MaxSeats),
				fmt.Sprintf("0（無制限）から%dまでの整数を指定してください", MaxSeats)))
		} else {
			c.seats = &n
		}
	}
	if v, ok := params["allowed_cidrs"]; ok {
		l, errs := ParseAllowList(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }))
		for _, e := range errs {
			e.Field = "params." + e.Field
			fields = append(fields, e)
		}
		c.allowedCIDRs = l.Strings()
	}
	if c.ipRestriction == nil && c.mfaRequired == nil && c.seats == nil && c.allowedCIDRs == nil && len(fields) == 0 {
		fields = append(fields, ports.FieldError{Field: "params", Code: "nothing_to_change",
			MessageEN: "name at least one option to change", MessageJA: "変更するオプションを1つ以上指定してください"})
	}
	return c, fields
}

// apply changes t and refuses an IP restriction without any allowed range.
func (c contractChange) apply(t *ports.TenantRecord) error {
	if c.ipRestriction != nil {
		t.IPRestriction = *c.ipRestriction
	}
	if c.mfaRequired != nil {
		t.MFARequired = *c.mfaRequired
	}
	if c.seats != nil {
		t.Seats = *c.seats
	}
	if c.allowedCIDRs != nil {
		t.AllowedCIDRs = c.allowedCIDRs
	}
	if t.IPRestriction && len(t.AllowedCIDRs) == 0 {
		return invalid([]ports.FieldError{kernel.ParamError("allowed_cidrs", "required",
			"IP restriction needs at least one allowed range, or nobody of the company could connect",
			"IPアドレス制限を有効にするには、許可する範囲を1つ以上指定してください（指定がないと誰も接続できません）")})
	}
	return nil
}

func (c contractChange) String() string {
	var parts []string
	if c.ipRestriction != nil {
		parts = append(parts, "ip_restriction="+strconv.FormatBool(*c.ipRestriction))
	}
	if c.mfaRequired != nil {
		parts = append(parts, "mfa_required="+strconv.FormatBool(*c.mfaRequired))
	}
	if c.seats != nil {
		parts = append(parts, "seats="+strconv.Itoa(*c.seats))
	}
	if c.allowedCIDRs != nil {
		parts = append(parts, "allowed_cidrs="+strings.Join(c.allowedCIDRs, ","))
	}
	return strings.Join(parts, " ")
}

// changeContract validates a contract change against the tenant load returns and gives the tenant as the
// change leaves it (load may be a locking update that applies it).
func (s *Service) changeContract(ctx context.Context, params map[string]string, load tenantLoader) (ports.TenantRecord, error) {
	c, fields := parseContractChange(params)
	t, err := operationTenant(ctx, params, fields, load)
	if err != nil {
		return t, err
	}
	return t, c.apply(&t)
}

func (s *Service) executeContractChange(ctx context.Context, req ports.OperationRequest) (string, error) {
	c, _ := parseContractChange(req.Params)
	t, err := s.changeContract(ctx, req.Params, func(ctx context.Context, id string) (ports.TenantRecord, error) {
		return s.Tenants.UpdateTenant(ctx, id, func(t *ports.TenantRecord) error {
			if t.Status == ports.TenantDeleted {
				return nil // refused by changeContract, which this error would hide
			}
			t.UpdatedAt = s.Clock.Now()
			return c.apply(t)
		})
	})
	if err != nil {
		return "", err
	}
	e := opEvent(req, "tenant.contract_options", "tenant:"+t.ID, map[string]string{"change": c.String()})
	if err := s.record(ctx, e); err != nil {
		return "", err
	}
	active, err := s.Accounts.ListAccounts(ctx, t.ID)
	if err != nil {
		return "", err
	}
	summary := fmt.Sprintf("company %s: %s", t.Code, c)
	if n := countActive(active); t.Seats > 0 && n > t.Seats {
		summary += fmt.Sprintf(" (%d active accounts exceed the seats: no new account until below)", n)
	}
	return summary, nil
}

// operatorGrant is a validated OpGrantOperator request.
type operatorGrant struct{ login, loginKey, name string }

func (s *Service) checkGrant(ctx context.Context, params map[string]string) (operatorGrant, error) {
	var g operatorGrant
	fields := kernel.UnknownParams(params, "login", "name")
	g.login, g.loginKey = NormalizeLogin(params["login"])
	for _, f := range validateLogin("login", g.login) {
		fields = append(fields, kernel.ParamError("login", f.Code, f.MessageEN, f.MessageJA))
	}
	var errs []ports.FieldError
	g.name, errs = normalizeName("name", params["name"])
	for _, f := range errs {
		fields = append(fields, kernel.ParamError("name", f.Code, f.MessageEN, f.MessageJA))
	}
	if len(fields) > 0 {
		return g, invalid(fields)
	}
	_, err := s.Accounts.AccountByLogin(ctx, "", g.loginKey)
	switch {
	case err == nil:
		return g, loginTaken(ports.ErrConflict)
	case !errors.Is(err, ports.ErrNotFound):
		return g, err
	}
	return g, nil
}

// grantOperator creates the operator account of an approved grant. The account takes the request's ID, so
// that IssueOperatorPassword finds the request and can refuse its requester; its password is random and
// shown to nobody until another operator issues the first one.
func (s *Service) grantOperator(ctx context.Context, req ports.OperationRequest) (string, error) {
	g, err := s.checkGrant(ctx, req.Params)
	if err != nil {
		return "", err
	}
	hash, err := s.Hasher.Hash(ctx, kernel.RandomToken(sessionTokenBytes))
	if err != nil {
		return "", err
	}
	now := s.Clock.Now()
	op := ports.AccountRecord{ID: req.ID, Kind: ports.KindOperator, Login: g.login, LoginKey: g.loginKey, Name: g.name,
		Status: ports.AccountActive, PasswordHash: hash, MustChangePassword: true, PasswordChangedAt: now,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Accounts.CreateAccount(ctx, op); err != nil {
		return "", loginTaken(err)
	}
	if err := s.record(ctx, opEvent(req, "operator.create", "account:"+op.ID, map[string]string{"login": g.login})); err != nil {
		return "", err
	}
	return fmt.Sprintf("operator %s created (account:%s); another operator than the requester issues the first password", g.login, op.ID), nil
}
