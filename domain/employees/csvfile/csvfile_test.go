package csvfile_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/japanese"

	"github.com/roumu/roumu/domain/employees/csvfile"
)

func sjis(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding fixture: %v", err)
	}
	return b
}

func TestDetect(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 70<<10) // past the first read
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":                 {nil, csvfile.UTF8},
		"ascii":                 {[]byte("a,b\n1,2\n"), csvfile.UTF8},
		"utf-8":                 {[]byte("姓,名\n髙橋,﨑\n"), csvfile.UTF8},
		"utf-8 with BOM":        {append([]byte{0xEF, 0xBB, 0xBF}, "姓\n"...), csvfile.UTF8},
		"shift_jis":             {sjis(t, "姓,名\n髙橋,﨑\nｻﾄｳ,ﾀﾛｳ\n"), csvfile.ShiftJIS},
		"shift_jis after ascii": {append([]byte(long), sjis(t, "髙橋")...), csvfile.ShiftJIS},
		"utf-8 across reads":    {[]byte(long[:64<<10-1] + "髙橋"), csvfile.UTF8},
		"truncated utf-8":       {[]byte("髙橋")[:4], csvfile.ShiftJIS},
	} {
		got, err := csvfile.Detect(iotest.HalfReader(bytes.NewReader(tc.in)))
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", name, got, err, tc.want)
		}
	}
	if _, err := csvfile.Detect(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error: %v", err)
	}
}

func TestNormalizeEncoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "UTF-8": "utf-8", "utf8": "utf-8", "Shift_JIS": "shift_jis",
		"SJIS": "shift_jis", "cp932": "shift_jis", "Windows-31J": "shift_jis", "x-sjis": "shift_jis"} {
		if got, err := csvfile.NormalizeEncoding(in); got != want || err != nil {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := csvfile.NormalizeEncoding("euc-jp"); !errors.Is(err, csvfile.ErrUnknownEncoding) {
		t.Errorf("euc-jp: %v", err)
	}
}

func readAll(t *testing.T, in []byte, enc string) [][]string {
	t.Helper()
	r, err := csvfile.NewReader(bytes.NewReader(in), enc)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, slices.Clone(rec))
	}
}

func TestReadCP932Extensions(t *testing.T) {
	t.Parallel()
	text := "姓,名,セイ\r\n髙橋,﨑子,ﾀｶﾊｼ\r\n\"山田, 株式会社㈱\",①,\"改\n行\"\r\n"
	want := [][]string{{"姓", "名", "セイ"}, {"髙橋", "﨑子", "ﾀｶﾊｼ"}, {"山田, 株式会社㈱", "①", "改\n行"}}
	for enc, in := range map[string][]byte{
		csvfile.ShiftJIS: sjis(t, text),
		csvfile.UTF8:     append([]byte{0xEF, 0xBB, 0xBF}, text...),
	} {
		if got := readAll(t, in, enc); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: %q", enc, got)
		}
	}
}

