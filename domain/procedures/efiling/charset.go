package efiling

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// unsupportedError names a character that the layout cannot carry.
type unsupportedError struct {
	char   rune
	reason string // "jis" for a character outside JIS X 0201/0208, "separator" for comma, quote, CR, LF
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("character %q (U+%04X) cannot be written (%s)", e.char, e.char, e.reason)
}

// jisMapping replaces code points that Unicode and Shift_JIS tables map differently (the classic 〜 problem), so
// that text typed on any system reaches the same JIS character.
var jisMapping = strings.NewReplacer(
	"\u301c", "\uff5e", // 〜 WAVE DASH → FULLWIDTH TILDE (0x8160)
	"\u2212", "\uff0d", // − MINUS SIGN → FULLWIDTH HYPHEN-MINUS (0x817C)
	"\u2016", "\u2225", // ‖ DOUBLE VERTICAL LINE → PARALLEL TO (0x8161)
	"\u00a2", "\uffe0", // ¢ → ￠ (0x8191)
	"\u00a3", "\uffe1", // £ → ￡ (0x8192)
	"\u00ac", "\uffe2", // ¬ → ￢ (0x81CA)
)

// encodeSJIS encodes s in Shift_JIS, accepting only JIS X 0201 (one byte) and JIS X 0208 levels 1 and 2 (two
// bytes). It refuses, naming the first offending character, code page 932 extensions and the characters that
// would break a record (comma, double quote, CR, LF, other control characters).
func encodeSJIS(s string) ([]byte, error) {
	s = jisMapping.Replace(s)
	enc := japanese.ShiftJIS.NewEncoder()
	out := make([]byte, 0, len(s))
	var buf [utf8.UTFMax]byte
	for _, r := range s {
		if r == ',' || r == '"' || r < 0x20 || r == 0x7f {
			return nil, &unsupportedError{char: r, reason: "separator"}
		}
		n := utf8.EncodeRune(buf[:], r)
		b, err := enc.Bytes(buf[:n])
		if err != nil || !isJIS(b) {
			return nil, &unsupportedError{char: r, reason: "jis"}
		}
		out = append(out, b...)
	}
	return out, nil
}

// isJIS reports whether the Shift_JIS bytes of one character are JIS X 0201 or JIS X 0208 levels 1–2: lead bytes
// 0x81–0x84 (symbols, digits, Latin, kana, Greek, Cyrillic, box drawing), 0x88–0x9F and 0xE0–0xEA (kanji).
// 0x85–0x87 (NEC special characters), 0xED–0xEE (NEC-selected IBM extensions) and 0xFA–0xFC (IBM extensions)
// are code page 932 only.
func isJIS(b []byte) bool {
	switch len(b) {
	case 1:
		return b[0] >= 0x20 && b[0] <= 0x7e || b[0] >= 0xa1 && b[0] <= 0xdf
	case 2:
		lead := b[0]
		return lead >= 0x81 && lead <= 0x84 || lead >= 0x88 && lead <= 0x9f || lead >= 0xe0 && lead <= 0xea
	}
	return false
}

// voicedMarks turns the (semi-)voiced sound marks, combining as NFD leaves them or spacing, into half-width ﾞ and ﾟ.
var voicedMarks = strings.NewReplacer("\u3099", "\uff9e", "\u309a", "\uff9f", "\u309b", "\uff9e", "\u309c", "\uff9f")

// halfWidthKana converts a katakana reading to the half-width katakana of the layout (ヤマダ　タロウ → ﾔﾏﾀﾞ ﾀﾛｳ):
// voiced kana become two characters, full-width spaces become one half-width space. It refuses what has no
// half-width form (ヰ, ヱ, hiragana, kanji).
func halfWidthKana(s string) (string, error) {
	narrow := width.Narrow.String(voicedMarks.Replace(norm.NFD.String(s)))
	narrow = strings.Join(strings.Fields(narrow), " ")
	for _, r := range narrow {
		if r != ' ' && (r < 0xff61 || r > 0xff9f) && !(r >= '0' && r <= '9') && !(r >= 'A' && r <= 'Z') && r != '-' && r != '(' && r != ')' && r != '.' && r != '/' {
			return "", &unsupportedError{char: r, reason: "kana"}
		}
	}
	return narrow, nil
}
