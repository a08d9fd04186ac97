package procedures_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/roumu/roumu/adapters/clamav"
	"github.com/roumu/roumu/domain/procedures"
	"github.com/roumu/roumu/ports"
)

// smallPDF is the start of a PDF file, as the magic bytes check sees it.
var smallPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

// brokenScanner is a scanner that cannot be reached.
type brokenScanner struct{}

func (brokenScanner) Scan(context.Context, io.Reader) (ports.ScanResult, error) {
	return ports.ScanResult{}, errors.New("dial unix /run/clamav/clamd.ctl: connection refused")
}

// attachEnv is an env whose module has a scanner and the memory store's attachments, and a draft
// procedure of t1.
func attachEnv(t *testing.T, scanner ports.MalwareScanner) (*env, ports.Procedure) {
	t.Helper()
	e := newEnv(t)
	e.deps.Scanner, e.deps.Attachments = scanner, e.store.(ports.AttachmentStore)
	svc, err := procedures.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	emp := e.hire(t, e.hr, "E001")
	proc, err := e.svc.CreateProcedure(ctx, e.hr, ports.ProcedureInput{Type: ports.ProcedureDependentChange,
		EmployeeID: emp.ID, FactDate: "2026-04-01"})
	if err != nil {
		t.Fatal(err)
	}
	return e, proc
}

func (e *env) attachments(t *testing.T, p ports.Principal, procID string) []ports.AttachmentView {
	t.Helper()
	list, err := e.svc.ListAttachments(ctx, p, procID)
	if err != nil {
		t.Fatalf("ListAttachments: %v", err)
	}
	return list
}

func TestAttachmentStoredAfterScan(t *testing.T) {
	e, proc := attachEnv(t, clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes})
	v, err := e.svc.AddAttachment(ctx, e.hr, proc.ID, `C:\scans\..\扶養"控除"\r\n.PDF`, "application/pdf", bytes.NewReader(smallPDF))
	if err != nil {
		t.Fatalf("AddAttachment: %v", err)
	}
	if v.ContentType != "application/pdf" || v.Size != int64(len(smallPDF)) || strings.ContainsAny(v.Name, "\\/\"\r\n") {
		t.Errorf("view = %+v", v)
	}
	if list := e.attachments(t, e.admin, proc.ID); len(list) != 1 || list[0].ID != v.ID {
		t.Fatalf("list = %+v", list)
	}
	f, err := e.svc.GetAttachment(ctx, e.admin, proc.ID, v.ID)
	if err != nil || !bytes.Equal(f.Body, smallPDF) {
		t.Fatalf("GetAttachment = %q, %v", f.Body, err)
	}
	if got := e.audits(t, "procedure.attachment.add"); len(got) != 1 || got[0].Event.Outcome != ports.OutcomeSuccess {
		t.Errorf("audit = %+v", got)
	}
	if err := e.svc.RemoveAttachment(ctx, e.hr, proc.ID, v.ID); err != nil {
		t.Fatalf("RemoveAttachment: %v", err)
	}
	if list := e.attachments(t, e.hr, proc.ID); len(list) != 0 {
		t.Errorf("after remove: %+v", list)
	}
	if got := e.audits(t, "procedure.attachment.remove"); len(got) != 1 {
		t.Errorf("remove audit = %+v", got)
	}
}

func TestAttachmentRefusals(t *testing.T) {
	eicarPDF := append(append([]byte{}, smallPDF...), clamav.EICAR...)
	cases := []struct {
		name    string
		scanner ports.MalwareScanner
		body    []byte
		kind    error
		code    string
	}{
		{"malware", clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}, eicarPDF, ports.ErrInvalid, "malware_detected"},
		{"bare EICAR", clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}, []byte(clamav.EICAR), ports.ErrInvalid, "malware_detected"},
		{"oversize", clamav.EICARScanner{MaxSize: 20 << 20}, append(bytes.Repeat([]byte("%PDF-"), 1), make([]byte, ports.AttachmentMaxBytes)...), ports.ErrInvalid, "attachment_too_large"},
		{"wrong magic", clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}, []byte("MZ\x90\x00 an exe named scan.pdf"), ports.ErrInvalid, "validation_failed"},
		{"empty", clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}, nil, ports.ErrInvalid, "validation_failed"},
		{"scanner down", brokenScanner{}, smallPDF, ports.ErrUnavailable, "scanner_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, proc := attachEnv(t, c.scanner)
			_, err := e.svc.AddAttachment(ctx, e.hr, proc.ID, "scan.pdf", "application/pdf", bytes.NewReader(c.body))
			if !errors.Is(err, c.kind) || code(err) != c.code {
				t.Fatalf("AddAttachment = %v (%s), want %v %s", err, code(err), c.kind, c.code)
			}
			if list := e.attachments(t, e.hr, proc.ID); len(list) != 0 {
				t.Errorf("stored after refusal: %+v", list)
			}
			if c.code == "malware_detected" {
				got := e.audits(t, "procedure.attachment.add")
				if len(got) != 1 || got[0].Event.Outcome != ports.OutcomeDenied || got[0].Event.Detail["signature"] != clamav.EICARSignature {
					t.Errorf("audit = %+v", got)
				}
				if !strings.Contains(err.Error(), clamav.EICARSignature) {
					t.Errorf("error %q does not name the signature", err)
				}
			}
		})
	}
}

