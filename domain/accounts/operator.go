package accounts

import (
	"context"
	"errors"
	"strings"

	"github.com/roumu/roumu/ports"
)

// requireOperator lets through only a fully logged-in provider operator; anyone else is refused, audited.
func (s *Service) requireOperator(ctx context.Context, p ports.Principal, action string) error {
	if p.IsOperator() {
		return nil
	}
	return s.refuse(ctx, event(p, action, ""), ports.NewError(ports.ErrForbidden, "forbidden",
		"Only provider operators may do this.", "この操作は運営事業者のオペレーターのみ行えます。"))
}

func tenantNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The company was not found.", "企業が見つかりません。")
}

// IPRestriction implements ports.Accounts.
func (s *Service) IPRestriction(ctx context.Context, p ports.Principal) (ports.IPRestrictionView, error) {
	if err := requireAdmin(p); err != nil {
		return ports.IPRestrictionView{}, err
	}
	t, err := s.Tenants.TenantByID(ctx, p.TenantID)
	if err != nil {
		return ports.IPRestrictionView{}, err
	}
	return ipRestrictionView(t, p.Source.IP), nil
}

func ipRestrictionView(t ports.TenantRecord, clientIP string) ports.IPRestrictionView {
	v := ports.IPRestrictionView{Enabled: t.IPRestriction, AllowedCIDRs: append([]string{}, t.AllowedCIDRs...)}
	if a := parseSourceIP(clientIP); a.IsValid() {
		v.ClientIP = a.String()
	}
	return v
}

// SetAllowedCIDRs implements ports.Accounts. The check and the write are one atomic update of the tenant,
// so two admins saving at once cannot combine into a list that locks one of them out. The audit entry
// carries the old and the new list: ranges are not secrets, and the record shows who opened what.
func (s *Service) SetAllowedCIDRs(ctx context.Context, p ports.Principal, lines []string) (ports.IPRestrictionView, error) {
	if err := requireAdmin(p); err != nil {
		return ports.IPRestrictionView{}, err
	}
	var t ports.TenantRecord
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var previous []string
		var err error
		t, err = s.Tenants.UpdateTenant(ctx, p.TenantID, func(t *ports.TenantRecord) error {
			if !t.IPRestriction {
				return ports.NewError(ports.ErrForbidden, "ip_restriction_not_contracted",
					"IP restriction is not part of your contract. Please contact the provider.",
					"IPアドレス制限はご契約のオプションに含まれていません。運営事業者にお問い合わせください。")
			}
			list, err := CheckAllowListChange(*t, lines, p.Source.IP)
			if err != nil {
				return err
			}
			previous, t.AllowedCIDRs, t.UpdatedAt = t.AllowedCIDRs, list, s.Clock.Now()
			return nil
		})
		if err != nil {
			return err
		}
		e := event(p, "tenant.allowed_cidrs", "tenant:"+p.TenantID)
		e.Detail = map[string]string{"allowed_cidrs": strings.Join(t.AllowedCIDRs, ","),
			"previous": strings.Join(previous, ",")}
		return s.record(ctx, e)
	})
	if err != nil {
		return ports.IPRestrictionView{}, err
	}
	return ipRestrictionView(t, p.Source.IP), nil
}

