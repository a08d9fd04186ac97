package sqlstore_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// seedEverything writes at least one row into every table the migrations create, through the stores, with
// the awkward values a backup must carry: NULLs, empty and binary bytes, JSON, zero and non-zero instants,
// booleans both ways, Japanese text, a department under another.
func seedEverything(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	tenant, account := "tenant-b", "account-b"
	must(t, s.CreateTenant(ctx, ports.TenantRecord{ID: tenant, Code: "b", Name: "株式会社ビー", Status: ports.TenantActive,
		MFARequired: true, AllowedCIDRs: []string{"10.0.0.0/8"}, Seats: 5, CreatedAt: t0, UpdatedAt: t0}))
	must(t, s.CreateAccount(ctx, ports.AccountRecord{ID: account, TenantID: tenant, Kind: ports.KindMember, Login: "花子",
		LoginKey: "花子", Name: "山田 花子", Roles: []string{ports.RoleAdmin, ports.RoleHR}, Status: ports.AccountActive,
		PasswordHash: "$argon2id$x", MustChangePassword: true, PasswordChangedAt: t0, CreatedAt: t0, UpdatedAt: t0}))
	must(t, s.CreateAccount(ctx, ports.AccountRecord{ID: "operator-b", Kind: ports.KindOperator, Login: "ops", LoginKey: "ops",
		Status: ports.AccountActive, PasswordHash: "$argon2id$y", CreatedAt: t0, UpdatedAt: t0}))
	_, err := s.AddFailure(ctx, "b/花子", t0)
	must(t, err)
	_, err = s.HitRateWindow(ctx, "login:10.0.0.1", t0, t0.Add(time.Minute))
	must(t, err)
	must(t, s.CreateSession(ctx, ports.SessionRecord{TokenHash: "th", AccountID: account, TenantID: tenant, Stage: "full",
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour), IP: "10.0.0.1", UserAgent: "test"}))
	must(t, s.PutTOTP(ctx, ports.TOTPRecord{TenantID: tenant, AccountID: account, SecretSealed: []byte{0, 1, 2, 0xff}, Confirmed: true, LastStep: 42, CreatedAt: t0}))
	must(t, s.AddWebAuthnCredential(ctx, ports.WebAuthnCredentialRecord{ID: "cred", TenantID: tenant, AccountID: account, Name: "鍵",
		CredentialID: []byte("cid"), PublicKey: []byte{0xa5, 0}, AAGUID: []byte{}, SignCount: 4294967295, UserPresent: true,
		Transports: []string{"usb"}, CreatedAt: t0}))
	must(t, s.ReplaceRecoveryCodes(ctx, tenant, account, []string{"rc1", "rc2"}, t0))
	must(t, s.PutChallenge(ctx, ports.ChallengeRecord{ID: "ch", TenantID: tenant, AccountID: account, Purpose: "login", Data: []byte(`{"c":1}`), ExpiresAt: t0}))
	appendEvents(t, s, 3)
	must(t, s.CreateDepartment(ctx, ports.DepartmentRecord{ID: "d-child", TenantID: tenant, Code: "C", Name: "子", ParentID: "", Version: 1, CreatedAt: t0}))
	must(t, s.CreateDepartment(ctx, ports.DepartmentRecord{ID: "d-root", TenantID: tenant, Code: "R", Name: "本社", Version: 1, CreatedAt: t0}))
	// The child is created first and moved under the root afterwards, so that reading order is not parents first.
	_, err = s.UpdateDepartment(ctx, tenant, "d-child", func(d *ports.DepartmentRecord) error { d.ParentID = "d-root"; return nil })
	must(t, err)
	must(t, s.CreateEmployees(ctx, []ports.EmployeeRecord{{ID: "e1", TenantID: tenant, EmployeeNumber: "0001", Status: "active",
		EmploymentType: "full_time", DepartmentID: "d-child", AccountID: account, HireDate: "2020-04-01", SortKana: "やまだ はなこ",
		SearchText: "山田花子", Data: []byte(`{"account_id":"account-b","my_number":"sealed:AAAA"}`), EffectiveOn: "2020-04-01",
		NextChangeOn: "2026-04-01", Version: 1, CreatedAt: t0, UpdatedAt: t0}},
		[]ports.EmployeeChangeRecord{{ID: "c1", TenantID: tenant, EmployeeID: "e1", EffectiveOn: "2020-04-01", Kind: "hire",
			Patch: []byte(`{}`), Trail: []byte(`[]`), RecordedAt: t0, RecordedBy: account}}))
	must(t, s.AppendEvents(ctx, ports.OutboxEvent{ID: "ev1", TenantID: tenant, Type: "employee.hired", SubjectID: "e1", Payload: []byte(`{"x":1}`), OccurredAt: t0},
		ports.OutboxEvent{ID: "ev2", Type: "system.tick", Payload: []byte{}, OccurredAt: t0.Add(time.Second)}))
	_, err = s.PendingEventsFor(ctx, "procedures", []string{"employee.hired"}, 0)
	must(t, err)
	must(t, s.MarkConsumed(ctx, "procedures", "ev1", t0))
	must(t, s.MarkDispatched(ctx, "ev1", t0))
	must(t, s.CreateJob(ctx, ports.JobRecord{ID: "job", TenantID: tenant, Kind: "employees.import", Status: ports.JobSucceeded, Done: 1, Total: 1,
		Result: []byte(`{"created":1}`), CreatedBy: account, CreatedAt: t0, UpdatedAt: t0}))
	must(t, s.CreateProcedure(ctx, ports.ProcedureRecord{ID: "p1", TenantID: tenant, Type: "shikaku_shutoku", EmployeeID: "e1",
		Status: ports.ProcedureDraft, FactDate: "2020-04-01", DueDate: "2020-04-06", Office: "pension_office", DedupKey: "hire:c1",
		Data: []byte(`{}`), History: []ports.ProcedureTransition{{To: ports.ProcedureDraft, By: "system:procedures", At: t0, Comment: "自動"}},
		Version: 1, CreatedAt: t0, UpdatedAt: t0}))
	must(t, s.CreateAttachment(ctx, ports.AttachmentRecord{ID: "a1", TenantID: tenant, ProcedureID: "p1", Name: "扶養.pdf",
		ContentType: "application/pdf", Size: 7, SHA256: "00", UploadedBy: account, CreatedAt: t0, Body: []byte("%PDF-\x00\xff")}))
	must(t, s.CreateNotice(ctx, ports.NoticeRecord{ID: "n1", Kind: ports.NoticeIncident, Severity: ports.SeverityMajor,
		NoticeText: ports.NoticeText{TitleJA: "障害", TitleEN: "Outage", BodyJA: "本文", BodyEN: "Body"},
		KnownAt:    t0, DeadlineAt: t0.Add(time.Hour), PostedAt: t0, PostedBy: "operator-b", VisibleFrom: t0, UpdatedAt: t0}))
	must(t, s.CreateOperationRequest(ctx, ports.OperationRequest{ID: "op1", Kind: "tenant.suspend", Params: map[string]string{"tenant": tenant, "a": "b"},
		Reason: "契約終了", Status: ports.OperationPending, RequestedBy: "operator-b", RequestedByLogin: "ops", RequestedAt: t0,
		ExpiresAt: t0.Add(24 * time.Hour), UpdatedAt: t0}))
	must(t, s.CreateResealJob(ctx, ports.ResealJob{ID: "op1", KeyID: 4294967295, Status: ports.ResealRunning, Total: 3, Done: 1,
		Cursor: "employees tenant-b/e1", Failures: []ports.ResealFailure{{Record: "totp:tenant-b/account-b", Reason: "開けません"}},
		LeaseOwner: "worker", LeaseUntil: t0.Add(time.Minute), StartedAt: t0, UpdatedAt: t0}))
	must(t, s.CreateSubscription(ctx, ports.WebhookSubscriptionRecord{ID: "w1", TenantID: tenant, URL: "https://example.jp/hook",
		EventTypes: []string{"employee.hired"}, SealedSecret: []byte{9, 9}, Status: ports.WebhookActive, CreatedBy: account,
		Version: 1, CreatedAt: t0, UpdatedAt: t0}))
	_, err = s.AddDeliveries(ctx, ports.WebhookDeliveryRecord{ID: "wd1", TenantID: tenant, SubscriptionID: "w1", EventID: "ev1",
		EventType: "employee.hired", Body: []byte(`{"id":"ev1"}`), Status: ports.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0})
	must(t, err)
	must(t, s.CreateAPIToken(ctx, ports.APITokenRecord{ID: "0123456789abcdef", TenantID: tenant, Name: "給与連携",
		Scopes: []string{ports.ScopeEmployeesRead}, SecretHash: "ab12", CreatedBy: account, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must(t, s.CreateAPIToken(ctx, ports.APITokenRecord{ID: "fedcba9876543210", TenantID: tenant, Name: "旧連携",
		Scopes: []string{}, SecretHash: "cd34", CreatedBy: account, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		LastUsedAt: t0, LastUsedIP: "2001:db8::1", RevokedAt: t0.Add(time.Minute), RevokedBy: account}))
	// An answered Idempotency-Key (binary body) and an operator's in progress (NULL body).
	answered := ports.IdempotencyRecord{IdempotencyClaim: ports.IdempotencyClaim{TenantID: tenant, Principal: "account:" + account,
		Key: "k1", ID: "claim-1"}, Fingerprint: "ab", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	_, _, err = s.ClaimIdempotencyKey(ctx, answered, t0)
	must(t, err)
	answered.Status, answered.Header, answered.Body = 201, map[string]string{"Location": "/api/v1/employees/e1"}, []byte{0, 0xff}
	must(t, s.CompleteIdempotencyKey(ctx, answered))
	_, _, err = s.ClaimIdempotencyKey(ctx, ports.IdempotencyRecord{IdempotencyClaim: ports.IdempotencyClaim{Principal: "account:operator-b",
		Key: "k2", ID: "claim-2"}, Fingerprint: "cd", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}, t0)
	must(t, err)
}

// dump reads every table of s through a snapshot, as sorted rows of values normalised so that both dialects
// compare: a boolean as 0/1, JSON (and text holding a JSON object or list) re-encoded with sorted keys.
func dump(t testing.TB, s *sqlstore.Store) map[string][]string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Snapshot(t.Context(), &buf); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<26)
	sc.Scan()
	var h struct {
		Tables []struct {
			Name string
			Rows int
		}
	}
	must(t, json.Unmarshal(sc.Bytes(), &h))
	out := map[string][]string{}
	for _, tb := range h.Tables {
		rows := []string{}
		for range tb.Rows {
			sc.Scan()
			var vals []any
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			must(t, dec.Decode(&vals))
			for i, v := range vals {
				vals[i] = normalise(v)
			}
			b, _ := json.Marshal(vals)
			rows = append(rows, string(b))
		}
		slices.Sort(rows)
		out[tb.Name] = rows
	}
	return out
}

func normalise(v any) any {
	switch v := v.(type) {
	case bool:
		if v {
			return 1
		}
		return 0
	case string:
		if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			var doc any
			if json.Unmarshal([]byte(v), &doc) == nil {
				return doc
			}
		}
	}
	return v
}

