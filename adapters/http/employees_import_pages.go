package web

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/roumu/roumu/ports"
)

// The CSV import wizard: upload → column mapping → dry-run report of every row's errors → confirm. The
// upload waits between the steps in a file of the temporary directory, named by a random token and by a
// digest of the uploader, so that only the person who uploaded it can use it; files left behind are
// removed after uploadTTL. (Several instances behind a load balancer need Config.TempDir on shared storage.)

const (
	importTitle = "CSV取り込み / CSV import"
	uploadTTL   = 24 * time.Hour
	// maxColumns bounds the mapping form of a hostile file.
	maxColumns = 200
)

type importView struct {
	Upload      string
	Encoding    string
	EffectiveOn string
	Encodings   []optionView
	Columns     []columnView
	Result      *importResultJSON
	Checked     bool // a dry run has been made with these settings
	Done        bool // the import was written
}

type columnView struct {
	Index   int
	Header  string
	Options []optionView
}

type jobView struct {
	ID       string
	Status   string
	Done     int
	Total    int
	Finished bool
	Result   *importResultJSON
	Failure  string
}

var encodingOptions = []option{{"", "自動判別", "Detect"}, {ports.EncodingUTF8, "UTF-8", "UTF-8"},
	{ports.EncodingShiftJIS, "Shift_JIS（Excel）", "Shift_JIS (Excel)"}}

// Column choices besides the fields: keep the header as written, or leave the column out.
const (
	mapAuto   = ""
	mapIgnore = "-"
)

// mappingOptions are the choices for one column: automatic, ignore, then every importable field.
func mappingOptions(selected string) []optionView {
	opts := []option{{mapAuto, "自動（列名のまま）", "As named"}, {mapIgnore, "取り込まない", "Ignore"}}
	for _, sec := range employeeSections {
		for _, in := range sec.Inputs {
			if in.Name == "department_id" {
				opts = append(opts, option{"department_code", "部署コード", "Department code"})
			}
			opts = append(opts, option{in.Name, in.LabelJA, in.LabelEN})
		}
	}
	return options(opts, selected, false)
}

// uploadOwner names the uploader in the file name: a digest, so the directory listing shows no IDs.
func uploadOwner(p ports.Principal) string {
	sum := sha256.Sum256([]byte(p.TenantID + "\x00" + p.AccountID))
	return hex.EncodeToString(sum[:16])
}

func (s *Server) uploadPath(p ports.Principal, token string) string {
	return filepath.Join(s.importDir, "roumu-upload-"+uploadOwner(p)+"-"+token+".csv")
}

var errUploadGone = newProblem(http.StatusNotFound, "upload_not_found",
	"The uploaded file is no longer available. Upload it again.", "アップロードされたファイルが見つかりません。もう一度アップロードしてください。")

// openUpload opens the caller's upload named by the route's token.
func (s *Server) openUpload(c echo.Context) (*os.File, error) {
	f, err := os.Open(s.uploadPath(principalOf(c), c.Param("upload")))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errUploadGone
	}
	return f, err
}

// sweepUploads removes uploads older than uploadTTL, whoever left them.
func (s *Server) sweepUploads() {
	old, _ := filepath.Glob(filepath.Join(s.importDir, "roumu-upload-*.csv"))
	for _, name := range old {
		if st, err := os.Stat(name); err == nil && time.Since(st.ModTime()) > uploadTTL {
			_ = os.Remove(name)
		}
	}
}

func (s *Server) importPage(c echo.Context) error {
	return s.renderImport(c, http.StatusOK, &importView{}, nil)
}

func (s *Server) renderImport(c echo.Context, status int, iv *importView, msg *message) error {
	iv.Encodings = options(encodingOptions, iv.Encoding, false)
	return s.render(c, status, "employee_import", &view{Title: importTitle, Error: msg, Register: &registerView{Full: true, Import: iv}})
}

