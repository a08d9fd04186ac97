package procedures

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// appendEvent writes the outbox event of a procedure's creation (ports.EventProcedureCreated, from "") or of a
// change of its status (ports.EventProcedureStatusChanged), in the caller's transaction, so that the event
// exists exactly when the change does. Like the register's events it carries IDs and codes, never the
// snapshot's fields: a receiver reads the procedure through the API. A write made with skip_webhooks=true
// marks it so that webhooks pass it by.
func (s *Service) appendEvent(ctx context.Context, typ string, r ports.ProcedureRecord, from string) error {
	at := r.UpdatedAt.UTC()
	payload := map[string]any{"procedure_id": r.ID, "type": r.Type, "employee_id": r.EmployeeID,
		"from": from, "to": r.Status, "at": at.Format(time.RFC3339Nano)}
	if ports.SkipWebhooks(ctx) {
		payload[ports.OutboxSkipWebhooks] = true
	}
	b, err := json.Marshal(payload)
	if err != nil {
		panic("procedures: an event payload of strings cannot fail to encode: " + err.Error())
	}
	return s.Outbox.AppendEvents(ctx, ports.OutboxEvent{ID: kernel.NewID(), TenantID: r.TenantID, Type: typ,
		SubjectID: r.ID, Payload: b, OccurredAt: at})
}
