package employees

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/roumu/roumu/domain/employees/csvfile"
	"github.com/roumu/roumu/ports"
)

// Import limits.
const (
	// MaxBufferedImport bounds an import whose source cannot seek: it is read into memory for the second
	// pass. Callers with larger files pass an io.ReadSeeker (the HTTP adapter spools uploads to a temporary
	// file), which is read twice in constant memory.
	MaxBufferedImport = 64 << 20
	// importBatch is how many new employees are stored per CreateEmployees call.
	importBatch = 500
	// maxImportErrors bounds the report of a hopeless file; the last entry then says that more were left out.
	maxImportErrors = 10_000
)

// source gives the import's bytes from the start, as often as needed.
type source func() (io.Reader, error)

// rereadable makes r readable twice: by seeking back when it can, else by holding at most
// MaxBufferedImport bytes.
func rereadable(r io.Reader) (source, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		return func() (io.Reader, error) {
			_, err := rs.Seek(start, io.SeekStart)
			return rs, err
		}, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBufferedImport+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBufferedImport {
		return nil, ports.NewError(ports.ErrInvalid, "import_too_large",
			fmt.Sprintf("The file is larger than %d MiB; upload it as a file the server can read twice.", MaxBufferedImport>>20),
			fmt.Sprintf("ファイルが%dMiBを超えています。", MaxBufferedImport>>20))
	}
	return func() (io.Reader, error) { return bytes.NewReader(b), nil }, nil
}

// importRun is one import: its settings, the state of the pass and the result.
type importRun struct {
	s        *Service
	p        ports.Principal
	a        Access
	req      ports.ImportRequest
	enc      string
	day      string // the effective date of updates; "" = today (creates default to the hire date)
	today    string
	ix       deptIndex
	progress ports.ImportProgress

	fields  []string          // the field of each column ("" = ignored)
	headers map[string]string // field → the header as written, for error reports
	result  ports.ImportResult
	rows    int // data rows read so far in this pass
	total   int // data rows of the file, once the first pass has counted them
	// write is false in the validating pass; in the writing pass new employees wait in a batch.
	write   bool
	batch   []ports.EmployeeRecord
	changes []ports.EmployeeChangeRecord
}

// ImportEmployees implements ports.Employees in two passes over the file, so that the rows never sit in
// memory all at once: the first validates every row and counts (a dry run stops there), the second, only
// when no row has an error, writes everything in one transaction. The source is read twice: see
// MaxBufferedImport.
func (s *Service) ImportEmployees(ctx context.Context, p ports.Principal, req ports.ImportRequest, progress ports.ImportProgress) (ports.ImportResult, error) {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return ports.ImportResult{}, err
	}
	if req.CSV == nil {
		return ports.ImportResult{}, invalid([]ports.FieldError{required("csv")})
	}
	run := &importRun{s: s, p: p, a: a, req: req, today: s.today(), progress: progress}
	if progress == nil {
		run.progress = func(int, int) {}
	}
	enc, err := csvfile.NormalizeEncoding(req.Encoding)
	if err != nil {
		return ports.ImportResult{}, invalid([]ports.FieldError{{Field: "encoding", Code: "encoding",
			MessageEN: "must be utf-8 or shift_jis", MessageJA: "文字コードは utf-8 または shift_jis を指定してください"}})
	}
	if strings.TrimSpace(req.EffectiveOn) != "" {
		day, errs := effectiveOn(req.EffectiveOn)
		if len(errs) > 0 {
			return ports.ImportResult{}, invalid(errs)
		}
		run.day = day
	}
	src, err := rereadable(req.CSV)
	if err != nil {
		return ports.ImportResult{}, err
	}
	if enc == "" {
		r, err := src()
		if err != nil {
			return ports.ImportResult{}, err
		}
		if enc, err = csvfile.Detect(r); err != nil {
			return ports.ImportResult{}, err
		}
	}
	run.enc = enc
	if run.ix, err = s.departmentIndex(ctx, p.TenantID); err != nil {
		return ports.ImportResult{}, err
	}
	if err := run.pass(ctx, src); err != nil {
		return ports.ImportResult{}, err
	}
	counts := run.result
	if len(counts.Errors) == 0 && !req.DryRun && counts.Created+counts.Updated > 0 {
		run.write, run.total = true, run.rows
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			run.result = ports.ImportResult{}
			if err := run.pass(ctx, src); err != nil {
				return err
			}
			if len(run.result.Errors) > 0 { // the register changed between the passes
				return errImportFailed
			}
			ev := s.newEvent(p.TenantID, EventImported, "", map[string]any{
				"created": run.result.Created, "updated": run.result.Updated})
			if err := s.appendEvents(ctx, ev); err != nil {
				return err
			}
			return run.audit(ctx)
		})
		if errors.Is(err, errImportFailed) {
			run.result.Created, run.result.Updated = 0, 0
			return run.result, nil
		}
		if err != nil {
			return ports.ImportResult{}, err
		}
		return run.result, nil
	}
	if err := run.audit(ctx); err != nil {
		return ports.ImportResult{}, err
	}
	return counts, nil
}

