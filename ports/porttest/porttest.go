// Package porttest holds the contract suites of the driven store ports. Every store adapter runs them
// (in the style of Ory Kratos' per-port test suites), so the memory adapter used by the domain's tests and
// the SQL adapters used in production cannot drift apart: a behaviour the domain relies on is written down
// here once, as a test, instead of in each adapter's own tests.
//
// An adapter's test calls RunAll with a factory that returns fresh, empty, isolated stores for each test:
//
//	func TestContract(t *testing.T) {
//		porttest.RunAll(t, func(t *testing.T) porttest.Stores {
//			s := memory.New()
//			return porttest.Stores{Tenants: s, Accounts: s, Throttle: s, Sessions: s, MFA: s, Audit: s, Tx: s, Pinger: s,
//				Employees: s, Departments: s, Outbox: s, Jobs: s, Procedures: s, Attachments: s, Notices: s, OperationRequests: s, Webhooks: s, Stats: s,
//				APITokens: s, RateLimits: s, Idempotency: s, ResealJobs: s,
//				SealedValues: s}
//		})
//	}
//
// The suites run their cases in parallel, each case on stores of its own, and rely only on what the port
// comments promise. Times are compared as instants (time.Equal), at microsecond precision, because SQL
// databases keep microseconds; inputs carry a non-UTC zone to check that the instant, not the wall clock,
// is kept. A nil field in Stores skips the suites that need it, so an adapter can be built port by port.
package porttest

import (
	"testing"

	"github.com/roumu/roumu/ports"
)

// Stores bundles the implementations under test. They must share one backing store, so that Tx's
// transactions cover the other stores' calls.
type Stores struct {
	Tenants  ports.TenantStore
	Accounts ports.AccountStore
	Throttle ports.ThrottleStore
	Sessions ports.SessionStore
	MFA      ports.MFAStore
	Audit    ports.AuditStore
	Tx       ports.Transactor
	Pinger   ports.Pinger

	Employees   ports.EmployeeStore
	Departments ports.DepartmentStore
	Outbox      ports.Outbox
	Jobs        ports.JobStore

	Procedures  ports.ProcedureStore
	Attachments ports.AttachmentStore

	Notices           ports.NoticeStore
	OperationRequests ports.OperationRequestStore
	Webhooks          ports.WebhookStore

	ResealJobs   ports.ResealJobStore
	SealedValues ports.SealedValueStore

	Stats ports.StatsReader

	APITokens   ports.APITokenStore
	RateLimits  ports.RateLimitStore
	Idempotency ports.IdempotencyStore
}

// Factory returns fresh, empty stores for one test; it registers any cleanup with t.Cleanup. It is called
// from parallel subtests, so it must be safe for concurrent use.
type Factory func(t *testing.T) Stores

// RunAll runs every contract suite as a subtest named contract=<Port>.
func RunAll(t *testing.T, factory Factory) {
	t.Helper()
	suites := []struct {
		name string
		run  func(*testing.T, Factory)
	}{
		{"TenantStore", TestTenantStore},
		{"AccountStore", TestAccountStore},
		{"ThrottleStore", TestThrottleStore},
		{"SessionStore", TestSessionStore},
		{"MFAStore", TestMFAStore},
		{"AuditStore", TestAuditStore},
		{"Transactor", TestTransactor},
		{"Pinger", TestPinger},
		{"EmployeeStore", TestEmployeeStore},
		{"DepartmentStore", TestDepartmentStore},
		{"Outbox", TestOutbox},
		{"JobStore", TestJobStore},
		{"ProcedureStore", TestProcedureStore},
		{"AttachmentStore", TestAttachmentStore},
		{"NoticeStore", TestNoticeStore},
		{"OperationRequestStore", TestOperationRequestStore},
		{"WebhookStore", TestWebhookStore},
		{"StatsReader", TestStatsReader},
		{"APITokenStore", TestAPITokenStore},
		{"RateLimitStore", TestRateLimitStore},
		{"IdempotencyStore", TestIdempotencyStore},
		{"ResealJobStore", TestResealJobStore},
		{"SealedValueStore", TestSealedValueStore},
	}
	for _, s := range suites {
		t.Run("contract="+s.name, func(t *testing.T) { s.run(t, factory) })
	}
}
