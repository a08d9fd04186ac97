package argon2id

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

func newHasher(t testing.TB, p Params, n int) *Hasher {
	t.Helper()
	h, err := New(p, n)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=47104,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashAndVerify(t *testing.T) {
	h := newHasher(t, DefaultParams, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(enc) {
		t.Fatalf("encoding %q is not PHC argon2id with 16-byte salt and 32-byte key", enc)
	}
	if strings.Contains(enc, "Correct-Horse-9") {
		t.Fatal("password in encoding")
	}
	match, rehash, err := h.Verify(ctx, enc, "Correct-Horse-9")
	if err != nil || !match || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v", match, rehash, err)
	}
	match, rehash, err = h.Verify(ctx, enc, "Correct-Horse-8")
	if err != nil || match || rehash {
		t.Fatalf("Verify(wrong) = %v, %v, %v", match, rehash, err)
	}
	enc2, err := h.Hash(ctx, "Correct-Horse-9")
	if err != nil || enc2 == enc {
		t.Fatalf("second hash of the same password not salted differently: %v", err)
	}
}

// TestReferenceVectors checks interoperability with the reference implementation (the argon2 CLI of
// the P-H-C/phc-winner-argon2 project), whose outputs these are.
func TestReferenceVectors(t *testing.T) {
	h := newHasher(t, DefaultParams, 1)
	for _, v := range []struct{ password, encoded string }{
		{"correct horse battery staple", "$argon2id$v=19$m=16384,t=2,p=1$YzI5dFpYTmhiSFF4TWpNME5UWTNPQQ$wZyQRj7XrAysOYoeN39UoWhuBPqrCDSigNzUC6Q7Ezo"},
		{"password", "$argon2id$v=19$m=19456,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$CZoeXOqa1VdvObxRDNOI2nFoAY4en4HxiEHSyKYuX5s"},
	} {
		match, _, err := h.Verify(context.Background(), v.encoded, v.password)
		if err != nil || !match {
			t.Errorf("reference %s: match %v err %v", v.encoded, match, err)
		}
		if match, _, _ := h.Verify(context.Background(), v.encoded, v.password+"x"); match {
			t.Errorf("reference %s matches a wrong password", v.encoded)
		}
	}
}

// hashWith makes an encoding with arbitrary parameters, including ones New refuses (legacy hashes).
func hashWith(p Params, password string, salt []byte, n uint32) string {
	return encode(p, salt, argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, n))
}

func TestNeedsRehash(t *testing.T) {
	h := newHasher(t, Params{MemoryKiB: 19456, Time: 2, Threads: 1}, 2)
	salt16 := []byte("0123456789abcdef")
	tests := []struct {
		name       string
		encoded    string
		wantRehash bool
	}{
		{"same params", hashWith(Params{19456, 2, 1}, "pw", salt16, 32), false},
		{"less memory", hashWith(Params{8192, 2, 1}, "pw", salt16, 32), true},
		{"fewer passes", hashWith(Params{19456, 1, 1}, "pw", salt16, 32), true},
		{"more memory fewer passes", hashWith(Params{47104, 1, 1}, "pw", salt16, 32), true},
		{"stronger everywhere", hashWith(Params{20480, 3, 2}, "pw", salt16, 32), false},
		{"short salt", hashWith(Params{19456, 2, 1}, "pw", salt16[:8], 32), true},
		{"short key", hashWith(Params{19456, 2, 1}, "pw", salt16, 16), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			match, rehash, err := h.Verify(context.Background(), tc.encoded, "pw")
			if err != nil || !match || rehash != tc.wantRehash {
				t.Fatalf("Verify = %v, %v, %v; want match, rehash=%v", match, rehash, err, tc.wantRehash)
			}
			// A wrong password never asks for a rehash: there is nothing to rehash it with.
			if match, rehash, err := h.Verify(context.Background(), tc.encoded, "other"); match || rehash || err != nil {
				t.Fatalf("Verify(wrong) = %v, %v, %v", match, rehash, err)
			}
		})
	}
}

func TestMalformedEncodingsAreErrors(t *testing.T) {
	h := newHasher(t, DefaultParams, 1)
	good := hashWith(Params{19456, 1, 1}, "pw", []byte("0123456789abcdef"), 32)
	parts := strings.Split(good, "$")
	with := func(i int, s string) string {
		p := append([]string(nil), parts...)
		p[i] = s
		return strings.Join(p, "$")
	}
	for name, enc := range map[string]string{
		"empty":             "",
		"plain text":        "hunter2",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           with(1, "argon2i"),
		"argon2d":           with(1, "argon2d"),
		"version 16":        with(2, "v=16"),
		"no version":        strings.Replace(good, "$v=19", "", 1),
		"too many parts":    good + "$x",
		"leading text":      "x" + good,
		"params order":      with(3, "t=1,m=19456,p=1"),
		"params missing":    with(3, "m=19456,t=1"),
		"params extra":      with(3, "m=19456,t=1,p=1,keyid=x"),
		"params sign":       with(3, "m=+19456,t=1,p=1"),
		"params zero pad":   with(3, "m=019456,t=1,p=1"),
		"params overflow":   with(3, "m=99999999999,t=1,p=1"),
		"memory zero":       with(3, "m=0,t=1,p=1"),
		"memory below lane": with(3, "m=15,t=1,p=2"),
		"memory over 4 GiB": with(3, "m=4194305,t=1,p=1"),
		"memory max uint32": with(3, "m=4294967295,t=1,p=1"),
		"time zero":         with(3, "m=19456,t=0,p=1"),
		"time absurd":       with(3, "m=19456,t=1000000,p=1"),
		"threads zero":      with(3, "m=19456,t=1,p=0"),
		"threads 256":       with(3, "m=65536,t=1,p=256"),
		"salt not base64":   with(4, "!!!!"),
		"salt padded":       with(4, parts[4]+"=="),
		"salt too short":    with(4, "YWJj"),
		"salt too long":     with(4, strings.Repeat("A", 100)),
		"hash not base64":   with(5, "@@@@"),
		"hash too short":    with(5, "YWJjZGVmZ2g"),
		"hash too long":     with(5, strings.Repeat("A", 200)),
		"hash empty":        with(5, ""),
	} {
		t.Run(name, func(t *testing.T) {
			match, rehash, err := h.Verify(context.Background(), enc, "pw")
			if !errors.Is(err, ErrMalformedHash) || match || rehash {
				t.Fatalf("Verify = %v, %v, %v; want ErrMalformedHash", match, rehash, err)
			}
			if enc != "" && strings.Contains(err.Error(), enc) {
				t.Fatalf("error quotes the encoding: %v", err)
			}
		})
	}
}