var errImportFailed = errors.New("employees: import rows failed while writing")

func (r *importRun) audit(ctx context.Context) error {
	res := r.result
	return r.s.record(ctx, auditEvent(r.p, "employee.import", "employees", map[string]string{
		"rows": strconv.Itoa(r.rows), "created": strconv.Itoa(res.Created), "updated": strconv.Itoa(res.Updated),
		"errors": strconv.Itoa(len(res.Errors)), "dry_run": strconv.FormatBool(r.req.DryRun || len(res.Errors) > 0),
		"encoding": r.enc}))
}

// column names a field as the report shows it: by its header in the file, else by its Japanese label.
func (r *importRun) column(field string) string {
	if h, ok := r.headers[field]; ok {
		return h
	}
	if f, ok := employeeFields.field(field); ok {
		return f.Label
	}
	return field
}

// fail records an error of a row (0 for the file itself) in a column as the report shows it.
func (r *importRun) fail(row int, column, code, en, ja string) {
	errs := &r.result.Errors
	switch {
	case len(*errs) < maxImportErrors:
		*errs = append(*errs, ports.ImportError{Row: row, Column: column, Code: code, MessageEN: en, MessageJA: ja})
	case len(*errs) == maxImportErrors:
		*errs = append(*errs, ports.ImportError{Row: row, Code: "too_many_errors",
			MessageEN: "More errors were left out of this report.", MessageJA: "これ以上のエラーは省略しました。"})
	}
}

// failErr records err for a row: its field errors one by one, or the error itself.
func (r *importRun) failErr(row int, err error) error {
	e, ok := ports.AsError(err)
	if !ok {
		return err // not a problem of the row: the import stops
	}
	if len(e.Fields) == 0 {
		r.fail(row, "", e.Code, e.MessageEN, e.MessageJA)
	}
	for _, f := range e.Fields {
		r.fail(row, r.column(f.Field), f.Code, f.MessageEN, f.MessageJA)
	}
	return nil
}

// pass reads the file once: validating every row, and in the writing pass storing it too.
func (r *importRun) pass(ctx context.Context, src source) error {
	in, err := src()
	if err != nil {
		return err
	}
	cr, err := csvfile.NewReader(in, r.enc)
	if err != nil {
		return err
	}
	header, err := cr.Read()
	if err == io.EOF {
		r.fail(0, "", "empty_file", "The file has no header row.", "ヘッダー行がありません。")
		return nil
	}
	if err != nil {
		return r.syntax(0, err)
	}
	if !r.mapHeader(header) {
		return nil
	}
	seen := map[string]int{} // employee number → first row
	r.rows = 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		r.rows++
		if err != nil {
			return r.syntax(r.rows, err)
		}
		if err := r.row(ctx, r.rows, rec, seen); err != nil {
			return err
		}
		if r.rows%importBatch == 0 {
			if err := r.flush(ctx); err != nil {
				return err
			}
			r.report()
		}
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	r.report()
	return nil
}

func (r *importRun) report() {
	if r.write {
		r.progress(r.rows, r.total)
		return
	}
	r.progress(r.rows, 0) // validating: the total is not known yet
}

// syntax reports a CSV syntax error; reading cannot go on past it.
func (r *importRun) syntax(row int, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	r.fail(row, "", "csv_syntax", fmt.Sprintf("CSV syntax error on line %d: %v", pe.Line, pe.Err),
		fmt.Sprintf("%d行目のCSVの形式が正しくありません(引用符の対応など)", pe.Line))
	return nil
}

