package procedures

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

var _ ports.ProcedureAttachments = (*Service)(nil)

// attachmentType is a kind of file a filing may carry, known by its magic bytes, with the extension its
// name gets.
type attachmentType struct {
	contentType, ext string
	magic            []byte
}

// attachmentTypes are the kinds accepted: the scans offices take.
var attachmentTypes = []attachmentType{
	{"application/pdf", ".pdf", []byte("%PDF-")},
	{"image/jpeg", ".jpg", []byte{0xFF, 0xD8, 0xFF}},
	{"image/png", ".png", []byte("\x89PNG\r\n\x1a\n")},
}

// maxAttachmentName is the longest file name kept, in characters.
const maxAttachmentName = 100

// AddAttachment implements ports.ProcedureAttachments. The file is read up to the limit, scanned, then
// checked by its magic bytes, and stored only when all passed: a refusal stores nothing. The procedure is
// locked while the count is checked and the file stored, so the limit per procedure holds under concurrent
// uploads, and a submission cannot slip between the status check and the write.
func (s *Service) AddAttachment(ctx context.Context, p ports.Principal, procedureID, name, contentType string, body io.Reader) (ports.AttachmentView, error) {
	const action = "procedure.attachment.add"
	if err := s.attachmentsReady(p); err != nil {
		return ports.AttachmentView{}, err
	}
	if _, err := s.Procedures.ProcedureByID(ctx, p.TenantID, procedureID); err != nil {
		return ports.AttachmentView{}, notFoundAs(err)
	}
	data, err := io.ReadAll(io.LimitReader(body, ports.AttachmentMaxBytes+1))
	if err != nil {
		return ports.AttachmentView{}, fmt.Errorf("procedures: read attachment: %w", err)
	}
	if len(data) > ports.AttachmentMaxBytes {
		return ports.AttachmentView{}, attachmentTooLarge()
	}
	if len(data) == 0 {
		return ports.AttachmentView{}, invalid([]ports.FieldError{{Field: "file", Code: "required",
			MessageEN: "is empty", MessageJA: "ファイルが空です"}})
	}
	verdict, err := s.Scanner.Scan(ctx, bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, ports.ErrUnavailable) || errors.Is(err, ports.ErrInvalid) {
			return ports.AttachmentView{}, err
		}
		return ports.AttachmentView{}, errors.Join(scannerUnavailable(), err)
	}
	if !verdict.Clean {
		refusal := ports.NewError(ports.ErrInvalid, "malware_detected",
			fmt.Sprintf("The file contains malware (%s) and was not stored.", verdict.Signature),
			fmt.Sprintf("ファイルにマルウェア（%s）が見つかったため保存しませんでした。", verdict.Signature))
		if auditErr := s.record(ctx, p, action, "procedure:"+procedureID, ports.OutcomeDenied,
			map[string]string{"reason": "malware_detected", "signature": verdict.Signature,
				"bytes": strconv.Itoa(len(data))}); auditErr != nil {
			return ports.AttachmentView{}, errors.Join(refusal, auditErr)
		}
		return ports.AttachmentView{}, refusal
	}
	kind := slices.IndexFunc(attachmentTypes, func(t attachmentType) bool { return bytes.HasPrefix(data, t.magic) })
	if kind < 0 {
		return ports.AttachmentView{}, invalid([]ports.FieldError{{Field: "file", Code: "unsupported_type",
			MessageEN: "must be a PDF, JPEG or PNG file", MessageJA: "PDF・JPEG・PNG のいずれかのファイルにしてください"}})
	}
	typ := attachmentTypes[kind]
	sum := sha256.Sum256(data)
	rec := ports.AttachmentRecord{ID: kernel.NewID(), TenantID: p.TenantID, ProcedureID: procedureID,
		Name: attachmentName(name, typ.ext), ContentType: typ.contentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), UploadedBy: p.AccountID, CreatedAt: s.Clock.Now(), Body: data}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockEditable(ctx, p, procedureID); err != nil {
			return err
		}
		existing, err := s.Attachments.ListAttachments(ctx, p.TenantID, procedureID)
		if err != nil {
			return err
		}
		if len(existing) >= ports.AttachmentMaxPerProcedure {
			return ports.NewError(ports.ErrConflict, "too_many_attachments",
				fmt.Sprintf("A procedure may have at most %d attachments.", ports.AttachmentMaxPerProcedure),
				fmt.Sprintf("添付できるファイルは1つの手続きにつき%d件までです。", ports.AttachmentMaxPerProcedure))
		}
		if err := s.Attachments.CreateAttachment(ctx, rec); err != nil {
			return notFoundAs(err)
		}
		return s.record(ctx, p, action, "procedure:"+procedureID, ports.OutcomeSuccess,
			map[string]string{"attachment": rec.ID, "content_type": rec.ContentType,
				"bytes": strconv.FormatInt(rec.Size, 10), "sha256": rec.SHA256})
	})
	if err != nil {
		return ports.AttachmentView{}, err
	}
	return attachmentView(rec), nil
}

// ListAttachments implements ports.ProcedureAttachments.
func (s *Service) ListAttachments(ctx context.Context, p ports.Principal, procedureID string) ([]ports.AttachmentView, error) {
	if err := s.attachmentsReady(p); err != nil {
		return nil, err
	}
	if _, err := s.Procedures.ProcedureByID(ctx, p.TenantID, procedureID); err != nil {
		return nil, notFoundAs(err)
	}
	recs, err := s.Attachments.ListAttachments(ctx, p.TenantID, procedureID)
	if err != nil {
		return nil, err
	}
	out := make([]ports.AttachmentView, len(recs))
	for i, r := range recs {
		out[i] = attachmentView(r)
	}
	return out, nil
}

