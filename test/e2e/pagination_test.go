package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Cursor pagination while the list grows: a walk through every page, in each order the API offers, while
// another client hires employees, sees every record that existed when it started exactly once, and never one
// twice. The hires land before and after the walk's cursor, and on ties of every sort key (updated_at
// included: the fake clock stands still), so the cursor's tie-break is what keeps the walk stable.

// kanas and hireDates are few, so that many employees share a sort key.
var (
	kanas     = []string{"アオキ", "イトウ", "ウエダ", "エンドウ", "オカダ"}
	hireDates = []string{"2026-03-02", "2026-03-16", "2026-03-25", "2026-04-01"}
)

// existingEmployees are created before the walks; concurrentHiresPerWalk are hired during each walk.
const (
	existingEmployees      = 30
	concurrentHiresPerWalk = 20
)

// paginationEmployee is the i-th employee created before the walks: numbers E00000, E01000, … leave room
// between them for the concurrent hires.
func paginationEmployee(i int) map[string]any {
	return newEmployeeBody(fmt.Sprintf("E%02d000", i), map[string]any{
		"family_name_kana": kanas[i%len(kanas)], "hire_date": hireDates[i%len(hireDates)]})
}

// concurrentEmployee is the i-th concurrent hire: its number falls between those of the employees created
// before, its reading and hire date among theirs.
func concurrentEmployee(i int) map[string]any {
	return newEmployeeBody(fmt.Sprintf("E%02d%03d", i*7%existingEmployees, 1+i/existingEmployees), map[string]any{
		"family_name_kana": kanas[i*3%len(kanas)], "hire_date": hireDates[(i+1)%len(hireDates)]})
}

// concurrentHires hires employees through the API from its own goroutine, as a second client would, a
// number of them or until stopped. After each hire it runs consume, when given (the procedures' consumer).
type concurrentHires struct {
	hired chan struct{} // ticked after each hire when someone waits; closed when the goroutine ends
	stop  chan struct{}
	done  chan error
}

// hireConcurrently starts hiring the concurrent employees from the first'th on, concurrentHiresPerWalk of them.
func (a *app) hireConcurrently(token string, first int, consume func(context.Context) (int, error)) *concurrentHires {
	h := &concurrentHires{hired: make(chan struct{}), stop: make(chan struct{}), done: make(chan error, 1)}
	ctx, client, url := a.t.Context(), a.client, a.base+"/api/v1/employees"
	go func() {
		defer close(h.hired)
		h.done <- func() error {
			for i := first; i < first+concurrentHiresPerWalk; i++ {
				select {
				case <-h.stop:
					return nil
				default:
				}
				body, _ := json.Marshal(concurrentEmployee(i))
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					return fmt.Errorf("hire %d: status %d", i, res.StatusCode)
				}
				if consume != nil {
					if _, err := consume(ctx); err != nil {
						return err
					}
				}
				select {
				case h.hired <- struct{}{}:
				default:
				}
			}
			return nil
		}()
	}()
	return h
}

// wait returns after the next hire (or when hiring has ended), so that each page sees a list that grew.
func (h *concurrentHires) wait() { <-h.hired }

// finish stops the hires and fails the test if one failed.
func (h *concurrentHires) finish(t *testing.T) {
	t.Helper()
	close(h.stop)
	if err := <-h.done; err != nil {
		t.Fatalf("concurrent hires: %v", err)
	}
}

