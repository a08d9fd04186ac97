package web

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestEmployeeInput: the API's nested JSON becomes the module's flat text fields.
func TestEmployeeInput(t *testing.T) {
	body := `{"family_name":"山田","monthly_pay":{"cash":300000,"in_kind":1.5},"address":{"postal_code":"100-0001","building":null},
		"status":null,"living":true,"effective_on":"2026-07-01","reason":"昇格"}`
	in, err := employeeInput([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"family_name": "山田", "monthly_pay.cash": "300000", "monthly_pay.in_kind": "1.5",
		"address.postal_code": "100-0001", "address.building": "", "status": "", "living": "true"}
	if !maps.Equal(in.Fields, want) || in.EffectiveOn != "2026-07-01" || in.Reason != "昇格" {
		t.Fatalf("got %+v", in)
	}
}

// TestEmployeeInputErrors: every member of the wrong shape is reported, each once, in one 422.
func TestEmployeeInputErrors(t *testing.T) {
	body := `{"id":"x","gender":["male"],"address":"東京","monthly_pay":{"cash":{"v":1}},"a.b":"c","reason":7,"version":3}`
	_, err := employeeInput([]byte(body))
	var p *problemError
	if !errors.As(err, &p) || p.status != http.StatusUnprocessableEntity {
		t.Fatalf("got %v", err)
	}
	var fields []string
	for _, f := range p.fields {
		if f.MessageEN == "" || f.MessageJA == "" || f.Code == "" {
			t.Errorf("incomplete field error %+v", f)
		}
		fields = append(fields, f.Field+":"+f.Code)
	}
	want := []string{"a.b:unknown_field", "address:invalid_type", "gender:invalid_type", "id:read_only",
		"monthly_pay.cash:invalid_type", "reason:invalid_type", "version:read_only"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	if _, err := dependentInput([]byte(`{"relationship":"child","reason":"x"}`)); err == nil {
		t.Error("a dependent took a reason")
	}
}

// FuzzEmployeeInput: whatever body passes the JSON checks, the conversion never panics, and what it hands
// the module is well-formed: valid UTF-8 names and values without NUL, names at most one dot deep and
// never a change member; or it is a 4xx problem.
func FuzzEmployeeInput(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"family_name":"山田"}`, `{"address":{"city":"港区","building":null}}`, `{"monthly_pay":{"cash":1e400}}`,
		`{"a":[1,2]}`, `{"address":[]}`, `{"address":{"x":{"y":1}}}`, `{"effective_on":null,"reason":true}`,
		`{"id":1,"x.y":2}`, `{"k":"\u0000"}`, `{"k":-0.0}`, `[1]`, `{"k":"a","k":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkJSON(body, nil) != nil {
			return // refused before conversion
		}
		in, err := employeeInput(body)
		if err != nil {
			var p *problemError
			if !errors.As(err, &p) || p.status < 400 || p.status >= 500 {
				t.Fatalf("error %v is not a 4xx problem", err)
			}
			return
		}
		for name, v := range in.Fields {
			if !utf8.ValidString(name) || !utf8.ValidString(v) || strings.ContainsRune(v, 0) || strings.Count(name, ".") > 1 {
				t.Fatalf("field %q = %q", name, v)
			}
			if name == memberEffectiveOn || name == memberReason || slices.Contains(readOnly, name) {
				t.Fatalf("member %q passed as a field", name)
			}
		}
	})
}

func TestIfMatch(t *testing.T) {
	for _, c := range []struct {
		header   string
		required bool
		want     int64
		err      error
	}{
		{"", true, 0, errPreconditionRequired},
		{"", false, 0, nil},
		{"*", true, 0, nil},
		{`"7"`, true, 7, nil},
		{`W/"7"`, true, 7, nil},
		{`7`, true, 0, errInvalidIfMatch},
		{`"0"`, true, 0, errInvalidIfMatch},
		{`"-1"`, true, 0, errInvalidIfMatch},
		{`"1", "2"`, true, 0, errInvalidIfMatch},
		{`"99999999999999999999"`, true, 0, errInvalidIfMatch},
	} {
		got, err := parseIfMatch(c.header, c.required)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("If-Match %q: %d %v, want %d %v", c.header, got, err, c.want, c.err)
		}
	}
}
