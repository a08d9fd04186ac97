package employees

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/roumu/roumu/domain/employees/csvfile"
	"github.com/roumu/roumu/ports"
)

// exportPage is how many employees are read per store call while exporting.
const exportPage = 500

// exportColumns are the fields exported to a principal: the import's columns, without My Number and the bank
// account (a spreadsheet on someone's desktop is no place for them), and with the insurance numbers only for
// admin and hr. Departments travel as their codes.
func exportColumns(a Access) []*Field {
	var cols []*Field
	for i := range employeeFields.fields {
		f := &employeeFields.fields[i]
		if f.CSV && (f.Export == exportAlways || f.Export == exportPrivileged && a.SeesSensitive()) {
			cols = append(cols, f)
		}
	}
	return cols
}

// ExportEmployees implements ports.Employees: every employee's current state, in employee number order, with
// Japanese labels as the header, as UTF-8 with a byte-order mark (for Excel) or Shift_JIS. A value Shift_JIS
// cannot hold stops the export with an error naming the row and the column; the output written so far is
// then incomplete, so callers should hold it (a buffer or temporary file) until the call returns.
func (s *Service) ExportEmployees(ctx context.Context, p ports.Principal, w io.Writer, encoding string) error {
	a := AccessOf(p)
	if err := require(a.Full()); err != nil {
		return err
	}
	enc, err := csvfile.NormalizeEncoding(encoding)
	if err != nil {
		return invalid([]ports.FieldError{{Field: "encoding", Code: "encoding",
			MessageEN: "must be utf-8 or shift_jis", MessageJA: "文字コードは utf-8 または shift_jis を指定してください"}})
	}
	if enc == "" {
		enc = csvfile.UTF8
	}
	ix, err := s.departmentIndex(ctx, p.TenantID)
	if err != nil {
		return err
	}
	cols := exportColumns(a)
	cw, err := csvfile.NewWriter(w, enc)
	if err != nil {
		return err
	}
	row := make([]string, len(cols))
	for i, f := range cols {
		row[i] = f.Label
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	n := 0
	q := ports.EmployeeQuery{TenantID: p.TenantID, Sort: ports.EmployeeSortNumber, Limit: exportPage}
	for {
		recs, err := s.Employees.ListEmployees(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			n++
			if err := s.exportRow(ctx, cw, cols, ix, rec, row, n); err != nil {
				return err
			}
		}
		if len(recs) < q.Limit {
			break
		}
		last := recs[len(recs)-1]
		q.AfterKey, q.AfterID = last.EmployeeNumber, last.ID
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return s.record(ctx, auditEvent(p, "employee.export", "employees",
		map[string]string{"rows": strconv.Itoa(n), "encoding": enc}))
}

// exportRow writes one employee as data row n.
func (s *Service) exportRow(ctx context.Context, cw *csvfile.Writer, cols []*Field, ix deptIndex, rec ports.EmployeeRecord, row []string, n int) error {
	sealed, err := decodeState(rec.Data)
	if err != nil {
		return err
	}
	st, err := s.sealer(rec.TenantID, rec.ID).openState(ctx, sealed)
	if err != nil {
		return err
	}
	for i, f := range cols {
		if f.Name == fDepartmentCode {
			row[i] = ix.codeOf[st.values[fDepartmentID]]
		} else {
			row[i] = st.values[f.Name]
		}
	}
	err = cw.Write(row)
	var ue *csvfile.UnrepresentableError
	if errors.As(err, &ue) {
		f := cols[ue.Column]
		return ports.Invalid("unrepresentable_character",
			fmt.Sprintf("Row %d (employee number %s), %s: %q cannot be written in Shift_JIS; export as UTF-8 or change the value.",
				n, rec.EmployeeNumber, f.Name, ue.Rune),
			fmt.Sprintf("%d行目(社員番号 %s)の「%s」に Shift_JIS で表せない文字「%c」があります。UTF-8 で出力するか、値を修正してください。",
				n, rec.EmployeeNumber, f.Label, ue.Rune),
			ports.FieldError{Field: f.Name, Code: "unrepresentable_character",
				MessageEN: fmt.Sprintf("row %d: %q cannot be written in Shift_JIS", n, ue.Rune),
				MessageJA: fmt.Sprintf("%d行目: Shift_JIS で表せない文字「%c」があります", n, ue.Rune)})
	}
	return err
}
