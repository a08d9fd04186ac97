package employees_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

func TestCreateAndView(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E001", "family_name_kana", "ﾔﾏﾀﾞ", "given_name_kana", "たろう", "gender", "男",
		"employment_type", "正社員", "monthly_pay.cash", "３００，０００", "monthly_pay.in_kind", "20,000")
	want := ports.Employee{EmployeeNumber: "E001", FamilyName: "山田", GivenName: "太郎", FamilyNameKana: "ヤマダ",
		GivenNameKana: "タロウ", Gender: "male", EmploymentType: "regular", Status: "active", HireDate: "2025-04-01",
		BirthDate: "1990-05-15", MonthlyPay: ports.MonthlyPay{Cash: 300000, InKind: 20000},
		HealthGrade: 23, PensionGrade: 20, StandardMonthlyRemuneration: 320000,
		BasicPensionNumber: "1234-567890", EmploymentInsuranceNumber: "1234-567890-1", HealthInsuranceNumber: "123",
		MyNumberMasked: "********9018", Version: 1, AsOf: "2026-04-01",
		BankAccount: ports.BankAccount{BankCode: "0005", BranchCode: "001", AccountType: "ordinary",
			AccountNumber: "1234567", HolderKana: "ヤマダ タロウ"}}
	got := emp
	got.ID, got.CreatedAt, got.UpdatedAt, got.Email, got.Phone, got.Address, got.Position, got.Dependents =
		"", time.Time{}, time.Time{}, "", "", ports.Address{}, "", nil
	if !jsonEqual(got, want) {
		t.Fatalf("created:\n%+v\nwant\n%+v", got, want)
	}
	if emp.Address != (ports.Address{PostalCode: "100-0001", Prefecture: "東京都", City: "千代田区", Street: "千代田1-1"}) {
		t.Errorf("address %+v", emp.Address)
	}
	if again := e.get(t, emp.ID, ""); !jsonEqual(again, emp) {
		t.Errorf("get after create:\n%+v\nwant\n%+v", again, emp)
	}
	if evs := e.events(t, "employee.hired"); len(evs) != 1 || evs[0].SubjectID != emp.ID || evs[0].TenantID != "t1" {
		t.Errorf("hired events %+v", evs)
	}
	if a := e.audits(t, "employee.create"); len(a) != 1 || a[0].Event.Target != "employee:"+emp.ID {
		t.Errorf("audit %+v", a)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestCreateReportsEveryInvalidField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := fields("E 1", "family_name_kana", "山田", "birth_date", "1990-02-30", "my_number", "123456789017",
		"email", "taro", "phone", "123", "address.postal_code", "12345", "monthly_pay.cash", "-5",
		"gender", "other", "no_such", "x", "given_name", "")
	_, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: in})
	want := []string{"employee_number:employee_number", "given_name:required", "family_name_kana:katakana",
		"birth_date:date", "gender:gender", "email:email", "phone:phone", "address.postal_code:postal_code",
		"monthly_pay.cash:yen", "my_number:my_number_check_digit", "no_such:unknown_field"}
	if got := fieldCodes(t, err); !slices.Equal(got, want) {
		t.Fatalf("errors %v\nwant   %v", got, want)
	}
	missing := map[string]string{"employee_number": "E1"}
	_, err = e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: missing})
	if got := fieldCodes(t, err); len(got) != 7 {
		t.Fatalf("missing required fields: %v", got)
	}
	// A value that does not parse and the fields left out come in one answer, so a form shows them together.
	missing["birth_date"] = "1990-02-30"
	_, err = e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: missing})
	if got := fieldCodes(t, err); len(got) != 7 || !slices.Contains(got, "birth_date:date") || !slices.Contains(got, "hire_date:required") {
		t.Fatalf("a bad value with missing fields: %v", got)
	}
	if evs := e.events(t); len(evs) != 0 {
		t.Fatalf("a refused create wrote events: %v", evs)
	}
}

func TestCrossFieldRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"birth_date", "2026-04-02", "hire_date", "2026-04-03"}, "birth_date:birth_date_in_future"},
		{[]string{"hire_date", "1990-05-15"}, "hire_date:hire_before_birth"},
		{[]string{"separation_date", "2025-03-31"}, "separation_date:separation_before_hire"},
		{[]string{"status", "separated"}, "separation_date:required"},
		{[]string{"status", "active", "separation_date", "2026-03-31"}, "status:separation_requires_separated"},
	} {
		_, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields("E1", tc.set...)})
		if got := fieldCodes(t, err); !slices.Contains(got, tc.want) {
			t.Errorf("%v: %v, want %s", tc.set, got, tc.want)
		}
	}
	// A separation date on its own separates the employee.
	emp := e.create(t, "E2")
	emp = e.update(t, emp.ID, "", "separation_date", "2026-03-31", "separation_reason", "自己都合")
	if emp.Status != ports.EmployeeSeparated || emp.SeparationDate != "2026-03-31" {
		t.Fatalf("after a separation date: %s %s", emp.Status, emp.SeparationDate)
	}
	evs := e.events(t, "employee.separated")
	if len(evs) != 1 || !strings.Contains(string(evs[0].Payload), `"separation_date":"2026-03-31"`) {
		t.Fatalf("separated events %+v", evs)
	}
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	if h[0].Kind != "separation" {
		t.Errorf("history kind %q", h[0].Kind)
	}
}

func TestPastDatedChangesInsertIntoHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1") // hired 2025-04-01
	e.update(t, emp.ID, "2026-01-01", "position", "課長")
	// Recorded later but dated earlier: shows from its day on, until a later change of the same field.
	e.update(t, emp.ID, "2025-10-01", "position", "係長", "address.city", "港区")
	for _, tc := range []struct{ day, position, city string }{
		{"2025-04-01", "主任", "千代田区"},
		{"2025-09-30", "主任", "千代田区"},
		{"2025-10-01", "係長", "港区"},
		{"2025-12-31", "係長", "港区"},
		{"2026-01-01", "課長", "港区"},
		{"", "課長", "港区"},
		{"2024-01-01", "主任", "千代田区"}, // before the hire: the employee as hired
	} {
		got := e.get(t, emp.ID, tc.day)
		if got.Position != tc.position || got.Address.City != tc.city {
			t.Errorf("as of %q: %s %s, want %s %s", tc.day, got.Position, got.Address.City, tc.position, tc.city)
		}
	}
	h, err := e.svc.History(ctx, e.admin, emp.ID)
	if err != nil || len(h) != 3 {
		t.Fatalf("history %+v %v", h, err)
	}
	if h[0].EffectiveOn != "2026-01-01" || h[1].EffectiveOn != "2025-10-01" || h[2].Kind != "hire" {
		t.Errorf("history order %v %v %v", h[0].EffectiveOn, h[1].EffectiveOn, h[2].EffectiveOn)
	}
	// The trail compares with the state just before the change's day.
	if want := []ports.FieldChange{{Field: "address.city", From: "千代田区", To: "港区"}, {Field: "position", From: "主任", To: "係長"}}; !jsonEqual(sortChanges(h[1].Changes), want) {
		t.Errorf("trail %+v", h[1].Changes)
	}
	// A past-dated change may not make a later state invalid.
	e.update(t, emp.ID, "", "separation_date", "2026-03-31")
	_, err = e.svc.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{EffectiveOn: "2025-06-01",
		Fields: map[string]string{"hire_date": "2026-04-01"}})
	if got := fieldCodes(t, err); !slices.Equal(got, []string{"separation_date:separation_before_hire"}) {
		t.Errorf("a past change that breaks a later state: %v", got)
	}
	_, err = e.svc.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{EffectiveOn: "2025-03-31",
		Fields: map[string]string{"position": "x"}})
	if got := fieldCodes(t, err); !slices.Equal(got, []string{"effective_on:before_first_change"}) {
		t.Errorf("before the hire: %v", got)
	}
}

func sortChanges(c []ports.FieldChange) []ports.FieldChange {
	slices.SortFunc(c, func(a, b ports.FieldChange) int { return strings.Compare(a.Field, b.Field) })
	return c
}

func TestScheduledChangesApplyOnTheirDay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	got := e.update(t, emp.ID, "2026-05-01", "position", "部長", "monthly_pay.cash", "700000")
	if got.Position != "主任" || got.Version != 2 {
		t.Fatalf("scheduled change visible now: %s v%d", got.Position, got.Version)
	}
	rec, _ := e.store.EmployeeByID(ctx, "t1", emp.ID)
	if rec.NextChangeOn != "2026-05-01" {
		t.Fatalf("NextChangeOn %q", rec.NextChangeOn)
	}
	if g := e.get(t, emp.ID, "2026-05-01"); g.Position != "部長" || g.HealthGrade != 37 || g.PensionGrade != 32 {
		t.Errorf("as of 2026-05-01: %s health %d pension %d", g.Position, g.HealthGrade, g.PensionGrade)
	}
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	if !h[0].Scheduled || h[1].Scheduled {
		t.Errorf("scheduled flags %v %v", h[0].Scheduled, h[1].Scheduled)
	}
	if n, err := e.svc.ApplyDueChanges(ctx); n != 0 || err != nil {
		t.Fatalf("ApplyDueChanges before the day: %d %v", n, err)
	}

	e.clock.Set(time.Date(2026, 5, 1, 0, 0, 1, 0, time.FixedZone("JST", 9*3600)))
	if g := e.get(t, emp.ID, ""); g.Position != "部長" {
		t.Errorf("on the day, before the job: %s", g.Position)
	}
	page, _ := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	if page.Items[0].Position != "主任" {
		t.Errorf("list before the job: %s", page.Items[0].Position)
	}
	if n, err := e.svc.ApplyDueChanges(ctx); n != 1 || err != nil {
		t.Fatalf("ApplyDueChanges on the day: %d %v", n, err)
	}
	page, _ = e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	if page.Items[0].Position != "部長" || page.Items[0].StandardMonthlyRemuneration != 710000 {
		t.Errorf("list after the job: %+v", page.Items[0])
	}
	rec, _ = e.store.EmployeeByID(ctx, "t1", emp.ID)
	if rec.NextChangeOn != "" || rec.EffectiveOn != "2026-05-01" {
		t.Errorf("record after the job: next %q effective %q", rec.NextChangeOn, rec.EffectiveOn)
	}
	if n, _ := e.svc.ApplyDueChanges(ctx); n != 0 {
		t.Errorf("second run applied %d", n)
	}
}

func TestEditAndCancelScheduledChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	e.update(t, emp.ID, "2026-06-01", "position", "部長")
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	id := h[0].ID

	got, err := e.svc.UpdateScheduledChange(ctx, e.admin, emp.ID, id, ports.EmployeeInput{
		Fields: map[string]string{"position": "次長"}, EffectiveOn: "2026-07-01"})
	if err != nil || got.Position != "主任" {
		t.Fatalf("edit: %v %s", err, got.Position)
	}
	h, _ = e.svc.History(ctx, e.admin, emp.ID)
	if len(h) != 2 || h[0].EffectiveOn != "2026-07-01" || h[0].Changes[0].To != "次長" || h[0].ID == id {
		t.Fatalf("history after edit %+v", h)
	}
	if g := e.get(t, emp.ID, "2026-06-15"); g.Position != "主任" {
		t.Errorf("old date still applies: %s", g.Position)
	}
	if g := e.get(t, emp.ID, "2026-07-01"); g.Position != "次長" {
		t.Errorf("new date: %s", g.Position)
	}
	if _, err := e.svc.CancelScheduledChange(ctx, e.admin, emp.ID, id, 0); code(err) != "change_not_found" {
		t.Errorf("cancel the replaced change: %v", err)
	}
	got, err = e.svc.CancelScheduledChange(ctx, e.admin, emp.ID, h[0].ID, got.Version)
	if err != nil {
		t.Fatal(err)
	}
	if g := e.get(t, emp.ID, "2026-08-01"); g.Position != "主任" {
		t.Errorf("after cancel: %s", g.Position)
	}
	if rec, _ := e.store.EmployeeByID(ctx, "t1", emp.ID); rec.NextChangeOn != "" {
		t.Errorf("NextChangeOn after cancel %q", rec.NextChangeOn)
	}
	// A change in effect cannot be edited or cancelled.
	h, _ = e.svc.History(ctx, e.admin, emp.ID)
	if _, err := e.svc.CancelScheduledChange(ctx, e.admin, emp.ID, h[0].ID, 0); !errors.Is(err, ports.ErrConflict) || code(err) != "change_in_effect" {
		t.Errorf("cancel the hire: %v", err)
	}
	if _, err := e.svc.UpdateScheduledChange(ctx, e.hr, emp.ID, h[0].ID, ports.EmployeeInput{
		Fields: map[string]string{"position": "x"}}); code(err) != "change_in_effect" {
		t.Errorf("edit the hire: %v", err)
	}
	if _, err := e.svc.CancelScheduledChange(ctx, e.admin, emp.ID, h[0].ID, got.Version-1); code(err) != "stale_version" {
		t.Errorf("stale cancel: %v", err)
	}
}

func TestFutureHireIsInTheRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E9", "hire_date", "2026-05-01")
	if emp.HireDate != "2026-05-01" || emp.AsOf != "2026-05-01" {
		t.Fatalf("future hire: %+v", emp)
	}
	if evs := e.events(t, "employee.hired"); len(evs) != 1 || !strings.Contains(string(evs[0].Payload), `"scheduled":false`) {
		t.Errorf("hired event %s", evs[0].Payload)
	}
	// A change dated before the hire, but after today, still follows the hire.
	got := e.update(t, emp.ID, "", "position", "新人")
	if got.Position != "新人" {
		t.Errorf("change of a future hire: %s", got.Position)
	}
}

