package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roumu/roumu/ports"
)

var _ ports.AttachmentStore = (*Store)(nil)

type attachmentRow struct {
	ID          string  `gorm:"column:id;primaryKey"`
	TenantID    string  `gorm:"column:tenant_id"`
	ProcedureID string  `gorm:"column:procedure_id"`
	Name        string  `gorm:"column:name"`
	ContentType string  `gorm:"column:content_type"`
	Size        int64   `gorm:"column:size"`
	SHA256      string  `gorm:"column:sha256"`
	UploadedBy  string  `gorm:"column:uploaded_by"`
	CreatedAt   instant `gorm:"column:created_at"`
	Body        []byte  `gorm:"column:body"`
}

func (attachmentRow) TableName() string { return "procedure_attachments" }

// attachmentListColumns are every column but the bytes.
var attachmentListColumns = []string{"id", "tenant_id", "procedure_id", "name", "content_type", "size", "sha256",
	"uploaded_by", "created_at"}

func (r *attachmentRow) record() ports.AttachmentRecord {
	return ports.AttachmentRecord{ID: r.ID, TenantID: r.TenantID, ProcedureID: r.ProcedureID, Name: r.Name,
		ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256, UploadedBy: r.UploadedBy,
		CreatedAt: time.Time(r.CreatedAt), Body: r.Body}
}

func attachment(tenantID, procedureID, id string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("procedure_id = ? AND id = ?", procedureID, id)
	}
}

// CreateAttachment stores a new attachment; ErrConflict when its ID is taken, ErrNotFound when its tenant
// has no such procedure (procedures are never deleted but by their tenant, whose attachments cascade).
func (s *Store) CreateAttachment(ctx context.Context, rec ports.AttachmentRecord) error {
	if _, err := s.ProcedureByID(ctx, rec.TenantID, rec.ProcedureID); err != nil {
		return err
	}
	row := attachmentRow{ID: rec.ID, TenantID: rec.TenantID, ProcedureID: rec.ProcedureID, Name: rec.Name,
		ContentType: rec.ContentType, Size: rec.Size, SHA256: rec.SHA256, UploadedBy: rec.UploadedBy,
		CreatedAt: instant(rec.CreatedAt), Body: blob(rec.Body)}
	return s.insert(ctx, "create attachment", &row)
}

// ListAttachments returns the procedure's attachments without their bytes, by creation then ID.
func (s *Store) ListAttachments(ctx context.Context, tenantID, procedureID string) ([]ports.AttachmentRecord, error) {
	return list(ctx, s, "list attachments", func(db *gorm.DB) *gorm.DB {
		return inTenant(tenantID)(db).Where("procedure_id = ?", procedureID).Select(attachmentListColumns).
			Order("created_at").Order("id")
	}, (*attachmentRow).record)
}

// AttachmentByID returns one attachment with its bytes.
func (s *Store) AttachmentByID(ctx context.Context, tenantID, procedureID, id string) (ports.AttachmentRecord, error) {
	return first(ctx, s, "attachment by id", attachment(tenantID, procedureID, id), (*attachmentRow).record)
}

// DeleteAttachment removes one attachment; ErrNotFound when there is none such.
func (s *Store) DeleteAttachment(ctx context.Context, tenantID, procedureID, id string) error {
	return s.guard(ctx, "delete attachment", func(db *gorm.DB) error {
		res := attachment(tenantID, procedureID, id)(db).Delete(&attachmentRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return res.Error
	})
}