// ListTenants implements ports.Accounts. The counts cost one account listing per tenant: a provider has
// hundreds of customer companies, not millions, and the console needs them on one page.
func (s *Service) ListTenants(ctx context.Context, p ports.Principal) ([]ports.TenantOverview, error) {
	if err := s.requireOperator(ctx, p, "tenant.list"); err != nil {
		return nil, err
	}
	recs, err := s.Tenants.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ports.TenantOverview, 0, len(recs))
	for _, t := range recs {
		o, err := s.overview(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// GetTenant implements ports.Accounts.
func (s *Service) GetTenant(ctx context.Context, p ports.Principal, id string) (ports.TenantOverview, error) {
	if err := s.requireOperator(ctx, p, "tenant.read"); err != nil {
		return ports.TenantOverview{}, err
	}
	t, err := s.Tenants.TenantByID(ctx, id)
	if errors.Is(err, ports.ErrNotFound) {
		return ports.TenantOverview{}, tenantNotFound()
	}
	if err != nil {
		return ports.TenantOverview{}, err
	}
	return s.overview(ctx, t)
}

func (s *Service) overview(ctx context.Context, t ports.TenantRecord) (ports.TenantOverview, error) {
	accts, err := s.Accounts.ListAccounts(ctx, t.ID)
	if err != nil {
		return ports.TenantOverview{}, err
	}
	return ports.TenantOverview{TenantView: tenantView(t), Accounts: len(accts), ActiveAccounts: countActive(accts)}, nil
}

func countActive(accts []ports.AccountRecord) int {
	n := 0
	for _, a := range accts {
		if a.Status == ports.AccountActive {
			n++
		}
	}
	return n
}

// OperatorCreateTenant implements ports.Accounts.
func (s *Service) OperatorCreateTenant(ctx context.Context, p ports.Principal, cmd ports.CreateTenantCommand) (ports.TenantView, ports.AccountView, error) {
	if err := s.requireOperator(ctx, p, "tenant.create"); err != nil {
		return ports.TenantView{}, ports.AccountView{}, err
	}
	return s.createTenant(ctx, event(p, "tenant.create", ""), cmd)
}

// ListOperators implements ports.Accounts.
func (s *Service) ListOperators(ctx context.Context, p ports.Principal) ([]ports.AccountView, error) {
	if err := s.requireOperator(ctx, p, "operator.list"); err != nil {
		return nil, err
	}
	recs, err := s.Accounts.ListAccounts(ctx, "")
	if err != nil {
		return nil, err
	}
	views := make([]ports.AccountView, 0, len(recs))
	for _, r := range recs {
		v, err := s.view(ctx, r, "")
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

// IssueOperatorPassword implements ports.Accounts. An operator account granted through the two-person rule
// has the ID of its grant request (see grantOperator), which names the requester: the one person who must
// not hold the new identity's first credential.
func (s *Service) IssueOperatorPassword(ctx context.Context, p ports.Principal, accountID string) (string, error) {
	const action = "operator.issue_password"
	if err := s.requireOperator(ctx, p, action); err != nil {
		return "", err
	}
	if s.OperationRecords == nil {
		return "", ports.NewError(ports.ErrUnavailable, "unavailable",
			"Issuing operator passwords is not available.", "オペレーターのパスワード発行は利用できません。")
	}
	acct, err := s.Accounts.AccountByID(ctx, "", accountID)
	if errors.Is(err, ports.ErrNotFound) || err == nil && acct.Kind != ports.KindOperator {
		return "", accountNotFound()
	}
	if err != nil {
		return "", err
	}
	grant, err := s.OperationRecords.OperationRequest(ctx, accountID)
	switch {
	case errors.Is(err, ports.ErrNotFound) || err == nil && (grant.Kind != ports.OpGrantOperator || grant.Status != ports.OperationExecuted):
		return "", ports.NewError(ports.ErrConflict, "not_granted",
			"This operator was not created by an approved grant: no password can be issued here.",
			"このオペレーターは承認済みの権限付与で作成されていないため、ここではパスワードを発行できません。")
	case err != nil:
		return "", err
	case p.AccountID == grant.RequestedBy || p.AccountID == accountID:
		return "", s.refuse(ctx, event(p, action, "account:"+accountID), ports.NewError(ports.ErrForbidden, "requester_cannot_issue",
			"The operator who requested the grant (or the new operator) cannot issue its password: another operator must.",
			"権限付与を申請したオペレーター（および付与された本人）はパスワードを発行できません。別のオペレーターが発行してください。"))
	case !acct.LastLoginAt.IsZero():
		return "", ports.NewError(ports.ErrConflict, "already_activated",
			"This operator has already logged in and chosen a password.",
			"このオペレーターは既にログインしてパスワードを設定済みです。")
	}
	oneTime := newOneTimePassword()
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.setPassword(ctx, acct, oneTime, true); err != nil {
			return err
		}
		if err := s.Throttle.ResetThrottle(ctx, throttleKey(acct.Kind, "", acct.LoginKey)); err != nil {
			return err
		}
		return s.record(ctx, event(p, action, "account:"+accountID))
	})
	if err != nil {
		return "", err
	}
	return oneTime, nil
}
