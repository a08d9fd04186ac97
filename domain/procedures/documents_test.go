package procedures_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/roumu/roumu/adapters/egov"
	"github.com/roumu/roumu/adapters/pdf"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/domain/procedures/efiling"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/tools"
)

// employers are the tenants' employer blocks.
type employers map[string]ports.FilingEmployer

func (m employers) FilingEmployer(_ context.Context, tenantID, _ string) (ports.FilingEmployer, error) {
	return m[tenantID], nil
}

var office = ports.FilingEmployer{
	PrefectureCode: "21", DistrictCode: "01", OfficeSymbol: "ﾛｳﾑ", OfficeNumber: "12345",
	EmploymentInsuranceOfficeNumber: "1301-123456-7", Name: "株式会社ロウム", PostalCode: "100-8916",
	Address: "東京都千代田区霞が関1-2-2", OwnerName: "労務　太郎", Phone: "03-1234-5678",
}

// capturingRenderer renders with the real PDF renderer and keeps the forms it was given.
type capturingRenderer struct {
	mu    sync.Mutex
	forms []ports.FilingForm
}

func (r *capturingRenderer) RenderPDF(ctx context.Context, form ports.FilingForm) ([]byte, error) {
	r.mu.Lock()
	r.forms = append(r.forms, form)
	r.mu.Unlock()
	return pdf.Renderer{Producer: "Roumu test"}.RenderPDF(ctx, form)
}

func (r *capturingRenderer) last(t *testing.T) ports.FilingForm {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.forms) == 0 {
		t.Fatal("no form was rendered")
	}
	return r.forms[len(r.forms)-1]
}

// withDocuments rewires the module with the PDF renderer, t1's employer block and, when gw is not nil, an
// electronic filer over gw whose files are the module's own documents.
func (e *env) withDocuments(t *testing.T, gw ports.FilingGateway) *capturingRenderer {
	t.Helper()
	r := &capturingRenderer{}
	deps := e.deps
	deps.Renderer, deps.Employers, deps.Gateway = r, employers{"t1": office}, gw
	svc, err := procedures.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return r
}

// separated records a separation of a new employee on 2026-03-31 and returns their health and pension
// loss filing.
func (e *env) separated(t *testing.T, number string, set ...string) ports.Procedure {
	t.Helper()
	emp := e.hire(t, e.admin, number, append([]string{"hire_date", "2025-04-01", "health_insurance_number", "42"}, set...)...)
	if _, err := e.reg.UpdateEmployee(ctx, e.admin, emp.ID, ports.EmployeeInput{Fields: map[string]string{
		"separation_date": "2026-03-31", "separation_reason": "自己都合"}}); err != nil {
		t.Fatal(err)
	}
	e.consume(t)
	return byType(t, e.procs(t, e.admin, emp.ID), ports.ProcedureHealthPensionLoss)
}

