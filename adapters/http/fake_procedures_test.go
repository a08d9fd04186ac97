package web_test

import "github.com/roumu/roumu/ports"

// fakeProcedures stands in for the procedures module in the tests of this package, which drive it through
// its real module in test/e2e. Calls other than Catalogue are never reached by these tests.
type fakeProcedures struct{ ports.Procedures }

func (fakeProcedures) Catalogue() []ports.ProcedureType { return nil }
