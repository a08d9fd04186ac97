package efiling

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/encoding/japanese"
)

// FileName is the name the specification requires for the file (電子申請では拡張子 CSV).
const FileName = "SHFD0006.CSV"

// ContentType is the media type of the file.
const ContentType = "text/csv; charset=Shift_JIS"

// The fixed parts of the layout (see the package doc).
const (
	representativeCode = "22223" // 代表届書コード for files filed with 日本年金機構
	officeCount        = "001"   // 事業所情報数: one office per file
	kanriMarker        = "[kanri]"
	dataMarker         = "[data]"
	codeAcquisition    = "2200700"
	codeLoss           = "2201700"
	crlf               = "\r\n"
)

// recordItems is the number of items of each data record, by 様式コード.
var recordItems = map[string]int{codeAcquisition: 34, codeLoss: 27}

const (
	mediaItems  = 6
	officeItems = 12
)

// ErrMalformed is returned by Parse for bytes that are not a file of this layout.
var ErrMalformed = errors.New("efiling: malformed SHFD0006 file")

// File is the content of an SHFD0006.CSV, each record a list of items in UTF-8.
type File struct {
	Media   []string   // 媒体管理レコード
	Office  []string   // 事業所情報
	Records [][]string // データレコード, each starting with its 様式コード
}

// lines returns the file's records in file order, markers included.
func (f File) lines() [][]string {
	out := [][]string{f.Media, {kanriMarker}, {"", officeCount}, f.Office, {dataMarker}}
	return append(out, f.Records...)
}

// encode writes the file in Shift_JIS with CRLF. An item that cannot be written is reported with its line and
// item numbers (1-based), which Build turns into field errors.
func (f File) encode() ([]byte, error) {
	var out bytes.Buffer
	for i, line := range f.lines() {
		for j, item := range line {
			if j > 0 {
				out.WriteByte(',')
			}
			b, err := encodeSJIS(item)
			if err != nil {
				return nil, &itemError{line: i + 1, item: j + 1, err: err}
			}
			out.Write(b)
		}
		out.WriteString(crlf)
	}
	return out.Bytes(), nil
}

// itemError locates an item that cannot be written.
type itemError struct {
	line, item int
	err        error
}

func (e *itemError) Error() string { return fmt.Sprintf("line %d item %d: %v", e.line, e.item, e.err) }
func (e *itemError) Unwrap() error { return e.err }

// Parse reads an SHFD0006.CSV and checks its layout: Shift_JIS within JIS X 0201/0208, CRLF after every record,
// the markers in place, one office, and each data record of a known 様式コード with its number of items. It
// accepts exactly the bytes that this package writes for the same content.
func Parse(b []byte) (File, error) {
	if len(b) == 0 {
		return File{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	text, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	if err != nil {
		return File{}, fmt.Errorf("%w: not Shift_JIS: %v", ErrMalformed, err)
	}
	s := string(text)
	if !strings.HasSuffix(s, crlf) {
		return File{}, fmt.Errorf("%w: the last record does not end in CRLF", ErrMalformed)
	}
	rows := strings.Split(strings.TrimSuffix(s, crlf), crlf)
	for i, row := range rows {
		if strings.ContainsAny(row, "\r\n") {
			return File{}, fmt.Errorf("%w: line %d: a record ends without CRLF", ErrMalformed, i+1)
		}
	}
	if len(rows) < 6 {
		return File{}, fmt.Errorf("%w: %d lines, want the header and at least one data record", ErrMalformed, len(rows))
	}
	split := func(row string) []string { return strings.Split(row, ",") }
	f := File{Media: split(rows[0]), Office: split(rows[3])}
	switch {
	case len(f.Media) != mediaItems:
		return File{}, fmt.Errorf("%w: line 1: %d items, want %d", ErrMalformed, len(f.Media), mediaItems)
	case rows[1] != kanriMarker:
		return File{}, fmt.Errorf("%w: line 2: want %s", ErrMalformed, kanriMarker)
	case rows[2] != ","+officeCount:
		return File{}, fmt.Errorf("%w: line 3: want %q", ErrMalformed, ","+officeCount)
	case len(f.Office) != officeItems:
		return File{}, fmt.Errorf("%w: line 4: %d items, want %d", ErrMalformed, len(f.Office), officeItems)
	case rows[4] != dataMarker:
		return File{}, fmt.Errorf("%w: line 5: want %s", ErrMalformed, dataMarker)
	}
	for i, row := range rows[5:] {
		rec := split(row)
		want, known := recordItems[rec[0]]
		if !known {
			return File{}, fmt.Errorf("%w: line %d: unknown 様式コード %q", ErrMalformed, i+6, rec[0])
		}
		if len(rec) != want {
			return File{}, fmt.Errorf("%w: line %d: %d items, want %d for %s", ErrMalformed, i+6, len(rec), want, rec[0])
		}
		f.Records = append(f.Records, rec)
	}
	// Writing the content back must give the same bytes: this refuses code page 932 extensions, characters
	// outside the layout and every other encoding that the decoder tolerates.
	again, err := f.encode()
	if err != nil {
		return File{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(again, b) {
		return File{}, fmt.Errorf("%w: not in the canonical encoding", ErrMalformed)
	}
	return f, nil
}
