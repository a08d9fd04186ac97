package test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/argon2id"
	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// BenchmarkLogin measures the whole password login (lockout check, lookup, argon2id verification at the
// production defaults, session creation, audit append) on the memory stores, one login at a time and with
// every core busy. It reports the median latency next to Go's mean.
func BenchmarkLogin(b *testing.B) {
	cfg := config.Default()
	hasher, err := argon2id.New(argon2id.Params{MemoryKiB: cfg.Security.Argon2.MemoryKiB, Time: cfg.Security.Argon2.Time,
		Threads: cfg.Security.Argon2.Threads}, cfg.Security.MaxConcurrentHashes)
	if err != nil {
		b.Fatal(err)
	}
	env := testenv.New(b, testenv.WithHasher(hasher))
	env.Tenant(b, "bench")
	ctx := context.Background()
	b.Logf("argon2id m=%d KiB t=%d p=%d, %d hashes at once, GOMAXPROCS=%d", cfg.Security.Argon2.MemoryKiB,
		cfg.Security.Argon2.Time, cfg.Security.Argon2.Threads, cfg.Security.MaxConcurrentHashes, runtime.GOMAXPROCS(0))
	var slot atomic.Int64
	lat := make([]time.Duration, b.N+runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			_, err := env.Accounts.Login(ctx, ports.LoginCommand{Tenant: "bench", Login: "admin", Password: testenv.NewPassword})
			if err != nil {
				panic(fmt.Sprint("login: ", err))
			}
			lat[slot.Add(1)-1] = time.Since(start)
		}
	})
	b.StopTimer()
	latencies := lat[:slot.Load()]
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "logins/s")
	}
}
