package employees

import (
	"context"
	"maps"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

func dependentNotFound() error {
	return ports.NewError(ports.ErrNotFound, "not_found", "The dependent was not found.", "扶養家族が見つかりません。")
}

// dependentInput parses a dependent's fields and the change's date.
func (s *Service) dependentInput(in ports.DependentInput) (map[string]string, string, error) {
	values, errs := dependentFields.parse(in.Fields)
	day, more := effectiveOn(in.EffectiveOn)
	if errs = append(errs, more...); len(errs) > 0 {
		return nil, "", invalid(errs)
	}
	return values, day, nil
}

// AddDependent implements ports.Employees. Dependents are part of the employee's state, so adding one is an
// effective-dated change like any other; an employee may add their own.
func (s *Service) AddDependent(ctx context.Context, p ports.Principal, employeeID string, in ports.DependentInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	values, errs := dependentFields.parse(in.Fields)
	for _, e := range dependentFields.missing(values) {
		if _, given := in.Fields[e.Field]; !given { // a given but invalid value is reported already
			errs = append(errs, e)
		}
	}
	day, more := effectiveOn(in.EffectiveOn)
	if errs = append(errs, more...); len(errs) > 0 {
		return ports.Employee{}, invalid(errs)
	}
	id := kernel.NewID()
	d := draft{kind: KindDependentAdded, effectiveOn: day, deps: map[string]map[string]string{id: values}}
	return s.write(ctx, p, a, employeeID, writeOp{action: "employee.update", ifVersion: in.IfVersion,
		build: func(timeline, string) (*draft, []string, error) { return &d, nil, nil }})
}

// UpdateDependent implements ports.Employees: the given fields change, the others stay as they were on
// that day.
func (s *Service) UpdateDependent(ctx context.Context, p ports.Principal, employeeID, dependentID string, in ports.DependentInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	values, day, err := s.dependentInput(in)
	if err != nil {
		return ports.Employee{}, err
	}
	z := s.sealer(p.TenantID, employeeID)
	return s.write(ctx, p, a, employeeID, writeOp{action: "employee.update", ifVersion: in.IfVersion,
		build: func(t timeline, today string) (*draft, []string, error) {
			old, ok := t.at(t.day(day, today)).dependent(dependentID)
			if !ok {
				return nil, nil, dependentNotFound()
			}
			merged := maps.Clone(old.values)
			if err := z.transformValues(ctx, merged, dependentFields, fDependentPrefix+dependentID+".", z.open); err != nil {
				return nil, nil, err
			}
			for k, v := range values {
				if v == "" {
					delete(merged, k)
				} else {
					merged[k] = v
				}
			}
			return &draft{kind: KindDependentChanged, effectiveOn: day,
				deps: map[string]map[string]string{dependentID: merged}}, nil, nil
		}})
}

// RemoveDependent implements ports.Employees: from the day given, the dependent is no longer supported
// (the history keeps them).
func (s *Service) RemoveDependent(ctx context.Context, p ports.Principal, employeeID, dependentID string, in ports.DependentInput) (ports.Employee, error) {
	a := AccessOf(p)
	if err := require(a.Any()); err != nil {
		return ports.Employee{}, err
	}
	day, errs := effectiveOn(in.EffectiveOn)
	if len(errs) > 0 {
		return ports.Employee{}, invalid(errs)
	}
	return s.write(ctx, p, a, employeeID, writeOp{action: "employee.update", ifVersion: in.IfVersion,
		build: func(t timeline, today string) (*draft, []string, error) {
			if _, ok := t.at(t.day(day, today)).dependent(dependentID); !ok {
				return nil, nil, dependentNotFound()
			}
			return &draft{kind: KindDependentRemoved, effectiveOn: day,
				deps: map[string]map[string]string{dependentID: nil}}, nil, nil
		}})
}