// walkPages reads every page of path (a list with its query, limit included), calling between after each
// page but the last, and returns the items in the order read.
func walkPages[T any](a *app, token, path string, between func()) []T {
	a.t.Helper()
	var all []T
	for next := ""; ; {
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		wantJSON(a.t, a.api(http.MethodGet, path+next, token, ""), http.StatusOK, &page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		if between != nil {
			between()
		}
		next = "&cursor=" + *page.NextCursor
	}
}

// wantSeenOnce fails unless walked, the IDs a walk read, holds no ID twice and every ID of before.
func wantSeenOnce(t *testing.T, walked, before []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range walked {
		if seen[id] {
			t.Fatalf("%s read twice", id)
		}
		seen[id] = true
	}
	for _, id := range before {
		if !seen[id] {
			t.Fatalf("%s, listed before the walk, was not read (%d read, %d before)", id, len(walked), len(before))
		}
	}
	if len(walked) <= len(before) {
		t.Logf("no concurrent hire landed after the cursor (%d read, %d before)", len(walked), len(before))
	}
}

// inKeysetOrder tells whether items are in the order of a keyset list: by key, then by ID.
func inKeysetOrder[T any](items []T, key, id func(T) string) bool {
	return slices.IsSortedFunc(items, func(x, y T) int {
		return strings.Compare(key(x)+"\x00"+id(x), key(y)+"\x00"+id(y))
	})
}

func employeeIDs(es []employee) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// TestPaginationStableUnderConcurrentInserts walks the employees and the procedures in each of their
// orders (the defaults included), four a page, while another client hires.
func TestPaginationStableUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	for i := range existingEmployees {
		wantJSON(t, a.api(http.MethodPost, "/api/v1/employees", admin, jsonBody(t, paginationEmployee(i))), http.StatusCreated, nil)
	}
	hired := 0 // the concurrent hires go on numbering across the walks

	// Each order's key, for checking that a walk reads in order; the ID breaks ties.
	orders := []struct {
		sort string
		key  func(employee) string
	}{
		{"", func(e employee) string { return e.EmployeeNumber }},
		{"employee_number", func(e employee) string { return e.EmployeeNumber }},
		{"kana", func(e employee) string { return e.FamilyNameKana }}, // every given name reads タロウ
		{"hire_date", func(e employee) string { return e.HireDate }},
		{"updated_at", func(e employee) string { return e.UpdatedAt }},
	}
	for _, o := range orders {
		path := "/api/v1/employees?limit=4"
		if o.sort != "" {
			path += "&sort=" + o.sort
		}
		before := employeeIDs(walkPages[employee](a, admin, path, nil))
		hires := a.hireConcurrently(admin, hired, nil)
		walked := walkPages[employee](a, admin, path, hires.wait)
		hires.finish(t)
		hired += concurrentHiresPerWalk
		wantSeenOnce(t, employeeIDs(walked), before)
		if !inKeysetOrder(walked, o.key, func(e employee) string { return e.ID }) {
			t.Fatalf("sort=%s: the walk is out of order", o.sort)
		}
	}

	// Procedures, in each of their orders: the hires so far made theirs; the concurrent ones make more while
	// the walk reads (created_at and updated_at tie on the still clock, as employees' updated_at does).
	if _, err := a.env.Procedures.ConsumeEvents(t.Context()); err != nil {
		t.Fatal(err)
	}
	procedureOrders := []struct {
		sort string
		key  func(procedure) string
	}{
		{"", func(p procedure) string { return p.DueDate }},
		{"due_date", func(p procedure) string { return p.DueDate }},
		{"created_at", func(p procedure) string { return p.CreatedAt }},
		{"updated_at", func(p procedure) string { return p.UpdatedAt }},
	}
	for _, o := range procedureOrders {
		path := "/api/v1/procedures?limit=4"
		if o.sort != "" {
			path += "&sort=" + o.sort
		}
		before := walkPages[procedure](a, admin, path, nil)
		hires := a.hireConcurrently(admin, hired, a.env.Procedures.ConsumeEvents)
		walked := walkPages[procedure](a, admin, path, hires.wait)
		hires.finish(t)
		hired += concurrentHiresPerWalk
		wantSeenOnce(t, ids(walked), ids(before))
		if ordered := inKeysetOrder(walked, o.key, func(p procedure) string { return p.ID }); len(before) < 2*existingEmployees || !ordered {
			t.Fatalf("sort=%s: %d procedures before the walk, in order: %v", o.sort, len(before), ordered)
		}
	}
}