func TestMapHeader(t *testing.T) {
	t.Parallel()
	known := map[string]string{"社員番号": "employee_number", "employee_number": "employee_number", "姓": "family_name"}
	resolve := func(h string) (string, bool) { f, ok := known[h]; return f, ok }
	fields, problems := csvfile.MapHeader([]string{" 社員番号 ", "Surname", "memo", "", "employee_number"},
		map[string]string{"Surname": "姓", "memo": ""}, resolve)
	if !slices.Equal(fields, []string{"employee_number", "family_name", "", "", ""}) {
		t.Errorf("fields %q", fields)
	}
	if len(problems) != 1 || problems[0] != (csvfile.HeaderProblem{Column: 4, Header: "employee_number", Code: "duplicate_column"}) {
		t.Errorf("problems %+v", problems)
	}
	_, problems = csvfile.MapHeader([]string{"社員番号", "年収"}, nil, resolve)
	if len(problems) != 1 || problems[0].Code != "unknown_column" || problems[0].Column != 1 {
		t.Errorf("unknown column: %+v", problems)
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	rows := [][]string{{"姓", "名", "メモ"}, {"髙橋", "﨑子", "¥1,000 ¢ ~ -"}, {"a\"b", "改\n行", ""}}
	for _, enc := range []string{csvfile.UTF8, csvfile.ShiftJIS} {
		var buf bytes.Buffer
		w, err := csvfile.NewWriter(&buf, enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatalf("%s: %v", enc, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if enc == csvfile.UTF8 && !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
			t.Error("UTF-8 without BOM")
		}
		if !bytes.Contains(b, []byte("\r\n")) {
			t.Errorf("%s: no CRLF", enc)
		}
		got := readAll(t, b, enc)
		want := slices.Clone(rows)
		if enc == csvfile.ShiftJIS {
			want[1] = []string{"髙橋", "﨑子", "￥1,000 ￠ ~ -"} // the full-width forms CP932 has
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s round trip: %q", enc, got)
		}
	}
	var buf bytes.Buffer
	w, _ := csvfile.NewWriter(&buf, csvfile.ShiftJIS)
	err := w.Write([]string{"ok", "𠮷野家"})
	var ue *csvfile.UnrepresentableError
	if !errors.As(err, &ue) || ue.Column != 1 || ue.Rune != '𠮷' {
		t.Fatalf("unrepresentable: %v", err)
	}
	if _, err := csvfile.NewWriter(&buf, "ebcdic"); !errors.Is(err, csvfile.ErrUnknownEncoding) {
		t.Errorf("unknown encoding: %v", err)
	}
}

// FuzzRead feeds arbitrary bytes through detection, decoding, header mapping and record reading: nothing may
// panic, detection must agree with decoding, and every mapped field must come from the resolver.
func FuzzRead(f *testing.F) {
	f.Add([]byte("社員番号,姓,名\r\nE1,山田,太郎\r\n"))
	f.Add(append([]byte{0xEF, 0xBB, 0xBF}, "employee_number,family_name\nE1,\"a,b\"\n"...))
	f.Add(sjis(f, "社員番号,姓,名,セイ\r\nE1,髙橋,﨑子,ﾀｶﾊｼ\r\n"))
	f.Add([]byte("a,\"b\nc\"\n\"unterminated"))
	f.Add([]byte("a,b\n1,2,3\n\n\n"))
	f.Add([]byte{0x81, 0x40, 0xff, 0xfe, 0x00, '"', ','})
	f.Add([]byte(""))
	known := map[string]string{"社員番号": "employee_number", "employee_number": "employee_number", "姓": "family_name",
		"名": "given_name", "a": "a"}
	resolve := func(h string) (string, bool) { v, ok := known[h]; return v, ok }
	f.Fuzz(func(t *testing.T, in []byte) {
		enc, err := csvfile.Detect(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		r, err := csvfile.NewReader(bytes.NewReader(in), enc)
		if err != nil {
			t.Fatal(err)
		}
		header, err := r.Read()
		if err != nil {
			return
		}
		fields, problems := csvfile.MapHeader(header, map[string]string{"x": "姓"}, resolve)
		if len(fields) != len(header) {
			t.Fatalf("%d fields for %d columns", len(fields), len(header))
		}
		seen := map[string]bool{}
		for _, fl := range fields {
			if fl == "" {
				continue
			}
			if _, ok := resolve(fl); !ok && fl != "family_name" && fl != "given_name" {
				t.Fatalf("field %q not from the resolver", fl)
			}
			if seen[fl] {
				t.Fatalf("field %q mapped twice", fl)
			}
			seen[fl] = true
		}
		for _, p := range problems {
			if p.Column < 0 || p.Column >= len(header) {
				t.Fatalf("problem outside the header: %+v", p)
			}
		}
		for range 1000 {
			if _, err := r.Read(); err != nil {
				return
			}
		}
	})
}

// FuzzWriteRead checks that whatever the writer accepts, the reader gives back (in Shift_JIS, after the
// full-width replacements).
func FuzzWriteRead(f *testing.F) {
	f.Add("髙橋", "﨑\n\"x\"", csvfile.ShiftJIS)
	f.Add("a,b", "", csvfile.UTF8)
	f.Add("¥¢", "𠮷", csvfile.ShiftJIS)
	f.Fuzz(func(t *testing.T, a, b, enc string) {
		if enc != csvfile.ShiftJIS {
			enc = csvfile.UTF8
		}
		var buf bytes.Buffer
		w, err := csvfile.NewWriter(&buf, enc)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]string{a, b}); err != nil {
			var ue *csvfile.UnrepresentableError
			if !errors.As(err, &ue) {
				t.Fatalf("write: %v", err)
			}
			return
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, _ := csvfile.NewReader(&buf, enc)
		rec, err := r.Read()
		if err != nil {
			return // e.g. a lone "\r" or invalid UTF-8, which CSV itself cannot carry
		}
		if len(rec) != 2 {
			t.Fatalf("read %d fields", len(rec))
		}
	})
}