func TestOptimisticLocking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	if _, err := e.svc.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{IfVersion: emp.Version + 1,
		Fields: map[string]string{"position": "x"}}); !errors.Is(err, ports.ErrPreconditionFailed) || code(err) != "stale_version" {
		t.Fatalf("wrong version: %v", err)
	}
	for round := range 20 {
		cur := e.get(t, emp.ID, "")
		errs := make(chan error, 2)
		for i := range 2 {
			go func() {
				_, err := e.svc.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{IfVersion: cur.Version,
					Fields: map[string]string{"position": strings.Repeat("長", round+1) + string(rune('A'+i))}})
				errs <- err
			}()
		}
		var ok, stale int
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				ok++
			case code(err) == "stale_version":
				stale++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || stale != 1 {
			t.Fatalf("round %d: %d succeeded, %d stale", round, ok, stale)
		}
		if after := e.get(t, emp.ID, ""); after.Version != cur.Version+1 || !strings.HasPrefix(after.Position, strings.Repeat("長", round+1)) {
			t.Fatalf("round %d: version %d position %s", round, after.Version, after.Position)
		}
	}
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	if len(h) != 21 {
		t.Fatalf("history has %d changes, want 21: a lost or extra write", len(h))
	}
}

func TestNoOpUpdateStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	got := e.update(t, emp.ID, "", "position", "主任", "my_number", "1234 5678 9018", "family_name", "山田")
	if got.Version != emp.Version {
		t.Fatalf("a no-op update spent a version: %d → %d", emp.Version, got.Version)
	}
	if evs := e.events(t, "employee.changed"); len(evs) != 0 {
		t.Fatalf("a no-op update wrote events")
	}
}

func TestEventsNameFieldsNeverSensitiveValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	e.update(t, emp.ID, "", "my_number", "983205673214", "basic_pension_number", "9999-888888", "position", "課長")
	evs := e.events(t, "employee.changed")
	if len(evs) != 1 {
		t.Fatalf("changed events %d", len(evs))
	}
	var payload struct {
		Fields      []string `json:"fields"`
		EffectiveOn string   `json:"effective_on"`
		Scheduled   bool     `json:"scheduled"`
	}
	if err := json.Unmarshal(evs[0].Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(payload.Fields, []string{"position", "basic_pension_number", "my_number"}) || payload.EffectiveOn != "2026-04-01" {
		t.Errorf("payload %s", evs[0].Payload)
	}
	for _, ev := range e.events(t) {
		for _, secret := range []string{"983205673214", "123456789018", "888888", "567890"} {
			if strings.Contains(string(ev.Payload), secret) {
				t.Errorf("event %s holds %s: %s", ev.Type, secret, ev.Payload)
			}
		}
	}
	h, _ := e.svc.History(ctx, e.admin, emp.ID)
	for _, c := range h[0].Changes {
		if c.Field == "my_number" && (c.From != "********9018" || c.To != "********3214") {
			t.Errorf("trail of my_number %+v", c)
		}
	}
}

func TestDeleteEmployee(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	if err := e.svc.DeleteEmployee(ctx, e.hr, emp.ID, emp.Version+1); code(err) != "stale_version" {
		t.Fatalf("stale delete: %v", err)
	}
	if err := e.svc.DeleteEmployee(ctx, e.other, emp.ID, 0); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("another tenant's delete: %v", err)
	}
	if err := e.svc.DeleteEmployee(ctx, e.hr, emp.ID, emp.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetEmployee(ctx, e.admin, emp.ID, ""); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if len(e.audits(t, "employee.delete")) != 1 || len(e.events(t, "employee.deleted")) != 1 {
		t.Error("delete not audited or not announced")
	}
	e.create(t, "E1") // the number is free again
}

func TestEmployeeNumberIsUniquePerTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(t, "E1")
	b := e.create(t, "E2")
	if _, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields("E1")}); code(err) != "employee_number_taken" {
		t.Fatalf("second E1: %v", err)
	}
	if _, err := e.svc.UpdateEmployee(ctx, e.admin, b.ID, ports.EmployeeInput{Fields: map[string]string{"employee_number": "E1"}}); code(err) != "employee_number_taken" {
		t.Fatalf("renumber to E1: %v", err)
	}
	if _, err := e.svc.CreateEmployee(ctx, e.other, ports.EmployeeInput{Fields: fields("E1")}); err != nil {
		t.Fatalf("E1 in another tenant: %v", err)
	}
	_ = a
}

// TestSkipWebhooksMarksEvents: a write made with skip_webhooks=true marks its events for webhooks to pass by;
// other writes leave them unmarked.
func TestSkipWebhooksMarksEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields("E1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateEmployee(ports.WithSkipWebhooks(ctx), e.admin, ports.EmployeeInput{Fields: fields("E2")}); err != nil {
		t.Fatal(err)
	}
	evs := e.events(t, "employee.hired")
	if len(evs) != 2 {
		t.Fatalf("%d hire events", len(evs))
	}
	for i, ev := range evs {
		marked := strings.Contains(string(ev.Payload), `"`+ports.OutboxSkipWebhooks+`":true`)
		if marked != (i == 1) {
			t.Errorf("event %d (%s) marked=%v", i, ev.Payload, marked)
		}
	}
}