func sameData(t *testing.T, want, got map[string][]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d tables restored, %d backed up", len(got), len(want))
	}
	for table, rows := range want {
		if !slices.Equal(rows, got[table]) {
			t.Errorf("table %s differs:\nbacked up %q\nrestored  %q", table, rows, got[table])
		}
	}
}

func snapshot(t testing.TB, s *sqlstore.Store) ([]byte, ports.BackupManifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := s.Snapshot(t.Context(), &buf)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return buf.Bytes(), m
}

func restore(t testing.TB, s *sqlstore.Store, stream []byte, opts ports.RestoreOptions) (ports.BackupManifest, error) {
	t.Helper()
	return s.Restore(t.Context(), bytes.NewReader(stream), opts)
}

// TestBackupRestoreRoundTrip: backup, restore into a fresh database of each dialect (the same and the
// other one), and every table holds the same rows; the restored store works (the audit chain goes on, an
// employee reads back).
func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, from := range dialects() {
		for _, to := range dialects() {
			t.Run(from.name+"→"+to.name, func(t *testing.T) {
				t.Parallel()
				src := open(t, from.name, from.dsn(t))
				seedEverything(t, src)
				want := dump(t, src)
				for table, rows := range want {
					if len(rows) == 0 {
						t.Errorf("the seed left table %s empty", table)
					}
				}
				stream, m := snapshot(t, src)
				if m.Dialect != from.name || m.SchemaVersion < 7 || m.FormatVersion != 1 {
					t.Errorf("manifest %+v", m)
				}
				dst := open(t, to.name, to.dsn(t))
				if _, err := restore(t, dst, stream, ports.RestoreOptions{VerifyOnly: true}); err != nil {
					t.Fatalf("verify: %v", err)
				}
				if got := dump(t, dst); len(got["tenants"]) != 0 {
					t.Fatal("VerifyOnly wrote rows")
				}
				got, err := restore(t, dst, stream, ports.RestoreOptions{})
				if err != nil {
					t.Fatalf("Restore: %v", err)
				}
				if got.Rows() != m.Rows() {
					t.Errorf("restored %d rows, backed up %d", got.Rows(), m.Rows())
				}
				sameData(t, want, dump(t, dst))
				e, err := dst.EmployeeByID(t.Context(), "tenant-b", "e1")
				if err != nil || string(e.Data) != `{"account_id":"account-b","my_number":"sealed:AAAA"}` || e.DepartmentID != "d-child" {
					t.Errorf("employee after restore: %+v, %v", e, err)
				}
				appendEvents(t, dst, 1) // the chain continues from the restored head
			})
		}
	}
}

