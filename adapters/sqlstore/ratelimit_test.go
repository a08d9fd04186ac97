package sqlstore_test

import (
	"testing"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/ports/porttest"
)

func TestRateLimitStoreContract(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		porttest.TestRateLimitStore(t, func(t *testing.T) ports.RateLimitStore { return open(t, d.name, d.dsn(t)) })
	})
}
