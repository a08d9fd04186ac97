package employees

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/roumu/roumu/ports"
)

// state is an employee as of one day: field values by catalogue name and the dependents. Depending on where
// it comes from, sensitive values are sealed (as stored: base64 of the Cipher's output) or plain (opened for
// a view or a comparison); the type does not say which, the functions that make one do.
type state struct {
	values map[string]string // "" values are not kept: absent means empty
	deps   []dependent       // in the order they were added
}

// dependent is one dependent inside a state.
type dependent struct {
	ID     string
	values map[string]string
}

func newState() state { return state{values: map[string]string{}} }

func (s state) clone() state {
	c := state{values: maps.Clone(s.values), deps: make([]dependent, len(s.deps))}
	for i, d := range s.deps {
		c.deps[i] = dependent{ID: d.ID, values: maps.Clone(d.values)}
	}
	return c
}

func (s state) dependent(id string) (dependent, bool) {
	for _, d := range s.deps {
		if d.ID == id {
			return d, true
		}
	}
	return dependent{}, false
}

// patch is what one change sets: field values ("" clears) and dependents, each replaced whole or removed
// (nil). It is stored as one JSON object: {"family_name": "…", "dependents.ID": {…} or null}.
type patch struct {
	values map[string]string
	deps   map[string]map[string]string
}

func (p patch) empty() bool { return len(p.values) == 0 && len(p.deps) == 0 }

// apply folds p into s (which it changes).
func (s *state) apply(p patch) {
	for k, v := range p.values {
		if v == "" {
			delete(s.values, k)
		} else {
			s.values[k] = v
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.deps)) {
		vals := p.deps[id]
		i := slices.IndexFunc(s.deps, func(d dependent) bool { return d.ID == id })
		switch {
		case vals == nil && i >= 0:
			s.deps = slices.Delete(s.deps, i, i+1)
		case vals == nil:
		case i >= 0:
			s.deps[i].values = maps.Clone(vals)
		default:
			s.deps = append(s.deps, dependent{ID: id, values: maps.Clone(vals)})
		}
	}
}

// encode writes the patch as its JSON object, keys sorted. (Hand-written: a 100,000-row import writes a
// patch and a state per row, and encoding/json spends most of that time sorting and re-compacting maps.)
func (p patch) encode() []byte {
	keys := make([]string, 0, len(p.values)+len(p.deps))
	keys = slices.AppendSeq(keys, maps.Keys(p.values))
	for id := range p.deps {
		keys = append(keys, fDependentPrefix+id)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64*len(keys))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if id, ok := strings.CutPrefix(k, fDependentPrefix); ok {
			if vals := p.deps[id]; vals == nil {
				b = append(b, "null"...)
			} else {
				b = appendJSONObject(b, vals, "", "")
			}
		} else {
			b = appendJSONString(b, p.values[k])
		}
	}
	return append(b, '}')
}

func (p *patch) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p.values, p.deps = map[string]string{}, map[string]map[string]string{}
	for k, v := range raw {
		if id, ok := strings.CutPrefix(k, fDependentPrefix); ok {
			var vals map[string]string // null stays nil: removed
			if err := json.Unmarshal(v, &vals); err != nil {
				return fmt.Errorf("employees: patch %s: %w", k, err)
			}
			p.deps[id] = vals
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("employees: patch %s: %w", k, err)
		}
		p.values[k] = s
	}
	return nil
}

// encode writes a state as the record's Data: the field values (keys sorted) and a "dependents" array.
func (s state) encode() []byte {
	b := appendJSONObject(make([]byte, 0, 1024), s.values, "", "")
	b = b[:len(b)-1] // reopen the object for the dependents
	if len(s.values) > 0 {
		b = append(b, ',')
	}
	b = append(b, `"dependents":[`...)
	for i, d := range s.deps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONObject(b, d.values, "id", d.ID)
	}
	return append(b, "]}"...)
}

// appendJSONObject appends a flat object of strings, keys sorted, led by extraKey when it is not "".
func appendJSONObject(b []byte, m map[string]string, extraKey, extraValue string) []byte {
	b = append(b, '{')
	if extraKey != "" {
		b = appendJSONString(b, extraKey)
		b = append(b, ':')
		b = appendJSONString(b, extraValue)
	}
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 || extraKey != "" {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and control characters escaped, invalid
// UTF-8 replaced by U+FFFD (as encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// decodeState reads a record's Data.
func decodeState(b []byte) (state, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return state{}, fmt.Errorf("employees: record data: %w", err)
	}
	s := newState()
	for k, v := range raw {
		if k == "dependents" {
			var deps []map[string]string
			if err := json.Unmarshal(v, &deps); err != nil {
				return state{}, fmt.Errorf("employees: record dependents: %w", err)
			}
			for _, d := range deps {
				id := d["id"]
				delete(d, "id")
				s.deps = append(s.deps, dependent{ID: id, values: d})
			}
			continue
		}
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return state{}, fmt.Errorf("employees: record field %s: %w", k, err)
		}
		s.values[k] = str
	}
	return s, nil
}

