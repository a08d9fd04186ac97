package employees

import "testing"

func TestGradeBoundaries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		day                 string
		pay                 int64
		health, healthMonth int64
		pension, pensMonth  int64
	}{
		{"2026-04-01", 0, 1, 58_000, 1, 88_000},
		{"2026-04-01", 62_999, 1, 58_000, 1, 88_000},
		{"2026-04-01", 63_000, 2, 68_000, 1, 88_000},
		{"2026-04-01", 92_999, 4, 88_000, 1, 88_000},
		{"2026-04-01", 93_000, 5, 98_000, 2, 98_000},
		{"2026-04-01", 100_999, 5, 98_000, 2, 98_000},
		{"2026-04-01", 101_000, 6, 104_000, 3, 104_000},
		{"2026-04-01", 300_000, 22, 300_000, 19, 300_000},
		{"2026-04-01", 394_999, 26, 380_000, 23, 380_000},
		{"2026-04-01", 395_000, 27, 410_000, 24, 410_000},
		{"2026-04-01", 634_999, 34, 620_000, 31, 620_000},
		{"2026-04-01", 635_000, 35, 650_000, 32, 650_000},
		{"2026-04-01", 665_000, 36, 680_000, 32, 650_000},
		{"2026-04-01", 1_354_999, 49, 1_330_000, 32, 650_000},
		{"2026-04-01", 1_355_000, 50, 1_390_000, 32, 650_000},
		{"2026-04-01", 10_000_000, 50, 1_390_000, 32, 650_000},
		// the pension ceiling rises
		{"2027-08-31", 665_000, 36, 680_000, 32, 650_000},
		{"2027-09-01", 664_999, 35, 650_000, 32, 650_000},
		{"2027-09-01", 665_000, 36, 680_000, 33, 680_000},
		{"2027-09-01", 10_000_000, 50, 1_390_000, 33, 680_000},
		{"2028-09-01", 695_000, 37, 710_000, 34, 710_000},
		{"2028-09-01", 10_000_000, 50, 1_390_000, 34, 710_000},
		{"2029-09-01", 729_999, 37, 710_000, 34, 710_000},
		{"2029-09-01", 730_000, 38, 750_000, 35, 750_000},
		{"2099-01-01", 10_000_000, 50, 1_390_000, 35, 750_000},
		// before the first table: the first table
		{"2010-01-01", 300_000, 22, 300_000, 19, 300_000},
	}
	for _, tc := range cases {
		h := HealthGrades.At(tc.day).Find(tc.pay)
		p := PensionGrades.At(tc.day).Find(tc.pay)
		if int64(h.Grade) != tc.health || h.Monthly != tc.healthMonth || int64(p.Grade) != tc.pension || p.Monthly != tc.pensMonth {
			t.Errorf("%s ¥%d: health %d/¥%d pension %d/¥%d, want %d/¥%d and %d/¥%d", tc.day, tc.pay,
				h.Grade, h.Monthly, p.Grade, p.Monthly, tc.health, tc.healthMonth, tc.pension, tc.pensMonth)
		}
	}
}

func TestGradeTablesAreWellFormed(t *testing.T) {
	t.Parallel()
	sizes := map[string]int{"2020-09-01": 32, "2027-09-01": 33, "2028-09-01": 34, "2029-09-01": 35}
	if len(HealthGrades[0].Grades) != 50 {
		t.Fatalf("health: %d grades, want 50", len(HealthGrades[0].Grades))
	}
	for _, tb := range PensionGrades {
		if len(tb.Grades) != sizes[tb.From] {
			t.Errorf("pension from %s: %d grades, want %d", tb.From, len(tb.Grades), sizes[tb.From])
		}
	}
	for _, tb := range append(GradeSchedule{}, append(HealthGrades, PensionGrades...)...) {
		g := tb.Grades
		if g[0].Lower != 0 || g[0].Grade != 1 {
			t.Errorf("table from %s: first grade %+v", tb.From, g[0])
		}
		for i := 1; i < len(g); i++ {
			if g[i].Grade != i+1 || g[i].Lower <= g[i-1].Lower || g[i].Monthly <= g[i-1].Monthly ||
				g[i].Monthly < g[i].Lower {
				t.Errorf("table from %s: grade %+v after %+v", tb.From, g[i], g[i-1])
			}
		}
	}
	// Pension grade n is health grade n+3 (from grade 2 on: grade 1 also takes everything below).
	for n, g := range PensionGrades[0].Grades[1:] {
		h := HealthGrades[0].Grades[n+1+pensionOffset]
		if g.Monthly != h.Monthly || g.Lower != h.Lower {
			t.Errorf("pension grade %d %+v is not health grade %d %+v", g.Grade, g, h.Grade, h)
		}
	}
}