// pdfText is the text of a PDF as pdftotext reads it, without white space; it skips the test without
// pdftotext unless CI=true.
func pdfText(t *testing.T, body []byte) string {
	t.Helper()
	tool := tools.Path(t, "pdftotext", "install poppler-utils")
	file := filepath.Join(t.TempDir(), "form.pdf")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// TestDocumentForms: each of the three forms is filled from the snapshot with era dates, the employer block
// and the person's numbers read from the register for it, and renders as a PDF that shows its title and the
// person's name.
func TestDocumentForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.withDocuments(t, nil)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-04-01")
	e.consume(t)
	ps := e.procs(t, e.admin, emp.ID)
	loss := e.separated(t, "E2")

	cases := []struct {
		proc  ports.Procedure
		title string
		check func(f ports.FilingForm) bool
	}{
		{byType(t, ps, ports.ProcedureHealthPensionAcquisition), "健康保険・厚生年金保険 被保険者資格取得届", func(f ports.FilingForm) bool {
			return f.AcquisitionDate == ports.FormDate{ISO: "2026-04-01", Era: "令和8年4月1日"} && f.AcquisitionKind == "1" &&
				f.MonthlyPayCash == 300000 && !f.HasDependents && f.OfficeName == "日本年金機構（年金事務所）" &&
				f.Person.MyNumber == "123456789018" && f.Person.BasicPensionNumber == "" && f.Employer.OfficeNumber == "12345"
		}},
		{byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition), "雇用保険被保険者資格取得届", func(f ports.FilingForm) bool {
			return f.AcquisitionDate.Era == "令和8年4月1日" && f.AcquisitionKind == "2" && f.AcquisitionCause == "2" &&
				f.EmploymentType == "7 その他" && !f.FixedTerm && f.OfficeName == "公共職業安定所（ハローワーク）" &&
				f.Person.EmploymentInsuranceNumber == "1234-567890-1" && f.Person.MyNumber == "123456789018" &&
				f.Employer.EmploymentInsuranceOfficeNumber == "1301-123456-7"
		}},
		{loss, "健康保険・厚生年金保険 被保険者資格喪失届", func(f ports.FilingForm) bool {
			return f.LossDate == ports.FormDate{ISO: "2026-04-01", Era: "令和8年4月1日"} &&
				f.RetirementDate == ports.FormDate{ISO: "2026-03-31", Era: "令和8年3月31日"} && f.LossReason == "4" &&
				f.Person.InsuredNumber == "42" && f.AcquisitionDate == ports.FormDate{}
		}},
	}
	for _, c := range cases {
		doc, err := e.svc.Document(ctx, e.hr, c.proc.ID, ports.DocumentPDF)
		if err != nil {
			t.Fatalf("%s: %v", c.proc.Type, err)
		}
		f := r.last(t)
		p := f.Person
		if f.Type != c.proc.Type || f.Title != c.title || f.Prepared != (ports.FormDate{ISO: "2026-04-01", Era: "令和8年4月1日"}) ||
			p.FamilyName != "山田" || p.GivenName != "太郎" || p.FamilyNameKana != "ヤマダ" || p.GivenNameKana != "タロウ" ||
			p.BirthDate != (ports.FormDate{ISO: "1990-05-15", Era: "平成2年5月15日"}) || p.Gender != "male" ||
			p.PostalCode != "100-0001" || p.Address != "東京都千代田区千代田1-1" || f.Employer != office || !c.check(f) {
			t.Errorf("%s: form %+v", c.proc.Type, f)
		}
		if doc.ContentType != "application/pdf" || doc.Name != c.proc.Type+"-"+c.proc.ID+".pdf" || !bytes.HasPrefix(doc.Body, []byte("%PDF-")) {
			t.Errorf("%s: document %s %s %q", c.proc.Type, doc.Name, doc.ContentType, doc.Body[:min(8, len(doc.Body))])
		}
		// pdftotext may lay the family and given names apart.
		if text := pdfText(t, doc.Body); !strings.Contains(text, strings.ReplaceAll(c.title, " ", "")) ||
			!strings.Contains(text, "山田") || !strings.Contains(text, "太郎") || !strings.Contains(text, "平成2年5月15日") {
			t.Errorf("%s: the PDF's text lacks its title or the name:\n%s", c.proc.Type, text)
		}
	}

	// Without My Number the basic pension number identifies the person; a dead person's loss is reason 5.
	noNumber := e.hire(t, e.admin, "E3", "my_number", "")
	e.consume(t)
	if _, err := e.svc.Document(ctx, e.admin, byType(t, e.procs(t, e.admin, noNumber.ID), ports.ProcedureHealthPensionAcquisition).ID, ports.DocumentPDF); err != nil {
		t.Fatal(err)
	}
	if p := r.last(t).Person; p.MyNumber != "" || p.BasicPensionNumber != "1234-567890" {
		t.Errorf("without My Number: %+v", p)
	}
}

