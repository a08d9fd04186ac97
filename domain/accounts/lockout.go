package accounts

import (
	"time"

	"github.com/roumu/roumu/ports"
)

// Lockout is the lockout policy of the service specification: 5 consecutive failures lock the login
// identifier for 30 minutes from the 5th; a success resets the count. The counting itself happens atomically in
// the ThrottleStore; this type only decides.
type Lockout struct {
	Threshold int
	Duration  time.Duration
}

// DefaultLockout is the policy the service specification fixes.
var DefaultLockout = Lockout{Threshold: 5, Duration: 30 * time.Minute}

// RetryAfter reports how long the identifier stays locked at now (zero when it is not locked).
func (Lockout) RetryAfter(s ports.ThrottleState, now time.Time) time.Duration {
	if s.LockedUntil.After(now) {
		return s.LockedUntil.Sub(now)
	}
	return 0
}

// ShouldLock reports whether a failure count reached at now must lock the identifier.
func (l Lockout) ShouldLock(s ports.ThrottleState, now time.Time) bool {
	return s.Failures >= l.Threshold && !s.LockedUntil.After(now)
}

// throttleKey names the login identifier that the lockout counts: the tenant code as typed (normalised) and the
// login key, whether or not they exist, so that an unknown identifier behaves exactly like a known one.
func throttleKey(kind, tenantCode, loginKey string) string {
	if kind == ports.KindOperator {
		return "operator:" + loginKey
	}
	return "member:" + tenantCode + ":" + loginKey
}

func lockedError(retry time.Duration) error {
	e := ports.NewError(ports.ErrLocked, "account_locked",
		"Too many failed attempts: this login is locked. Try again later or ask your administrator to unlock it.",
		"ログインに続けて失敗したため、このアカウントはロックされています。時間をおいて再度お試しいただくか、管理者にロック解除を依頼してください。")
	e.RetryAfter = retry
	return e
}

func invalidCredentials() error {
	return ports.NewError(ports.ErrUnauthenticated, "invalid_credentials",
		"The company code, login ID or password is incorrect.",
		"企業コード、ログインID、またはパスワードが正しくありません。")
}
