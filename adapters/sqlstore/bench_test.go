package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/sqlstore"
	"github.com/roumu/roumu/ports"
)

// The register benchmarks: one tenant of 100,000 employees beside three of 1,000, with names made from
// small tables of name parts, so that sort keys and search texts look like the domain's (kanji name,
// hiragana reading, number, e-mail) and a substring such as a family name's reading selects a realistic
// share of the rows.
//
//	ROUMU_TEST_POSTGRES_URL=… go test -run '^$' -bench Employee -benchtime 1x ./adapters/sqlstore/
//
// -benchtime 1x suits the insert; the listing benchmark times many queries itself (p50, p99).
const (
	benchEmployees   = 100_000
	benchOthers      = 3
	benchOtherSize   = 1_000
	benchDepartments = 50
	benchQueries     = 1_000
)

// namePart is a kanji with its reading and its romanisation.
type namePart struct{ kanji, kana, romaji string }

var (
	familyFirst = []namePart{
		{"山", "やま", "yama"}, {"田", "た", "ta"}, {"中", "なか", "naka"}, {"小", "こ", "ko"}, {"高", "たか", "taka"},
		{"石", "いし", "ishi"}, {"松", "まつ", "matsu"}, {"井", "い", "i"}, {"吉", "よし", "yoshi"}, {"大", "おお", "oo"},
		{"林", "はやし", "hayashi"}, {"森", "もり", "mori"}, {"藤", "ふじ", "fuji"}, {"佐", "さ", "sa"}, {"清", "きよ", "kiyo"},
	}
	familySecond = []namePart{
		{"田", "だ", "da"}, {"本", "もと", "moto"}, {"川", "かわ", "kawa"}, {"村", "むら", "mura"}, {"野", "の", "no"},
		{"原", "はら", "hara"}, {"木", "き", "ki"}, {"口", "ぐち", "guchi"}, {"島", "しま", "shima"}, {"崎", "さき", "saki"},
		{"藤", "とう", "tou"}, {"沢", "さわ", "sawa"},
	}
	givenFirst = []namePart{
		{"太", "た", "ta"}, {"健", "けん", "ken"}, {"花", "はな", "hana"}, {"美", "み", "mi"}, {"翔", "しょう", "shou"},
		{"大", "だい", "dai"}, {"陽", "よう", "you"}, {"結", "ゆ", "yu"}, {"一", "いち", "ichi"}, {"誠", "まこと", "makoto"},
		{"真", "ま", "ma"}, {"愛", "あい", "ai"},
	}
	givenSecond = []namePart{
		{"郎", "ろう", "rou"}, {"子", "こ", "ko"}, {"斗", "と", "to"}, {"菜", "な", "na"}, {"輔", "すけ", "suke"},
		{"香", "か", "ka"}, {"也", "や", "ya"}, {"介", "すけ", "suke"}, {"樹", "き", "ki"}, {"奈", "な", "na"},
	}
)

// statusMix and employmentMix are the shares of statuses (85% active, 10% on leave, 5% separated) and
// employment types (70% full time, 20% contract, 10% part time), as lists to pick from.
var (
	statusMix     = slices.Concat(slices.Repeat([]string{"active"}, 17), slices.Repeat([]string{"on_leave"}, 2), []string{"separated"})
	employmentMix = slices.Concat(slices.Repeat([]string{"full_time"}, 7), slices.Repeat([]string{"contract"}, 2), []string{"part_time"})
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// benchTenant creates a tenant with its departments and returns their IDs.
func benchTenant(b *testing.B, s *sqlstore.Store, code string) (tenantID string, depts []string) {
	b.Helper()
	tenantID = "tenant-" + code
	must(b, s.CreateTenant(b.Context(), ports.TenantRecord{ID: tenantID, Code: code, Status: ports.TenantActive, CreatedAt: t0}))
	for i := range benchDepartments {
		id := fmt.Sprintf("%s-d%02d", tenantID, i)
		must(b, s.CreateDepartment(b.Context(), ports.DepartmentRecord{
			ID: id, TenantID: tenantID, Code: fmt.Sprintf("D%02d", i), Name: fmt.Sprintf("部署%02d", i), Version: 1, CreatedAt: t0,
		}))
		depts = append(depts, id)
	}
	return tenantID, depts
}

// benchEmployeesOf generates n employees of the tenant, with their hires, in the mixes above, spread over
// the departments, hired between 1990 and 2025.
func benchEmployeesOf(tenantID string, depts []string, n int, seed uint64) ([]ports.EmployeeRecord, []ports.EmployeeChangeRecord) {
	r := rand.New(rand.NewPCG(seed, 1))
	recs := make([]ports.EmployeeRecord, n)
	changes := make([]ports.EmployeeChangeRecord, n)
	for i := range recs {
		f1, f2, g1, g2 := pick(r, familyFirst), pick(r, familySecond), pick(r, givenFirst), pick(r, givenSecond)
		number := fmt.Sprintf("%07d", i+1)
		status, kind := pick(r, statusMix), pick(r, employmentMix)
		hired := time.Date(1990, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(35*365)).Format(time.DateOnly)
		id := fmt.Sprintf("%s-e%07d", tenantID, i+1)
		recs[i] = ports.EmployeeRecord{
			ID: id, TenantID: tenantID, EmployeeNumber: number, Status: status, EmploymentType: kind,
			DepartmentID: pick(r, depts), HireDate: hired,
			SortKana: f1.kana + f2.kana + " " + g1.kana + g2.kana,
			SearchText: f1.kanji + f2.kanji + g1.kanji + g2.kanji + " " + f1.kana + f2.kana + g1.kana + g2.kana + " " +
				number + " " + g1.romaji + g2.romaji + "." + f1.romaji + f2.romaji + "@example.co.jp",
			Data:        []byte(`{"family_name":"` + f1.kanji + f2.kanji + `","given_name":"` + g1.kanji + g2.kanji + `","my_number":"sealed:` + strings.Repeat("A", 60) + `"}`),
			EffectiveOn: hired, Version: 1, CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * time.Second),
		}
		changes[i] = ports.EmployeeChangeRecord{
			ID: id + "-hire", TenantID: tenantID, EmployeeID: id, EffectiveOn: hired, Kind: "hire",
			Patch: recs[i].Data, Trail: []byte(`[]`), RecordedAt: t0, RecordedBy: "importer",
		}
	}
	return recs, changes
}

