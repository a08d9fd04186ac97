package e2e

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// registerState is what another tenant's requests must leave untouched: the employee as its own admin reads
// it (with dependents), its history, the departments and the job.
type registerState struct {
	Employee    string
	History     string
	Departments string
	Job         string
}

func (a *app) registerState(token, employeeID, jobID string) registerState {
	a.t.Helper()
	get := func(path string) string {
		res := a.api(http.MethodGet, path, token, "")
		if res.status != http.StatusOK {
			a.t.Fatalf("GET %s: %s", path, res)
		}
		return string(res.body)
	}
	return registerState{Employee: get("/api/v1/employees/" + employeeID), History: get("/api/v1/employees/" + employeeID + "/history"),
		Departments: get("/api/v1/departments"), Job: get("/api/v1/jobs/" + jobID)}
}

// TestEmployeeTenantIsolation has tenant A's admin try every register route on tenant B's employee,
// dependent, scheduled change, department and job: each answer must be the very 404 an ID that exists
// nowhere gets, A's lists never show B's data, and B is left as it was.
func TestEmployeeTenantIsolation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, adminA := a.tenant("alpha")
	a.createEmployee(adminA, "A001", nil)
	_, adminB := a.tenant("beta")

	var dept struct{ ID string }
	wantJSON(t, a.api(http.MethodPost, "/api/v1/departments", adminB, `{"code":"HR","name":"人事部"}`), http.StatusCreated, &dept)
	emp := a.createEmployee(adminB, "B001", map[string]any{"department_id": dept.ID})
	var withDep employee
	wantJSON(t, a.api(http.MethodPost, "/api/v1/employees/"+emp.ID+"/dependents", adminB,
		`{"relationship":"child","family_name":"鈴木","given_name":"一郎","birth_date":"2015-01-01","my_number":"983205673214"}`),
		http.StatusCreated, &withDep)
	depID := withDep.Dependents[0].ID
	_, tag := a.getEmployee(adminB, emp.ID)
	wantJSON(t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+emp.ID, adminB, `{"position":"部長","effective_on":"2027-04-01"}`,
		"If-Match", tag), http.StatusOK, nil)
	var hist struct{ Items []struct{ ID string } }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/employees/"+emp.ID+"/history", adminB, ""), http.StatusOK, &hist)
	changeID := hist.Items[0].ID
	res := a.importCSV(adminB, "", "text/csv", strings.NewReader(csvRows(1, 12000)))
	var queued job
	wantJSON(t, res, http.StatusAccepted, &queued)
	a.waitJob(adminB, res.header.Get("Location"))

	before := a.registerState(adminB, emp.ID, queued.ID)
	const nowhere = "0195f3c2-0000-7000-8000-000000000000"
	routes := []struct {
		method, path, body string // path with {e} employee, {d} dependent, {c} change, {p} department, {j} job
	}{
		{http.MethodGet, "/api/v1/employees/{e}", ""},
		{http.MethodGet, "/api/v1/employees/{e}?as_of=2027-05-01", ""},
		{http.MethodPatch, "/api/v1/employees/{e}", `{"family_name":"乗っ取り"}`},
		{http.MethodDelete, "/api/v1/employees/{e}", ""},
		{http.MethodGet, "/api/v1/employees/{e}/history", ""},
		{http.MethodPatch, "/api/v1/employees/{e}/changes/{c}", `{"position":"社長"}`},
		{http.MethodDelete, "/api/v1/employees/{e}/changes/{c}", ""},
		{http.MethodPost, "/api/v1/employees/{e}/my-number/reveal", `{"purpose":"tax"}`},
		{http.MethodPost, "/api/v1/employees/{e}/dependents", `{"relationship":"child","family_name":"偽","given_name":"子","birth_date":"2015-01-01"}`},
		{http.MethodPatch, "/api/v1/employees/{e}/dependents/{d}", `{"living_together":false}`},
		{http.MethodDelete, "/api/v1/employees/{e}/dependents/{d}", ""},
		{http.MethodPost, "/api/v1/employees/{e}/dependents/{d}/my-number/reveal", `{"purpose":"tax"}`},
		{http.MethodGet, "/api/v1/departments/{p}", ""},
		{http.MethodPatch, "/api/v1/departments/{p}", `{"name":"乗っ取り"}`},
		{http.MethodDelete, "/api/v1/departments/{p}", ""},
		{http.MethodGet, "/api/v1/jobs/{j}", ""},
	}
	fill := func(path, e, d, c, p, j string) string {
		return strings.NewReplacer("{e}", e, "{d}", d, "{c}", c, "{p}", p, "{j}", j).Replace(path)
	}
	for _, r := range routes {
		want := a.withHeaders(r.method, fill(r.path, nowhere, nowhere, nowhere, nowhere, nowhere), adminA, r.body, "If-Match", `"1"`)
		wantBody := withoutRequestID(t, want.body, wantProblem(t, want, http.StatusNotFound, want404Code(t, want)).RequestID)
		got := a.withHeaders(r.method, fill(r.path, emp.ID, depID, changeID, dept.ID, queued.ID), adminA, r.body, "If-Match", `"1"`)
		if got.status != http.StatusNotFound {
			t.Errorf("%s %s of tenant B: %d %s", r.method, r.path, got.status, got)
			continue
		}
		p, err := decodeProblem(got)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		if body := withoutRequestID(t, got.body, p.RequestID); !bytes.Equal(body, wantBody) {
			t.Errorf("%s %s of tenant B answered\n%s\nunlike an unknown ID\n%s", r.method, r.path, body, wantBody)
		}
	}

	for _, e := range a.listEmployees(adminA, "limit=200").Items {
		if e.ID == emp.ID || e.EmployeeNumber == "B001" || strings.HasPrefix(e.EmployeeNumber, "C") {
			t.Errorf("tenant A lists tenant B's employee %+v", e)
		}
	}
	if n := len(a.listEmployees(adminA, "q=B001").Items); n != 0 {
		t.Errorf("tenant A finds tenant B's employee by number")
	}
	var deps struct{ Items []struct{ ID string } }
	wantJSON(t, a.api(http.MethodGet, "/api/v1/departments", adminA, ""), http.StatusOK, &deps)
	if len(deps.Items) != 0 {
		t.Errorf("tenant A lists departments %+v", deps.Items)
	}
	export := a.send(http.MethodGet, "/api/v1/employees/export.csv", nil, http.Header{"Authorization": {"Bearer " + adminA}})
	if export.status != http.StatusOK || bytes.Contains(export.body, []byte("B001")) || bytes.Contains(export.body, []byte("C000001")) {
		t.Errorf("tenant A's export: %d, holds B's data: %v", export.status, bytes.Contains(export.body, []byte("B001")))
	}

	if after := a.registerState(adminB, emp.ID, queued.ID); !reflect.DeepEqual(before, after) {
		t.Fatalf("tenant B changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// want404Code is the code of a 404 problem, whichever the module chose for the kind of thing not found.
func want404Code(t *testing.T, res response) string {
	t.Helper()
	p, err := decodeProblem(res)
	if err != nil || res.status != http.StatusNotFound {
		t.Fatalf("want a 404 problem: %v %s", err, res)
	}
	return p.Code
}

// TestEmployeeRoleSeesOnlyOwnRecord: an employee account reads and changes the contact fields of the record
// linked to it, finds it at /api/v1/me/employee, and gets 404 for every other record and 403 for the
// register's management routes.
func TestEmployeeRoleSeesOnlyOwnRecord(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	acct := a.createAccount(admin, "tanaka", "田中 花子", "employee")
	self := a.activate("acme", acct).Token

	wantProblem(t, a.api(http.MethodGet, "/api/v1/me/employee", self, ""), http.StatusNotFound, "not_found")
	own := a.createEmployee(admin, "S001", map[string]any{"family_name": "田中", "given_name": "花子", "account_id": acct.ID})
	other := a.createEmployee(admin, "S002", nil)

	var mine employee
	res := a.api(http.MethodGet, "/api/v1/me/employee", self, "")
	wantJSON(t, res, http.StatusOK, &mine)
	if mine.ID != own.ID || mine.AccountID != acct.ID || res.header.Get("ETag") == "" {
		t.Fatalf("own record %+v", mine)
	}
	_, tag := a.getEmployee(self, own.ID)
	wantJSON(t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+own.ID, self, `{"email":"hanako@example.jp","address":{"city":"港区"}}`,
		"If-Match", tag), http.StatusOK, &mine)
	if mine.Email != "hanako@example.jp" {
		t.Fatalf("own contact change: %+v", mine)
	}
	_, tag = a.getEmployee(self, own.ID)
	wantProblem(t, a.withHeaders(http.MethodPatch, "/api/v1/employees/"+own.ID, self, `{"monthly_pay":{"cash":999999}}`,
		"If-Match", tag), http.StatusForbidden, "forbidden")
	wantJSON(t, a.api(http.MethodPost, "/api/v1/employees/"+own.ID+"/dependents", self,
		`{"relationship":"child","family_name":"田中","given_name":"太郎","birth_date":"2018-05-05"}`), http.StatusCreated, nil)

	otherPath := "/api/v1/employees/" + other.ID
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, otherPath, ""},
		{http.MethodGet, otherPath + "/history", ""},
		{http.MethodPatch, otherPath, `{"email":"x@example.jp"}`},
		{http.MethodPost, otherPath + "/dependents", `{"relationship":"child","family_name":"偽","given_name":"子","birth_date":"2015-01-01"}`},
	} {
		if res := a.withHeaders(r.method, r.path, self, r.body, "If-Match", `"1"`); res.status != http.StatusNotFound {
			t.Errorf("employee %s %s: %s, want 404", r.method, r.path, res)
		}
	}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/employees", ""},
		{http.MethodPost, "/api/v1/employees", jsonBody(t, newEmployeeBody("S003", nil))},
		{http.MethodDelete, "/api/v1/employees/" + own.ID, ""},
		{http.MethodPost, "/api/v1/employees/" + own.ID + "/my-number/reveal", `{"purpose":"tax"}`},
		{http.MethodPost, "/api/v1/departments", `{"code":"X","name":"X"}`},
		{http.MethodGet, "/api/v1/employees/export.csv", ""},
		{http.MethodGet, "/api/v1/jobs/" + own.ID, ""},
	} {
		res := a.withHeaders(r.method, r.path, self, r.body, "If-Match", `"1"`)
		if res.status != http.StatusForbidden && res.status != http.StatusNotFound {
			t.Errorf("employee %s %s: %s, want 403 or 404", r.method, r.path, res)
		}
	}
	wantProblem(t, a.importCSV(self, "", "text/csv", strings.NewReader(csvRows(1, 1))), http.StatusForbidden, "forbidden")

	// The refused reveal is in the audit log too.
	recs, err := a.env.Store.ListAudit(t.Context(), ports.AuditFilter{Action: "employee.my_number.reveal"})
	if err != nil || len(recs) != 1 || recs[0].Event.Outcome != ports.OutcomeDenied {
		t.Fatalf("reveal audit %+v %v", recs, err)
	}
	// The admin has no linked record.
	wantProblem(t, a.api(http.MethodGet, "/api/v1/me/employee", admin, ""), http.StatusNotFound, "not_found")
}
