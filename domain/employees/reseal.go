package employees

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// countPage is how many employees CountSealed takes from the store at a time.
const countPage = 500

// SealedData returns the register's sensitive values (the current record and every change of its history,
// dependents' included) as a key rotation job walks them: by employee, in (tenant, ID) order, each
// employee's stale values sealed again in one update of that employee. Its version moves on, as for any
// write, so an edit opened before the job must be reloaded.
func (s *Service) SealedData() ports.SealedData { return sealedRegister{s} }

type sealedRegister struct{ s *Service }

func (sealedRegister) SealedName() string { return "employees" }

// valueFailure is a value of an employee that does not open: the employee is passed by and reported.
type valueFailure struct{ err error }

func (f valueFailure) Error() string { return f.err.Error() }

// errUnchanged ends the update of an employee with nothing to re-seal, writing nothing.
var errUnchanged = errors.New("employees: nothing to re-seal")

func (r sealedRegister) ResealBatch(ctx context.Context, after string, limit int, stale func([]byte) bool) (ports.ResealBatch, error) {
	ref := kernel.RefCursor(after)
	keys, err := r.s.Employees.EmployeeKeys(ctx, ports.EmployeeKey(ref), limit)
	if err != nil {
		return ports.ResealBatch{}, err
	}
	var out ports.ResealBatch
	for _, k := range keys {
		n, err := r.s.resealEmployee(ctx, k, stale)
		var failed valueFailure
		switch {
		case errors.As(err, &failed):
			out.Failures = append(out.Failures, ports.ResealFailure{Record: cursorOf(k), Reason: failed.Error()})
		case err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, ports.ErrNotFound): // deleted meanwhile
			return out, fmt.Errorf("employees: re-sealing %s: %w", k.ID, err)
		}
		out.Resealed += n
	}
	if limit > 0 && len(keys) == limit {
		out.Next = cursorOf(keys[len(keys)-1])
	}
	return out, nil
}

func cursorOf(k ports.EmployeeKey) string {
	return kernel.Cursor(ports.SealedRef(k))
}

// resealEmployee seals the employee's stale values again and returns how many, in one update; errUnchanged
// when none is stale.
func (s *Service) resealEmployee(ctx context.Context, k ports.EmployeeKey, stale func([]byte) bool) (int, error) {
	z := s.sealer(k.TenantID, k.ID)
	n := 0
	reseal := func(ctx context.Context, field, sealed string) (string, error) {
		if !isStale(sealed, stale) {
			return sealed, nil
		}
		plain, err := z.open(ctx, field, sealed)
		if err != nil {
			return "", valueFailure{err}
		}
		n++
		return z.seal(ctx, field, plain)
	}
	_, err := s.Employees.UpdateEmployee(ctx, k.TenantID, k.ID,
		func(r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			n = 0
			cur, err := decodeState(r.Data)
			if err != nil {
				return ports.EmployeeUpdate{}, valueFailure{err}
			}
			if cur, err = z.transform(ctx, cur, reseal); err != nil {
				return ports.EmployeeUpdate{}, err
			}
			r.Data = cur.encode()
			up := ports.EmployeeUpdate{Rewrite: make([]ports.EmployeeChangeRecord, 0, len(changes))}
			for _, c := range changes {
				p, err := decodePatch(c)
				if err != nil {
					return ports.EmployeeUpdate{}, valueFailure{err}
				}
				if err := z.transformPatch(ctx, p, reseal); err != nil {
					return ports.EmployeeUpdate{}, err
				}
				c.Patch = p.encode()
				up.Rewrite = append(up.Rewrite, c)
			}
			if n == 0 {
				return ports.EmployeeUpdate{}, errUnchanged
			}
			return up, nil
		})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// isStale applies stale to a stored value (base64 of the sealed bytes); one that is not base64 is stale, so
// that it is counted and reported rather than ignored.
func isStale(sealed string, stale func([]byte) bool) bool {
	if sealed == "" {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	return err != nil || stale(b)
}

func decodePatch(c ports.EmployeeChangeRecord) (patch, error) {
	var p patch
	if err := json.Unmarshal(c.Patch, &p); err != nil {
		return patch{}, fmt.Errorf("change %s: %w", c.ID, err)
	}
	return p, nil
}

// CountSealed reads every employee with its history and counts the values stale reports.
func (r sealedRegister) CountSealed(ctx context.Context, stale func([]byte) bool) (int, error) {
	n := 0
	var after ports.EmployeeKey
	for {
		keys, err := r.s.Employees.EmployeeKeys(ctx, after, countPage)
		if err != nil || len(keys) == 0 {
			return n, err
		}
		for _, k := range keys {
			c, err := r.s.countStale(ctx, k, stale)
			if err != nil && !errors.Is(err, ports.ErrNotFound) {
				return n, fmt.Errorf("employees: counting %s: %w", k.ID, err)
			}
			n += c
		}
		after = keys[len(keys)-1]
	}
}

// countStale counts the employee's values stale reports. A record or change that does not decode counts as
// one: the re-seal reports it.
func (s *Service) countStale(ctx context.Context, k ports.EmployeeKey, stale func([]byte) bool) (int, error) {
	rec, err := s.Employees.EmployeeByID(ctx, k.TenantID, k.ID)
	if err != nil {
		return 0, err
	}
	changes, err := s.Employees.EmployeeChanges(ctx, k.TenantID, k.ID)
	if err != nil {
		return 0, err
	}
	z := s.sealer(k.TenantID, k.ID)
	n := 0
	count := func(_ context.Context, _, sealed string) (string, error) {
		if isStale(sealed, stale) {
			n++
		}
		return sealed, nil
	}
	if cur, err := decodeState(rec.Data); err != nil {
		n++
	} else if _, err := z.transform(ctx, cur, count); err != nil {
		return 0, err
	}
	for _, c := range changes {
		if p, err := decodePatch(c); err != nil {
			n++
		} else if err := z.transformPatch(ctx, p, count); err != nil {
			return 0, err
		}
	}
	return n, nil
}