// importUpload keeps the uploaded file and goes on to the mapping. Only for who may import (admin and hr; the
// module still decides the import itself): anyone else's file would only take up the disk for a day.
func (s *Server) importUpload(c echo.Context) error {
	if !full(principalOf(c)) {
		return errForbidden
	}
	fh, err := c.FormFile("file") // parses the multipart form, within the upload limit
	iv := &importView{Encoding: c.FormValue("encoding"), EffectiveOn: kept(c.FormValue("effective_on"))}
	if _, ok := csvEncoding(iv.Encoding); !ok {
		iv.Encoding = ""
	}
	if err != nil {
		if tooLarge(err) || isMaxBytes(err) {
			return errBodyTooLarge
		}
		if !errors.Is(err, http.ErrMissingFile) {
			return errMalformedForm
		}
		return s.renderImport(c, http.StatusUnprocessableEntity, iv, formMessage(errEmptyUpload, uploadInputs))
	}
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	s.sweepUploads()
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	token := hex.EncodeToString(b[:])
	dst, err := os.OpenFile(s.uploadPath(principalOf(c), token), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		discard(dst)
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	q := url.Values{"encoding": {iv.Encoding}, "effective_on": {iv.EffectiveOn}}
	return c.Redirect(http.StatusSeeOther, "/employees/import/"+token+"?"+q.Encode())
}

func isMaxBytes(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

var uploadInputs = []formInput{{Name: "file", LabelJA: "CSVファイル", LabelEN: "CSV file"},
	{Name: "effective_on", LabelJA: "適用日", LabelEN: "Effective on"},
	{Name: "encoding", LabelJA: "文字コード", LabelEN: "Encoding"}}

// headerRow reads the first record of the file in the encoding ("" = detect as the module does: UTF-8
// when the start is valid UTF-8, else Shift_JIS). Only the mapping form uses it; the module reads the file.
func headerRow(f *os.File, enc string) ([]string, error) {
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	head = bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	if enc == "" {
		enc = ports.EncodingShiftJIS
		cut := len(head)
		for i := max(0, cut-3); i < cut; i++ { // a rune cut off by the 64 KiB window
			if utf8.RuneStart(head[i]) && !utf8.FullRune(head[i:]) {
				cut = i
				break
			}
		}
		if utf8.Valid(head[:cut]) {
			enc = ports.EncodingUTF8
		}
	}
	var r io.Reader = bytes.NewReader(head)
	if enc == ports.EncodingShiftJIS {
		r = transform.NewReader(r, japanese.ShiftJIS.NewDecoder())
	}
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil, nil // an empty or broken file: the dry run reports it
	}
	if len(rec) > maxColumns {
		rec = rec[:maxColumns]
	}
	return rec, nil
}

// wizardSettings are the wizard's settings as the last form (or the redirect after the upload) sent them.
func wizardSettings(c echo.Context) *importView {
	iv := &importView{Upload: c.Param("upload"), Encoding: c.FormValue("encoding"), EffectiveOn: kept(c.FormValue("effective_on"))}
	if _, ok := csvEncoding(iv.Encoding); !ok {
		iv.Encoding = ""
	}
	return iv
}

// columns builds the mapping form from the file's header and the choices sent (colN, by column index).
func columns(c echo.Context, header []string) ([]columnView, map[string]string) {
	cols := make([]columnView, 0, len(header))
	var mapping map[string]string
	for i, h := range header {
		choice := c.FormValue("col" + strconv.Itoa(i))
		cols = append(cols, columnView{Index: i, Header: kept(h), Options: mappingOptions(choice)})
		switch choice {
		case mapAuto:
		case mapIgnore:
			mapping = setMapping(mapping, h, "")
		default:
			mapping = setMapping(mapping, h, choice)
		}
	}
	return cols, mapping
}

func setMapping(m map[string]string, header, field string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[header] = field
	return m
}

// wizard opens the upload and reads the settings and the mapping of the current step.
func (s *Server) wizard(c echo.Context) (*os.File, *importView, map[string]string, error) {
	f, err := s.openUpload(c)
	if err != nil {
		return nil, nil, nil, err
	}
	iv := wizardSettings(c)
	header, err := headerRow(f, iv.Encoding)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, nil, err
	}
	var mapping map[string]string
	iv.Columns, mapping = columns(c, header)
	return f, iv, mapping, nil
}

func (s *Server) importMappingPage(c echo.Context) error {
	f, iv, _, err := s.wizard(c)
	if err != nil {
		return err
	}
	_ = f.Close()
	return s.renderImport(c, http.StatusOK, iv, nil)
}

// importCheckSubmit is the dry run: every row's errors, nothing written.
func (s *Server) importCheckSubmit(c echo.Context) error {
	f, iv, mapping, err := s.wizard(c)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := s.employees.ImportEmployees(c.Request().Context(), principalOf(c), ports.ImportRequest{CSV: f,
		Encoding: iv.Encoding, Mapping: mapping, DryRun: true, EffectiveOn: iv.EffectiveOn}, nil)
	if err != nil {
		return showFailure(c, err, uploadInputs, func(status int, msg *message) error {
			return s.renderImport(c, status, iv, msg)
		})
	}
	r := toImportResultJSON(res, true)
	iv.Result, iv.Checked = &r, true
	return s.renderImport(c, http.StatusOK, iv, nil)
}

// importRunSubmit writes the import: within the request when the file is small, else as a job whose
// progress page the browser is sent to.
func (s *Server) importRunSubmit(c echo.Context) error {
	f, iv, mapping, err := s.wizard(c)
	if err != nil {
		return err
	}
	req := ports.ImportRequest{CSV: f, Encoding: iv.Encoding, Mapping: mapping, EffectiveOn: iv.EffectiveOn}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return err
	}
	if st.Size() > s.importSyncLimit {
		job, err := s.startImport(c, req, f) // the job removes the upload when it ends
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/employees/import/jobs/"+job.ID)
	}
	res, err := s.employees.ImportEmployees(c.Request().Context(), principalOf(c), req, nil)
	if err != nil {
		_ = f.Close()
		return showFailure(c, err, uploadInputs, func(status int, msg *message) error {
			return s.renderImport(c, status, iv, msg)
		})
	}
	r := toImportResultJSON(res, false)
	iv.Result, iv.Checked = &r, true
	if len(res.Errors) == 0 {
		discard(f)
		iv.Done = true
	} else {
		_ = f.Close()
	}
	return s.renderImport(c, http.StatusOK, iv, nil)
}

// importJobPage shows a job's progress: a bar the page script updates from the same URL asked for JSON, and
// without the script a page that reloads itself until the job ends.
func (s *Server) importJobPage(c echo.Context) error {
	j, err := s.employees.Job(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		return writeJSON(c, http.StatusOK, toJobJSON(j))
	}
	jv := &jobView{ID: j.ID, Status: j.Status, Done: j.Done, Total: j.Total,
		Finished: j.Status == ports.JobSucceeded || j.Status == ports.JobFailed}
	if jv.Finished && len(j.Result) > 0 {
		var r struct {
			importResultJSON
			Failure string `json:"failure"`
		}
		if json.Unmarshal(j.Result, &r) == nil {
			jv.Result, jv.Failure = &r.importResultJSON, r.Failure
		}
	}
	return s.render(c, http.StatusOK, "employee_job", &view{Title: importTitle, Register: &registerView{Full: true, Job: jv}})
}