// benchDSN returns the DSN of a fresh database of d for a benchmark. Postgres runs only when
// ROUMU_TEST_POSTGRES_URL is set, under CI too: benchmarks are not part of the gate.
func benchDSN(b *testing.B, d dialect) string {
	b.Helper()
	if d.name == sqlstore.DriverPostgres && os.Getenv("ROUMU_TEST_POSTGRES_URL") == "" {
		b.Skip("set ROUMU_TEST_POSTGRES_URL to benchmark Postgres")
	}
	return d.dsn(b)
}

// BenchmarkEmployeeCreate100k times CreateEmployees of 100,000 employees with their hires (200,000 rows) in
// one call, into a tenant that has its departments and no employees yet.
func BenchmarkEmployeeCreate100k(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d.name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				s := open(b, d.name, benchDSN(b, d))
				tenantID, depts := benchTenant(b, s, "big")
				recs, changes := benchEmployeesOf(tenantID, depts, benchEmployees, 1)
				b.StartTimer()
				start := time.Now()
				must(b, s.CreateEmployees(b.Context(), recs, changes))
				total += time.Since(start)
			}
			b.ReportMetric(float64(b.N*benchEmployees)/total.Seconds(), "employees/s")
		})
	}
}

// BenchmarkEmployeeList100k times the register's busiest page: active employees of one department whose
// search text contains a family name's reading, by kana, 50 rows from a cursor in the middle of the
// matches. It reports the median and 99th percentile of single calls and logs the plan.
func BenchmarkEmployeeList100k(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d.name, func(b *testing.B) {
			dsn := benchDSN(b, d)
			s := open(b, d.name, dsn)
			ctx := b.Context()
			tenantID, depts := benchTenant(b, s, "big")
			recs, changes := benchEmployeesOf(tenantID, depts, benchEmployees, 1)
			start := time.Now()
			must(b, s.CreateEmployees(ctx, recs, changes))
			b.Logf("seeded %d employees in %v", benchEmployees, time.Since(start).Round(time.Millisecond))
			for i := range benchOthers {
				other, otherDepts := benchTenant(b, s, fmt.Sprint("other", i))
				recs, changes := benchEmployeesOf(other, otherDepts, benchOtherSize, uint64(i+2))
				must(b, s.CreateEmployees(ctx, recs, changes))
			}

			if d.name == sqlstore.DriverPostgres {
				// What autovacuum does within a minute of the load (SQLite's store does it itself).
				must(b, rawDB(b, d.name, dsn).Exec("ANALYZE employees").Error)
			}

			q := ports.EmployeeQuery{
				TenantID: tenantID, Text: "はやし", Statuses: []string{"active"}, DepartmentIDs: depts[7:8],
				Sort: ports.EmployeeSortKana,
			}
			all, err := s.ListEmployees(ctx, q)
			must(b, err)
			mid := all[len(all)/2]
			q.AfterKey, q.AfterID, q.Limit = mid.SortKana, mid.ID, 50
			b.Logf("%d matches, page after #%d", len(all), len(all)/2)
			benchList(b, s, "filtered", q)

			// The plain listing, for comparison: everyone active, by kana, from the middle of the tenant.
			plain := ports.EmployeeQuery{TenantID: tenantID, Statuses: []string{"active"}, Sort: ports.EmployeeSortKana, Limit: 50}
			plain.AfterKey, plain.AfterID = recs[len(recs)/2].SortKana, recs[len(recs)/2].ID
			benchList(b, s, "active-by-kana", plain)
		})
	}
}

// benchList runs q benchQueries times (after a warm-up), reports p50 and p99 and logs q's plan.
func benchList(b *testing.B, s *sqlstore.Store, name string, q ports.EmployeeQuery) {
	b.Run(name, func(b *testing.B) {
		ctx := b.Context()
		for range 20 {
			_, err := s.ListEmployees(ctx, q)
			must(b, err)
		}
		var times []time.Duration
		var rows int
		for b.Loop() {
			times = times[:0]
			for range benchQueries {
				start := time.Now()
				page, err := s.ListEmployees(ctx, q)
				times = append(times, time.Since(start))
				must(b, err)
				rows = len(page)
			}
		}
		slices.Sort(times)
		ms := func(p float64) float64 {
			return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(ms(0.50), "p50-ms")
		b.ReportMetric(ms(0.99), "p99-ms")
		b.ReportMetric(float64(rows), "rows")
		plan, err := s.ExplainListEmployees(ctx, q)
		must(b, err)
		b.Logf("plan:\n\t%s", strings.Join(plan, "\n\t"))
	})
}
