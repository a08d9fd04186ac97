package web

import (
	"time"

	"github.com/roumu/roumu/ports"
)

// A procedure's JSON: the members CONTRACT.md "Core resources" fixes (id, type, employee_id, status,
// fact_date, due_date, office, prepared_by, approved_by, history), and what the module adds: the type's
// names, the deadline with the rule that produced it, the arrival number of an electronic filing, the
// snapshot of the employee the filing reports, the version (also the ETag) and the timestamps.

type procedureTransitionJSON struct {
	From    string `json:"from"`
	To      string `json:"to"`
	By      string `json:"by"`
	At      string `json:"at"`
	Comment string `json:"comment"`
}

type procedureDeadlineJSON struct {
	LegalDate string `json:"legal_date"`
	DueDate   string `json:"due_date"`
	Moved     bool   `json:"moved"`
	RuleJA    string `json:"rule_ja"`
	RuleEN    string `json:"rule_en"`
}

type procedureJSON struct {
	ID            string                    `json:"id"`
	Type          string                    `json:"type"`
	NameJA        string                    `json:"name_ja"`
	NameEN        string                    `json:"name_en"`
	EmployeeID    string                    `json:"employee_id"`
	Status        string                    `json:"status"`
	FactDate      string                    `json:"fact_date"`
	DueDate       string                    `json:"due_date"`
	Deadline      procedureDeadlineJSON     `json:"deadline"`
	Office        string                    `json:"office"`
	PreparedBy    string                    `json:"prepared_by"`
	ApprovedBy    string                    `json:"approved_by"`
	ArrivalNumber string                    `json:"arrival_number"`
	Fields        map[string]string         `json:"fields"`
	History       []procedureTransitionJSON `json:"history"`
	Version       int64                     `json:"version"`
	CreatedAt     *string                   `json:"created_at"`
	UpdatedAt     *string                   `json:"updated_at"`
}

func toProcedureJSON(p ports.Procedure) procedureJSON {
	out := procedureJSON{
		ID: p.ID, Type: p.Type, NameJA: p.NameJA, NameEN: p.NameEN, EmployeeID: p.EmployeeID, Status: p.Status,
		FactDate: p.FactDate, DueDate: p.DueDate, Deadline: procedureDeadlineJSON(p.Deadline), Office: p.Office,
		PreparedBy: p.PreparedBy, ApprovedBy: p.ApprovedBy, ArrivalNumber: p.ArrivalNumber, Fields: p.Fields,
		History: make([]procedureTransitionJSON, 0, len(p.History)), Version: p.Version,
		CreatedAt: rfc3339(p.CreatedAt), UpdatedAt: rfc3339(p.UpdatedAt),
	}
	if out.Fields == nil {
		out.Fields = map[string]string{}
	}
	for _, h := range p.History {
		out.History = append(out.History, procedureTransitionJSON{From: h.From, To: h.To, By: h.By,
			At: h.At.UTC().Format(time.RFC3339), Comment: h.Comment})
	}
	return out
}

// procedureDashboardJSON is the open procedures by urgency, each list by due date.
type procedureDashboardJSON struct {
	Today       string          `json:"today"`
	Overdue     []procedureJSON `json:"overdue"`
	DueToday    []procedureJSON `json:"due_today"`
	DueThisWeek []procedureJSON `json:"due_this_week"`
}

type procedureTypeJSON struct {
	Type           string   `json:"type"`
	NameJA         string   `json:"name_ja"`
	NameEN         string   `json:"name_en"`
	Office         string   `json:"office"`
	Trigger        string   `json:"trigger"`
	RuleJA         string   `json:"rule_ja"`
	RuleEN         string   `json:"rule_en"`
	RequiredFields []string `json:"required_fields"`
}

func toProcedureTypeJSON(t ports.ProcedureType) procedureTypeJSON {
	out := procedureTypeJSON(t)
	if out.RequiredFields == nil {
		out.RequiredFields = []string{}
	}
	return out
}
