package employees

import (
	"encoding/json"
	"maps"
	"testing"
)

func TestPatchAndStateEncodeAsJSON(t *testing.T) {
	t.Parallel()
	odd := "\"quote\" \\ back\nline\ttab\x01 山田 \u2028"
	p := patch{values: map[string]string{"family_name": odd, "position": ""},
		deps: map[string]map[string]string{"d1": {"given_name": odd}, "d2": nil}}
	b := p.encode()
	if !json.Valid(b) {
		t.Fatalf("patch JSON invalid: %s", b)
	}
	var back patch
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(back.values, p.values) || !maps.Equal(back.deps["d1"], p.deps["d1"]) || back.deps["d2"] != nil || len(back.deps) != 2 {
		t.Fatalf("patch round trip: %+v", back)
	}
	for _, s := range []state{newState(), {values: map[string]string{"a": odd}, deps: []dependent{{ID: "d1", values: map[string]string{"x": "y"}}, {ID: "d2", values: map[string]string{}}}}} {
		b := s.encode()
		got, err := decodeState(b)
		if err != nil || !json.Valid(b) {
			t.Fatalf("state %s: %v", b, err)
		}
		if !maps.Equal(got.values, s.values) || len(got.deps) != len(s.deps) {
			t.Fatalf("state round trip: %+v from %s", got, b)
		}
	}
	if got := string(appendJSONString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}
