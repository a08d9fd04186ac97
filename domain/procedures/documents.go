package procedures

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/roumu/roumu/domain/kernel/calendar"
	"github.com/roumu/roumu/domain/procedures/efiling"
	"github.com/roumu/roumu/ports"
)

var _ ports.ProcedureDocuments = (*Service)(nil)

// Document implements ports.ProcedureDocuments: the form PDF of the three Form* types, and the
// 届書作成プログラム CSV of the two 健保・厚年 ones, made now from the procedure and the register, as the caller.
// The audit entry names the procedure, its type and the document's kind, never a value of the form.
func (s *Service) Document(ctx context.Context, p ports.Principal, id, kind string) (ports.ProcedureDocument, error) {
	const action = "procedure.document"
	if err := requirePreparer(p); err != nil {
		if auditErr := s.record(ctx, p, action, "procedure:"+id, ports.OutcomeDenied,
			map[string]string{"kind": kind, "reason": codeOf(err)}); auditErr != nil {
			return ports.ProcedureDocument{}, errors.Join(err, auditErr)
		}
		return ports.ProcedureDocument{}, err
	}
	if kind != ports.DocumentPDF && kind != ports.DocumentEFilingCSV {
		return ports.ProcedureDocument{}, invalid([]ports.FieldError{{Field: "kind", Code: "invalid_kind",
			MessageEN: "must be pdf or efiling_csv", MessageJA: "pdf または efiling_csv を指定してください"}})
	}
	rec, err := s.Procedures.ProcedureByID(ctx, p.TenantID, id)
	if err != nil {
		return ports.ProcedureDocument{}, notFoundAs(err)
	}
	proc, err := view(rec)
	if err != nil {
		return ports.ProcedureDocument{}, err
	}
	// Refuse what there is no document of before the register is read.
	if err := available(proc.Type, kind); err != nil {
		return ports.ProcedureDocument{}, err
	}
	form, err := s.form(ctx, p, proc)
	if err != nil {
		return ports.ProcedureDocument{}, err
	}
	var doc ports.ProcedureDocument
	if kind == ports.DocumentPDF {
		doc, err = s.pdf(ctx, proc, form)
	} else {
		doc, err = efilingCSV(proc, form, s.today())
	}
	if err != nil {
		return ports.ProcedureDocument{}, err
	}
	return doc, s.record(ctx, p, action, "procedure:"+id, ports.OutcomeSuccess,
		map[string]string{"type": proc.Type, "kind": kind, "bytes": strconv.Itoa(len(doc.Body))})
}

// FilingAttachments makes the files of a procedure's electronic filing, for GatewayFiler.Attachments: the
// form PDF, for the 健保・厚年 forms the SHFD0006.CSV, and the files attached to the procedure. The form is
// filled once, as the module's filing actor (FilingActor), whose reading of My Number the register audits.
func (s *Service) FilingAttachments(ctx context.Context, tenantID string, proc ports.Procedure) ([]ports.FilingAttachment, error) {
	if err := available(proc.Type, ports.DocumentPDF); err != nil {
		return nil, err
	}
	form, err := s.form(ctx, system(tenantID, FilingActor), proc)
	if err != nil {
		return nil, err
	}
	pdf, err := s.pdf(ctx, proc, form)
	if err != nil {
		return nil, err
	}
	files := []ports.FilingAttachment{{Name: pdf.Name, ContentType: pdf.ContentType, Data: pdf.Body}}
	if available(proc.Type, ports.DocumentEFilingCSV) == nil {
		csv, err := efiling.Attachment(efiling.Media{Sequence: mediaSequence(proc), Created: s.today()}, form)
		if err != nil {
			return nil, err
		}
		files = append(files, csv)
	}
	scans, err := s.attachments(ctx, tenantID, proc.ID)
	if err != nil {
		return nil, err
	}
	return append(files, scans...), nil
}

// available refuses a kind of document that a procedure type has none of.
func available(typ, kind string) error {
	switch {
	case !slices.Contains(formTypes, typ):
		return ports.NewError(ports.ErrNotFound, "document_not_available",
			"Roumu makes no filing document for this type of procedure.", "この種類の手続きの届書は作成できません。")
	case kind == ports.DocumentEFilingCSV && !slices.Contains(efilingTypes, typ):
		return ports.NewError(ports.ErrNotFound, "efiling_data_not_available",
			"This procedure has no electronic-filing data in the 届書作成プログラム format (employment insurance forms go to Hello Work in another format); print its PDF.",
			"この手続きには届書作成プログラム形式の電子申請データがありません（雇用保険の届書はハローワークの形式です）。PDFを印刷してください。")
	}
	return nil
}

// pdf renders the procedure's form.
func (s *Service) pdf(ctx context.Context, proc ports.Procedure, form ports.FilingForm) (ports.ProcedureDocument, error) {
	if s.Renderer == nil {
		return ports.ProcedureDocument{}, ports.NewError(ports.ErrUnavailable, "renderer_unavailable",
			"Forms cannot be printed on this server.", "このサーバーでは届書を印刷できません。")
	}
	body, err := s.Renderer.RenderPDF(ctx, form)
	if err != nil {
		return ports.ProcedureDocument{}, err
	}
	// The name carries the type and the procedure's ID, never the person's name.
	return ports.ProcedureDocument{Name: proc.Type + "-" + proc.ID + ".pdf", ContentType: "application/pdf", Body: body}, nil
}

// efilingCSV writes the procedure's 届書作成プログラム data, made on day.
func efilingCSV(proc ports.Procedure, form ports.FilingForm, day calendar.Date) (ports.ProcedureDocument, error) {
	a, err := efiling.Attachment(efiling.Media{Sequence: mediaSequence(proc), Created: day}, form)
	if err != nil {
		return ports.ProcedureDocument{}, err
	}
	return ports.ProcedureDocument{Name: a.Name, ContentType: a.ContentType, Body: a.Data}, nil
}

// mediaSequence is the 媒体通番 of a procedure's file. Interpretation: one file is made per filing, and e-Gov
// takes one file per application, so the number counts the procedure's filings: 001 for the first, 002 when
// filed again after a 補正, … (after 999 comes 001, as the layout says). Before a filing is recorded the file
// is that of the coming filing, so a retried filing and a download for it get the same number; once filed
// (or completed), of the last one.
func mediaSequence(proc ports.Procedure) int {
	n := 0
	for _, t := range proc.History {
		if t.To == ports.ProcedureFiled {
			n++
		}
	}
	if proc.Status != ports.ProcedureFiled && proc.Status != ports.ProcedureCompleted {
		n++
	}
	return (max(n, 1)-1)%999 + 1
}
