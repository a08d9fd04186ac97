package employees

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roumu/roumu/ports"
)

// resealPage is how many employees Reseal takes from the store at a time.
const resealPage = 200

// Reseal seals every sensitive value of every employee again, the current record and every change of its
// history, so that all of them are under the Cipher's newest key: the job after a key rotation, before the old
// key is retired. It walks the register in (tenant, ID) order, one employee per transaction, and reports how
// many it has done; it is safe to stop and run again (a value already under the newest key is sealed again).
// Each employee's version moves on, as for any write, so an edit opened before the job must be reloaded.
func (s *Service) Reseal(ctx context.Context, progress func(done int)) (int, error) {
	var after ports.EmployeeKey
	done := 0
	for {
		keys, err := s.Employees.EmployeeKeys(ctx, after, resealPage)
		if err != nil || len(keys) == 0 {
			return done, err
		}
		for _, k := range keys {
			if err := s.resealEmployee(ctx, k); err != nil && !errors.Is(err, ports.ErrNotFound) {
				return done, fmt.Errorf("employees: re-sealing %s: %w", k.ID, err)
			}
			done++
			if progress != nil {
				progress(done)
			}
		}
		after = keys[len(keys)-1]
	}
}

func (s *Service) resealEmployee(ctx context.Context, k ports.EmployeeKey) error {
	z := s.sealer(k.TenantID, k.ID)
	reseal := func(ctx context.Context, field, sealed string) (string, error) {
		plain, err := z.open(ctx, field, sealed)
		if err != nil {
			return "", err
		}
		return z.seal(ctx, field, plain)
	}
	_, err := s.Employees.UpdateEmployee(ctx, k.TenantID, k.ID,
		func(r *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
			cur, err := decodeState(r.Data)
			if err != nil {
				return ports.EmployeeUpdate{}, err
			}
			if cur, err = z.transform(ctx, cur, reseal); err != nil {
				return ports.EmployeeUpdate{}, err
			}
			r.Data = cur.encode()
			up := ports.EmployeeUpdate{Rewrite: make([]ports.EmployeeChangeRecord, 0, len(changes))}
			for _, c := range changes {
				var p patch
				if err := json.Unmarshal(c.Patch, &p); err != nil {
					return ports.EmployeeUpdate{}, fmt.Errorf("change %s: %w", c.ID, err)
				}
				if err := z.transformPatch(ctx, p, reseal); err != nil {
					return ports.EmployeeUpdate{}, err
				}
				c.Patch = p.encode()
				up.Rewrite = append(up.Rewrite, c)
			}
			return up, nil
		})
	return err
}