// mapHeader maps the header row, reporting unknown and duplicate columns and a missing 社員番号.
func (r *importRun) mapHeader(header []string) bool {
	resolve := func(h string) (string, bool) {
		f, ok := employeeFields.column(h)
		if !ok {
			return "", false
		}
		return f.Name, true
	}
	fields, problems := csvfile.MapHeader(header, r.req.Mapping, resolve)
	r.fields, r.headers = fields, map[string]string{}
	for i, f := range fields {
		if f != "" {
			r.headers[f] = strings.TrimSpace(header[i])
		}
	}
	for _, p := range problems {
		if p.Code == "duplicate_column" {
			r.fail(0, p.Header, p.Code, "The column appears twice.", "同じ項目の列が複数あります。")
		} else {
			r.fail(0, p.Header, p.Code, "Unknown column: map it to a field or remove it.",
				"不明な列です。項目を対応付けるか、列を削除してください。")
		}
	}
	if _, ok := r.headers[fEmployeeNumber]; !ok {
		r.fail(0, r.column(fEmployeeNumber), "missing_column", "The 社員番号 (employee_number) column is required.",
			"社員番号の列が必要です。")
	}
	return len(r.result.Errors) == 0
}

// row validates (and in the writing pass stores) one data row.
func (r *importRun) row(ctx context.Context, row int, rec []string, seen map[string]int) error {
	if len(rec) != len(r.fields) {
		r.fail(row, "", "column_count", fmt.Sprintf("The row has %d columns; the header has %d.", len(rec), len(r.fields)),
			fmt.Sprintf("列の数(%d)がヘッダー(%d)と一致しません。", len(rec), len(r.fields)))
		return nil
	}
	in := make(map[string]string, len(rec))
	for i, f := range r.fields {
		if f != "" {
			in[f] = rec[i]
		}
	}
	values, errs := parseEmployeeInput(in, r.ix)
	if len(errs) > 0 {
		return r.failErr(row, invalid(errs))
	}
	number := values[fEmployeeNumber]
	if first, dup := seen[number]; dup {
		r.fail(row, r.column(fEmployeeNumber), "duplicate_employee_number",
			fmt.Sprintf("The employee number is already on row %d.", first),
			fmt.Sprintf("社員番号が%d行目と重複しています。", first))
		return nil
	}
	seen[number] = row
	existing, err := r.s.Employees.EmployeeByNumber(ctx, r.p.TenantID, number)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return r.create(ctx, row, values)
	case err != nil:
		return err
	}
	return r.update(ctx, row, existing, values)
}

func (r *importRun) create(ctx context.Context, row int, values map[string]string) error {
	rec, pl, err := r.s.newEmployee(ctx, r.p, values, r.day, KindHire, "import", r.today)
	if err != nil {
		return r.failErr(row, err)
	}
	r.result.Created++
	if r.write {
		r.batch = append(r.batch, rec)
		r.changes = append(r.changes, pl.change)
	}
	return nil
}

func (r *importRun) update(ctx context.Context, row int, existing ports.EmployeeRecord, values map[string]string) error {
	d := draft{kind: KindImport, effectiveOn: r.day, values: values, reason: "import"}
	op := writeOp{build: func(timeline, string) (*draft, []string, error) { return &d, nil, nil }}
	apply := func(rec *ports.EmployeeRecord, changes []ports.EmployeeChangeRecord) (ports.EmployeeUpdate, error) {
		o, err := r.s.update(ctx, r.p, r.a, rec, changes, op, r.today)
		if err != nil {
			return ports.EmployeeUpdate{}, err
		}
		return ports.EmployeeUpdate{Append: []ports.EmployeeChangeRecord{o.change}}, nil
	}
	var err error
	if r.write {
		_, err = r.s.Employees.UpdateEmployee(ctx, r.p.TenantID, existing.ID, apply)
	} else {
		var changes []ports.EmployeeChangeRecord
		if changes, err = r.s.Employees.EmployeeChanges(ctx, r.p.TenantID, existing.ID); err == nil {
			_, err = apply(&existing, changes)
		}
	}
	switch {
	case errors.Is(err, errNoChange):
		return nil
	case err != nil:
		return r.failErr(row, err)
	}
	r.result.Updated++
	return nil
}

// flush stores the waiting new employees (writing pass only).
func (r *importRun) flush(ctx context.Context) error {
	if !r.write || len(r.batch) == 0 {
		return nil
	}
	if err := r.s.Employees.CreateEmployees(ctx, r.batch, r.changes); err != nil {
		return numberTaken(err)
	}
	r.batch, r.changes = r.batch[:0], r.changes[:0]
	return nil
}
