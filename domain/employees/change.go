package employees

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// Change kinds, as History shows them.
const (
	KindHire             = "hire"
	KindChange           = "change"
	KindSeparation       = "separation"
	KindImport           = "import"
	KindDependentAdded   = "dependent_added"
	KindDependentChanged = "dependent_changed"
	KindDependentRemoved = "dependent_removed"
)

// draft is a change about to be recorded, in plain parsed values.
type draft struct {
	kind        string
	effectiveOn string
	values      map[string]string            // employee fields to set ("" clears)
	deps        map[string]map[string]string // dependents to set whole, or to remove (nil)
	reason      string
}

// trailItem is one field of the change trail; sensitive values are masked.
type trailItem struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// trailDoc is a change's Trail: why, and what each field was and became against the state just before the
// change's day, as it stood when the change was recorded.
type trailDoc struct {
	Reason  string      `json:"reason,omitempty"`
	Changes []trailItem `json:"changes"`
}

// planned is a change ready to be stored, with the timeline it makes.
type planned struct {
	change   ports.EmployeeChangeRecord
	trail    []trailItem
	timeline timeline
}

// errNoChange ends a write that would change nothing: nothing is stored, no version is spent.
var errNoChange = errors.New("employees: no change")

// plan turns a draft into a change of the employee z seals for, on top of timeline t (empty for a new
// employee): it keeps only the fields that differ from the state just before the change's day, seals the
// sensitive ones, writes the trail, and checks every state from that day on, since a change dated in the
// past shows in all later states.
func (s *Service) plan(ctx context.Context, z sealer, p ports.Principal, t timeline, d draft, today string) (planned, error) {
	d.effectiveOn = t.day(d.effectiveOn, today)
	if len(t) > 0 && d.effectiveOn < t.first() {
		return planned{}, invalid([]ports.FieldError{{Field: "effective_on", Code: "before_first_change",
			MessageEN: "must not be before the employee's first record (" + t.first() + ")",
			MessageJA: "従業員の最初の記録(" + t.first() + ")より前の日付は指定できません"}})
	}
	before, err := z.openState(ctx, t.at(d.effectiveOn))
	if err != nil {
		return planned{}, err
	}
	values := maps.Clone(d.values)
	// Recording a separation date separates the employee unless the same change says otherwise.
	if _, set := values[fStatus]; !set && values[fSeparationDate] != "" && before.values[fStatus] != ports.EmployeeSeparated {
		values[fStatus] = ports.EmployeeSeparated
	}
	ptch, trail := diff(before, values, d.deps)
	if ptch.empty() {
		return planned{}, errNoChange
	}
	if err := z.sealPatch(ctx, ptch); err != nil {
		return planned{}, err
	}
	body := ptch.encode()
	trailJSON, err := json.Marshal(trailDoc{Reason: d.reason, Changes: trail})
	if err != nil {
		return planned{}, err
	}
	kind := d.kind
	if kind == KindChange && values[fStatus] == ports.EmployeeSeparated && before.values[fStatus] != ports.EmployeeSeparated {
		kind = KindSeparation
	}
	rec := ports.EmployeeChangeRecord{ID: kernel.NewID(), TenantID: z.tenantID, EmployeeID: z.employee,
		Seq: t.nextSeq(), EffectiveOn: d.effectiveOn, Kind: kind, Patch: body, Trail: trailJSON,
		RecordedAt: s.Clock.Now(), RecordedBy: p.AccountID}
	nt := t.with(step{rec: rec, patch: ptch})
	if err := validateFrom(nt, d.effectiveOn, today); err != nil {
		return planned{}, err
	}
	return planned{change: rec, trail: trail, timeline: nt}, nil
}

// diff compares the plain values and dependents a change sets with the plain state before it, and returns
// the patch of what differs (still plain) and its trail.
func diff(before state, values map[string]string, deps map[string]map[string]string) (patch, []trailItem) {
	p := patch{values: map[string]string{}, deps: map[string]map[string]string{}}
	var trail []trailItem
	for _, f := range employeeFields.fields {
		v, ok := values[f.Name]
		if !ok || before.values[f.Name] == v {
			continue
		}
		p.values[f.Name] = v
		trail = append(trail, trailEntry(f, f.Name, before.values[f.Name], v))
	}
	for _, id := range slices.Sorted(maps.Keys(deps)) {
		next := deps[id]
		old, exists := before.dependent(id)
		if next == nil && !exists {
			continue
		}
		changed := false
		for _, f := range dependentFields.fields {
			from, to := old.values[f.Name], next[f.Name]
			if from != to {
				changed = true
				trail = append(trail, trailEntry(f, dependentField(id, f.Name), from, to))
			}
		}
		if changed || !exists {
			p.deps[id] = next
		}
	}
	return p, trail
}