// GetAttachment implements ports.ProcedureAttachments; the download is audited.
func (s *Service) GetAttachment(ctx context.Context, p ports.Principal, procedureID, attachmentID string) (ports.AttachmentFile, error) {
	if err := s.attachmentsReady(p); err != nil {
		return ports.AttachmentFile{}, err
	}
	rec, err := s.Attachments.AttachmentByID(ctx, p.TenantID, procedureID, attachmentID)
	if err != nil {
		return ports.AttachmentFile{}, attachmentNotFoundAs(err)
	}
	return ports.AttachmentFile{AttachmentView: attachmentView(rec), Body: rec.Body},
		s.record(ctx, p, "procedure.attachment.download", "procedure:"+procedureID, ports.OutcomeSuccess,
			map[string]string{"attachment": rec.ID})
}

// RemoveAttachment implements ports.ProcedureAttachments: only while the procedure is draft or returned.
func (s *Service) RemoveAttachment(ctx context.Context, p ports.Principal, procedureID, attachmentID string) error {
	if err := s.attachmentsReady(p); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockEditable(ctx, p, procedureID); err != nil {
			return err
		}
		if err := s.Attachments.DeleteAttachment(ctx, p.TenantID, procedureID, attachmentID); err != nil {
			return attachmentNotFoundAs(err)
		}
		return s.record(ctx, p, "procedure.attachment.remove", "procedure:"+procedureID, ports.OutcomeSuccess,
			map[string]string{"attachment": attachmentID})
	})
}

// attachments returns a procedure's files for its electronic filing; none without an AttachmentStore.
func (s *Service) attachments(ctx context.Context, tenantID, procedureID string) ([]ports.FilingAttachment, error) {
	if s.Attachments == nil {
		return nil, nil
	}
	recs, err := s.Attachments.ListAttachments(ctx, tenantID, procedureID)
	if err != nil {
		return nil, err
	}
	files := make([]ports.FilingAttachment, len(recs))
	for i, r := range recs {
		full, err := s.Attachments.AttachmentByID(ctx, tenantID, procedureID, r.ID)
		if err != nil {
			return nil, err
		}
		files[i] = ports.FilingAttachment{Name: full.Name, ContentType: full.ContentType, Data: full.Body}
	}
	return files, nil
}

// attachmentsReady refuses anyone but admin and hr members, and answers ErrUnavailable on a server without
// a scanner or an attachment store.
func (s *Service) attachmentsReady(p ports.Principal) error {
	if err := requirePreparer(p); err != nil {
		return err
	}
	if s.Scanner == nil || s.Attachments == nil {
		return scannerUnavailable()
	}
	return nil
}

// lockEditable locks the procedure for the rest of the caller's transaction and refuses unless it is draft
// or returned. Attaching changes the procedure: its version and update time move.
func (s *Service) lockEditable(ctx context.Context, p ports.Principal, procedureID string) error {
	_, err := s.Procedures.UpdateProcedure(ctx, p.TenantID, procedureID, func(r *ports.ProcedureRecord) error {
		if !slices.Contains(editable, r.Status) {
			return notEditable(r.Status)
		}
		r.UpdatedAt = s.Clock.Now()
		return nil
	})
	return notFoundAs(err)
}

// attachmentName keeps the last element of a client's file name, without control or path characters, at
// most maxAttachmentName characters, ending in the extension of its real type.
func attachmentName(name, ext string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|;`, r) || r == utf8.RuneError {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	base := strings.TrimSuffix(name, path.Ext(name))
	if strings.EqualFold(path.Ext(name), ext) || (ext == ".jpg" && strings.EqualFold(path.Ext(name), ".jpeg")) {
		ext = path.Ext(name)
	}
	if base == "" {
		base = "attachment"
	}
	if r := []rune(base); len(r) > maxAttachmentName-len(ext) {
		base = string(r[:maxAttachmentName-len(ext)])
	}
	return base + ext
}

func attachmentView(r ports.AttachmentRecord) ports.AttachmentView {
	return ports.AttachmentView{ID: r.ID, ProcedureID: r.ProcedureID, Name: r.Name, ContentType: r.ContentType,
		Size: r.Size, SHA256: r.SHA256, UploadedBy: r.UploadedBy, CreatedAt: r.CreatedAt}
}

func attachmentTooLarge() error {
	return ports.NewError(ports.ErrInvalid, "attachment_too_large",
		fmt.Sprintf("The file is larger than %d MiB.", ports.AttachmentMaxBytes>>20),
		fmt.Sprintf("ファイルが大きすぎます（上限 %d MiB）。", ports.AttachmentMaxBytes>>20))
}

func scannerUnavailable() error {
	return ports.NewError(ports.ErrUnavailable, "scanner_unavailable",
		"Files cannot be checked for malware now, so none can be attached; try again later.",
		"現在ウイルス検査ができないため、ファイルを添付できません。しばらくしてからやり直してください。")
}

// attachmentNotFoundAs turns a store's ErrNotFound into the module's own error.
func attachmentNotFoundAs(err error) error {
	if _, ours := ports.AsError(err); !ours && errors.Is(err, ports.ErrNotFound) {
		return ports.NewError(ports.ErrNotFound, "not_found", "The attachment was not found.", "添付ファイルが見つかりません。")
	}
	return err
}
