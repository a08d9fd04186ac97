package web

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// CSV import and export. An upload is spooled to a temporary file first: the module reads an import twice
// (validate every row, then write), which a file allows in constant memory, and a large import then runs as a
// job after the request has been answered.

// Import limits, when Config leaves them zero.
const (
	// DefaultImportBodyLimit bounds a CSV upload; 100,000 employees take about 30 MB.
	DefaultImportBodyLimit int64 = 256 << 20
	// DefaultImportSyncLimit is the largest upload imported within the request; larger ones become a job
	// (202 with Location: /api/v1/jobs/{id}).
	DefaultImportSyncLimit int64 = 1 << 20
	// importJobTimeout bounds an import job, which runs on after its request has ended.
	importJobTimeout = time.Hour
)

var (
	errUnsupportedCSV = newProblem(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"Send the file as text/csv, in UTF-8 or Shift_JIS (charset= may name it).",
		"ファイルは text/csv（UTF-8 または Shift_JIS。charset= で指定可）で送信してください。")
	errEmptyUpload = invalidFields([]ports.FieldError{{Field: "file", Code: "required",
		MessageEN: "choose a CSV file", MessageJA: "CSVファイルを選択してください"}})
)

// Upload routes: the only ones whose bodies may exceed Config.BodyLimit, up to Config.ImportBodyLimit.
const (
	apiImportPath  = "/api/v1/employees/import"
	pageImportPath = "/employees/import"
)

// isUpload tells the general body limit to leave a CSV or attachment upload to its own, larger one.
func isUpload(c echo.Context) bool {
	p := c.Request().URL.Path
	return c.Request().Method == http.MethodPost && (p == apiImportPath || p == pageImportPath) || isAttachmentUpload(c)
}

// uploadLimit bounds an upload page's body before anything reads it (the CSRF check may parse the form).
func (s *Server) uploadLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.importBodyLimit {
			return errBodyTooLarge
		}
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, s.importBodyLimit)
		return next(c)
	}
}

// csvEncoding maps a charset parameter to the port's encoding names ("" = detect); false when unknown.
func csvEncoding(charset string) (string, bool) {
	switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(charset))) {
	case "":
		return "", true
	case "utf8":
		return ports.EncodingUTF8, true
	case "shiftjis", "sjis", "cp932", "windows31j", "mskanji", "xsjis":
		return ports.EncodingShiftJIS, true
	}
	return "", false
}

// spool copies an upload into a new temporary file in dir, refusing it (413) beyond limit bytes. The caller
// closes and removes the file (see discard).
func spool(dir string, r io.Reader, limit int64) (*os.File, int64, error) {
	f, err := os.CreateTemp(dir, "roumu-import-*.csv")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = errBodyTooLarge
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		discard(f)
		if tooLarge(err) || isMaxBytes(err) {
			err = errBodyTooLarge
		}
		return nil, 0, err
	}
	return f, n, nil
}

// discard closes and removes a spooled file.
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// importQuery reads the import's query string: dry_run (true or false, default false), effective_on and
// any number of map=HEADER=FIELD (FIELD empty ignores the column; the last = splits, since field names have
// none).
func importQuery(c echo.Context) (dryRun bool, effectiveOn string, mapping map[string]string, err error) {
	q := c.QueryParams()
	var errs []ports.FieldError
	for name := range q {
		if name != "dry_run" && name != "effective_on" && name != "map" {
			errs = append(errs, ports.FieldError{Field: name, Code: "unknown_parameter",
				MessageEN: "is not a parameter of the import", MessageJA: "取り込みでは使用できないパラメーターです"})
		}
	}
	switch strings.ToLower(q.Get("dry_run")) {
	case "", "false", "0":
	case "true", "1":
		dryRun = true
	default:
		errs = append(errs, ports.FieldError{Field: "dry_run", Code: "boolean",
			MessageEN: "must be true or false", MessageJA: "true または false を指定してください"})
	}
	for _, m := range q["map"] {
		i := strings.LastIndex(m, "=")
		if i < 0 {
			errs = append(errs, ports.FieldError{Field: "map", Code: "mapping",
				MessageEN: "must be HEADER=FIELD", MessageJA: "「列名=項目名」の形式で指定してください"})
			continue
		}
		if mapping == nil {
			mapping = map[string]string{}
		}
		mapping[m[:i]] = m[i+1:]
	}
	if len(errs) > 0 {
		return false, "", nil, invalidFields(errs)
	}
	return dryRun, q.Get("effective_on"), mapping, nil
}