func TestAttachmentAccess(t *testing.T) {
	e, proc := attachEnv(t, clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes})
	v, err := e.svc.AddAttachment(ctx, e.hr, proc.ID, "a.pdf", "", bytes.NewReader(smallPDF))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddAttachment(ctx, e.other, proc.ID, "a.pdf", "", bytes.NewReader(smallPDF)); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("other tenant add = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.GetAttachment(ctx, e.other, proc.ID, v.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("other tenant get = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.ListAttachments(ctx, e.other, proc.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("other tenant list = %v, want ErrNotFound", err)
	}
	if err := e.svc.RemoveAttachment(ctx, e.other, proc.ID, v.ID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("other tenant remove = %v, want ErrNotFound", err)
	}
	employee := member("t1", ports.RoleEmployee)
	if _, err := e.svc.AddAttachment(ctx, employee, proc.ID, "a.pdf", "", bytes.NewReader(smallPDF)); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("employee add = %v, want ErrForbidden", err)
	}
	if _, err := e.svc.GetAttachment(ctx, employee, proc.ID, v.ID); !errors.Is(err, ports.ErrForbidden) {
		t.Errorf("employee get = %v, want ErrForbidden", err)
	}
	// Once submitted, the files are part of what is approved: no more changes.
	e.act(t, e.hr, proc.ID, ports.ActionCancel, "取り下げ")
	if _, err := e.svc.AddAttachment(ctx, e.hr, proc.ID, "b.png", "", bytes.NewReader([]byte("\x89PNG\r\n\x1a\nxx"))); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("add to a cancelled procedure = %v, want ErrConflict", err)
	}
	if err := e.svc.RemoveAttachment(ctx, e.hr, proc.ID, v.ID); !errors.Is(err, ports.ErrConflict) {
		t.Errorf("remove from a cancelled procedure = %v, want ErrConflict", err)
	}
}

func TestAttachmentLimitUnderConcurrency(t *testing.T) {
	e, proc := attachEnv(t, clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes})
	var wg sync.WaitGroup
	for range ports.AttachmentMaxPerProcedure + 10 {
		wg.Go(func() {
			_, err := e.svc.AddAttachment(ctx, e.hr, proc.ID, "scan.jpg", "image/jpeg", bytes.NewReader([]byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2}))
			if err != nil && code(err) != "too_many_attachments" {
				t.Errorf("AddAttachment: %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(e.attachments(t, e.hr, proc.ID)); n != ports.AttachmentMaxPerProcedure {
		t.Errorf("%d attachments stored, want %d", n, ports.AttachmentMaxPerProcedure)
	}
}

// TestFilingCarriesAttachments: an electronic filing's files are the form's own and then the attachments.
func TestFilingCarriesAttachments(t *testing.T) {
	e := newEnv(t)
	e.deps.Scanner = clamav.EICARScanner{MaxSize: ports.AttachmentMaxBytes}
	e.deps.Attachments = e.store.(ports.AttachmentStore)
	e.withDocuments(t, nil)
	proc := e.separated(t, "S001")
	v, err := e.svc.AddAttachment(ctx, e.admin, proc.ID, "離職票.pdf", "application/pdf", bytes.NewReader(smallPDF))
	if err != nil {
		t.Fatal(err)
	}
	files, err := e.svc.FilingAttachments(ctx, "t1", proc)
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1]
	if len(files) != 3 || last.Name != v.Name || !bytes.Equal(last.Data, smallPDF) {
		t.Errorf("filing files: %d, last %q", len(files), last.Name)
	}
}
