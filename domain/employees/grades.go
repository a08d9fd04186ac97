package employees

import (
	"sort"
)

// Grade is one grade of a 標準報酬月額 table: pay from Lower (inclusive) up to the next grade's Lower
// (exclusive) counts as Monthly.
type Grade struct {
	Grade   int
	Monthly int64 // 標準報酬月額, yen
	Lower   int64 // 報酬月額 from, yen
}

// GradeTable is a 標準報酬月額 table in force from a date (YYYY-MM-DD) until the next table's date.
type GradeTable struct {
	From   string
	Grades []Grade // by grade, ascending; the first starts at 0 and the last has no upper bound
}

// Find returns the grade whose band [Lower, next Lower) holds pay.
func (t GradeTable) Find(pay int64) Grade {
	i := sort.Search(len(t.Grades), func(i int) bool { return t.Grades[i].Lower > pay })
	return t.Grades[max(i-1, 0)]
}

// GradeSchedule is the succession of tables of one insurance, ordered by From.
type GradeSchedule []GradeTable

// At returns the table in force on day (YYYY-MM-DD); before the first table, the first.
func (s GradeSchedule) At(day string) GradeTable {
	i := sort.Search(len(s), func(i int) bool { return s[i].From > day })
	return s[max(i-1, 0)]
}

// healthBands is the health insurance table (協会けんぽ 保険料額表, 令和7年度, unchanged since 2016-04):
// grade, 標準報酬月額 and the lower bound of its band of 報酬月額.
var healthBands = []Grade{
	{1, 58_000, 0}, {2, 68_000, 63_000}, {3, 78_000, 73_000}, {4, 88_000, 83_000}, {5, 98_000, 93_000},
	{6, 104_000, 101_000}, {7, 110_000, 107_000}, {8, 118_000, 114_000}, {9, 126_000, 122_000},
	{10, 134_000, 130_000}, {11, 142_000, 138_000}, {12, 150_000, 146_000}, {13, 160_000, 155_000},
	{14, 170_000, 165_000}, {15, 180_000, 175_000}, {16, 190_000, 185_000}, {17, 200_000, 195_000},
	{18, 220_000, 210_000}, {19, 240_000, 230_000}, {20, 260_000, 250_000}, {21, 280_000, 270_000},
	{22, 300_000, 290_000}, {23, 320_000, 310_000}, {24, 340_000, 330_000}, {25, 360_000, 350_000},
	{26, 380_000, 370_000}, {27, 410_000, 395_000}, {28, 440_000, 425_000}, {29, 470_000, 455_000},
	{30, 500_000, 485_000}, {31, 530_000, 515_000}, {32, 560_000, 545_000}, {33, 590_000, 575_000},
	{34, 620_000, 605_000}, {35, 650_000, 635_000}, {36, 680_000, 665_000}, {37, 710_000, 695_000},
	{38, 750_000, 730_000}, {39, 790_000, 770_000}, {40, 830_000, 810_000}, {41, 880_000, 855_000},
	{42, 930_000, 905_000}, {43, 980_000, 955_000}, {44, 1_030_000, 1_005_000}, {45, 1_090_000, 1_055_000},
	{46, 1_150_000, 1_115_000}, {47, 1_210_000, 1_175_000}, {48, 1_270_000, 1_235_000},
	{49, 1_330_000, 1_295_000}, {50, 1_390_000, 1_355_000},
}

// pensionOffset is how far the pension grades sit below the health grades: 厚生年金 grade n is 健康保険
// grade n+3 (its floor, ¥88,000, is health grade 4).
const pensionOffset = 3

// pensionBands cuts the pension table out of the health bands, up to the ceiling (標準報酬月額 of the top
// pension grade). The bands coincide by law; only the floor (everything below ¥93,000 is grade 1) and the
// ceiling differ.
func pensionBands(ceiling int64) []Grade {
	var out []Grade
	for _, g := range healthBands[pensionOffset:] {
		if g.Monthly > ceiling {
			break
		}
		out = append(out, Grade{Grade: g.Grade - pensionOffset, Monthly: g.Monthly, Lower: g.Lower})
	}
	out[0].Lower = 0
	return out
}

// HealthGrades is the health insurance schedule.
var HealthGrades = GradeSchedule{{From: "2016-04-01", Grades: healthBands}}

// PensionGrades is the 厚生年金 schedule: 32 grades up to ¥650,000 since 2020-09, and the ceiling rising
// by the 2025 pension reform to ¥680,000 (2027-09), ¥710,000 (2028-09) and ¥750,000 (2029-09).
var PensionGrades = GradeSchedule{
	{From: "2020-09-01", Grades: pensionBands(650_000)},
	{From: "2027-09-01", Grades: pensionBands(680_000)},
	{From: "2028-09-01", Grades: pensionBands(710_000)},
	{From: "2029-09-01", Grades: pensionBands(750_000)},
}
