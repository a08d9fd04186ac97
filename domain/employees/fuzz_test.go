package employees

import (
	"testing"
	"unicode/utf8"
)

// FuzzFieldParsers feeds every field parser of the employee and dependent catalogues (names, kana, dates,
// My Number, insurance numbers, postal codes, money, codes…) the same outside text. A parser must not panic,
// must give a problem with both messages or a valid UTF-8 value, and must be idempotent: the value it keeps
// parses again to itself, so that an export imported again changes nothing.
func FuzzFieldParsers(f *testing.F) {
	for _, s := range []string{"", "123456789018", "1990-02-30", "平成2年5月15日", "ﾔﾏﾀﾞ ﾀﾛｳ", "髙橋", "100-0001",
		"１２３", "-5", "99999999999999999999", "03-1234-5678", "a@b", "在籍", "\x00", "\xff\xfe", "㈱", "〜"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, c := range []*catalogue{employeeFields, dependentFields} {
			for _, fd := range c.fields {
				if fd.Parse == nil {
					continue
				}
				out, p := fd.Parse(in)
				if p != nil {
					if p.Code == "" || p.EN == "" || p.JA == "" {
						t.Fatalf("%s(%q): problem without code or messages: %+v", fd.Name, in, p)
					}
					continue
				}
				if !utf8.ValidString(out) {
					t.Fatalf("%s(%q) = %q: not UTF-8", fd.Name, in, out)
				}
				again, p := fd.Parse(out)
				if p != nil || again != out {
					t.Fatalf("%s(%q) = %q, which parses to %q, %+v", fd.Name, in, out, again, p)
				}
			}
		}
	})
}

// FuzzCursor: an outside cursor either decodes under its own sort or is invalid_cursor; never a panic, and
// a decoded cursor encodes back to one that decodes alike.
func FuzzCursor(f *testing.F) {
	f.Add(cursor{Sort: "employee_number", Key: "E1", ID: "x"}.encode(), "employee_number")
	f.Add("zzz", "kana")
	f.Add("", "hire_date")
	f.Fuzz(func(t *testing.T, in, sort string) {
		c, err := decodeCursor(in, sort)
		if err != nil {
			return
		}
		if c.Sort != sort || c.ID == "" {
			t.Fatalf("decodeCursor(%q, %q) = %+v", in, sort, c)
		}
		if again, err := decodeCursor(c.encode(), sort); err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}