// step is one recorded change with its decoded patch.
type step struct {
	rec   ports.EmployeeChangeRecord
	patch patch
}

// timeline is an employee's changes in the order they apply: by effective date, then recording order.
type timeline []step

func newTimeline(recs []ports.EmployeeChangeRecord) (timeline, error) {
	t := make(timeline, 0, len(recs))
	for _, r := range recs {
		var p patch
		if err := json.Unmarshal(r.Patch, &p); err != nil {
			return nil, fmt.Errorf("employees: change %s: %w", r.ID, err)
		}
		t = append(t, step{rec: r, patch: p})
	}
	t.sort()
	return t, nil
}

func (t timeline) sort() {
	slices.SortStableFunc(t, func(a, b step) int {
		return cmp.Or(cmp.Compare(a.rec.EffectiveOn, b.rec.EffectiveOn), cmp.Compare(a.rec.Seq, b.rec.Seq))
	})
}

// first is the effective date of the first change (the hire): before it, an employee shows as hired, so that
// a future hire is in the register from the day it is recorded.
func (t timeline) first() string {
	if len(t) == 0 {
		return ""
	}
	return t[0].rec.EffectiveOn
}

// currentDay is the day the current record describes: today, or the hire date of a future hire.
func (t timeline) currentDay(today string) string {
	return max(today, t.first())
}

// day resolves the date of a change: "" is the current day.
func (t timeline) day(d, today string) string {
	if d == "" {
		return t.currentDay(today)
	}
	return d
}

// at folds the changes in effect on day (every change once day reaches the first one's date).
func (t timeline) at(day string) state {
	s := newState()
	day = max(day, t.first())
	for _, st := range t {
		if st.rec.EffectiveOn > day {
			break
		}
		s.apply(st.patch)
	}
	return s
}

// next returns the earliest effective date after day, or "".
func (t timeline) next(day string) string {
	for _, st := range t {
		if st.rec.EffectiveOn > day {
			return st.rec.EffectiveOn
		}
	}
	return ""
}

// nextSeq is the Seq a change appended now will get.
func (t timeline) nextSeq() int64 {
	var m int64
	for _, st := range t {
		m = max(m, st.rec.Seq)
	}
	return m + 1
}

// without returns the timeline without the change id.
func (t timeline) without(id string) timeline {
	return slices.DeleteFunc(slices.Clone(t), func(s step) bool { return s.rec.ID == id })
}

// with returns the timeline with s inserted in order.
func (t timeline) with(s step) timeline {
	out := append(slices.Clone(t), s)
	out.sort()
	return out
}

// find returns the change id.
func (t timeline) find(id string) (step, bool) {
	i := slices.IndexFunc(t, func(s step) bool { return s.rec.ID == id })
	if i < 0 {
		return step{}, false
	}
	return t[i], true
}

// refresh rewrites the record's current state and plain columns from the timeline as of today.
func refresh(rec *ports.EmployeeRecord, t timeline, today string) {
	day := t.currentDay(today)
	s := t.at(day)
	rec.Data = s.encode()
	v := s.values
	rec.EmployeeNumber = v[fEmployeeNumber]
	rec.Status = v[fStatus]
	rec.EmploymentType = v[fEmploymentType]
	rec.DepartmentID = v[fDepartmentID]
	rec.AccountID = v[fAccountID]
	rec.HireDate = v[fHireDate]
	rec.SortKana = strings.TrimSpace(v[fFamilyKana] + " " + v[fGivenKana])
	rec.SearchText = searchText(v)
	rec.EffectiveOn = ""
	for _, st := range t {
		if st.rec.EffectiveOn <= day {
			rec.EffectiveOn = st.rec.EffectiveOn
		}
	}
	rec.NextChangeOn = t.next(day)
}

// searchText is what partial search matches: the full name, the reading, the business name, the
// number and the e-mail address, each in SearchKey form, separated by spaces (which a query never holds).
func searchText(v map[string]string) string {
	parts := []string{
		v[fFamilyName] + v[fGivenName], v[fFamilyKana] + v[fGivenKana], v[fBusinessName], v[fEmployeeNumber], v[fEmail],
	}
	for i, p := range parts {
		parts[i] = SearchKey(p)
	}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
}
