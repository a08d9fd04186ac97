package employees_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/fixtures"
)

func TestBenchmarkFixtureImports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(fixtures.EmployeesCSV(50))}, nil)
	if err != nil || res.Created != 50 || len(res.Errors) != 0 {
		t.Fatalf("fixture import: %+v %v", res, err)
	}
}

// BenchmarkImport100k imports 100,000 employees into the memory store (both passes: validation, then the
// transaction) and reports rows/s and the peak heap seen at the progress callbacks: overall (which counts
// the memory store's copy of the whole register) and during the validating pass (the module's own working
// set, with the 25 MiB file held in memory).
func BenchmarkImport100k(b *testing.B) {
	const rows = 100_000
	file := fixtures.EmployeesCSV(rows)
	var peak, validating uint64
	var ms runtime.MemStats
	sample := func(_, total int) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		if total == 0 {
			validating = max(validating, ms.HeapAlloc)
		}
	}
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		runtime.GC()
		b.StartTimer()
		res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(file)}, sample)
		if err != nil || res.Created != rows || len(res.Errors) != 0 {
			b.Fatalf("import: %d created, %d errors (%v), %v", res.Created, len(res.Errors), res.Errors[:min(3, len(res.Errors))], err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(validating)/(1<<20), "validate-peak-heap-MiB")
	b.ReportMetric(float64(len(file))/(1<<20), "file-MiB")
}
