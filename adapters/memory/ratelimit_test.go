package memory_test

import (
	"testing"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/ports/porttest"
)

func TestRateLimitStoreContract(t *testing.T) {
	porttest.TestRateLimitStore(t, func(*testing.T) ports.RateLimitStore { return memory.New() })
}
