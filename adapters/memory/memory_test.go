package memory_test

import (
	"testing"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/ports/porttest"
)

// TestContract runs every store contract suite against fresh in-memory stores.
func TestContract(t *testing.T) {
	porttest.RunAll(t, func(*testing.T) porttest.Stores {
		s := memory.New()
		return porttest.Stores{
			Tenants: s, Accounts: s, Throttle: s, Sessions: s, MFA: s, Audit: s, Tx: s, Pinger: s,
			Employees: s, Departments: s, Outbox: s, Jobs: s, Procedures: s, Attachments: s, Notices: s, OperationRequests: s, Webhooks: s, Stats: s,
			APITokens: s, RateLimits: s, Idempotency: s, ResealJobs: s, SealedValues: s,
		}
	})
}
