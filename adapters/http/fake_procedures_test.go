package web_test

import (
	"context"

	"github.com/roumu/roumu/ports"
)

// fakeProcedures stands in for the procedures module in the tests of this package, which drive it through
// its real module in test/e2e: an empty catalogue and an empty deadline dashboard (shown on the home page).
type fakeProcedures struct{ ports.Procedures }

func (fakeProcedures) Catalogue() []ports.ProcedureType { return nil }

func (fakeProcedures) Dashboard(context.Context, ports.Principal) (ports.ProcedureDashboard, error) {
	return ports.ProcedureDashboard{}, nil
}
