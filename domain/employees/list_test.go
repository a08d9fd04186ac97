package employees_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/roumu/roumu/ports"
)

func TestDependents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	got, err := e.svc.AddDependent(ctx, e.admin, emp.ID, ports.DependentInput{EffectiveOn: "2025-06-01", Fields: map[string]string{
		"relationship": "妻", "family_name": "山田", "given_name": "花子", "family_name_kana": "やまだ",
		"given_name_kana": "ﾊﾅｺ", "birth_date": "1992/3/3", "gender": "女", "annual_income": "1,000,000", "living_together": "同居"}})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Dependents[0]
	want := ports.Dependent{ID: d.ID, Relationship: "spouse", FamilyName: "山田", GivenName: "花子", FamilyNameKana: "ヤマダ",
		GivenNameKana: "ハナコ", BirthDate: "1992-03-03", Gender: "female", AnnualIncome: 1000000, LivingTogether: true}
	if d != want {
		t.Fatalf("dependent %+v\nwant %+v", d, want)
	}
	if _, err := e.svc.AddDependent(ctx, e.admin, emp.ID, ports.DependentInput{Fields: map[string]string{
		"relationship": "猫", "birth_date": "2030-01-01"}}); !slices.Equal(fieldCodes(t, err), []string{"relationship:relationship", "family_name:required", "given_name:required"}) {
		t.Errorf("invalid dependent: %v", fieldCodes(t, err))
	}
	got, err = e.svc.UpdateDependent(ctx, e.admin, emp.ID, d.ID, ports.DependentInput{Fields: map[string]string{
		"annual_income": "1300000", "living_together": "別居"}, IfVersion: got.Version})
	if err != nil || got.Dependents[0].AnnualIncome != 1300000 || got.Dependents[0].LivingTogether || got.Dependents[0].GivenName != "花子" {
		t.Fatalf("update dependent: %+v %v", got.Dependents, err)
	}
	if _, err := e.svc.UpdateDependent(ctx, e.admin, emp.ID, "nosuch", ports.DependentInput{Fields: map[string]string{"given_name": "x"}}); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unknown dependent: %v", err)
	}
	got, err = e.svc.RemoveDependent(ctx, e.admin, emp.ID, d.ID, ports.DependentInput{EffectiveOn: "2026-06-30"})
	if err != nil || len(got.Dependents) != 1 {
		t.Fatalf("scheduled removal: %+v %v", got.Dependents, err)
	}
	for day, n := range map[string]int{"2025-05-31": 0, "2025-06-01": 1, "2026-06-29": 1, "2026-06-30": 0} {
		if g := e.get(t, emp.ID, day); len(g.Dependents) != n {
			t.Errorf("as of %s: %d dependents, want %d", day, len(g.Dependents), n)
		}
	}
	added, removed := e.events(t, "dependent.added"), e.events(t, "dependent.removed")
	if len(added) != 1 || len(removed) != 1 {
		t.Fatalf("events: %d added, %d removed", len(added), len(removed))
	}
	var p struct {
		DependentID string `json:"dependent_id"`
		Scheduled   bool   `json:"scheduled"`
	}
	_ = json.Unmarshal(removed[0].Payload, &p)
	if p.DependentID != d.ID || !p.Scheduled {
		t.Errorf("removed payload %s", removed[0].Payload)
	}
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	kinds := []string{}
	for _, c := range h {
		kinds = append(kinds, c.Kind)
	}
	if !slices.Equal(kinds, []string{"dependent_removed", "dependent_changed", "dependent_added", "hire"}) {
		t.Errorf("history kinds %v", kinds)
	}
}

func TestListSearchFilterSortAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dept, _ := e.svc.CreateDepartment(ctx, e.admin, deptInput("DEV", "開発部", ""))
	e.create(t, "E003", "family_name", "佐藤", "given_name", "花子", "family_name_kana", "サトウ", "given_name_kana", "ハナコ",
		"hire_date", "2020-04-01", "department_code", "DEV", "employment_type", "パート")
	e.create(t, "E001", "family_name", "鈴木", "given_name", "一郎", "family_name_kana", "スズキ", "given_name_kana", "イチロウ",
		"business_name", "Ichiro Suzuki", "hire_date", "2021-04-01")
	e.create(t, "E002", "family_name", "髙橋", "given_name", "健", "family_name_kana", "タカハシ", "given_name_kana", "ケン",
		"hire_date", "2022-04-01", "department_code", "DEV", "status", "on_leave")
	e.create(t, "E004", "family_name", "阿部", "given_name", "進", "family_name_kana", "アベ", "given_name_kana", "ススム",
		"hire_date", "2023-04-01", "email", "abe@Example.JP")

	numbers := func(f ports.EmployeeFilter) []string {
		t.Helper()
		page, err := e.svc.ListEmployees(ctx, e.admin, f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		var out []string
		for _, it := range page.Items {
			out = append(out, it.EmployeeNumber)
		}
		return out
	}
	for _, tc := range []struct {
		f    ports.EmployeeFilter
		want []string
	}{
		{ports.EmployeeFilter{}, []string{"E001", "E002", "E003", "E004"}},
		{ports.EmployeeFilter{Query: "さとう"}, []string{"E003"}},
		{ports.EmployeeFilter{Query: "ｻﾄｳ ﾊﾅｺ"}, []string{"E003"}},
		{ports.EmployeeFilter{Query: "佐藤　花子"}, []string{"E003"}},
		{ports.EmployeeFilter{Query: "花"}, []string{"E003"}},
		{ports.EmployeeFilter{Query: "ichiro"}, []string{"E001"}},
		{ports.EmployeeFilter{Query: "ＡＢＥ@example"}, []string{"E004"}},
		{ports.EmployeeFilter{Query: "e00"}, []string{"E001", "E002", "E003", "E004"}},
		{ports.EmployeeFilter{Query: "髙"}, []string{"E002"}},
		{ports.EmployeeFilter{EmployeeNumber: "Ｅ００２"}, []string{"E002"}},
		{ports.EmployeeFilter{Statuses: []string{"休職"}}, []string{"E002"}},
		{ports.EmployeeFilter{EmploymentTypes: []string{"part_time"}}, []string{"E003"}},
		{ports.EmployeeFilter{DepartmentIDs: []string{dept.ID}}, []string{"E002", "E003"}},
		{ports.EmployeeFilter{HiredFrom: "2021-04-01", HiredTo: "2022/4/1"}, []string{"E001", "E002"}},
		{ports.EmployeeFilter{Sort: "kana"}, []string{"E004", "E003", "E001", "E002"}},
		{ports.EmployeeFilter{Sort: "hire_date"}, []string{"E003", "E001", "E002", "E004"}},
	} {
		if got := numbers(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}

	// Pages of two, in every sort, add up to the whole list, and a change between pages does not repeat rows.
	for _, sort := range []string{"", "kana", "hire_date", "updated_at"} {
		all := numbers(ports.EmployeeFilter{Sort: sort})
		var seen []string
		f := ports.EmployeeFilter{Sort: sort, Limit: 2}
		for pages := 0; ; pages++ {
			page, err := e.svc.ListEmployees(ctx, e.admin, f)
			if err != nil || pages > 3 {
				t.Fatalf("sort %q page %d: %v", sort, pages, err)
			}
			for _, it := range page.Items {
				seen = append(seen, it.EmployeeNumber)
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		if !slices.Equal(seen, all) {
			t.Errorf("sort %q: pages %v, want %v", sort, seen, all)
		}
	}

	page, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{Limit: 1})
	for _, tc := range []struct {
		f    ports.EmployeeFilter
		code string
	}{
		{ports.EmployeeFilter{Cursor: "not a cursor"}, "invalid_cursor"},
		{ports.EmployeeFilter{Cursor: "eyJzIjoiZW1wbG95ZWVfbnVtYmVyIn0"}, "invalid_cursor"}, // no ID
		{ports.EmployeeFilter{Cursor: page.NextCursor, Sort: "kana"}, "invalid_cursor"},     // another sort's cursor
		{ports.EmployeeFilter{Sort: "salary"}, "validation_failed"},
		{ports.EmployeeFilter{Limit: -1}, "validation_failed"},
		{ports.EmployeeFilter{Statuses: []string{"retired"}}, "validation_failed"},
		{ports.EmployeeFilter{HiredFrom: "yesterday"}, "validation_failed"},
	} {
		_, err := e.svc.ListEmployees(ctx, e.admin, tc.f)
		if code(err) != tc.code || !errors.Is(err, ports.ErrInvalid) {
			t.Errorf("%+v: %v, want %s", tc.f, err, tc.code)
		}
	}
}

func TestListLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 205 {
		e.create(t, fmt.Sprintf("E%03d", i))
	}
	for _, tc := range []struct{ limit, want int }{{0, 50}, {10, 10}, {200, 200}, {500, 200}} {
		page, err := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{Limit: tc.limit})
		if err != nil || len(page.Items) != tc.want || page.NextCursor == "" {
			t.Errorf("limit %d: %d items, cursor %q, %v", tc.limit, len(page.Items), page.NextCursor, err)
		}
	}
}