// TestRestoreRefusesDamage: a stream with a changed value, a row missing, a row too many or a broken line is
// refused, and nothing is written.
func TestRestoreRefusesDamage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		src := open(t, d.name, d.dsn(t))
		seedEverything(t, src)
		stream, _ := snapshot(t, src)
		lines := bytes.SplitAfter(stream, []byte("\n"))
		cases := map[string][]byte{
			"row missing":    bytes.Join(slices.Delete(slices.Clone(lines), 3, 4), nil),
			"row too many":   bytes.Join(slices.Insert(slices.Clone(lines), 3, lines[3]), nil),
			"broken line":    bytes.Join(slices.Insert(slices.Clone(lines), 3, []byte("[1,\n")), nil),
			"not a backup":   []byte("hello\n"),
			"empty":          nil,
			"bad base64":     bytes.Replace(stream, []byte(`"AAEC/w=="`), []byte(`"!!"`), 1),
			"duplicate rows": bytes.Replace(stream, []byte(`"rc2"`), []byte(`"rc1"`), 1),
		}
		for name, bad := range cases {
			dst := open(t, d.name, d.dsn(t))
			for _, verify := range []bool{true, false} {
				if _, err := restore(t, dst, bad, ports.RestoreOptions{VerifyOnly: verify}); err == nil {
					if name == "duplicate rows" && verify {
						continue // only the database sees a duplicate key
					}
					t.Errorf("%s (verify %v): restored", name, verify)
				}
			}
			if got := dump(t, dst); len(got["tenants"])+len(got["audit_records"]) != 0 {
				t.Errorf("%s: rows written", name)
			}
		}
	})
}

