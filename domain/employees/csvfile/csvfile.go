// Package csvfile reads and writes the CSV files HR teams exchange with spreadsheets: UTF-8 with or without a
// byte-order mark, or Shift_JIS as Excel writes it (Windows code page 932, with the NEC and IBM extensions:
// 髙, 﨑, ①, ㈱ …), and maps header rows to field names. It knows nothing of employees.
package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Encodings, as ports.EncodingUTF8 and ports.EncodingShiftJIS spell them.
const (
	UTF8     = "utf-8"
	ShiftJIS = "shift_jis"
)

// bom is the UTF-8 byte-order mark Excel writes and expects.
var bom = []byte{0xEF, 0xBB, 0xBF}

// ErrUnknownEncoding is returned for an encoding name that is neither UTF-8 nor Shift_JIS.
var ErrUnknownEncoding = errors.New("csvfile: unknown encoding")

// NormalizeEncoding returns the canonical name of an encoding as people and browsers write it ("" stays
// "": detect). CP932 and Windows-31J are Shift_JIS here: what Excel calls Shift_JIS is CP932.
func NormalizeEncoding(name string) (string, error) {
	switch strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name))) {
	case "":
		return "", nil
	case "utf8":
		return UTF8, nil
	case "shiftjis", "sjis", "cp932", "windows31j", "mskanji", "xsjis":
		return ShiftJIS, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownEncoding, name)
}

// Detect reads r to its end and tells its encoding: UTF-8 when it starts with the byte-order mark or is valid
// UTF-8 throughout, else Shift_JIS. It reads in constant memory. Pure ASCII is UTF-8 (and Shift_JIS alike).
func Detect(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(bom)); bytes.Equal(head, bom) {
		return UTF8, nil
	}
	buf := make([]byte, 64<<10)
	var carry []byte // an incomplete rune at the end of the previous read
	for {
		n, err := br.Read(buf)
		chunk := append(carry, buf[:n]...)
		// Keep back up to 3 bytes that could start a rune completed by the next read.
		cut := len(chunk)
		for i := max(0, len(chunk)-3); i < len(chunk); i++ {
			if utf8.RuneStart(chunk[i]) && !utf8.FullRune(chunk[i:]) {
				cut = i
				break
			}
		}
		if !utf8.Valid(chunk[:cut]) {
			return ShiftJIS, nil
		}
		carry = append([]byte(nil), chunk[cut:]...)
		if err == io.EOF {
			if len(carry) > 0 {
				return ShiftJIS, nil // ends inside a rune: not UTF-8
			}
			return UTF8, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// Reader reads CSV records from text in one of the encodings. Records may have any number of fields: the
// caller tells which row is short, so that the error names it.
type Reader struct {
	csv *csv.Reader
}

// NewReader decodes r (a UTF-8 byte-order mark is skipped; Shift_JIS is decoded as CP932).
func NewReader(r io.Reader, enc string) (*Reader, error) {
	var text io.Reader
	switch enc {
	case UTF8:
		br := bufio.NewReader(r)
		if head, _ := br.Peek(len(bom)); bytes.Equal(head, bom) {
			_, _ = br.Discard(len(bom))
		}
		text = br
	case ShiftJIS:
		text = transform.NewReader(r, japanese.ShiftJIS.NewDecoder())
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownEncoding, enc)
	}
	c := csv.NewReader(text)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return &Reader{csv: c}, nil
}

// Read returns the next record (valid until the next call), io.EOF at the end, or a *csv.ParseError.
func (r *Reader) Read() ([]string, error) { return r.csv.Read() }

// HeaderProblem is what is wrong with one header cell.
type HeaderProblem struct {
	Column int    // 0-based
	Header string // as written
	Code   string // unknown_column or duplicate_column
}

// MapHeader maps each header cell to a field name: first through mapping (header as written → field; a
// mapping to "" ignores the column), then through resolve (field name or label → field name). It returns the
// field of each column ("" = ignored) and every problem: a column nobody knows is an error rather than
// silently dropped data, and so is a field named twice.
func MapHeader(header []string, mapping map[string]string, resolve func(string) (string, bool)) ([]string, []HeaderProblem) {
	fields := make([]string, len(header))
	seen := map[string]bool{}
	var problems []HeaderProblem
	for i, h := range header {
		name := strings.TrimSpace(h)
		if m, ok := mapping[h]; ok {
			if m == "" {
				continue
			}
			name = m
		} else if m, ok := mapping[name]; ok {
			if m == "" {
				continue
			}
			name = m
		}
		if name == "" {
			continue // an unnamed column (a trailing comma in Excel) carries nothing
		}
		f, ok := resolve(name)
		switch {
		case !ok:
			problems = append(problems, HeaderProblem{Column: i, Header: h, Code: "unknown_column"})
		case seen[f]:
			problems = append(problems, HeaderProblem{Column: i, Header: h, Code: "duplicate_column"})
		default:
			seen[f] = true
			fields[i] = f
		}
	}
	return fields, problems
}

// UnrepresentableError says that a value cannot be written in the file's encoding.
type UnrepresentableError struct {
	Column int  // 0-based
	Rune   rune // the first character that cannot be written
}

func (e *UnrepresentableError) Error() string {
	return fmt.Sprintf("csvfile: column %d: %q cannot be written in Shift_JIS", e.Column+1, e.Rune)
}

// narrowToWide maps the characters that CP932 has only in their full-width forms, so that ¢ or ¥ in the
// data (NFKC and width folding narrow them) still write.
var narrowToWide = strings.NewReplacer("¢", "￠", "£", "￡", "¬", "￢", "¦", "￤", "¥", "￥")

// Writer writes CSV with CRLF line ends (as Excel does): UTF-8 after a byte-order mark (so that Excel
// recognises it), or Shift_JIS, refusing any value that Shift_JIS cannot hold instead of writing "?".
type Writer struct {
	csv  *csv.Writer
	out  io.WriteCloser // the transformer, for Shift_JIS
	enc  *encoding.Encoder
	cell []string
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// NewWriter starts a file in the encoding ("" is UTF-8).
func NewWriter(w io.Writer, enc string) (*Writer, error) {
	out := &Writer{}
	switch enc {
	case UTF8, "":
		if _, err := w.Write(bom); err != nil {
			return nil, err
		}
		out.out = nopCloser{w}
	case ShiftJIS:
		out.enc = japanese.ShiftJIS.NewEncoder()
		out.out = transform.NewWriter(w, japanese.ShiftJIS.NewEncoder())
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownEncoding, enc)
	}
	out.csv = csv.NewWriter(out.out)
	out.csv.UseCRLF = true
	return out, nil
}

// Write writes one record, or returns an *UnrepresentableError and writes nothing.
func (w *Writer) Write(record []string) error {
	if w.enc != nil {
		w.cell = append(w.cell[:0], record...)
		for i, v := range w.cell {
			v = narrowToWide.Replace(v)
			w.cell[i] = v
			if _, err := w.enc.String(v); err != nil {
				for _, r := range v {
					if _, err := w.enc.String(string(r)); err != nil {
						return &UnrepresentableError{Column: i, Rune: r}
					}
				}
				return &UnrepresentableError{Column: i, Rune: utf8.RuneError}
			}
		}
		record = w.cell
	}
	return w.csv.Write(record)
}

// Close flushes everything written.
func (w *Writer) Close() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	return w.out.Close()
}
