package porttest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newJob returns a running import of tenantID started by accountID, with every field set.
func newJob(tenantID, accountID string) ports.JobRecord {
	return ports.JobRecord{
		ID: newID(), TenantID: tenantID, Kind: "employees.import", Status: ports.JobRunning, Done: 120, Total: 5000,
		Result:    []byte(`{"created": 3,  "errors":[{"row":7,"message":"社員番号が重複しています"}]}`),
		CreatedBy: accountID, CreatedAt: at(0), UpdatedAt: at(time.Minute),
	}
}

func checkJob(t *testing.T, got, want ports.JobRecord) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "Kind", got.Kind, want.Kind)
	checkEq(t, "Status", got.Status, want.Status)
	checkEq(t, "Done", got.Done, want.Done)
	checkEq(t, "Total", got.Total, want.Total)
	checkBytes(t, "Result", got.Result, want.Result)
	checkEq(t, "CreatedBy", got.CreatedBy, want.CreatedBy)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func createJob(t *testing.T, s Stores, j ports.JobRecord) ports.JobRecord {
	t.Helper()
	must(t, s.Jobs.CreateJob(t.Context(), j), "CreateJob")
	return j
}

// jobs describes the JobStore for the shared checks of tenant-scoped stores; its touch counts one more
// row done, as an import reports progress.
func jobs(s Stores) scoped[ports.JobRecord] {
	return scoped[ports.JobRecord]{
		get:    s.Jobs.JobByID,
		update: s.Jobs.UpdateJob,
		check:  checkJob,
		touch:  func(j *ports.JobRecord) { j.Done++ },
		move:   func(j *ports.JobRecord, tenantID, id string) { j.TenantID, j.ID = tenantID, id },
	}
}

// jobFixture is a job of one tenant's member, and another tenant.
type jobFixture struct {
	s           Stores
	sc          scoped[ports.JobRecord]
	tenant      string
	account     string
	otherTenant string
	job         ports.JobRecord
}

func newJobFixture(t *testing.T, factory Factory, need ...string) jobFixture {
	t.Helper()
	// Jobs are created by real accounts of real tenants, so an SQL store may keep foreign keys to them.
	s := open(t, factory, append(need, "Tenants", "Accounts", "Jobs")...)
	f := jobFixture{s: s, sc: jobs(s)}
	f.tenant, f.account = someone(t, s, false)
	f.otherTenant, _ = someone(t, s, false)
	f.job = createJob(t, s, newJob(f.tenant, f.account))
	return f
}