// TestRestoreRefusesOtherSchemaVersion: a backup restores only into a database at its schema version.
func TestRestoreRefusesOtherSchemaVersion(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s, err := sqlstore.Open(t.Context(), d.name, d.dsn(t), sqlstore.WithMaxOpenConns(4))
		must(t, err)
		t.Cleanup(func() { _ = s.Close() })
		must(t, s.MigrateUpTo(t.Context(), 6))
		old, m := snapshot(t, s)
		if m.SchemaVersion != 6 {
			t.Fatalf("schema version %d", m.SchemaVersion)
		}
		dst := open(t, d.name, d.dsn(t))
		_, current := snapshot(t, dst)
		_, err = restore(t, dst, old, ports.RestoreOptions{})
		var pe *ports.Error
		if !errors.Is(err, ports.ErrPreconditionFailed) || !errors.As(err, &pe) || pe.Code != "backup_schema_version" ||
			!strings.Contains(pe.MessageEN, fmt.Sprintf("schema version 6 but this database is at version %d", current.SchemaVersion)) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestRestoreIntoNonEmpty: refused without Force; with Force the database holds exactly the backup's rows,
// the audit table's append-only triggers set aside for the restore and back in force afterwards.
func TestRestoreIntoNonEmpty(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		src := open(t, d.name, d.dsn(t))
		seedEverything(t, src)
		want := dump(t, src)
		stream, _ := snapshot(t, src)

		dst := open(t, d.name, d.dsn(t))
		tenant, _ := fixture(t, dst)
		appendEvents(t, dst, 5)
		before := dump(t, dst)
		for _, verify := range []bool{true, false} {
			_, err := restore(t, dst, stream, ports.RestoreOptions{VerifyOnly: verify})
			if !errors.Is(err, ports.ErrConflict) || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("restore into a non-empty database: %v", err)
			}
		}
		sameData(t, before, dump(t, dst))
		if _, err := restore(t, dst, stream, ports.RestoreOptions{Force: true}); err != nil {
			t.Fatalf("forced restore: %v", err)
		}
		sameData(t, want, dump(t, dst))
		if _, err := dst.TenantByID(t.Context(), tenant); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("the replaced tenant is still there: %v", err)
		}
		if err := dst.Exec(t.Context(), "DELETE FROM audit_records"); err == nil {
			t.Error("audit records deletable after a forced restore")
		}
	})
}

func TestSnapshotIsConsistent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d dialect) {
		s := open(t, d.name, d.dsn(t))
		appendEvents(t, s, 50)
		// Writers go on during the snapshots: each snapshot holds the rows its header counts, and the audit
		// chain in it has no gap (Restore checks both).
		done := make(chan error)
		go func() {
			var err error
			for range 200 {
				if err = s.AppendEvents(t.Context(), ports.OutboxEvent{ID: randomHex(8), Type: "t", Payload: []byte{}, OccurredAt: t0}); err != nil {
					break
				}
			}
			done <- err
		}()
		for range 3 {
			stream, _ := snapshot(t, s)
			dst := open(t, d.name, d.dsn(t))
			if _, err := restore(t, dst, stream, ports.RestoreOptions{}); err != nil {
				t.Fatalf("restore of a snapshot taken during writes: %v", err)
			}
		}
		must(t, <-done)
	})
}
