package accounts

import (
	"slices"
	"time"

	"github.com/roumu/roumu/ports"
)

func tenantView(t ports.TenantRecord) ports.TenantView {
	return ports.TenantView{ID: t.ID, Code: t.Code, Name: t.Name, Status: t.Status, MFARequired: t.MFARequired,
		IPRestriction: t.IPRestriction, AllowedCIDRs: slices.Clone(t.AllowedCIDRs), Seats: t.Seats, CreatedAt: t.CreatedAt}
}

func accountView(a ports.AccountRecord, lock ports.ThrottleState, mfa bool, now time.Time) ports.AccountView {
	v := ports.AccountView{ID: a.ID, TenantID: a.TenantID, Kind: a.Kind, Login: a.Login, Name: a.Name,
		Roles: slices.Clone(a.Roles), Status: a.Status, MustChangePassword: a.MustChangePassword, MFAEnabled: mfa,
		LastLoginAt: a.LastLoginAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if lock.LockedUntil.After(now) {
		v.Locked, v.LockedUntil = true, lock.LockedUntil
	}
	return v
}
