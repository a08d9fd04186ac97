package web_test

import (
	"context"
	"time"

	"github.com/roumu/roumu/ports"
)

// fakeNotices has no notices and no maintenance; the console's other ports are not called by these tests
// (the e2e tests drive them on the real modules), so their fakes embed nil interfaces.
type fakeNotices struct{ ports.Notices }

func (fakeNotices) Current(context.Context) ([]ports.Notice, error) { return nil, nil }

func (fakeNotices) InMaintenance(context.Context, time.Time) (ports.Maintenance, error) {
	return ports.Maintenance{}, nil
}

type fakeOperations struct{ ports.Operations }

type fakeAuditSearch struct{ ports.AuditSearch }

func (fakeOperations) List(context.Context, ports.Principal, ports.OperationFilter) ([]ports.OperationRequest, error) {
	return nil, nil
}
