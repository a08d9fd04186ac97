package porttest

import (
	"errors"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
)

// newAttachment returns an attachment of the procedure with every field set and bytes that are not text.
func newAttachment(proc ports.ProcedureRecord, created time.Duration) ports.AttachmentRecord {
	return ports.AttachmentRecord{ID: newID(), TenantID: proc.TenantID, ProcedureID: proc.ID, Name: "扶養控除.pdf",
		ContentType: "application/pdf", Size: 6, SHA256: "ab12", UploadedBy: "acc-1", CreatedAt: at(created),
		Body: []byte("%PDF-\x00\xff")}
}

func checkAttachment(t *testing.T, got, want ports.AttachmentRecord, withBody bool) {
	t.Helper()
	checkEq(t, "ID", got.ID, want.ID)
	checkEq(t, "TenantID", got.TenantID, want.TenantID)
	checkEq(t, "ProcedureID", got.ProcedureID, want.ProcedureID)
	checkEq(t, "Name", got.Name, want.Name)
	checkEq(t, "ContentType", got.ContentType, want.ContentType)
	checkEq(t, "Size", got.Size, want.Size)
	checkEq(t, "SHA256", got.SHA256, want.SHA256)
	checkEq(t, "UploadedBy", got.UploadedBy, want.UploadedBy)
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	if withBody {
		checkBytes(t, "Body", got.Body, want.Body)
	} else if len(got.Body) != 0 {
		t.Errorf("Body in a list = %d bytes, want none", len(got.Body))
	}
}

// TestAttachmentStore is the contract of ports.AttachmentStore.
func TestAttachmentStore(t *testing.T, factory Factory) {
	setup := func(t *testing.T) (procedureFixture, ports.AttachmentStore, ports.ProcedureRecord) {
		t.Parallel()
		f := newProcedureFixture(t, factory, "Attachments")
		proc := newProcedure(f.tenant, ports.ProcedureDependentChange, "emp-1", "2026-04-06")
		f.create(t, proc)
		return f, f.s.Attachments, proc
	}
	t.Run("round trip, listed without bytes, oldest first", func(t *testing.T) {
		f, s, proc := setup(t)
		other := newProcedure(f.tenant, ports.ProcedureDependentChange, "emp-2", "2026-04-06")
		f.create(t, other)
		late, early, elsewhere := newAttachment(proc, time.Hour), newAttachment(proc, 0), newAttachment(other, 0)
		early.Body = make([]byte, 3<<20) // a scan's size
		early.Body[len(early.Body)-1] = 0xfe
		for _, a := range []ports.AttachmentRecord{late, early, elsewhere} {
			must(t, s.CreateAttachment(t.Context(), a), "CreateAttachment")
		}
		got, err := s.AttachmentByID(t.Context(), f.tenant, proc.ID, early.ID)
		must(t, err, "AttachmentByID")
		checkAttachment(t, got, early, true)
		list, err := s.ListAttachments(t.Context(), f.tenant, proc.ID)
		must(t, err, "ListAttachments")
		if checkEq(t, "len(list)", len(list), 2); len(list) == 2 {
			checkAttachment(t, list[0], early, false)
			checkAttachment(t, list[1], late, false)
		}
		if err := s.CreateAttachment(t.Context(), late); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("CreateAttachment with a taken ID = %v, want ErrConflict", err)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		f, s, proc := setup(t)
		list, err := s.ListAttachments(t.Context(), f.tenant, proc.ID)
		must(t, err, "ListAttachments")
		checkEq(t, "len(list)", len(list), 0)
	})
	t.Run("tenant isolation", func(t *testing.T) {
		f, s, proc := setup(t)
		a := newAttachment(proc, 0)
		must(t, s.CreateAttachment(t.Context(), a), "CreateAttachment")
		if _, err := s.AttachmentByID(t.Context(), f.otherTenant, proc.ID, a.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("AttachmentByID of another tenant = %v, want ErrNotFound", err)
		}
		if _, err := s.AttachmentByID(t.Context(), f.tenant, newID(), a.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("AttachmentByID under another procedure = %v, want ErrNotFound", err)
		}
		list, err := s.ListAttachments(t.Context(), f.otherTenant, proc.ID)
		must(t, err, "ListAttachments")
		checkEq(t, "len(other tenant's list)", len(list), 0)
		if err := s.DeleteAttachment(t.Context(), f.otherTenant, proc.ID, a.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("DeleteAttachment of another tenant = %v, want ErrNotFound", err)
		}
		stray := newAttachment(proc, 0)
		stray.TenantID = f.otherTenant
		if err := s.CreateAttachment(t.Context(), stray); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("CreateAttachment on another tenant's procedure = %v, want ErrNotFound", err)
		}
		must(t, s.DeleteAttachment(t.Context(), f.tenant, proc.ID, a.ID), "DeleteAttachment")
		if _, err := s.AttachmentByID(t.Context(), f.tenant, proc.ID, a.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("AttachmentByID after delete = %v, want ErrNotFound", err)
		}
		if err := s.DeleteAttachment(t.Context(), f.tenant, proc.ID, a.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("DeleteAttachment again = %v, want ErrNotFound", err)
		}
	})
}
