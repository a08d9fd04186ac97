package employees_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roumu/roumu/ports"
)

// storedBytes returns every byte the register stores about an employee: the record's Data, each change's
// Patch and Trail, the outbox payloads and the audit details.
func (e *env) storedBytes(t *testing.T, tenant, id string) [][]byte {
	t.Helper()
	rec, err := e.store.EmployeeByID(ctx, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{rec.Data, []byte(rec.SearchText), []byte(rec.SortKana)}
	changes, err := e.store.EmployeeChanges(ctx, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		out = append(out, c.Patch, c.Trail)
	}
	for _, ev := range e.events(t) {
		out = append(out, ev.Payload)
	}
	audits, _ := e.store.ListAudit(ctx, ports.AuditFilter{})
	for _, a := range audits {
		b, _ := json.Marshal(a.Event)
		out = append(out, b)
	}
	return out
}

func TestStoredBytesNeverHoldPlainSensitiveValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	e.update(t, emp.ID, "2026-05-01", "my_number", "983205673214") // scheduled: in a patch only
	if _, err := e.svc.AddDependent(ctx, e.admin, emp.ID, ports.DependentInput{Fields: map[string]string{
		"relationship": "配偶者", "family_name": "山田", "given_name": "花子", "birth_date": "1992-03-03",
		"my_number": "871924658348"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.svc.RevealMyNumber(ctx, e.admin, emp.ID, "", "tax"); n != "123456789018" {
		t.Fatalf("reveal: %q", n)
	}
	secrets := []string{"123456789018", "983205673214", "871924658348", "1234-567890", "567890", "1234567"}
	for _, b := range e.storedBytes(t, "t1", emp.ID) {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("stored bytes hold %q: %.200s", s, b)
			}
		}
	}
}

// sealedField returns the sealed bytes of a field from the record's Data.
func (e *env) sealedField(t *testing.T, id, field string) []byte {
	t.Helper()
	rec, _ := e.store.EmployeeByID(ctx, "t1", id)
	var data map[string]any
	if err := json.Unmarshal(rec.Data, &data); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(data[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.create(t, "E1")
	key, err := e.keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := e.create(t, "E2", "my_number", "983205673214")
	keyID := func(id string) uint32 { return binary.BigEndian.Uint32(e.sealedField(t, id, "my_number")[1:5]) }
	if keyID(old.ID) != key.ID-1 || keyID(fresh.ID) != key.ID {
		t.Fatalf("key ids %d %d, want %d %d", keyID(old.ID), keyID(fresh.ID), key.ID-1, key.ID)
	}
	for id, want := range map[string]string{old.ID: "123456789018", fresh.ID: "983205673214"} {
		if n, err := e.svc.RevealMyNumber(ctx, e.hr, id, "", "social_insurance"); err != nil || n != want {
			t.Errorf("reveal after rotation: %q %v", n, err)
		}
	}
	if got := e.get(t, old.ID, ""); got.BasicPensionNumber != "1234-567890" {
		t.Errorf("old key does not open: %q", got.BasicPensionNumber)
	}
	// A new value of an old record is sealed with the new key.
	e.update(t, old.ID, "", "my_number", "983205673214")
	if keyID(old.ID) != key.ID {
		t.Errorf("rewritten value under key %d", keyID(old.ID))
	}
}

func TestCiphertextCannotBeMoved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(t, "E1")
	b := e.create(t, "E2", "my_number", "983205673214")
	stolen := base64.StdEncoding.EncodeToString(e.sealedField(t, a.ID, "my_number"))
	// Someone with database access copies A's sealed My Number into B's record and into B's pension number.
	_, err := e.store.UpdateEmployee(ctx, "t1", b.ID, func(r *ports.EmployeeRecord, _ []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
		var data map[string]any
		_ = json.Unmarshal(r.Data, &data)
		data["my_number"], data["basic_pension_number"] = stolen, stolen
		r.Data, _ = json.Marshal(data)
		return ports.EmployeeUpdate{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevealMyNumber(ctx, e.admin, b.ID, "", "tax"); err == nil {
		t.Fatal("a moved ciphertext opened as another employee's My Number")
	}
	if _, err := e.svc.GetEmployee(ctx, e.admin, b.ID, ""); err == nil {
		t.Fatal("a moved ciphertext opened as another field")
	}
}

func TestRevealMyNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.create(t, "E1")
	withDep, err := e.svc.AddDependent(ctx, e.admin, emp.ID, ports.DependentInput{Fields: map[string]string{
		"relationship": "子", "family_name": "山田", "given_name": "一郎", "birth_date": "2020-01-01", "my_number": "983205673214"}})
	if err != nil {
		t.Fatal(err)
	}
	dep := withDep.Dependents[0]
	if dep.MyNumberMasked != "********3214" {
		t.Errorf("dependent masked %q", dep.MyNumberMasked)
	}
	for _, tc := range []struct {
		p       ports.Principal
		dep     string
		purpose string
		want    string
		code    string
	}{
		{e.admin, "", "social_insurance", "123456789018", ""},
		{e.hr, "", "employment_insurance", "123456789018", ""},
		{e.hr, dep.ID, "tax", "983205673214", ""},
		{e.admin, "", "other: 年末調整の確認", "123456789018", ""},
		{e.admin, "", "", "", "validation_failed"},
		{e.admin, "", "other:", "", "validation_failed"},
		{e.admin, "", "curiosity", "", "validation_failed"},
		{e.admin, "nosuch", "tax", "", "not_found"},
		{member("t1", ports.RoleEmployee), "", "tax", "", "forbidden"},
		{e.other, "", "tax", "", "not_found"},
	} {
		got, err := e.svc.RevealMyNumber(ctx, tc.p, emp.ID, tc.dep, tc.purpose)
		if got != tc.want || code(err) != tc.code {
			t.Errorf("reveal %q %q by %v: %q %v, want %q %s", tc.dep, tc.purpose, tc.p.Roles, got, err, tc.want, tc.code)
		}
	}
	var audits []ports.AuditRecord
	denied := 0
	for _, a := range e.audits(t, "employee.my_number.reveal") {
		switch a.Event.Outcome {
		case ports.OutcomeSuccess:
			audits = append(audits, a)
		case ports.OutcomeDenied:
			denied++
		}
	}
	if len(audits) != 4 || denied != 1 {
		t.Fatalf("%d reveals and %d refusals audited, want 4 and 1", len(audits), denied)
	}
	if a := audits[2].Event; a.Detail["purpose"] != "tax" || a.Detail["dependent"] != dep.ID || a.ActorID != e.hr.AccountID {
		t.Errorf("audit %+v", a)
	}
	for _, a := range audits {
		b, _ := json.Marshal(a)
		if strings.Contains(string(b), "123456789018") || strings.Contains(string(b), "983205673214") {
			t.Errorf("the audit holds the number: %s", b)
		}
	}
}

func TestEmployeeSeesOnlyTheirOwnRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	self := e.account(t, member("t1", ports.RoleEmployee))
	mine := e.create(t, "E1", "account_id", self.AccountID)
	other := e.create(t, "E2")

	got, err := e.svc.GetEmployee(ctx, self, mine.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.BasicPensionNumber != "*******7890" || got.BankAccount.AccountNumber != "****" || got.MyNumberMasked != "********9018" {
		t.Errorf("an employee sees sensitive values: %+v %+v", got.BasicPensionNumber, got.BankAccount)
	}
	for _, err := range []error{
		func() error { _, err := e.svc.GetEmployee(ctx, self, other.ID, ""); return err }(),
		func() error { _, err := e.svc.History(ctx, self, other.ID); return err }(),
		func() error {
			_, err := e.svc.UpdateEmployee(ctx, self, other.ID, ports.EmployeeInput{Fields: map[string]string{"phone": "03-0000-0000"}})
			return err
		}(),
		func() error {
			_, err := e.svc.AddDependent(ctx, self, other.ID, ports.DependentInput{Fields: map[string]string{
				"relationship": "子", "family_name": "x", "given_name": "y", "birth_date": "2020-01-01"}})
			return err
		}(),
	} {
		if !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("another employee's record: %v, want not found", err)
		}
	}
	if _, err := e.svc.History(ctx, self, mine.ID); err != nil {
		t.Errorf("own history: %v", err)
	}
	got, err = e.svc.UpdateEmployee(ctx, self, mine.ID, ports.EmployeeInput{Fields: map[string]string{
		"email": "me@example.jp", "phone": "090-1111-2222", "address.city": "港区", "address.building": ""}})
	if err != nil || got.Email != "me@example.jp" || got.Address.City != "港区" {
		t.Errorf("own contact fields: %v %+v", err, got.Address)
	}
	for _, f := range []string{"position", "monthly_pay.cash", "account_id", "my_number", "status", "bank_account.account_number"} {
		_, err := e.svc.UpdateEmployee(ctx, self, mine.ID, ports.EmployeeInput{Fields: map[string]string{f: "1"}})
		if !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("own %s: %v, want forbidden", f, err)
		}
	}
	withDep, err := e.svc.AddDependent(ctx, self, mine.ID, ports.DependentInput{Fields: map[string]string{
		"relationship": "子", "family_name": "山田", "given_name": "次郎", "birth_date": "2021-01-01"}})
	if err != nil || len(withDep.Dependents) != 1 {
		t.Fatalf("own dependent: %v", err)
	}
	for name, call := range map[string]func() error{
		"create": func() error {
			_, err := e.svc.CreateEmployee(ctx, self, ports.EmployeeInput{Fields: fields("E3")})
			return err
		},
		"list":   func() error { _, err := e.svc.ListEmployees(ctx, self, ports.EmployeeFilter{}); return err },
		"delete": func() error { return e.svc.DeleteEmployee(ctx, self, mine.ID, 0) },
		"reveal": func() error { _, err := e.svc.RevealMyNumber(ctx, self, mine.ID, "", "tax"); return err },
		"cancel": func() error { _, err := e.svc.CancelScheduledChange(ctx, self, mine.ID, "x", 0); return err },
		"import": func() error {
			_, err := e.svc.ImportEmployees(ctx, self, ports.ImportRequest{CSV: strings.NewReader("社員番号\nE1\n")}, nil)
			return err
		},
		"export":     func() error { return e.svc.ExportEmployees(ctx, self, &bytes.Buffer{}, "") },
		"department": func() error { _, err := e.svc.CreateDepartment(ctx, self, deptInput("D1", "x", "")); return err },
	} {
		if err := call(); !errors.Is(err, ports.ErrForbidden) {
			t.Errorf("employee %s: %v, want forbidden", name, err)
		}
	}
	// An employee whose account is linked to no record sees nothing.
	stranger := member("t1", ports.RoleEmployee)
	if _, err := e.svc.GetEmployee(ctx, stranger, mine.ID, ""); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("unlinked employee: %v", err)
	}
	// A session that has not passed MFA sees nothing either.
	half := e.admin
	half.Stage = ports.StageMFA
	if _, err := e.svc.GetEmployee(ctx, half, mine.ID, ""); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("half-logged-in admin: %v", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.create(t, "E1")
	theirs, err := e.svc.CreateEmployee(ctx, e.other, ports.EmployeeInput{Fields: fields("E1")})
	if err != nil {
		t.Fatal(err)
	}
	theirDept, err := e.svc.CreateDepartment(ctx, e.other, deptInput("SALES", "営業部", ""))
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":     func() error { _, err := e.svc.GetEmployee(ctx, e.other, mine.ID, ""); return err }(),
		"history": func() error { _, err := e.svc.History(ctx, e.other, mine.ID); return err }(),
		"update": func() error {
			_, err := e.svc.UpdateEmployee(ctx, e.other, mine.ID, ports.EmployeeInput{Fields: map[string]string{"position": "x"}})
			return err
		}(),
		"dependent": func() error {
			_, err := e.svc.RemoveDependent(ctx, e.other, mine.ID, "x", ports.DependentInput{})
			return err
		}(),
		"reveal": func() error { _, err := e.svc.RevealMyNumber(ctx, e.other, mine.ID, "", "tax"); return err }(),
		"department": func() error {
			_, err := e.svc.UpdateDepartment(ctx, e.admin, theirDept.ID, deptInput("X", "x", ""))
			return err
		}(),
	} {
		if !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("%s across tenants: %v, want not found", name, err)
		}
	}
	page, err := e.svc.ListEmployees(ctx, e.admin, ports.EmployeeFilter{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != mine.ID {
		t.Errorf("list shows another tenant: %+v %v", page.Items, err)
	}
	_, err = e.svc.UpdateEmployee(ctx, e.admin, mine.ID, ports.EmployeeInput{Fields: map[string]string{"department_id": theirDept.ID}})
	if got := fieldCodes(t, err); len(got) != 1 || got[0] != "department_id:unknown_department" {
		t.Errorf("another tenant's department: %v", got)
	}
	// Another tenant's account is as unknown as one that does not exist, in a new record and in a change.
	theirAccount := e.account(t, member("t2", ports.RoleEmployee)).AccountID
	for _, account := range []string{theirAccount, "01a21610-0000-7000-8000-000000000000"} {
		_, err := e.svc.CreateEmployee(ctx, e.admin, ports.EmployeeInput{Fields: fields("E2", "account_id", account)})
		if got := fieldCodes(t, err); len(got) != 1 || got[0] != "account_id:unknown_account" {
			t.Errorf("a new record linked to account %s: %v", account, got)
		}
		_, err = e.svc.UpdateEmployee(ctx, e.admin, mine.ID, ports.EmployeeInput{Fields: map[string]string{"account_id": account}})
		if got := fieldCodes(t, err); len(got) != 1 || got[0] != "account_id:unknown_account" {
			t.Errorf("a record linked to account %s: %v", account, got)
		}
	}
	_ = theirs
}
