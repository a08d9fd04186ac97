package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// procedure is a procedure as the API shows it.
type procedure struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	NameJA     string `json:"name_ja"`
	NameEN     string `json:"name_en"`
	EmployeeID string `json:"employee_id"`
	Status     string `json:"status"`
	FactDate   string `json:"fact_date"`
	DueDate    string `json:"due_date"`
	Deadline   struct {
		LegalDate string `json:"legal_date"`
		DueDate   string `json:"due_date"`
		Moved     bool   `json:"moved"`
		RuleJA    string `json:"rule_ja"`
		RuleEN    string `json:"rule_en"`
	} `json:"deadline"`
	Office        string            `json:"office"`
	PreparedBy    string            `json:"prepared_by"`
	ApprovedBy    string            `json:"approved_by"`
	ArrivalNumber string            `json:"arrival_number"`
	Fields        map[string]string `json:"fields"`
	History       []struct {
		From    string `json:"from"`
		To      string `json:"to"`
		By      string `json:"by"`
		At      string `json:"at"`
		Comment string `json:"comment"`
	} `json:"history"`
	Version   int64  `json:"version"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type procedurePage struct {
	Items      []procedure `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

type procedureDashboard struct {
	Today       string      `json:"today"`
	Overdue     []procedure `json:"overdue"`
	DueToday    []procedure `json:"due_today"`
	DueThisWeek []procedure `json:"due_this_week"`
}

// consume runs the procedures' outbox consumer once, as the periodic job of roumu serve does, and returns
// how many events it handled.
func (a *app) consume() int {
	a.t.Helper()
	n, err := a.env.Procedures.ConsumeEvents(a.t.Context())
	if err != nil {
		a.t.Fatalf("ConsumeEvents: %v", err)
	}
	return n
}

// hire creates an employee through the API and runs the consumer, which turns the hire into procedures.
func (a *app) hire(token, number, hireDate string) employee {
	a.t.Helper()
	e := a.createEmployee(token, number, map[string]any{"hire_date": hireDate})
	if n := a.consume(); n < 1 {
		a.t.Fatalf("the consumer handled %d events after hiring %s", n, number)
	}
	return e
}

// listProcedures lists with a raw query string.
func (a *app) listProcedures(token, query string) procedurePage {
	a.t.Helper()
	var page procedurePage
	wantJSON(a.t, a.api(http.MethodGet, "/api/v1/procedures?"+query, token, ""), http.StatusOK, &page)
	return page
}

// employeeProcedures lists an employee's procedures by type.
func (a *app) employeeProcedures(token, employeeID string) map[string]procedure {
	a.t.Helper()
	out := map[string]procedure{}
	for _, p := range a.listProcedures(token, "employee_id="+employeeID).Items {
		if _, twice := out[p.Type]; twice {
			a.t.Fatalf("two %s procedures for employee %s", p.Type, employeeID)
		}
		out[p.Type] = p
	}
	return out
}

// getProcedure reads a procedure and checks its ETag.
func (a *app) getProcedure(token, id string) procedure {
	a.t.Helper()
	var p procedure
	res := a.api(http.MethodGet, "/api/v1/procedures/"+id, token, "")
	wantJSON(a.t, res, http.StatusOK, &p)
	if tag := res.header.Get("ETag"); tag != fmt.Sprintf(`"%d"`, p.Version) {
		a.t.Fatalf("ETag %q for version %d", tag, p.Version)
	}
	return p
}

// act applies a workflow action through the API and expects it to succeed.
func (a *app) act(token, id, action, comment string) procedure {
	a.t.Helper()
	var p procedure
	wantJSON(a.t, a.tryAct(token, id, action, comment), http.StatusOK, &p)
	return p
}

// tryAct applies a workflow action through the API, whatever its outcome.
func (a *app) tryAct(token, id, action, comment string) response {
	a.t.Helper()
	body := ""
	if comment != "" {
		body = jsonBody(a.t, map[string]string{"comment": comment})
	}
	return a.api(http.MethodPost, "/api/v1/procedures/"+id+"/"+action, token, body)
}

// procedureAudit returns the audit trail of one procedure as action:outcome:actor, in order.
func (a *app) procedureAudit(id string) []string {
	a.t.Helper()
	recs, err := a.env.Store.ListAudit(a.t.Context(), ports.AuditFilter{})
	if err != nil {
		a.t.Fatalf("audit: %v", err)
	}
	var out []string
	for _, r := range recs {
		if r.Event.Target == "procedure:"+id {
			out = append(out, r.Event.Action+":"+r.Event.Outcome+":"+r.Event.ActorID)
		}
	}
	return out
}

// ids returns the IDs of ps.
func ids(ps []procedure) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// sortedByDue tells whether ps are in deadline order.
func sortedByDue(ps []procedure) bool {
	return slices.IsSortedFunc(ps, func(x, y procedure) int { return strings.Compare(x.DueDate, y.DueDate) })
}