// TestEFilingDocument: the acquisition's CSV is the 届書作成プログラム layout in Shift_JIS with CRLF, with the
// employer block (a procedure's employer.* field over the tenant's) and the person identified by My
// Number; the employment insurance forms and types without forms have none, and missing employer data is
// a clear refusal.
func TestEFilingDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withDocuments(t, nil)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-04-01")
	e.consume(t)
	ps := e.procs(t, e.admin, emp.ID)
	hp := byType(t, ps, ports.ProcedureHealthPensionAcquisition)
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, hp.ID, ports.ProcedureEdit{Fields: map[string]string{"employer.office_number": "54321"}}); err != nil {
		t.Fatal(err)
	}
	doc, err := e.svc.Document(ctx, e.hr, hp.ID, ports.DocumentEFilingCSV)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "SHFD0006.CSV" || doc.ContentType != "text/csv; charset=Shift_JIS" {
		t.Errorf("document %s %s", doc.Name, doc.ContentType)
	}
	header := "21,01,ﾛｳﾑ,001,20260401,22223\r\n[kanri]\r\n,001\r\n" +
		"21,01,ﾛｳﾑ,54321,100,8916,東京都千代田区霞が関１－２－２,株式会社ロウム,労務　太郎,03,1234,5678\r\n[data]\r\n" +
		"2200700,21,01,ﾛｳﾑ,54321,,ﾔﾏﾀﾞ ﾀﾛｳ,山田　太郎,7,020515,1,1,123456789018,,,,,9,080401,0,0300000,0000000,0300000,"
	text, err := japanese.ShiftJIS.NewDecoder().Bytes(doc.Body)
	if err != nil || !strings.HasPrefix(string(text), header) {
		t.Errorf("the CSV starts\n%q\nwant\n%q (%v)", text[:min(len(text), len(header)+20)], header, err)
	}
	if !bytes.HasSuffix(doc.Body, []byte("\r\n")) || bytes.Count(doc.Body, []byte("\n")) != bytes.Count(doc.Body, []byte("\r\n")) {
		t.Error("a record does not end in CRLF")
	}
	if !bytes.Contains(doc.Body, []byte{0x8e, 0x52, 0x93, 0x63}) { // 山田 in Shift_JIS
		t.Error("the kanji name is not in Shift_JIS")
	}
	if f, err := efiling.Parse(doc.Body); err != nil || len(f.Records) != 1 {
		t.Errorf("Parse: %d records, %v", len(f.Records), err)
	}

	refusals := []struct {
		id, kind string
		want     error
		code     string
	}{
		{byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition).ID, ports.DocumentEFilingCSV, ports.ErrNotFound, "efiling_data_not_available"},
		{hp.ID, "docx", ports.ErrInvalid, "validation_failed"},
		{"no-such-procedure", ports.DocumentPDF, ports.ErrNotFound, "not_found"},
	}
	manual, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureAddressChange, EmployeeID: emp.ID, FactDate: "2026-04-01"})
	if err != nil {
		t.Fatal(err)
	}
	refusals = append(refusals, struct {
		id, kind string
		want     error
		code     string
	}{manual.ID, ports.DocumentPDF, ports.ErrNotFound, "document_not_available"})
	for _, c := range refusals {
		if _, err := e.svc.Document(ctx, e.hr, c.id, c.kind); !errors.Is(err, c.want) || code(err) != c.code {
			t.Errorf("%s of %s: %v, want %s", c.kind, c.id, err, c.code)
		}
	}

	// A tenant without an employer block gets the fields it lacks named, and no file.
	deps := e.deps
	deps.Renderer, deps.Employers = e.svc.Renderer, employers{}
	bare, err := procedures.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bare.Document(ctx, e.hr, hp.ID, ports.DocumentEFilingCSV)
	if pe, ok := ports.AsError(err); !ok || !errors.Is(err, ports.ErrInvalid) || !hasField(pe.Fields, "employer.prefecture_code") || hasField(pe.Fields, "employer.office_number") {
		t.Errorf("without an employer block: %v", err)
	}
}

