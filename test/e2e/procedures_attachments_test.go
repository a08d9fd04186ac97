package e2e

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roumu/roumu/adapters/clamav"
	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/testenv"
)

// attachmentPDF is a small PDF file, as a scan would start.
var attachmentPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// uploadAttachment posts file as the multipart field "file" to the procedure's attachments.
func (a *app) uploadAttachment(token, procedureID, name string, file []byte) response {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		a.t.Fatal(err)
	}
	_, _ = part.Write(file)
	if err := w.Close(); err != nil {
		a.t.Fatal(err)
	}
	return a.send(http.MethodPost, "/api/v1/procedures/"+procedureID+"/attachments", &body,
		http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {w.FormDataContentType()}})
}

type attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
	Size        int64  `json:"size"`
}

// TestProcedureAttachments: a PDF uploaded is listed and downloaded byte for byte, as an attachment that is
// not cached; the EICAR test file is refused as malware and not stored; another tenant sees none of it.
func TestProcedureAttachments(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, acme := a.tenant("acme")
	_, beta := a.tenant("beta")
	emp := a.hire(acme, "A001", "2026-04-01")
	p := a.employeeProcedures(acme, emp.ID)[ports.ProcedureHealthPensionAcquisition]
	base := "/api/v1/procedures/" + p.ID + "/attachments"

	var added attachment
	wantJSON(t, a.uploadAttachment(acme, p.ID, "扶養控除申告書.pdf", attachmentPDF), http.StatusCreated, &added)
	if added.ContentType != "application/pdf" || added.Size != int64(len(attachmentPDF)) || added.Name != "扶養控除申告書.pdf" {
		t.Fatalf("added = %+v", added)
	}
	var list struct{ Items []attachment }
	wantJSON(t, a.api(http.MethodGet, base, acme, ""), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != added.ID {
		t.Fatalf("list = %+v", list)
	}
	res := a.api(http.MethodGet, added.URL, acme, "")
	if res.status != http.StatusOK || !bytes.Equal(res.body, attachmentPDF) {
		t.Fatalf("download: %d %q", res.status, res.body)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") ||
		res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download headers: %v", res.header)
	}

	// The EICAR test file, inside a PDF and named like one: refused, nothing stored.
	infected := append(append([]byte{}, attachmentPDF...), clamav.EICAR...)
	if pr := wantProblem(t, a.uploadAttachment(acme, p.ID, "scan.pdf", infected), http.StatusUnprocessableEntity,
		"malware_detected"); !strings.Contains(pr.Detail, clamav.EICARSignature) {
		t.Fatalf("the refusal does not name the signature: %+v", pr)
	}
	raw := a.send(http.MethodPost, base+"?name=scan.pdf", strings.NewReader(clamav.EICAR),
		http.Header{"Authorization": {"Bearer " + acme}, "Content-Type": {"application/pdf"}})
	wantProblem(t, raw, http.StatusUnprocessableEntity, "malware_detected")
	wantProblem(t, a.uploadAttachment(acme, p.ID, "big.pdf", append([]byte("%PDF-"), make([]byte, ports.AttachmentMaxBytes)...)),
		http.StatusRequestEntityTooLarge, "attachment_too_large")
	wantJSON(t, a.api(http.MethodGet, base, acme, ""), http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Fatalf("after the refusals: %d attachments", len(list.Items))
	}

	// Another tenant: 404 everywhere, nothing changes.
	wantProblem(t, a.api(http.MethodGet, base, beta, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.api(http.MethodGet, added.URL, beta, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.api(http.MethodDelete, added.URL, beta, ""), http.StatusNotFound, "not_found")
	wantProblem(t, a.uploadAttachment(beta, p.ID, "x.pdf", attachmentPDF), http.StatusNotFound, "not_found")

	if res := a.api(http.MethodDelete, added.URL, acme, ""); res.status != http.StatusNoContent {
		t.Fatalf("delete: %s", res)
	}
	wantProblem(t, a.api(http.MethodGet, added.URL, acme, ""), http.StatusNotFound, "not_found")
}

// TestPagesProcedureAttachments: the procedure page uploads a file with its CSRF multipart form, lists it
// with a download link and a remove button, shows a malware refusal on the page, and removes the file.
func TestPagesProcedureAttachments(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	_, admin := a.tenant("acme")
	emp := a.hire(admin, "G001", "2026-04-01")
	id := a.employeeProcedures(admin, emp.ID)[ports.ProcedureHealthPensionAcquisition].ID
	b := a.browser()
	b.logIn("acme", "admin", testenv.NewPassword, "/")
	page := "/procedures/" + id
	wantPage(t, b.get(page), http.StatusOK, `action="/procedures/`+id+`/attachments" enctype="multipart/form-data"`,
		"添付ファイルはありません")

	wantRedirect(t, b.upload(page+"/attachments", "scan.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), nil), page+"?notice=attached")
	var list struct{ Items []attachment }
	wantJSON(t, a.api(http.MethodGet, "/api/v1"+page+"/attachments", admin, ""), http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Fatalf("list = %+v", list)
	}
	aid := list.Items[0].ID
	wantPage(t, b.get(page+"?notice=attached"), http.StatusOK, `href="/procedures/`+id+`/attachments/`+aid+`"`, "scan.png",
		`action="/procedures/`+id+`/attachments/`+aid+`/remove"`)
	if res := b.get(page + "/attachments/" + aid); res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" {
		t.Fatalf("page download: %d %v", res.status, res.header)
	}

	wantPage(t, b.upload(page+"/attachments", "scan.pdf", []byte(clamav.EICAR), nil), http.StatusUnprocessableEntity,
		clamav.EICARSignature)
	wantRedirect(t, b.submit(page+"/attachments/"+aid+"/remove", url.Values{}), page+"?notice=detached")
	wantPage(t, b.get(page), http.StatusOK, "添付ファイルはありません")
}
