package ports

import "context"

// Kinds of a procedure's documents (ProcedureDocuments.Document).
const (
	DocumentPDF        = "pdf"         // the filled form, A4, for the three Form* types
	DocumentEFilingCSV = "efiling_csv" // the 届書作成プログラム data (SHFD0006.CSV), for the two 健保・厚年 forms
)

// ProcedureDocument is one generated document of a procedure.
type ProcedureDocument struct {
	Name        string // file name for Content-Disposition; carries no personal data
	ContentType string
	Body        []byte
}

// ProcedureDocuments is the driving port of a procedure's filing documents. Callers must be admin or hr
// members of the procedure's tenant. A document is made afresh from the procedure's snapshot and the numbers
// the register holds sealed (My Number is revealed for the filing, audited), and its generation is audited;
// nothing of it is stored. A kind the procedure's type has no document of is ErrNotFound; data the form
// cannot hold (a missing office number, a character outside JIS X 0208) is ErrInvalid with field errors.
type ProcedureDocuments interface {
	Document(ctx context.Context, p Principal, procedureID, kind string) (ProcedureDocument, error)
}

// FilingEmployers gives a tenant's employer block (事業所) for the forms filed with an office
// (pension_office, hello_work, health_insurance_society): the defaults that a procedure's employer.* fields
// override.
type FilingEmployers interface {
	FilingEmployer(ctx context.Context, tenantID, office string) (FilingEmployer, error)
}
