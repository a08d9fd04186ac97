package porttest

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newResealJob returns a running job started at startedAt, with every field set.
func newResealJob(id string, startedAt time.Time) ports.ResealJob {
	return ports.ResealJob{ID: id, KeyID: 4_000_000_000, Status: ports.ResealRunning, Total: 120, Done: 30, Failed: 2,
		Cursor: "employees\nt-1/e-9", Failures: []ports.ResealFailure{{Record: "t-1/e-2", Reason: "開けません: \"認証\"失敗"}},
		RetiredKeys: []uint32{1, 2}, Error: "", LeaseOwner: "worker-1", LeaseUntil: startedAt.Add(time.Minute),
		StartedAt: startedAt, UpdatedAt: startedAt.Add(time.Second)}
}

func checkResealJob(t *testing.T, got, want ports.ResealJob) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "KeyID", got.KeyID, want.KeyID)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "Total", got.Total, want.Total)
	checkEq(t, "Done", got.Done, want.Done)
	checkEq(t, "Failed", got.Failed, want.Failed)
	checkEq(t, "Cursor", got.Cursor, want.Cursor)
	if len(got.Failures)+len(want.Failures) > 0 && !slices.Equal(got.Failures, want.Failures) {
		t.Errorf("Failures = %v, want %v", got.Failures, want.Failures)
	}
	if len(got.RetiredKeys)+len(want.RetiredKeys) > 0 && !slices.Equal(got.RetiredKeys, want.RetiredKeys) {
		t.Errorf("RetiredKeys = %v, want %v", got.RetiredKeys, want.RetiredKeys)
	}
	checkEq(t, "Error", got.Error, want.Error)
	checkEq(t, "LeaseOwner", got.LeaseOwner, want.LeaseOwner)
	checkTime(t, "LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	checkTime(t, "StartedAt", got.StartedAt, want.StartedAt)
	checkTime(t, "FinishedAt", got.FinishedAt, want.FinishedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// resealFixture is Stores with the ResealJobStore and one running job in it.
type resealFixture struct {
	s    Stores
	jobs ports.ResealJobStore
	job  ports.ResealJob
}

func newResealFixture(t *testing.T, factory Factory, need ...string) resealFixture {
	t.Helper()
	s := open(t, factory, append(need, "ResealJobs")...)
	f := resealFixture{s: s, jobs: s.ResealJobs, job: newResealJob(newID(), at(0))}
	must(t, f.jobs.CreateResealJob(t.Context(), f.job), "CreateResealJob")
	return f
}

func (f resealFixture) check(t *testing.T, id string, want ports.ResealJob) {
	t.Helper()
	got, err := f.jobs.ResealJob(t.Context(), id)
	must(t, err, "ResealJob")
	checkResealJob(t, got, want)
}

// TestResealJobStore is the contract suite of ports.ResealJobStore. Jobs belong to no tenant.
func TestResealJobStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory)
		f.check(t, f.job.ID, f.job)
		bare := ports.ResealJob{ID: newID(), KeyID: 2, Status: ports.ResealRunning, StartedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
		must(t, f.jobs.CreateResealJob(t.Context(), bare), "CreateResealJob(bare)")
		f.check(t, bare.ID, bare) // zero lease, finish and lists stay zero
	})

	t.Run("NotFoundAndConflict", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory)
		_, err := f.jobs.ResealJob(t.Context(), newID())
		checkIs(t, "ResealJob(unknown ID)", err, ports.ErrNotFound)
		_, err = f.jobs.UpdateResealJob(t.Context(), newID(), func(*ports.ResealJob) error { return nil })
		checkIs(t, "UpdateResealJob(unknown ID)", err, ports.ErrNotFound)
		dup := newResealJob(f.job.ID, at(time.Hour))
		checkIs(t, "CreateResealJob(same ID)", f.jobs.CreateResealJob(t.Context(), dup), ports.ErrConflict)
		f.check(t, f.job.ID, f.job)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory)
		want := f.job
		want.Status, want.Done, want.Failed, want.Cursor, want.Error = ports.ResealFailed, 118, 2, "", "2 values did not open"
		want.Failures = append(want.Failures, ports.ResealFailure{Record: "acc-7", Reason: "x"})
		want.RetiredKeys, want.LeaseOwner, want.LeaseUntil, want.FinishedAt = nil, "", time.Time{}, at(time.Hour)
		got, err := f.jobs.UpdateResealJob(t.Context(), f.job.ID, func(j *ports.ResealJob) error {
			checkResealJob(t, *j, f.job) // fn sees the stored job
			*j = want
			j.ID = newID() // the identity is not fn's to change
			return nil
		})
		must(t, err, "UpdateResealJob")
		checkResealJob(t, got, want)
		f.check(t, f.job.ID, want)
		_, err = f.jobs.UpdateResealJob(t.Context(), f.job.ID, func(j *ports.ResealJob) error {
			j.Done = 0
			j.Failures[0].Reason = "changed"
			return errBoom
		})
		checkIs(t, "UpdateResealJob(fn fails)", err, errBoom)
		f.check(t, f.job.ID, want)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory, "Tx")
		lost := newResealJob(newID(), at(time.Minute))
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.jobs.CreateResealJob(ctx, lost), "CreateResealJob(in tx)")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		_, err = f.jobs.ResealJob(t.Context(), lost.ID)
		checkIs(t, "ResealJob(rolled back)", err, ports.ErrNotFound)
	})

	// Progress is counted in the store's atomic update: no increment of concurrent workers is lost.
	t.Run("ConcurrentProgress", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory)
		const n = 20
		concurrently(n, func(int) {
			if _, err := f.jobs.UpdateResealJob(t.Context(), f.job.ID, func(j *ports.ResealJob) error {
				j.Done++
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
		got, err := f.jobs.ResealJob(t.Context(), f.job.ID)
		must(t, err, "ResealJob")
		checkEq(t, "Done", got.Done, f.job.Done+n)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		f := newResealFixture(t, factory) // f.job: running, started at t0
		a := newResealJob("a", at(0))
		b := newResealJob("b", at(time.Minute))
		b.Status = ports.ResealSucceeded
		c := newResealJob("c", at(2*time.Minute))
		for _, j := range []ports.ResealJob{c, a, b} {
			must(t, f.jobs.CreateResealJob(t.Context(), j), "CreateResealJob")
		}
		first, second := "a", f.job.ID // started at the same instant: by ID
		if f.job.ID < "a" {
			first, second = f.job.ID, "a"
		}
		for _, tc := range []struct {
			name string
			f    ports.ResealJobFilter
			want []string
		}{
			{"all", ports.ResealJobFilter{}, []string{"c", "b", first, second}},
			{"limit", ports.ResealJobFilter{Limit: 2}, []string{"c", "b"}},
			{"running", ports.ResealJobFilter{Status: ports.ResealRunning}, []string{"c", first, second}},
			{"none", ports.ResealJobFilter{Status: ports.ResealFailed}, nil},
		} {
			got, err := f.jobs.ListResealJobs(t.Context(), tc.f)
			must(t, err, "ListResealJobs")
			ids := make([]string, len(got))
			for i, j := range got {
				ids[i] = j.ID
			}
			checkStrings(t, tc.name, ids, tc.want)
		}
	})
}

// sealedFixture holds TOTP secrets of two tenants' members and an operator, webhook subscriptions of both
// tenants, one with a previous secret, and Idempotency-Key answers of an operator and a member (and a key in
// progress, without an answer).
type sealedFixture struct {
	s    Stores
	want map[string][]ports.SealedValue // by kind, in walk order
}

func newSealedFixture(t *testing.T, factory Factory) sealedFixture {
	t.Helper()
	s := open(t, factory, "Tenants", "Accounts", "MFA", "Webhooks", "Idempotency", "SealedValues")
	f := sealedFixture{s: s, want: map[string][]ports.SealedValue{}}
	add := func(kind, tenantID, id string, sealed []byte, names ...string) {
		f.want[kind] = append(f.want[kind], ports.SealedValue{SealedRef: ports.SealedRef{TenantID: tenantID, ID: id}, Names: names, Sealed: sealed})
	}
	for _, operator := range []bool{true, false, false} {
		tenantID, accountID := someone(t, s, operator)
		r := putTOTP(t, s, newTOTP(tenantID, accountID))
		add(ports.SealedTOTPSecret, tenantID, accountID, r.SecretSealed)
		answered := ports.IdempotencyRecord{IdempotencyClaim: ports.IdempotencyClaim{TenantID: tenantID,
			Principal: "account:" + accountID, Key: "key:" + newID(), ID: newID()}, Fingerprint: hashOf("f"), CreatedAt: at(0), ExpiresAt: at(time.Minute)}
		busy := answered
		busy.Key, busy.ID = "busy", newID()
		for _, rec := range []ports.IdempotencyRecord{answered, busy} {
			_, won, err := s.Idempotency.ClaimIdempotencyKey(t.Context(), rec, at(0))
			must(t, err, "ClaimIdempotencyKey")
			checkEq(t, "claim won", won, true)
		}
		answered.Status, answered.Header, answered.Body, answered.ExpiresAt = 201, map[string]string{}, randomBytes(64), at(24*time.Hour)
		must(t, s.Idempotency.CompleteIdempotencyKey(t.Context(), answered), "CompleteIdempotencyKey")
		add(ports.SealedIdempotencyAnswer, tenantID, answered.ID, answered.Body, answered.Principal, answered.Key)
		if operator {
			continue
		}
		// An account without a TOTP secret is not walked.
		createAccount(t, s, newMember(tenantID, "m-"+newID()[:8]))
		plain := newSubscription(tenantID, newID(), "employee.hired")
		rotated := newSubscription(tenantID, newID(), "employee.hired")
		rotated.PreviousSealedSecret, rotated.PreviousSecretUntil = randomBytes(24), at(time.Hour)
		for _, sub := range []ports.WebhookSubscriptionRecord{plain, rotated} {
			must(t, s.Webhooks.CreateSubscription(t.Context(), sub), "CreateSubscription")
			add(ports.SealedWebhookSecret, tenantID, sub.ID, sub.SealedSecret)
		}
		add(ports.SealedWebhookPreviousSecret, tenantID, rotated.ID, rotated.PreviousSealedSecret)
	}
	for _, vs := range f.want {
		slices.SortFunc(vs, func(a, b ports.SealedValue) int {
			return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ID, b.ID))
		})
	}
	return f
}

