package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// These tests cover the harness's own logic and are fast; the load itself runs only through `make load`.

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond,
		99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(lat, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
}

func TestExpectedLockout(t *testing.T) {
	t.Parallel()
	const ok, bad, locked = http.StatusOK, http.StatusUnauthorized, http.StatusLocked
	for _, c := range []struct {
		name       string
		real       bool
		attempts   string // r: right password, w: wrong
		want       []int
		wantLocked bool
		wantHashed int
	}{
		{"four typos and a success never lock", true, "wwwwrwwwwr", []int{bad, bad, bad, bad, ok, bad, bad, bad, bad, ok}, false, 10},
		{"the fifth failure locks and answers 423", true, "wwwwwr", []int{bad, bad, bad, bad, locked, locked}, true, 5},
		{"an unknown login locks alike, right or wrong", false, "wrwrwrw", []int{bad, bad, bad, bad, locked, locked, locked}, true, 5},
	} {
		id := identifier{real: c.real}
		for _, a := range c.attempts {
			id.attempts = append(id.attempts, a == 'r')
		}
		got, isLocked, hashed := id.expected()
		if !slices.Equal(got, c.want) || isLocked != c.wantLocked || hashed != c.wantHashed {
			t.Errorf("%s: got %v locked=%v hashed=%d, want %v locked=%v hashed=%d", c.name, got, isLocked, hashed,
				c.want, c.wantLocked, c.wantHashed)
		}
	}
}

func TestPlanStormSpreadsEveryAttempt(t *testing.T) {
	t.Parallel()
	tenants := []*tenantData{{code: "a", stormLogins: []string{"s1", "s2", "s3"}}, {code: "b", stormLogins: []string{"s1"}}}
	ids := planStorm(tenants, 1001, 2, 1)
	total, legitLocked, stuffingIPs := 0, 0, map[string]bool{}
	for _, id := range ids {
		total += len(id.attempts)
		_, locked, _ := id.expected()
		if !id.attacker && locked {
			legitLocked++
		}
		if id.attacker {
			stuffingIPs[id.ip] = true
		}
	}
	if len(ids) != 8 || total != 1001 {
		t.Fatalf("%d identifiers, %d attempts; want 8 and 1001", len(ids), total)
	}
	if legitLocked != 0 {
		t.Errorf("%d people who only mistype were planned into a lockout", legitLocked)
	}
	if len(stuffingIPs) > 2 {
		t.Errorf("stuffing from %d addresses, want at most 2", len(stuffingIPs))
	}
}

// TestEmployeeCSVImports runs a slice of the seeded register through the real import, so that a change of the
// register's rules shows here rather than minutes into `make load`.
func TestEmployeeCSVImports(t *testing.T) {
	t.Parallel()
	svc := testenv.New(t).Employees
	admin := ports.Principal{AccountID: kernel.NewID(), TenantID: "t1", TenantCode: "t1", Kind: ports.KindMember,
		Login: "admin", Stage: ports.StageFull, Roles: []string{ports.RoleAdmin}}
	const n = 400
	res, err := svc.ImportEmployees(context.Background(), admin, ports.ImportRequest{CSV: bytes.NewReader(employeeCSV(3, n))}, nil)
	if err != nil || res.Created != n || len(res.Errors) > 0 {
		t.Fatalf("import: %d created, errors %v, %v", res.Created, res.Errors[:min(3, len(res.Errors))], err)
	}
	page, err := svc.ListEmployees(context.Background(), admin, ports.EmployeeFilter{Query: "佐藤", Limit: 50})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("search 佐藤: %d items, %v", len(page.Items), err)
	}
}

func TestListStatementMatchesTheStore(t *testing.T) {
	t.Parallel()
	q := listQuery{values: map[string][]string{"q": {"E00_1"}, "employment_type": {"contract"}, "limit": {"50"}}}
	sql, args := listStatement("tenant", q)
	want := `SELECT * FROM "employees" WHERE tenant_id = $1 AND search_text LIKE $2 ESCAPE '\' AND employment_type IN ($3) ORDER BY employee_number,id LIMIT 51`
	if sql != want {
		t.Errorf("sql:\n%s\nwant\n%s", sql, want)
	}
	// The search key is the register's normal form (lower case), with LIKE's wildcards escaped.
	if !slices.Equal(args, []any{"tenant", `%e00\_1%`, "contract"}) {
		t.Errorf("args = %q", args)
	}
}

func TestMixFlag(t *testing.T) {
	t.Parallel()
	var m mixWeights
	if err := m.Set("list=3, detail=2,update=0"); err != nil || m.String() != "list=3,detail=2" {
		t.Errorf("Set: %v, %q", err, m.String())
	}
	for _, bad := range []string{"list", "list=x", "approve=1", "list=0"} {
		if err := m.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
