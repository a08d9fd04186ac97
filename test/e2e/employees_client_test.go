package e2e

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"
)

// employee is an employee as the API shows it (the members the tests look at).
type employee struct {
	ID             string `json:"id"`
	EmployeeNumber string `json:"employee_number"`
	FamilyName     string `json:"family_name"`
	GivenName      string `json:"given_name"`
	FamilyNameKana string `json:"family_name_kana"`
	BirthDate      string `json:"birth_date"`
	Gender         string `json:"gender"`
	Email          string `json:"email"`
	Address        struct {
		PostalCode string `json:"postal_code"`
		Prefecture string `json:"prefecture"`
		City       string `json:"city"`
	} `json:"address"`
	HireDate       string `json:"hire_date"`
	Status         string `json:"status"`
	EmploymentType string `json:"employment_type"`
	DepartmentID   string `json:"department_id"`
	AccountID      string `json:"account_id"`
	MonthlyPay     struct {
		Cash   int64 `json:"cash"`
		InKind int64 `json:"in_kind"`
	} `json:"monthly_pay"`
	MyNumber       *string `json:"my_number"` // write-only: must never appear
	MyNumberMasked string  `json:"my_number_masked"`
	Dependents     []struct {
		ID             string `json:"id"`
		Relationship   string `json:"relationship"`
		FamilyName     string `json:"family_name"`
		MyNumberMasked string `json:"my_number_masked"`
		LivingTogether bool   `json:"living_together"`
	} `json:"dependents"`
	AsOf      string `json:"as_of"`
	Version   int64  `json:"version"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type employeePage struct {
	Items      []employee `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type importResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	Errors  []struct {
		Row       int    `json:"row"`
		Column    string `json:"column"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageEN string `json:"message_en"`
	} `json:"errors"`
}

type job struct {
	ID     string        `json:"id"`
	Kind   string        `json:"kind"`
	Status string        `json:"status"`
	Done   int           `json:"done"`
	Total  int           `json:"total"`
	Result *importResult `json:"result"`
}

// newEmployeeBody is a valid new employee in the API's shape, with top-level overrides.
func newEmployeeBody(number string, set map[string]any) map[string]any {
	b := map[string]any{
		"employee_number": number, "family_name": "山田", "given_name": "太郎",
		"family_name_kana": "ヤマダ", "given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male",
		"email": "taro." + strings.ToLower(number) + "@example.jp", "phone": "03-1234-5678",
		"address":   map[string]any{"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "street": "千代田1-1"},
		"hire_date": "2025-04-01", "employment_type": "regular", "position": "主任",
		"monthly_pay": map[string]any{"cash": 300000, "in_kind": 0},
		"my_number":   "123456789018",
	}
	maps.Copy(b, set)
	return b
}

// createEmployee creates an employee through the API and checks the 201's Location and ETag.
func (a *app) createEmployee(token, number string, set map[string]any) employee {
	a.t.Helper()
	var e employee
	res := a.api(http.MethodPost, "/api/v1/employees", token, jsonBody(a.t, newEmployeeBody(number, set)))
	wantJSON(a.t, res, http.StatusCreated, &e)
	if e.ID == "" || e.EmployeeNumber != number || e.Version < 1 {
		a.t.Fatalf("created %+v", e)
	}
	if loc := res.header.Get("Location"); loc != "/api/v1/employees/"+e.ID {
		a.t.Fatalf("Location %q", loc)
	}
	if tag := res.header.Get("ETag"); tag != fmt.Sprintf(`"%d"`, e.Version) {
		a.t.Fatalf("ETag %q for version %d", tag, e.Version)
	}
	return e
}

// getEmployee reads an employee and its ETag.
func (a *app) getEmployee(token, id string) (employee, string) {
	a.t.Helper()
	var e employee
	res := a.api(http.MethodGet, "/api/v1/employees/"+id, token, "")
	wantJSON(a.t, res, http.StatusOK, &e)
	return e, res.header.Get("ETag")
}

// listEmployees lists with a raw query string.
func (a *app) listEmployees(token, query string) employeePage {
	a.t.Helper()
	var p employeePage
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/employees?"+query, token, ""), http.StatusOK, &p)
	return p
}

// withHeaders sends a JSON request with extra headers.
func (a *app) withHeaders(method, path, token, body string, kv ...string) response {
	a.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
		h.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return a.send(method, path, r, h)
}

// importCSV posts a CSV body to the import endpoint.
func (a *app) importCSV(token, query, contentType string, body io.Reader) response {
	a.t.Helper()
	return a.send(http.MethodPost, "/api/v1/employees/import"+query, body,
		http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {contentType}})
}

// waitJob polls a job until it ends (bounded, so that a stuck job fails the test).
func (a *app) waitJob(token, location string) job {
	a.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j job
		wantJSON(a.t, a.api(http.MethodGet, location, token, ""), http.StatusOK, &j)
		if j.Status == "succeeded" || j.Status == "failed" {
			return j
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("job %s still %s after 60s (%d/%d)", j.ID, j.Status, j.Done, j.Total)
		}
		time.Sleep(20 * time.Millisecond) // real time: the job runs in the server's goroutine
	}
}

// csvRows is a CSV file with the Japanese header and n valid rows numbered from first.
func csvRows(first, n int) string {
	var b strings.Builder
	b.WriteString("社員番号,姓,名,セイ,メイ,生年月日,性別,入社日,雇用形態,メールアドレス\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "C%06d,佐藤,花子,サトウ,ハナコ,1988-02-%02d,女,2024-04-01,正社員,hanako%d@example.jp\n", i, 1+i%28, i)
	}
	return b.String()
}