func hasField(fields []ports.FieldError, name string) bool {
	for _, f := range fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// TestDocumentAccess: only admin and hr members of the procedure's tenant get documents; every document and
// refusal is audited without a value of the form, and My Number is read through the register's audited
// reveal, naming the procedure.
func TestDocumentAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withDocuments(t, nil)
	emp := e.hire(t, e.admin, "E1")
	e.consume(t)
	hp := byType(t, e.procs(t, e.admin, emp.ID), ports.ProcedureHealthPensionAcquisition)

	employee, partial := member("t1", ports.RoleEmployee), e.hr
	partial.Stage = ports.StageMFA
	for name, c := range map[string]struct {
		p    ports.Principal
		want error
	}{
		"employee":         {employee, ports.ErrForbidden},
		"hr before MFA":    {partial, ports.ErrForbidden},
		"another tenant":   {e.other, ports.ErrNotFound},
		"operator":         {ports.Principal{AccountID: "op", Kind: ports.KindOperator, Stage: ports.StageFull, Roles: []string{ports.RoleAdmin}}, ports.ErrForbidden},
		"admin of no role": {member("t1"), ports.ErrForbidden},
	} {
		if _, err := e.svc.Document(ctx, c.p, hp.ID, ports.DocumentPDF); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if len(e.audits(t, "employee.my_number.reveal")) != 0 {
		t.Error("a refused document revealed My Number")
	}
	for _, kind := range []string{ports.DocumentPDF, ports.DocumentEFilingCSV} {
		if _, err := e.svc.Document(ctx, e.admin, hp.ID, kind); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}

	var ok, denied int
	for _, r := range e.audits(t, "procedure.document") {
		if r.Event.Target != "procedure:"+hp.ID {
			t.Errorf("audit target %q", r.Event.Target)
		}
		switch r.Event.Outcome {
		case ports.OutcomeSuccess:
			ok++
			if r.Event.ActorID != e.admin.AccountID || r.Event.Detail["type"] != hp.Type || r.Event.Detail["bytes"] == "" {
				t.Errorf("audit %+v", r.Event)
			}
		case ports.OutcomeDenied:
			denied++
		}
	}
	if ok != 2 || denied != 4 {
		t.Errorf("%d documents and %d refusals audited, want 2 and 4", ok, denied)
	}
	reveals := e.audits(t, "employee.my_number.reveal")
	if len(reveals) != 2 || reveals[0].Event.ActorID != e.admin.AccountID || reveals[0].Event.Detail["purpose"] != "other: social insurance filing "+hp.ID {
		t.Errorf("My Number reveals: %+v", reveals)
	}
	all, err := e.store.ListAudit(ctx, ports.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		for k, v := range r.Event.Detail {
			if strings.Contains(v, "123456789018") || strings.Contains(v, "567890") {
				t.Errorf("audit %s: %s holds a number: %q", r.Event.Action, k, v)
			}
		}
	}
	if got, _ := e.svc.GetProcedure(ctx, e.admin, hp.ID); strings.Contains(strings.Join(valuesOf(got.Fields), " "), "123456789018") {
		t.Error("the procedure kept My Number")
	}
}

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// recordingGateway keeps what was submitted to the gateway it wraps.
type recordingGateway struct {
	ports.FilingGateway
	mu   sync.Mutex
	subs []ports.Submission
}

func (g *recordingGateway) Submit(ctx context.Context, s ports.Submission) (string, error) {
	g.mu.Lock()
	g.subs = append(g.subs, s)
	g.mu.Unlock()
	return g.FilingGateway.Submit(ctx, s)
}

// fileApproved takes a procedure through submit (hr), approve (admin) and file (hr).
func (e *env) fileApproved(t *testing.T, id string) ports.Procedure {
	t.Helper()
	e.act(t, e.hr, id, ports.ActionSubmit, "")
	e.act(t, e.admin, id, ports.ActionApprove, "")
	return e.act(t, e.hr, id, ports.ActionFile, "")
}

// TestFilingThroughEGov: the module files its own documents through the fake e-Gov: the PDF and the CSV
// for 健保・厚年, the PDF alone for 雇用保険; polling leaves filings filed while the office works, then
// completes them (手続終了) or returns them with the office's message (補正).
func TestFilingThroughEGov(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gw := &recordingGateway{FilingGateway: egov.New(e.clock, egov.WithCorrections(func(s ports.Submission) string {
		if s.FormType == ports.FormHealthPensionLoss && strings.HasSuffix(s.Reference, "/001") {
			return "喪失原因を確認してください"
		}
		return ""
	}))}
	e.withDocuments(t, gw)
	emp := e.hire(t, e.admin, "E1", "hire_date", "2026-04-01")
	e.consume(t)
	ps := e.procs(t, e.admin, emp.ID)
	hp, ei := byType(t, ps, ports.ProcedureHealthPensionAcquisition), byType(t, ps, ports.ProcedureEmploymentInsuranceAcquisition)
	loss := e.separated(t, "E2")

	filed := map[string]ports.Procedure{}
	for _, p := range []ports.Procedure{hp, ei, loss} {
		f := e.fileApproved(t, p.ID)
		if f.Status != ports.ProcedureFiled || !regexp.MustCompile(`^[0-9]{20}$`).MatchString(f.ArrivalNumber) {
			t.Fatalf("%s: %s, arrival %q", p.Type, f.Status, f.ArrivalNumber)
		}
		filed[p.Type] = f
	}
	wantFiles := map[string][]string{
		hp.Type:   {hp.Type + "-" + hp.ID + ".pdf", "SHFD0006.CSV"},
		ei.Type:   {ei.Type + "-" + ei.ID + ".pdf"},
		loss.Type: {loss.Type + "-" + loss.ID + ".pdf", "SHFD0006.CSV"},
	}
	for _, s := range gw.subs {
		var names []string
		for _, a := range s.Attachments {
			names = append(names, a.Name)
			if a.Name == "SHFD0006.CSV" {
				if _, err := efiling.Parse(a.Data); err != nil {
					t.Errorf("%s: %v", s.FormType, err)
				}
			}
		}
		if s.TenantID != "t1" || strings.Join(names, " ") != strings.Join(wantFiles[s.FormType], " ") {
			t.Errorf("%s submitted with %v", s.FormType, names)
		}
	}
	// The file of a filed procedure keeps its 媒体通番.
	if doc, err := e.svc.Document(ctx, e.hr, hp.ID, ports.DocumentEFilingCSV); err != nil || !bytes.HasPrefix(doc.Body, []byte("21,01,\xdb\xb3\xd1,001,")) {
		t.Errorf("CSV of the filed procedure: %v %q", err, doc.Body[:min(len(doc.Body), 24)])
	}

	poll := func(want int) {
		t.Helper()
		if n, err := e.svc.PollFilings(ctx); n != want || err != nil {
			t.Fatalf("PollFilings = %d, %v; want %d", n, err, want)
		}
	}
	poll(0) // 到達
	e.clock.Advance(2 * time.Hour)
	poll(0) // 審査中
	e.clock.Advance(egov.DefaultCompleteAfter)
	poll(3)
	for typ, want := range map[string]string{hp.Type: ports.ProcedureCompleted, ei.Type: ports.ProcedureCompleted, loss.Type: ports.ProcedureReturned} {
		got, err := e.svc.GetProcedure(ctx, e.admin, filed[typ].ID)
		if err != nil || got.Status != want {
			t.Fatalf("%s: %s, %v; want %s", typ, got.Status, err, want)
		}
		last := got.History[len(got.History)-1]
		if last.By != procedures.FilingActor || (want == ports.ProcedureReturned) != strings.Contains(last.Comment, "喪失原因を確認してください") {
			t.Errorf("%s: last step %+v", typ, last)
		}
	}
	poll(0)

	// Corrected and filed again, the loss is a new submission with the next 媒体通番, which the office accepts.
	if _, err := e.svc.UpdateProcedure(ctx, e.hr, loss.ID, ports.ProcedureEdit{Fields: map[string]string{"separation_reason": "契約期間満了"}}); err != nil {
		t.Fatal(err)
	}
	again := e.fileApproved(t, loss.ID)
	if again.ArrivalNumber == filed[loss.Type].ArrivalNumber || !bytes.HasPrefix(gw.subs[len(gw.subs)-1].Attachments[1].Data, []byte("21,01,\xdb\xb3\xd1,002,")) {
		t.Errorf("filed again under %s (first %s)", again.ArrivalNumber, filed[loss.Type].ArrivalNumber)
	}
	e.clock.Advance(egov.DefaultCompleteAfter)
	poll(1)
	if got, _ := e.svc.GetProcedure(ctx, e.admin, loss.ID); got.Status != ports.ProcedureCompleted {
		t.Errorf("the loss filed again is %s", got.Status)
	}

	// Filing revealed My Number as the filing actor, once per filing.
	reveals := e.audits(t, "employee.my_number.reveal")
	if len(reveals) != 5 || reveals[0].Event.ActorID != procedures.FilingActor { // 4 filings + 1 download
		t.Errorf("reveals: %d, first by %s", len(reveals), reveals[0].Event.ActorID)
	}
}