func trailEntry(f Field, name, from, to string) trailItem {
	if f.Sensitive {
		from, to = mask(from), mask(to)
	}
	return trailItem{Field: name, From: from, To: to}
}

// sealPatch seals the sensitive values of a plain patch in place.
func (z sealer) sealPatch(ctx context.Context, p patch) error {
	return z.transformPatch(ctx, p, z.seal)
}

// transformPatch applies fn to every sensitive value of a patch in place.
func (z sealer) transformPatch(ctx context.Context, p patch, fn func(context.Context, string, string) (string, error)) error {
	if err := z.transformValues(ctx, p.values, employeeFields, "", fn); err != nil {
		return err
	}
	for id, vals := range p.deps {
		if err := z.transformValues(ctx, vals, dependentFields, fDependentPrefix+id+".", fn); err != nil {
			return err
		}
	}
	return nil
}

// validateFrom checks the employee at the day and at every later change: a change dated in the past must not
// leave any later state invalid either.
func validateFrom(t timeline, day, today string) error {
	days := []string{day}
	for _, st := range t {
		if st.rec.EffectiveOn > day && st.rec.EffectiveOn != days[len(days)-1] {
			days = append(days, st.rec.EffectiveOn)
		}
	}
	for _, d := range days {
		if errs := checkState(t.at(d), today); len(errs) > 0 {
			return invalid(errs)
		}
	}
	return nil
}

// checkState applies the rules that tie fields together. Sealed values may stand for plain ones: the rules
// only look at dates, the status and whether a value is there.
func checkState(s state, today string) []ports.FieldError {
	v := s.values
	errs := employeeFields.missing(v)
	if b := v[fBirthDate]; b > today {
		errs = append(errs, ports.FieldError{Field: fBirthDate, Code: "birth_date_in_future",
			MessageEN: "must not be in the future", MessageJA: "未来の日付は指定できません"})
	}
	if h, b := v[fHireDate], v[fBirthDate]; h != "" && b != "" && h <= b {
		errs = append(errs, ports.FieldError{Field: fHireDate, Code: "hire_before_birth",
			MessageEN: "must be after the birth date", MessageJA: "生年月日より後の日付を指定してください"})
	}
	sep, status := v[fSeparationDate], v[fStatus]
	if h := v[fHireDate]; sep != "" && h != "" && sep < h {
		errs = append(errs, ports.FieldError{Field: fSeparationDate, Code: "separation_before_hire",
			MessageEN: "must not be before the hire date", MessageJA: "入社日より前の日付は指定できません"})
	}
	if sep != "" && status != "" && status != ports.EmployeeSeparated {
		errs = append(errs, ports.FieldError{Field: fStatus, Code: "separation_requires_separated",
			MessageEN: "must be separated when a separation date is set",
			MessageJA: "退職日を入力した場合、在籍状況は退職にしてください"})
	}
	if status == ports.EmployeeSeparated && sep == "" {
		errs = append(errs, ports.FieldError{Field: fSeparationDate, Code: "required",
			MessageEN: "is required for a separated employee", MessageJA: "退職者には退職日が必須です"})
	}
	for _, d := range s.deps {
		for _, e := range dependentFields.missing(d.values) {
			e.Field = dependentField(d.ID, e.Field)
			errs = append(errs, e)
		}
		if d.values[fBirthDate] > today {
			errs = append(errs, ports.FieldError{Field: dependentField(d.ID, fBirthDate), Code: "birth_date_in_future",
				MessageEN: "must not be in the future", MessageJA: "未来の日付は指定できません"})
		}
	}
	return errs
}

// transformValues applies fn to the sensitive values of one catalogue in place; prefix makes the field
// name the additional data binds (a dependent's fields are "dependents.ID.field").
func (z sealer) transformValues(ctx context.Context, values map[string]string, c *catalogue, prefix string,
	fn func(context.Context, string, string) (string, error)) error {
	for k, v := range values {
		if f, ok := c.field(k); ok && f.Sensitive {
			out, err := fn(ctx, prefix+k, v)
			if err != nil {
				return err
			}
			values[k] = out
		}
	}
	return nil
}