// walk reads every value of kind, limit at a time.
func (f sealedFixture) walk(t *testing.T, kind string, limit int) []ports.SealedValue {
	t.Helper()
	var all []ports.SealedValue
	var after ports.SealedRef
	for range 100 {
		page, err := f.s.SealedValues.SealedValues(t.Context(), kind, after, limit)
		must(t, err, "SealedValues "+kind)
		all = append(all, page...)
		if len(page) == 0 || limit == 0 {
			return all
		}
		if len(page) > limit {
			t.Fatalf("SealedValues(limit %d) returned %d", limit, len(page))
		}
		after = page[len(page)-1].SealedRef
	}
	t.Fatal("the walk does not end")
	return nil
}

func checkSealedValues(t *testing.T, what string, got, want []ports.SealedValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].SealedRef != want[i].SealedRef || !bytes.Equal(got[i].Sealed, want[i].Sealed) ||
			!slices.Equal(got[i].Names, want[i].Names) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i].SealedRef, want[i].SealedRef)
		}
	}
}

// TestSealedValueStore is the contract suite of ports.SealedValueStore. It uses the TenantStore,
// AccountStore, MFAStore and WebhookStore to create the records whose sealed values it walks.
func TestSealedValueStore(t *testing.T, factory Factory) {
	kinds := []string{ports.SealedTOTPSecret, ports.SealedWebhookSecret, ports.SealedWebhookPreviousSecret,
		ports.SealedIdempotencyAnswer}

	t.Run("Walk", func(t *testing.T) {
		t.Parallel()
		f := newSealedFixture(t, factory)
		for _, kind := range kinds {
			for _, limit := range []int{0, 1, 2, 100} {
				checkSealedValues(t, kind+" limit "+itoa(limit), f.walk(t, kind, limit), f.want[kind])
			}
		}
		if _, err := f.s.SealedValues.SealedValues(t.Context(), "employee_my_number", ports.SealedRef{}, 0); err == nil {
			t.Error("SealedValues(unknown kind) succeeded")
		}
	})

	t.Run("Replace", func(t *testing.T) {
		t.Parallel()
		f := newSealedFixture(t, factory)
		sv := f.s.SealedValues
		for _, kind := range kinds {
			old := f.want[kind][0]
			next := randomBytes(40)
			stale := old
			stale.Sealed = randomBytes(40)
			if ok, err := sv.ReplaceSealedValue(t.Context(), kind, stale, randomBytes(40)); err != nil || ok {
				t.Fatalf("%s: replacing a value that changed meanwhile = %v, %v; want false", kind, ok, err)
			}
			if ok, err := sv.ReplaceSealedValue(t.Context(), kind, old, next); err != nil || !ok {
				t.Fatalf("%s: Replace = %v, %v; want true", kind, ok, err)
			}
			if ok, err := sv.ReplaceSealedValue(t.Context(), kind, old, randomBytes(40)); err != nil || ok {
				t.Fatalf("%s: replacing the old value again = %v, %v; want false", kind, ok, err)
			}
			gone := old
			gone.ID = newID()
			if ok, err := sv.ReplaceSealedValue(t.Context(), kind, gone, next); err != nil || ok {
				t.Fatalf("%s: replacing the value of no record = %v, %v; want false", kind, ok, err)
			}
			if old.Names != nil {
				other := old
				other.Names = []string{old.Names[0], "another key"}
				if ok, err := sv.ReplaceSealedValue(t.Context(), kind, other, next); err != nil || ok {
					t.Fatalf("%s: replacing the value of a record with other names = %v, %v; want false", kind, ok, err)
				}
			}
			f.want[kind][0].Sealed = next
			checkSealedValues(t, kind+" after replace", f.walk(t, kind, 0), f.want[kind])
		}
		// Nothing else of the records moved: the TOTP record and the subscriptions keep their fields and
		// version (the secret checked above).
		totp := f.want[ports.SealedTOTPSecret][0]
		got, err := f.s.MFA.TOTPByAccount(t.Context(), totp.TenantID, totp.ID)
		must(t, err, "TOTPByAccount")
		checkBytes(t, "TOTP secret", got.SecretSealed, totp.Sealed)
		checkTime(t, "TOTP CreatedAt", got.CreatedAt, at(0))
		for _, v := range f.want[ports.SealedWebhookSecret] {
			sub, err := f.s.Webhooks.SubscriptionByID(t.Context(), v.TenantID, v.ID)
			must(t, err, "SubscriptionByID")
			checkEq(t, "subscription Version", sub.Version, int64(1))
			checkBytes(t, "subscription secret", sub.SealedSecret, v.Sealed)
		}
		if _, err := sv.ReplaceSealedValue(t.Context(), "employee_my_number", totp, nil); err == nil {
			t.Error("ReplaceSealedValue(unknown kind) succeeded")
		}
	})

	// Of concurrent replacements of one value, each from the value it read, exactly one wins.
	t.Run("ConcurrentReplace", func(t *testing.T) {
		t.Parallel()
		f := newSealedFixture(t, factory)
		old := f.want[ports.SealedTOTPSecret][1]
		checkOneWins(t, "replacements", 10, errBoom, func(int) error {
			ok, err := f.s.SealedValues.ReplaceSealedValue(t.Context(), ports.SealedTOTPSecret, old, randomBytes(40))
			if err == nil && !ok {
				return errBoom
			}
			return err
		})
	})
}
