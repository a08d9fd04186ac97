package employees_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/roumu/roumu/ports"
)

// myNumber completes 11 digits with their check digit.
func myNumber(first11 string) string {
	weights := []int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first11[i]-'0') * w
	}
	check := 0
	if r := sum % 11; r > 1 {
		check = 11 - r
	}
	return first11 + string(rune('0'+check))
}

// importFile builds a CSV file of n employees with every kind of field, the sealed ones included.
func importFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBF社員番号,姓,名,セイ,メイ,生年月日,性別,メールアドレス,電話番号,郵便番号,都道府県,市区町村,番地," +
		"入社日,雇用形態,役職,月額報酬(通貨),月額報酬(現物),基礎年金番号,雇用保険被保険者番号,個人番号,銀行コード,支店コード," +
		"口座種別,口座番号,口座名義カナ\r\n")
	family := []string{"佐藤", "鈴木", "髙橋", "田中", "山﨑"}
	kana := []string{"サトウ", "スズキ", "タカハシ", "タナカ", "ヤマザキ"}
	for i := range n {
		f := i % len(family)
		fmt.Fprintf(&b, "E%06d,%s,太郎%d,%s,タロウ,19%02d/%d/%d,男,e%d@example.jp,03-1234-%04d,100-0001,東京都,千代田区,"+
			"千代田1-%d,20%02d-04-01,正社員,主任,\"%d\",0,%04d-%06d,%04d-%06d-1,%s,0005,001,普通,%07d,%s タロウ\r\n",
			i, family[f], i, kana[f], 60+i%40, 1+i%12, 1+i%28, i, i%10000, i%100, 10+i%15, 200000+i%500000,
			i%10000, i, i%10000, i, myNumber(fmt.Sprintf("%011d", 10_000_000_000+i)), i%10_000_000, kana[f])
	}
	return b.Bytes()
}

func TestBenchmarkFixtureImports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, err := e.svc.ImportEmployees(ctx, e.admin, ports.ImportRequest{CSV: bytes.NewReader(importFile(50))}, nil)
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
	file := importFile(rows)
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
