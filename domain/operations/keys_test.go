package operations_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/roumu/roumu/domain/operations"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/fixtures"
	"github.com/roumu/roumu/test/testenv"
)

// keysEnv is the whole service on memory stores with sealed values of every kind: employees of two tenants
// (history, a dependent), a tenant admin's TOTP secret, a webhook subscription with a rotated secret (so a
// previous one too), an answer kept under an Idempotency-Key; and two operators.
type keysEnv struct {
	*testenv.Env
	op1, op2  ports.Principal
	admins    map[string]ports.Principal // by tenant code
	employees map[string][]string        // employee IDs by tenant code
	totp      string                     // acme admin's TOTP secret
	hook      ports.WebhookSubscription
}

func newKeysEnv(t *testing.T) *keysEnv {
	t.Helper()
	ctx := t.Context()
	e := &keysEnv{Env: testenv.New(t), admins: map[string]ports.Principal{}, employees: map[string][]string{}}
	e.op1, e.op2 = operator(t, e.Env, "ops1"), operator(t, e.Env, "ops2")
	for ti, code := range []string{"acme", "beta"} {
		_, admin := e.Tenant(t, code)
		e.admins[code] = admin
		for i := range 3 {
			emp, err := e.Employees.CreateEmployee(ctx, admin, ports.EmployeeInput{Fields: employeeFields(ti*10 + i)})
			if err != nil {
				t.Fatal(err)
			}
			e.employees[code] = append(e.employees[code], emp.ID)
		}
		first := e.employees[code][0]
		if _, err := e.Employees.UpdateEmployee(ctx, admin, first, ports.EmployeeInput{EffectiveOn: "2025-10-01",
			Fields: map[string]string{"my_number": fixtures.MyNumber(fmt.Sprintf("%011d", 98320567321+ti))}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Employees.AddDependent(ctx, admin, first, ports.DependentInput{Fields: map[string]string{
			"relationship": "配偶者", "family_name": "山田", "given_name": "花子", "birth_date": "1992-03-03",
			"my_number": fixtures.MyNumber(fmt.Sprintf("%011d", 87192465834+ti))}}); err != nil {
			t.Fatal(err)
		}
	}
	admin := e.admins["acme"]
	key, err := e.Accounts.BeginTOTP(ctx, admin, testenv.NewPassword)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret, e.Clock.Now())
	if _, err := e.Accounts.ConfirmTOTP(ctx, admin, code); err != nil {
		t.Fatal(err)
	}
	e.totp = key.Secret
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	if e.hook, _, err = e.Webhooks.CreateSubscription(ctx, admin, ports.WebhookSubscriptionInput{URL: receiver.URL + "/hook",
		EventTypes: []string{"employee.hired"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err = e.Webhooks.RotateSecret(ctx, admin, e.hook.ID); err != nil {
		t.Fatal(err)
	}
	e.keepAnswer(t)
	return e
}

// keepAnswer keeps the answer to an Idempotency-Key request of acme's admin, for a day.
func (e *keysEnv) keepAnswer(t *testing.T) {
	t.Helper()
	_, claim, err := e.Idempotency.Begin(t.Context(), e.admins["acme"], "hire-1", idempotentHire)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Idempotency.Complete(t.Context(), claim, ports.IdempotentResponse{Status: 201, Body: []byte(`{"id":"e1"}`)}); err != nil {
		t.Fatal(err)
	}
}

var idempotentHire = ports.IdempotentRequest{Method: "POST", Path: "/api/v1/employees", Body: []byte(`{"employee_number":"E9"}`)}

func operator(t *testing.T, env *testenv.Env, login string) ports.Principal {
	t.Helper()
	v, err := env.Accounts.CreateOperator(t.Context(), ports.CreateOperatorCommand{Login: login, Name: "運用 " + login, Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	return ports.Principal{AccountID: v.ID, Kind: ports.KindOperator, Login: login, Stage: ports.StageFull,
		Source: ports.Source{IP: "203.0.113.200"}}
}

func employeeFields(i int) map[string]string {
	return map[string]string{"employee_number": fmt.Sprintf("E%03d", i), "family_name": "山田", "given_name": "太郎",
		"family_name_kana": "ヤマダ", "given_name_kana": "タロウ", "birth_date": "1990-05-15", "gender": "male",
		"hire_date": "2025-04-01", "employment_type": "regular", "basic_pension_number": "1234-567890",
		"employment_insurance_number": "1234-567890-1", "my_number": fixtures.MyNumber(fmt.Sprintf("%011d", 12345678900+i)),
		"bank_account.bank_code": "0005", "bank_account.branch_code": "001", "bank_account.account_type": "ordinary",
		"bank_account.account_number": "1234567", "bank_account.holder_kana": "ヤマダ タロウ"}
}

// rawKeys reads the stores as they are kept and counts the sealed values under each key id: every string of
// the employees' records and changes that decodes to a sealed value (the keyring's header: version 1, the
// key id), and the TOTP and webhook secrets.
func (e *keysEnv) rawKeys(t *testing.T) map[uint32]int {
	t.Helper()
	ctx := t.Context()
	tally := map[uint32]int{}
	add := func(b []byte) {
		if len(b) >= 1+4+12+16 && b[0] == 1 {
			tally[binary.BigEndian.Uint32(b[1:5])]++
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				add(b)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	decode := func(b []byte) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	keys, err := e.Store.EmployeeKeys(ctx, ports.EmployeeKey{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		rec, err := e.Store.EmployeeByID(ctx, k.TenantID, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		decode(rec.Data)
		changes, err := e.Store.EmployeeChanges(ctx, k.TenantID, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			decode(c.Patch)
		}
	}
	for _, kind := range []string{ports.SealedTOTPSecret, ports.SealedWebhookSecret, ports.SealedWebhookPreviousSecret,
		ports.SealedIdempotencyAnswer} {
		values, err := e.Store.SealedValues(ctx, kind, ports.SealedRef{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			add(v.Sealed)
		}
	}
	return tally
}

// checkReadable opens every kind of value through its module: employees now and as of before their
// history's change, My Numbers, the TOTP secret (a login), the webhook secrets (a signed delivery), the
// Idempotency-Key answer (a replay).
func (e *keysEnv) checkReadable(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if replay, _, err := e.Idempotency.Begin(ctx, e.admins["acme"], "hire-1", idempotentHire); err != nil || replay == nil ||
		string(replay.Body) != `{"id":"e1"}` {
		t.Fatalf("replay after the rotation: %+v %v", replay, err)
	}
	for code, ids := range e.employees {
		for _, id := range ids {
			for _, asOf := range []string{"2025-06-01", ""} {
				if _, err := e.Employees.GetEmployee(ctx, e.admins[code], id, asOf); err != nil {
					t.Fatalf("employee %s as of %q: %v", id, asOf, err)
				}
			}
			if _, err := e.Employees.RevealMyNumber(ctx, e.admins[code], id, "", "tax"); err != nil {
				t.Fatalf("My Number of %s: %v", id, err)
			}
		}
	}
	res, err := e.Accounts.Login(ctx, ports.LoginCommand{Tenant: "acme", Login: "admin", Password: testenv.NewPassword})
	if err != nil || res.Stage != ports.StageMFA {
		t.Fatalf("password step: %+v %v", res, err)
	}
	p, err := e.Accounts.Authenticate(ctx, res.Token, ports.Source{})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute) // a step not used yet
	code, _ := totp.GenerateCode(e.totp, e.Clock.Now())
	if res, err := e.Accounts.VerifyTOTP(ctx, p, code); err != nil || res.Stage != ports.StageFull {
		t.Fatalf("TOTP login after the rotation: %+v %v", res, err)
	}
	if _, err := e.Webhooks.SendTestEvent(ctx, e.admins["acme"], e.hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Webhooks.ProcessDue(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := e.Webhooks.ListDeliveries(ctx, e.admins["acme"], e.hook.ID, ports.WebhookDeliveryFilter{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Status != ports.DeliverySucceeded {
		t.Fatalf("signed delivery after the rotation: %+v %v", page.Items, err)
	}
}

func (e *keysEnv) job(t *testing.T, id string) ports.ResealJob {
	t.Helper()
	j, err := e.KeyRotation.ResealJob(t.Context(), e.op1, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// crashing wraps sealed data so that the worker's context ends after a number of batches, as a process
// stopping mid-way would.
type crashing struct {
	ports.SealedData
	batches *int
	cancel  context.CancelFunc
}

func (c crashing) ResealBatch(ctx context.Context, after string, limit int, stale func([]byte) bool) (ports.ResealBatch, error) {
	b, err := c.SealedData.ResealBatch(ctx, after, limit, stale)
	if *c.batches--; *c.batches == 0 {
		c.cancel()
	}
	return b, err
}

// TestKeyRotation: a rotation is requested, refused to its requester, expires unapproved, and runs once
// another operator approves; its job, stopped mid-way, is taken over by another worker once its lease
// lapses and brings every value under the new key, with its progress counted throughout; then the old key
// is retired and every value still reads.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newKeysEnv(t)
	ctx := t.Context()
	before := e.rawKeys(t)
	total := before[1]
	if len(before) != 1 || total < 20 {
		t.Fatalf("sealed values before the rotation: %v", before)
	}
	request := func() (ports.OperationRequest, error) {
		return e.Operations.Request(ctx, e.op1, ports.RequestOperationCommand{Kind: ports.OpKeyRotation, Reason: "年次の鍵更新"})
	}

	if _, err := e.Operations.Request(ctx, e.op1, ports.RequestOperationCommand{Kind: ports.OpKeyRotation,
		Params: map[string]string{"key_id": "9"}, Reason: "x"}); errCode(err) != "validation_failed" {
		t.Fatalf("a rotation with parameters: %v", err)
	}
	stale, err := request()
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(operations.RequestLifetime)
	if _, err := e.Operations.Approve(ctx, e.op2, stale.ID, ""); errCode(err) != "operation_expired" {
		t.Fatalf("approving an expired rotation: %v", err)
	}
	e.keepAnswer(t) // the first expired with the day that passed; this one takes its key, and is live

	r, err := request()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Operations.Approve(ctx, e.op1, r.ID, ""); errCode(err) != "self_approval" {
		t.Fatalf("self-approval of a rotation: %v", err)
	}
	if list, _ := e.Keys.Keys(ctx); len(list) != 1 {
		t.Fatalf("keys before the approval: %+v", list)
	}
	r, err = e.Operations.Approve(ctx, e.op2, r.ID, "確認しました")
	if err != nil || r.Status != ports.OperationExecuted || !strings.Contains(r.Result, "key 2 seals") {
		t.Fatalf("approved rotation: %+v %v", r, err)
	}
	if j := e.job(t, r.ID); j.Status != ports.ResealRunning || j.KeyID != 2 || j.Done != 0 || !j.StartedAt.Equal(e.Clock.Now()) {
		t.Fatalf("job after the approval: %+v", j)
	}
	if _, err := request(); errCode(err) != "reseal_running" {
		t.Fatalf("a second rotation while the job runs: %v", err)
	}

	// A worker that stops after two batches of two employees.
	workerCtx, stop := context.WithCancel(ctx)
	defer stop()
	batches := 2
	deps := e.KeyRotation.KeyDeps
	deps.BatchSize = 2
	deps.Data = nil
	for _, d := range e.KeyRotation.Data {
		deps.Data = append(deps.Data, crashing{SealedData: d, batches: &batches, cancel: stop})
	}
	first, err := operations.NewKeyRotation(deps)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.RunJobs(workerCtx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped worker: %v", err)
	}
	mid := e.job(t, r.ID)
	if mid.Status != ports.ResealRunning || mid.Total != total || mid.Done == 0 || mid.Done >= total ||
		mid.Remaining() != total-mid.Done || mid.Cursor == "" {
		t.Fatalf("job stopped mid-way: %+v (of %d values)", mid, total)
	}
	if raw := e.rawKeys(t); raw[2] != mid.Done || raw[1] != total-mid.Done {
		t.Fatalf("stored values mid-way %v, job says %d done", raw, mid.Done)
	}

	// The lease still holds: the other worker leaves the job alone, then takes it over when it lapses.
	if n, err := e.KeyRotation.RunJobs(ctx); n != 0 || err != nil {
		t.Fatalf("a held job was run: %d %v", n, err)
	}
	e.Clock.Advance(operations.ResealLease)
	n, err := e.KeyRotation.RunJobs(ctx)
	if err != nil || n != total-mid.Done {
		t.Fatalf("taking over: %d values re-sealed, %v; want %d", n, err, total-mid.Done)
	}
	done := e.job(t, r.ID)
	if done.Status != ports.ResealSucceeded || done.Total != total || done.Done != total || done.Failed != 0 ||
		done.Remaining() != 0 || len(done.RetiredKeys) != 1 || done.RetiredKeys[0] != 1 ||
		!done.FinishedAt.Equal(e.Clock.Now()) || done.LeaseOwner != "" {
		t.Fatalf("finished job: %+v", done)
	}
	if raw := e.rawKeys(t); len(raw) != 1 || raw[2] != total {
		t.Fatalf("stored values after the job: %v, want all %d under key 2", raw, total)
	}
	list, err := e.KeyRotation.Keys(ctx, e.op2)
	if err != nil || len(list) != 2 || list[0].RetiredAt.IsZero() || !list[1].RetiredAt.IsZero() {
		t.Fatalf("keys after the job: %+v %v", list, err)
	}
	e.checkReadable(t)
	if n, err := e.KeyRotation.RunJobs(ctx); n != 0 || err != nil {
		t.Fatalf("a finished job ran again: %d %v", n, err)
	}

	// The end is in the audit log, with the work record's steps.
	for action, outcome := range map[string]string{"operation.request": ports.OutcomeSuccess,
		"operation.approve": ports.OutcomeSuccess, "operation.execute": ports.OutcomeSuccess, "keys.reseal": ports.OutcomeSuccess} {
		recs, err := e.Store.ListAudit(ctx, ports.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, rec := range recs {
			found = found || rec.Event.Target == "operation:"+r.ID && rec.Event.Outcome == outcome
			if action == "keys.reseal" && rec.Event.Detail["done"] != fmt.Sprint(total) {
				t.Errorf("keys.reseal detail: %v", rec.Event.Detail)
			}
		}
		if !found {
			t.Errorf("no %s entry for the rotation", action)
		}
	}
	// Tenants and half-logged-in operators see nothing of the keys.
	if _, err := e.KeyRotation.ResealJobs(ctx, e.admins["acme"], 10); errCode(err) != "forbidden" {
		t.Fatalf("a tenant admin read the jobs: %v", err)
	}
}

// TestKeyRotationKeepsKeysWhenAValueDoesNotOpen: a value no key opens is reported with its record, the
// walk goes on, and the job fails at the end keeping the old key, which other values may still need.
func TestKeyRotationKeepsKeysWhenAValueDoesNotOpen(t *testing.T) {
	t.Parallel()
	e := newKeysEnv(t)
	ctx := t.Context()
	// Damage the acme admin's TOTP secret in the store.
	totpValues, err := e.Store.SealedValues(ctx, ports.SealedTOTPSecret, ports.SealedRef{}, 0)
	if err != nil || len(totpValues) != 1 {
		t.Fatalf("%v %v", totpValues, err)
	}
	bad := append([]byte(nil), totpValues[0].Sealed...)
	bad[len(bad)-1] ^= 1
	if ok, err := e.Store.ReplaceSealedValue(ctx, ports.SealedTOTPSecret, totpValues[0], bad); !ok || err != nil {
		t.Fatal(ok, err)
	}
	total := e.rawKeys(t)[1]
	r, err := e.Operations.Request(ctx, e.op1, ports.RequestOperationCommand{Kind: ports.OpKeyRotation, Reason: "漏えいの疑い"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.Operations.Approve(ctx, e.op2, r.ID, ""); err != nil || r.Status != ports.OperationExecuted {
		t.Fatalf("%+v %v", r, err)
	}
	if n, err := e.KeyRotation.RunJobs(ctx); err != nil || n != total-1 {
		t.Fatalf("RunJobs = %d, %v; want %d", n, err, total-1)
	}
	j := e.job(t, r.ID)
	if j.Status != ports.ResealFailed || j.Done != total-1 || j.Failed != 1 || j.Total != total || len(j.RetiredKeys) != 0 ||
		len(j.Failures) != 1 || j.Failures[0].Record != "totp:"+totpValues[0].TenantID+"/"+totpValues[0].ID ||
		!strings.Contains(j.Error, "1 values are still under older keys") {
		t.Fatalf("job with a damaged value: %+v", j)
	}
	if list, _ := e.Keys.Keys(ctx); len(list) != 2 || !list[0].RetiredAt.IsZero() {
		t.Fatalf("the old key was retired although a value is still under it: %+v", list)
	}
	// A new rotation is allowed now that the job has ended.
	if _, err := e.Operations.Request(ctx, e.op1, ports.RequestOperationCommand{Kind: ports.OpKeyRotation, Reason: "再実行"}); err != nil {
		t.Fatalf("a rotation after a failed job: %v", err)
	}
}
