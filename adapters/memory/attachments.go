package memory

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"github.com/roumu/roumu/ports"
)

var _ ports.AttachmentStore = (*Store)(nil)

// CreateAttachment stores a new attachment; ErrConflict when its ID is taken, ErrNotFound when its tenant
// has no such procedure.
func (s *Store) CreateAttachment(ctx context.Context, rec ports.AttachmentRecord) error {
	defer s.lock(ctx)()
	if _, err := s.procedure(rec.TenantID, rec.ProcedureID); err != nil {
		return err
	}
	if _, ok := s.st.attachments[rec.ID]; ok {
		return conflict("attachment", rec.ID)
	}
	rec.Body = bytes.Clone(rec.Body)
	rec.CreatedAt = norm(rec.CreatedAt)
	s.st.attachments[rec.ID] = rec
	return nil
}

// ListAttachments returns the procedure's attachments without their bytes, by creation then ID.
func (s *Store) ListAttachments(ctx context.Context, tenantID, procedureID string) ([]ports.AttachmentRecord, error) {
	defer s.lock(ctx)()
	out := []ports.AttachmentRecord{}
	for _, r := range s.st.attachments {
		if r.TenantID == tenantID && r.ProcedureID == procedureID {
			r.Body = nil
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b ports.AttachmentRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (s *Store) attachment(tenantID, procedureID, id string) (ports.AttachmentRecord, error) {
	r, ok := s.st.attachments[id]
	if !ok || r.TenantID != tenantID || r.ProcedureID != procedureID {
		return ports.AttachmentRecord{}, notFound("attachment", id)
	}
	return r, nil
}

// AttachmentByID returns one attachment with its bytes.
func (s *Store) AttachmentByID(ctx context.Context, tenantID, procedureID, id string) (ports.AttachmentRecord, error) {
	defer s.lock(ctx)()
	r, err := s.attachment(tenantID, procedureID, id)
	r.Body = bytes.Clone(r.Body)
	return r, err
}

// DeleteAttachment removes one attachment; ErrNotFound when there is none such.
func (s *Store) DeleteAttachment(ctx context.Context, tenantID, procedureID, id string) error {
	defer s.lock(ctx)()
	if _, err := s.attachment(tenantID, procedureID, id); err != nil {
		return err
	}
	delete(s.st.attachments, id)
	return nil
}