// TestJobStore is the contract suite of ports.JobStore. It uses the TenantStore and AccountStore to create
// the tenants and accounts the jobs belong to, and the Transactor for the case in a transaction. An update
// function cannot change the ID or TenantID: the store ignores or refuses such changes.
func TestJobStore(t *testing.T, factory Factory) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkStored(t, f.tenant, f.job.ID, f.job)
		queued := createJob(t, f.s, ports.JobRecord{
			ID: newID(), TenantID: f.tenant, Kind: "employees.import", Status: ports.JobQueued,
			CreatedBy: f.account, CreatedAt: at(time.Hour),
		})
		f.sc.checkStored(t, f.tenant, queued.ID, queued) // zero Done, Total, Result and UpdatedAt stay zero
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkHidden(t, "unknown", f.tenant, newID())
	})

	t.Run("IDConflict", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		for _, tenant := range []string{f.tenant, f.otherTenant} {
			dup := newJob(tenant, f.account)
			dup.ID, dup.Kind = f.job.ID, "employees.export"
			checkIs(t, "CreateJob(same ID)", f.s.Jobs.CreateJob(t.Context(), dup), ports.ErrConflict)
		}
		f.sc.checkStored(t, f.tenant, f.job.ID, f.job)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		want := f.job
		want.Status, want.Done, want.Total = ports.JobSucceeded, 5000, 5000
		want.Result, want.UpdatedAt = []byte(`{"created":4990,"updated":10}`), at(time.Hour)
		got, err := f.s.Jobs.UpdateJob(t.Context(), f.tenant, f.job.ID, func(j *ports.JobRecord) error {
			checkJob(t, *j, f.job) // fn sees the stored record
			j.Status, j.Done, j.Total, j.Result, j.UpdatedAt = want.Status, want.Done, want.Total, want.Result, want.UpdatedAt
			return nil
		})
		must(t, err, "UpdateJob")
		checkJob(t, got, want)
		f.sc.checkStored(t, f.tenant, f.job.ID, want)
		f.sc.checkUpdate(t, f.tenant, f.job.ID, want)
	})

	t.Run("UpdateKeepsIdentity", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkUpdateKeepsIdentity(t, f.tenant, f.job.ID, f.otherTenant, f.job)
	})

	t.Run("UpdateErrorChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkUpdateErrorChangesNothing(t, f.tenant, f.job.ID, f.job)
	})

	t.Run("TenantScoping", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkHidden(t, "other tenant", f.otherTenant, f.job.ID)
		f.sc.checkHidden(t, "no tenant", "", f.job.ID)
		f.sc.checkStored(t, f.tenant, f.job.ID, f.job)
	})

	t.Run("NoAliasing", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		in := newJob(f.tenant, f.account)
		want := in
		want.Result = bytes.Clone(in.Result)
		createJob(t, f.s, in)
		in.Result[0] = 'x'
		got, err := f.s.Jobs.JobByID(t.Context(), f.tenant, in.ID)
		must(t, err, "JobByID")
		got.Result[0] = 'x'
		result := []byte(`{"created":1}`)
		got, err = f.s.Jobs.UpdateJob(t.Context(), f.tenant, in.ID, func(j *ports.JobRecord) error {
			j.Result = result
			return nil
		})
		must(t, err, "UpdateJob")
		result[0] = 'x'
		got.Result[1] = 'x'
		want.Result = []byte(`{"created":1}`)
		f.sc.checkStored(t, f.tenant, in.ID, want)
	})

	t.Run("RollbackInTx", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory, "Tx")
		f.sc.checkUpdateRolledBack(t, f.s.Tx, f.tenant, f.job.ID, f.job)
		lost := newJob(f.tenant, f.account)
		err := f.s.Tx.InTx(t.Context(), func(ctx context.Context) error {
			must(t, f.s.Jobs.CreateJob(ctx, lost), "CreateJob(in tx)")
			return errBoom
		})
		checkIs(t, "InTx(fn fails)", err, errBoom)
		f.sc.checkHidden(t, "rolled back", f.tenant, lost.ID)
	})

	t.Run("FailStaleJobs", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		job := func(tenant, status string, updated time.Duration) ports.JobRecord {
			j := newJob(tenant, f.account)
			j.Status, j.UpdatedAt = status, at(updated)
			return createJob(t, f.s, j)
		}
		// f.job is running, last updated at(time.Minute).
		stale := []ports.JobRecord{f.job, job(f.tenant, ports.JobQueued, 0), job(f.otherTenant, ports.JobRunning, 59*time.Minute)}
		kept := []ports.JobRecord{job(f.tenant, ports.JobRunning, time.Hour), job(f.tenant, ports.JobSucceeded, 0),
			job(f.otherTenant, ports.JobFailed, 0)}
		result := []byte(`{"failure":"interrupted"}`)
		n, err := f.s.Jobs.FailStaleJobs(t.Context(), at(time.Hour), at(2*time.Hour), result)
		must(t, err, "FailStaleJobs")
		checkEq(t, "failed", n, len(stale))
		result[0] = 'x' // the store keeps its own copy
		for _, j := range stale {
			j.Status, j.Result, j.UpdatedAt = ports.JobFailed, []byte(`{"failure":"interrupted"}`), at(2*time.Hour)
			f.sc.checkStored(t, j.TenantID, j.ID, j) // progress and identity as they were
		}
		for _, j := range kept {
			f.sc.checkStored(t, j.TenantID, j.ID, j)
		}
		n, err = f.s.Jobs.FailStaleJobs(t.Context(), at(time.Hour), at(3*time.Hour), result)
		must(t, err, "FailStaleJobs(again)")
		checkEq(t, "failed again", n, 0)
	})

	t.Run("ConcurrentUpdateJob", func(t *testing.T) {
		t.Parallel()
		f := newJobFixture(t, factory)
		f.sc.checkConcurrentUpdates(t, 10, f.tenant, f.job.ID, f.job)
	})
}
