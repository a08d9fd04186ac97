package employees_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/roumu/roumu/adapters/memory"
	"github.com/roumu/roumu/domain/audit"
	"github.com/roumu/roumu/domain/employees"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// generations is a Cipher whose keys are generations: it seals under the newest, opens any generation not
// yet retired, and binds the additional data. It lets a test retire the old key after a rotation, which the
// file keyring does not offer. (Not encryption: a test stand-in.)
type generations struct {
	mu              sync.Mutex
	newest, retired byte // generations up to retired no longer open
}

func (g *generations) Seal(_ context.Context, plaintext, ad []byte) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append(append([]byte{g.newest, byte(len(ad))}, ad...), plaintext...), nil
}

func (g *generations) Open(_ context.Context, sealed, ad []byte) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(sealed) < 2 || sealed[0] <= g.retired || len(sealed) < 2+int(sealed[1]) || !bytes.Equal(sealed[2:2+int(sealed[1])], ad) {
		return nil, errors.New("generations: cannot open")
	}
	return sealed[2+int(sealed[1]):], nil
}

func (g *generations) rotate() { g.mu.Lock(); g.newest++; g.mu.Unlock() }

func (g *generations) retireAllButNewest() { g.mu.Lock(); g.retired = g.newest - 1; g.mu.Unlock() }

// walk runs the register's SealedData from the start to the end of its walk, limit employees a batch.
func walk(t *testing.T, data ports.SealedData, limit int, stale func([]byte) bool) ports.ResealBatch {
	t.Helper()
	var all ports.ResealBatch
	after := ""
	for {
		b, err := data.ResealBatch(ctx, after, limit, stale)
		if err != nil {
			t.Fatal(err)
		}
		all.Resealed += b.Resealed
		all.Failures = append(all.Failures, b.Failures...)
		if b.Next == "" {
			return all
		}
		after = b.Next
	}
}

// TestResealAfterRotation: after a key rotation, the register's SealedData brings every sealed value
// (current records, history, scheduled changes, dependents, across tenants) under the newest key, so that
// retiring the old key loses nothing; an employee already under it is not written; a value that does not
// open is reported and passed by.
func TestResealAfterRotation(t *testing.T) {
	t.Parallel()
	clock := kernel.NewFakeClock(start)
	store := memory.New()
	keys := &generations{newest: 1}
	svc, err := employees.New(employees.Deps{Employees: store, Departments: store, Accounts: store, Outbox: store, Jobs: store,
		Tx: store, Cipher: keys, Audit: audit.New(store, clock), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	admins := []ports.Principal{member("t1", ports.RoleAdmin), member("t2", ports.RoleAdmin)}
	var ids []string
	for _, p := range admins {
		for _, n := range []string{"E1", "E2", "E3"} {
			emp, err := svc.CreateEmployee(ctx, p, ports.EmployeeInput{Fields: fields(n)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, emp.ID)
			if n == "E1" {
				// History: a past change and a scheduled one, both with My Number; and a dependent's My Number.
				for _, eff := range []string{"2025-10-01", "2026-05-01"} {
					if _, err := svc.UpdateEmployee(ctx, p, emp.ID, ports.EmployeeInput{EffectiveOn: eff,
						Fields: map[string]string{"my_number": "983205673214", "bank_account.account_number": "7654321"}}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := svc.AddDependent(ctx, p, emp.ID, ports.DependentInput{Fields: map[string]string{
					"relationship": "配偶者", "family_name": "山田", "given_name": "花子", "birth_date": "1992-03-03",
					"my_number": "871924658348"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	keys.rotate()
	fresh, err := svc.CreateEmployee(ctx, admins[1], ports.EmployeeInput{Fields: fields("E4")}) // under the newest
	if err != nil {
		t.Fatal(err)
	}
	stale := func(b []byte) bool { return len(b) == 0 || b[0] < keys.newest }
	data := svc.SealedData()
	before, err := data.CountSealed(ctx, stale)
	if err != nil || before < 6*5 {
		t.Fatalf("CountSealed before = %d, %v", before, err)
	}
	keys.retireAllButNewest() // without the job, retiring the old key loses the data
	if _, err := svc.GetEmployee(ctx, admins[0], ids[0], ""); err == nil {
		t.Fatal("the old key was not needed: the test proves nothing")
	}
	keys.retired = 0
	if got := walk(t, data, 2, stale); got.Resealed != before || len(got.Failures) != 0 {
		t.Fatalf("walk: %+v, want %d re-sealed", got, before)
	}
	if after, err := data.CountSealed(ctx, stale); err != nil || after != 0 {
		t.Fatalf("CountSealed after = %d, %v", after, err)
	}
	if rec, _ := store.EmployeeByID(ctx, "t2", fresh.ID); rec.Version != 1 {
		t.Errorf("an employee with nothing to re-seal was written: version %d", rec.Version)
	}
	keys.retireAllButNewest()
	for i, id := range ids {
		p := admins[i/3]
		for _, asOf := range []string{"2025-04-01", "2025-12-01", "", "2026-06-01"} {
			if _, err := svc.GetEmployee(ctx, p, id, asOf); err != nil {
				t.Fatalf("employee %d as of %q after retiring the old key: %v", i, asOf, err)
			}
		}
		if _, err := svc.RevealMyNumber(ctx, p, id, "", employees.PurposeTax); err != nil {
			t.Fatalf("reveal %d: %v", i, err)
		}
	}
	// The scheduled change still opens when its day comes.
	clock.Set(start.AddDate(0, 1, 5))
	if _, err := svc.ApplyDueChanges(ctx); err != nil {
		t.Fatalf("applying the re-sealed scheduled change: %v", err)
	}
	if got, err := svc.RevealMyNumber(ctx, admins[0], ids[0], "", employees.PurposeTax); err != nil || got != "983205673214" {
		t.Fatalf("after the scheduled change: %q %v", got, err)
	}

	// Another rotation, with the key everything is under lost: each employee is reported, none written.
	keys.rotate()
	keys.retireAllButNewest()
	got := walk(t, data, 2, stale)
	if len(got.Failures) != len(ids)+1 || got.Resealed != 0 {
		t.Fatalf("walk with values that do not open: %+v", got)
	}
	for _, f := range got.Failures {
		if !strings.HasPrefix(f.Record, "t1/") && !strings.HasPrefix(f.Record, "t2/") || !strings.Contains(f.Reason, "cannot open") {
			t.Errorf("failure %+v", f)
		}
	}
	if rec, _ := store.EmployeeByID(ctx, "t2", fresh.ID); rec.Version != 1 {
		t.Errorf("an employee whose values do not open was written: version %d", rec.Version)
	}
}