func TestNewRejectsWeakOrAbsurdParams(t *testing.T) {
	for _, tc := range []struct {
		p Params
		n int
	}{
		{Params{19455, 2, 1}, 1},
		{Params{MaxMemoryKiB + 1, 2, 1}, 1},
		{Params{19456, 0, 1}, 1},
		{Params{19456, MaxTime + 1, 1}, 1},
		{Params{19456, 2, 0}, 1},
		{DefaultParams, 0},
	} {
		if _, err := New(tc.p, tc.n); err == nil {
			t.Errorf("New(%+v, %d) accepted", tc.p, tc.n)
		}
	}
}

func TestWaitingForASlotRespectsContext(t *testing.T) {
	h := newHasher(t, DefaultParams, 1)
	enc := hashWith(Params{19456, 1, 1}, "pw", []byte("0123456789abcdef"), 32)
	h.sem <- struct{}{} // every slot busy

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with busy slots = %v, want deadline exceeded", err)
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := h.Verify(cancelled, enc, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with cancelled context = %v", err)
	}
	<-h.sem
	// A cancelled context never starts a hash, even when a slot is free.
	if _, err := h.Hash(cancelled, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with cancelled context and free slot = %v", err)
	}
	if match, _, err := h.Verify(context.Background(), enc, "pw"); !match || err != nil {
		t.Fatalf("slot not released: %v %v", match, err)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	const limit = 2
	h := newHasher(t, DefaultParams, limit)
	var active, peak atomic.Int32
	gate := make(chan struct{})
	// The stub stands in for argon2.IDKey: it records how many run at once and blocks until released.
	h.idKey = func(password, salt []byte, time, memory uint32, threads uint8, n uint32) []byte {
		cur := active.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		<-gate
		active.Add(-1)
		return argon2.IDKey(password, salt, 1, 64, 1, n)
	}
	enc := hashWith(Params{64, 1, 1}, "pw", []byte("0123456789abcdef"), 32)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				if _, err := h.Hash(context.Background(), "pw"); err != nil {
					t.Error(err)
				}
				return
			}
			if match, _, err := h.Verify(context.Background(), enc, "pw"); !match || err != nil {
				t.Error("verify under load failed", err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for peak.Load() < limit && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // give an excess caller the chance to (wrongly) enter
	if got := active.Load(); got != limit {
		t.Errorf("active = %d, want exactly %d", got, limit)
	}
	// A caller that gives up while queued leaves without hashing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Hash = %v, want deadline exceeded", err)
	}
	close(gate)
	wg.Wait()
	if got := peak.Load(); got != limit {
		t.Fatalf("peak concurrency %d, want %d", got, limit)
	}
}

// FuzzDecode: no input makes decode panic, and anything it accepts is within the bounds.
func FuzzDecode(f *testing.F) {
	f.Add(hashWith(Params{19456, 1, 1}, "pw", []byte("0123456789abcdef"), 32))
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$YWJjZGVmZ2g$YWJjZGVmZ2hpamtsbW5vcA")
	f.Add("$argon2id$v=19$$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v is not ErrMalformedHash", err)
			}
			return
		}
		if p.MemoryKiB > MaxMemoryKiB || p.Time > MaxTime || p.Time < 1 || p.Threads < 1 ||
			p.MemoryKiB < 8*uint32(p.Threads) || len(salt) < minStoredSaltLen || len(key) < minStoredKeyLen {
			t.Fatalf("accepted out-of-bounds %+v salt %d key %d", p, len(salt), len(key))
		}
	})
}

// The benchmarks measure the cost a login pays. Run them with
//
//	go test -run '^$' -bench . -cpu 1,2 ./adapters/argon2id/
//
// BenchmarkVerifyParallel's hashes/s is the throughput of one instance when logins arrive in parallel.

// benchParams are the defaults and OWASP's other equivalent option, to re-measure the choice.
var benchParams = []Params{DefaultParams, {MemoryKiB: 19456, Time: 2, Threads: 1}}

func BenchmarkHash(b *testing.B) {
	h := newHasher(b, DefaultParams, 64)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "Correct-Horse-9"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, p := range benchParams {
		b.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads), func(b *testing.B) {
			h := newHasher(b, p, 64)
			enc, err := h.Hash(context.Background(), "Correct-Horse-9")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if match, _, err := h.Verify(context.Background(), enc, "Correct-Horse-9"); !match || err != nil {
					b.Fatal("no match", err)
				}
			}
		})
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	for _, p := range benchParams {
		b.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads), func(b *testing.B) {
			h := newHasher(b, p, 64)
			enc, err := h.Hash(context.Background(), "Correct-Horse-9")
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if match, _, err := h.Verify(context.Background(), enc, "Correct-Horse-9"); !match || err != nil {
						b.Error("no match", err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "hashes/s")
		})
	}
}
