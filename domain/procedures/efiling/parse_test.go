package efiling

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

func golden(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "SHFD0006.golden.CSV"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRefusesWhatIsNotTheLayout(t *testing.T) {
	t.Parallel()
	good := golden(t)
	replace := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	cases := map[string][]byte{
		"empty":                  nil,
		"bare LF":                bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")),
		"no final CRLF":          bytes.TrimSuffix(good, []byte("\r\n")),
		"lone CR inside":         replace("[kanri]", "[ka\rnri]"),
		"no kanri marker":        replace("[kanri]", "[kanr]"),
		"two offices":            replace(",001\r\n", ",002\r\n"),
		"no data marker":         replace("[data]", "data"),
		"unknown form code":      replace("2201700", "2209900"),
		"an item short":          replace(",17,", ","),
		"media record short":     replace(",22223", ""),
		"CP932 extension (髙)":    replace("\x8d\x82\x8b\xb4", "\xee\xe0\x8b\xb4"),
		"invalid Shift_JIS byte": replace("\x8d\x82\x8b\xb4", "\x8d\x82\x8b\xff"),
		"header only":            good[:bytes.Index(good, []byte("2200700"))],
		"UTF-8 instead":          mustDecode(t, good),
	}
	for name, b := range cases {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Errorf("golden: %v", err)
	}
}

func mustDecode(t testing.TB, b []byte) []byte {
	s, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHalfWidthKana(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"ヤマダ　タロウ":       "ﾔﾏﾀﾞ ﾀﾛｳ",
		"ガギグゲゴ":         "ｶﾞｷﾞｸﾞｹﾞｺﾞ",
		"パピプペポ":         "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ",
		"ヴァージニア":        "ｳﾞｧｰｼﾞﾆｱ",
		"ｶ\u3099":       "ｶﾞ",
		"  ﾃｽﾄ   ﾃｽﾄ  ": "ﾃｽﾄ ﾃｽﾄ",
		"トウキョウト１－２":     "ﾄｳｷｮｳﾄ1-2",
	}
	for in, want := range cases {
		if got, err := halfWidthKana(in); err != nil || got != want {
			t.Errorf("halfWidthKana(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"やまだ", "ヰ", "山田", "ﾀﾛｳ,"} {
		if got, err := halfWidthKana(in); err == nil {
			t.Errorf("halfWidthKana(%q) = %q, want an error", in, got)
		}
	}
}

func TestEncodeSJISMapsTheWaveDashAndRefusesExtensions(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"〜": "\x81\x60", "～": "\x81\x60", "−": "\x81\x7c", "高橋": "\x8d\x82\x8b\xb4", "ｱ": "\xb1", "Ａ1": "\x82\x60\x31"} {
		if got, err := encodeSJIS(in); err != nil || string(got) != want {
			t.Errorf("encodeSJIS(%q) = % x, %v; want % x", in, got, err, want)
		}
	}
	for _, in := range []string{"髙", "﨑", "①", "㈱", "Ⅰ", "😀", "a,b", "a\"b", "a\tb", "é"} {
		if got, err := encodeSJIS(in); err == nil {
			t.Errorf("encodeSJIS(%q) = % x, want an error", in, got)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts it writes back to the same bytes.
func FuzzParse(f *testing.F) {
	f.Add(golden(f))
	f.Add([]byte("21,01,x,001,20260101,22223\r\n[kanri]\r\n,001\r\n"))
	f.Add([]byte("\r\n\r\n\r\n\r\n\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is not ErrMalformed", err)
			}
			return
		}
		again, err := file.encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted %q but writes %q (%v)", b, again, err)
		}
	})
}

// FuzzEncodeSJIS: whatever encodes decodes back to the same text (after the documented JIS mappings), within
// the layout's character set.
func FuzzEncodeSJIS(f *testing.F) {
	for _, s := range []string{"高橋　一郎", "ﾀｶﾊｼ", "〜−‖", "髙", "a,b", "東京都１－２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := encodeSJIS(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q encoded", s)
		}
		back := mustDecode(t, b)
		if string(back) != jisMapping.Replace(s) {
			t.Fatalf("%q → % x → %q", s, b, back)
		}
		if strings.ContainsAny(string(back), ",\"\r\n") {
			t.Fatalf("%q: a separator got through", s)
		}
	})
}
