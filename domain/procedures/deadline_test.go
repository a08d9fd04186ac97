package procedures

import (
	"slices"
	"testing"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/ports"
)

// TestDeadlines: each rule of the catalogue on the calendar, at the awkward places: a hire on a Friday (the
// days are calendar days, not business days), before Golden Week, on 12/28 (into the year-end closure and
// past 成人の日), at month and year ends, and a leap February.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	hp, _ := kindOf(ports.ProcedureHealthPensionAcquisition)
	ei, _ := kindOf(ports.ProcedureEmploymentInsuranceAcquisition)
	eiLoss, _ := kindOf(ports.ProcedureEmploymentInsuranceLoss)
	annual, _ := kindOf(ports.ProcedureAnnualRemunerationReport)
	summer, err := calendar.New(date(t, "2026-08-13"), date(t, "2026-08-14"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		rule       deadlineRule
		cal        calendar.Calendar
		fact       string
		legal, due string
	}{
		{"hire on a Friday: 5 calendar days, a Wednesday", hp.Deadline, calendar.Calendar{}, "2026-04-03", "2026-04-08", "2026-04-08"},
		{"hire on a Friday: the 10th of next month is a Sunday", ei.Deadline, calendar.Calendar{}, "2026-04-03", "2026-05-10", "2026-05-11"},
		{"hire on a Monday: day 5 is a Saturday", hp.Deadline, calendar.Calendar{}, "2026-04-06", "2026-04-11", "2026-04-13"},
		{"hire before Golden Week: 5/3 Sunday, 5/4, 5/5 and 振替休日 5/6", hp.Deadline, calendar.Calendar{}, "2026-04-28", "2026-05-03", "2026-05-07"},
		{"hire before a Monday holiday", hp.Deadline, calendar.Calendar{}, "2026-09-16", "2026-09-21", "2026-09-24"}, // 敬老の日, 国民の休日, 秋分の日
		{"hire on 12/28: day 5 is 1/2 in the closure", hp.Deadline, calendar.Calendar{}, "2026-12-28", "2027-01-02", "2027-01-04"},
		{"hire on 12/28: 1/10 is a Sunday, 1/11 成人の日", ei.Deadline, calendar.Calendar{}, "2026-12-28", "2027-01-10", "2027-01-12"},
		{"hire on 12/28 of 2025: day 5 is Friday 1/2", hp.Deadline, calendar.Calendar{}, "2025-12-28", "2026-01-02", "2026-01-05"},
		{"hire at month end", hp.Deadline, calendar.Calendar{}, "2026-01-31", "2026-02-05", "2026-02-05"},
		{"hire at month end: next month's 10th", ei.Deadline, calendar.Calendar{}, "2026-01-31", "2026-02-10", "2026-02-10"},
		{"hire on 12/31: the 10th of January", ei.Deadline, calendar.Calendar{}, "2026-12-31", "2027-01-10", "2027-01-12"},
		{"hire on a leap day", hp.Deadline, calendar.Calendar{}, "2028-02-29", "2028-03-05", "2028-03-06"},
		{"loss on 4/1 after a March 31 separation: 10 days", eiLoss.Deadline, calendar.Calendar{}, "2026-04-01", "2026-04-11", "2026-04-13"},
		{"annual report: 7/10 of 2026 is a Friday", annual.Deadline, calendar.Calendar{}, "2026-07-01", "2026-07-10", "2026-07-10"},
		{"annual report: 7/10 of 2027 is a Saturday", annual.Deadline, calendar.Calendar{}, "2027-07-01", "2027-07-10", "2027-07-12"},
		{"a configured closure day moves it too", hp.Deadline, summer, "2026-08-08", "2026-08-13", "2026-08-17"},
	} {
		got, err := c.rule.deadline(c.cal, date(t, c.fact))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.LegalDate != c.legal || got.DueDate != c.due || got.Moved != (c.legal != c.due) {
			t.Errorf("%s: fact %s → legal %s due %s (moved %v), want %s and %s", c.name, c.fact, got.LegalDate, got.DueDate, got.Moved, c.legal, c.due)
		}
		if got.RuleJA == "" || got.RuleEN == "" {
			t.Errorf("%s: the rule is not shown in both languages: %+v", c.name, got)
		}
	}
	if _, err := hp.Deadline.deadline(calendar.Calendar{}, date(t, "2099-12-31")); err == nil {
		t.Error("a deadline past the calendar's years is not an error")
	}
}

// TestCatalogue: every CONTRACT.md type is in the catalogue with an office, a trigger, a rule in both
// languages and the fields it needs, and the triggers map events to the filings of DOMAIN.md.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	types := []string{ports.ProcedureHealthPensionAcquisition, ports.ProcedureHealthPensionLoss,
		ports.ProcedureEmploymentInsuranceAcquisition, ports.ProcedureEmploymentInsuranceLoss, ports.ProcedureDependentChange,
		ports.ProcedureAnnualRemunerationReport, ports.ProcedureMonthlyRemunerationChange, ports.ProcedureBonusPaymentReport,
		ports.ProcedureAddressChange, ports.ProcedureNameChange}
	if len(catalogue) != len(types) {
		t.Errorf("catalogue has %d types, want %d", len(catalogue), len(types))
	}
	for _, typ := range types {
		k, ok := kindOf(typ)
		if !ok {
			t.Errorf("%s is not in the catalogue", typ)
			continue
		}
		if k.NameJA == "" || k.NameEN == "" || k.Office == "" || len(k.Triggers) == 0 || k.Deadline.JA == "" || len(k.Required) == 0 {
			t.Errorf("%s is incomplete: %+v", typ, k)
		}
		for _, f := range k.Required {
			if !slices.Contains(snapshotFields, f) {
				t.Errorf("%s requires %s, which is not a snapshot field", typ, f)
			}
		}
	}
	for event, want := range map[string][]string{
		EventHired:            {ports.ProcedureHealthPensionAcquisition, ports.ProcedureEmploymentInsuranceAcquisition},
		EventSeparated:        {ports.ProcedureHealthPensionLoss, ports.ProcedureEmploymentInsuranceLoss},
		EventDependentAdded:   {ports.ProcedureDependentChange},
		EventDependentRemoved: {ports.ProcedureDependentChange},
		EventChanged:          nil,
	} {
		var got []string
		for _, k := range kindsTriggeredBy(event) {
			got = append(got, k.Type)
		}
		if len(got) != len(want) || (len(want) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Errorf("%s triggers %v, want %v", event, got, want)
		}
	}
}

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
