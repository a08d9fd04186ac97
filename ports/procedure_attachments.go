package ports

import (
	"context"
	"io"
	"time"
)

// Limits of a procedure's attachments.
const (
	AttachmentMaxBytes        = 10 << 20 // 10 MiB per file
	AttachmentMaxPerProcedure = 20
)

// AttachmentView is an attachment as listed: what it is, without its bytes.
type AttachmentView struct {
	ID          string
	ProcedureID string
	Name        string // sanitised file name, for Content-Disposition
	ContentType string // application/pdf, image/jpeg or image/png, from the file's magic bytes
	Size        int64
	SHA256      string // hex, of the bytes
	UploadedBy  string // account ID
	CreatedAt   time.Time
}

// AttachmentFile is an attachment with its bytes, for a download.
type AttachmentFile struct {
	AttachmentView
	Body []byte
}

// ProcedureAttachments is the driving port of the scans a filing needs (e.g. a certificate of dependants'
// income). Callers must be admin or hr members of the procedure's tenant. Files are added and removed only
// while the procedure is draft or returned; every file is scanned for malware before it is stored (an
// infected one is ErrInvalid with code malware_detected; an unreachable scanner is ErrUnavailable and
// nothing is stored). Only PDF, JPEG and PNG files of at most AttachmentMaxBytes are accepted (a larger one
// is ErrInvalid with code attachment_too_large, which HTTP answers 413), at most AttachmentMaxPerProcedure per procedure.
type ProcedureAttachments interface {
	AddAttachment(ctx context.Context, p Principal, procedureID, name, contentType string, body io.Reader) (AttachmentView, error)
	ListAttachments(ctx context.Context, p Principal, procedureID string) ([]AttachmentView, error)
	GetAttachment(ctx context.Context, p Principal, procedureID, attachmentID string) (AttachmentFile, error)
	RemoveAttachment(ctx context.Context, p Principal, procedureID, attachmentID string) error
}

// AttachmentRecord is an attachment as stored, its bytes in the database.
type AttachmentRecord struct {
	ID          string
	TenantID    string
	ProcedureID string
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	UploadedBy  string
	CreatedAt   time.Time
	Body        []byte // empty in lists
}

// AttachmentStore keeps procedures' attachments, scoped by tenant: another tenant's is ErrNotFound. An
// attachment goes with its procedure.
type AttachmentStore interface {
	// CreateAttachment stores a new attachment; ErrConflict when its ID is taken, ErrNotFound when its
	// tenant has no such procedure.
	CreateAttachment(ctx context.Context, rec AttachmentRecord) error
	// ListAttachments returns a procedure's attachments without their bytes, oldest first (then by ID).
	ListAttachments(ctx context.Context, tenantID, procedureID string) ([]AttachmentRecord, error)
	// AttachmentByID returns one attachment with its bytes.
	AttachmentByID(ctx context.Context, tenantID, procedureID, id string) (AttachmentRecord, error)
	// DeleteAttachment removes one; ErrNotFound when there is none such.
	DeleteAttachment(ctx context.Context, tenantID, procedureID, id string) error
}
