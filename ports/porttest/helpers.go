package porttest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jst is the zone of the inputs: not UTC, so a store that keeps the wall clock instead of the instant fails.
var jst = time.FixedZone("JST", 9*60*60)

// t0 is the reference instant of the suites, already at microsecond precision so that a store rounding or
// truncating to microseconds returns it unchanged.
var t0 = time.Date(2025, time.April, 1, 9, 30, 15, 123456000, jst)

// at returns t0 shifted by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// open returns fresh stores from factory and fails the test when a store it needs is not provided: every
// adapter implements every store port, so a nil one is an adapter's mistake, never a reason to skip.
func open(t *testing.T, factory Factory, need ...string) Stores {
	t.Helper()
	s := factory(t)
	for _, n := range need {
		f := reflect.ValueOf(s).FieldByName(n)
		if !f.IsValid() {
			t.Fatalf("porttest: unknown store %q", n)
		}
		if f.IsNil() {
			t.Fatalf("Stores.%s is nil: the adapter must provide every store port", n)
		}
	}
	return s
}

// newID returns a random UUID (version 4): IDs are opaque strings to the ports, and a UUID also fits an
// SQL adapter that stores them in a uuid column.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// hashOf returns a hex SHA-256, the shape of session token hashes, challenge IDs and recovery code hashes.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomBytes returns n random bytes; they include zero bytes often enough to catch a store that treats
// binary data as text.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[0] = 0
	return b
}

// equalTime reports whether two instants are equal at microsecond precision.
func equalTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// checkTime fails when got is not the instant want.
func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if !equalTime(got, want) {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
	if want.IsZero() && !got.IsZero() {
		t.Errorf("%s = %v, want the zero time", field, got)
	}
}

// checkEq fails when got != want.
func checkEq[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

// checkStrings fails when the slices differ; nil and empty are the same (a store need not tell them apart).
func checkStrings(t *testing.T, field string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

// checkStringSet fails when the slices hold different elements, in any order.
func checkStringSet(t *testing.T, field string, got, want []string) {
	t.Helper()
	checkStrings(t, field, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// checkBytes fails when the byte slices differ; nil and empty are the same.
func checkBytes(t *testing.T, field string, got, want []byte) {
	t.Helper()
	if string(got) != string(want) {
		t.Errorf("%s = %x, want %x", field, got, want)
	}
}

// checkMap fails when the maps differ; nil and empty are the same.
func checkMap(t *testing.T, field string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", field, got, want)
		return
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v, want %v", field, got, want)
			return
		}
	}
}

// must fails the test at once on an unexpected error.
// walkKeyset reads a keyset-paginated list page by page, limit rows a page: page(nil) reads the first page,
// page(&last) the one after the last row read. It returns every row read; between(n) runs after the n-th
// full page. rows is how many the list holds, to stop a cursor that does not advance.
func walkKeyset[R any](t *testing.T, what string, page func(after *R) ([]R, error), limit, rows int, between func(n int)) []R {
	t.Helper()
	var all []R
	var after *R
	for n := 0; ; n++ {
		if n > 2*rows+2 {
			t.Fatalf("walking %s by %d: more pages than rows, the cursor does not advance", what, limit)
		}
		got, err := page(after)
		must(t, err, "walking "+what)
		if len(got) > limit {
			t.Fatalf("walking %s: a page of %d rows, limit %d", what, len(got), limit)
		}
		all = append(all, got...)
		if len(got) < limit {
			return all
		}
		after = &got[len(got)-1]
		if between != nil {
			between(n)
		}
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// concurrently runs fn(0) … fn(n-1) in n goroutines released together, and waits for all of them. fn may
// report with t.Error (never t.Fatal, which must run on the test's goroutine).
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// checkOneWins runs try(0) … try(n-1) concurrently, where each try succeeds only if no other has (a guarded
// state transition) and otherwise fails with lost, and fails unless exactly one succeeded: with lost
// updates, several would.
func checkOneWins(t *testing.T, what string, n int, lost error, try func(i int) error) {
	t.Helper()
	var won atomic.Int32
	concurrently(n, func(i int) {
		switch err := try(i); {
		case err == nil:
			won.Add(1)
		case !errors.Is(err, lost):
			t.Errorf("%s %d: %v", what, i, err)
		}
	})
	checkEq(t, what+" that won", won.Load(), 1)
}

// errBoom is what the update functions of the suites fail with.
var errBoom = errors.New("porttest: boom")

// checkIs fails when err is not of kind want.
func checkIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// itoa formats i for messages.
func itoa(i int) string { return strconv.Itoa(i) }
