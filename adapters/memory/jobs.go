package memory

import (
	"bytes"
	"context"
	"time"

	"github.com/roumu/roumu/ports"
)

func jobCopy(j ports.JobRecord) ports.JobRecord {
	j.Result = bytes.Clone(j.Result)
	j.CreatedAt = norm(j.CreatedAt)
	j.UpdatedAt = norm(j.UpdatedAt)
	return j
}

// CreateJob stores a new job; ErrConflict when its ID is taken.
func (s *Store) CreateJob(ctx context.Context, j ports.JobRecord) error {
	defer s.lock(ctx)()
	if _, ok := s.st.jobs[j.ID]; ok {
		return conflict("job", j.ID)
	}
	s.st.jobs[j.ID] = jobCopy(j)
	return nil
}

// job returns the job id of tenantID; another tenant's job is not found.
func (s *Store) job(tenantID, id string) (ports.JobRecord, error) {
	return ofTenant(s.st.jobs, func(j ports.JobRecord) string { return j.TenantID }, "job", tenantID, id)
}

// JobByID returns the job of tenantID; ErrNotFound otherwise.
func (s *Store) JobByID(ctx context.Context, tenantID, id string) (ports.JobRecord, error) {
	defer s.lock(ctx)()
	j, err := s.job(tenantID, id)
	return jobCopy(j), err
}

// UpdateJob applies fn to a copy of the job under the store lock and stores the result. Changes fn makes
// to ID or TenantID are discarded.
func (s *Store) UpdateJob(ctx context.Context, tenantID, id string, fn func(*ports.JobRecord) error) (ports.JobRecord, error) {
	defer s.lock(ctx)()
	old, err := s.job(tenantID, id)
	if err != nil {
		return ports.JobRecord{}, err
	}
	j := jobCopy(old)
	if err := fn(&j); err != nil {
		return ports.JobRecord{}, err
	}
	j.ID, j.TenantID = old.ID, old.TenantID
	j = jobCopy(j)
	s.st.jobs[id] = j
	return jobCopy(j), nil
}

// FailStaleJobs marks the queued and running jobs last updated before staleBefore as failed, under the store
// lock.
func (s *Store) FailStaleJobs(ctx context.Context, staleBefore, at time.Time, result []byte) (int, error) {
	defer s.lock(ctx)()
	n := 0
	for id, j := range s.st.jobs {
		if (j.Status == ports.JobQueued || j.Status == ports.JobRunning) && j.UpdatedAt.Before(staleBefore) {
			j.Status, j.Result, j.UpdatedAt = ports.JobFailed, result, at
			s.st.jobs[id] = jobCopy(j)
			n++
		}
	}
	return n, nil
}