// apiImportEmployees imports a text/csv body. Up to the sync limit the answer is the result (200); a larger
// file is answered 202 with the job's Location while the import runs on.
func (s *Server) apiImportEmployees(c echo.Context) error {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != "text/csv" {
		return errUnsupportedCSV
	}
	enc, ok := csvEncoding(params["charset"])
	if !ok {
		return errUnsupportedCSV
	}
	dryRun, effectiveOn, mapping, err := importQuery(c)
	if err != nil {
		return err
	}
	// A large upload over a slow line needs longer than the server's read timeout allows other requests.
	_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Now().Add(30 * time.Minute))
	f, size, err := spool(s.importDir, c.Request().Body, s.importBodyLimit)
	if err != nil {
		return err
	}
	req := ports.ImportRequest{CSV: f, Encoding: enc, Mapping: mapping, DryRun: dryRun, EffectiveOn: effectiveOn}
	if size <= s.importSyncLimit {
		defer discard(f)
		res, err := s.employees.ImportEmployees(c.Request().Context(), principalOf(c), req, nil)
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, toImportResultJSON(res, dryRun))
	}
	job, err := s.startImport(c, req, f)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/jobs/"+job.ID)
	return writeJSON(c, http.StatusAccepted, toJobJSON(job))
}

// startImport records an import job and runs it in the background with a context detached from the request
// (which ends with the answer); the spooled file f is removed when the job ends.
func (s *Server) startImport(c echo.Context, req ports.ImportRequest, f *os.File) (ports.JobRecord, error) {
	ctx := c.Request().Context()
	job, run, err := s.employees.StartImport(ctx, principalOf(c), req)
	if err != nil {
		discard(f)
		return ports.JobRecord{}, err
	}
	requestID := requestIDOf(c)
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		defer discard(f)
		jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importJobTimeout)
		defer cancel()
		if err := run(jctx); err != nil {
			s.log.LogAttrs(jctx, slog.LevelError, "import job failed", slog.String("job_id", job.ID),
				slog.String("request_id", requestID), slog.String("error", err.Error()))
		}
	}()
	return job, nil
}

// WaitJobs waits for the background jobs this server started (import jobs) to end; for a graceful stop and
// for tests.
func (s *Server) WaitJobs() { s.jobs.Wait() }

// exportEncoding reads ?encoding= (utf-8 by default).
func exportEncoding(c echo.Context) (string, error) {
	for name := range c.QueryParams() {
		if name != "encoding" {
			return "", invalidFields([]ports.FieldError{{Field: name, Code: "unknown_parameter",
				MessageEN: "is not a parameter of the export", MessageJA: "出力では使用できないパラメーターです"}})
		}
	}
	enc, ok := csvEncoding(c.QueryParam("encoding"))
	if !ok {
		return "", invalidFields([]ports.FieldError{{Field: "encoding", Code: "encoding",
			MessageEN: "must be utf-8 or shift_jis", MessageJA: "文字コードは utf-8 または shift_jis を指定してください"}})
	}
	if enc == "" {
		enc = ports.EncodingUTF8
	}
	return enc, nil
}

// exportCSV writes the register as CSV. The module writes into a temporary file first, because a value
// Shift_JIS cannot hold stops the export half-way: the client then gets a clean 422 instead of a truncated
// file with 200. The file is then streamed out.
func (s *Server) exportCSV(c echo.Context) error {
	enc, err := exportEncoding(c)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.importDir, "roumu-export-*.csv")
	if err != nil {
		return err
	}
	defer discard(f)
	if err := s.employees.ExportEmployees(c.Request().Context(), principalOf(c), f, enc); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	charset := "utf-8"
	if enc == ports.EncodingShiftJIS {
		charset = "Shift_JIS"
	}
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="employees-`+enc+`.csv"`)
	if st, err := f.Stat(); err == nil {
		h.Set(echo.HeaderContentLength, strconv.FormatInt(st.Size(), 10))
	}
	return c.Stream(http.StatusOK, "text/csv; charset="+charset, f)
}
