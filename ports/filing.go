package ports

import (
	"context"
	"io"
	"time"
)

// The procedure type codes (CONTRACT.md) for which Roumu produces filing documents.
const (
	FormHealthPensionAcquisition       = "health_pension_acquisition"       // 健康保険・厚生年金保険 被保険者資格取得届
	FormHealthPensionLoss              = "health_pension_loss"              // 同 被保険者資格喪失届
	FormEmploymentInsuranceAcquisition = "employment_insurance_acquisition" // 雇用保険被保険者資格取得届
)

// FormDate is a date on a form: the civil date and its Japanese-era rendering, both made by the domain so
// that renderers never compute eras. The zero FormDate leaves the date blank.
type FormDate struct {
	ISO string // YYYY-MM-DD
	Era string // e.g. 令和8年4月1日 (元年 for the first year)
}

// FilingEmployer is the employer block of a form (the 事業所).
type FilingEmployer struct {
	PrefectureCode string // 都道府県コード of the 年金機構 table (東京 21, 大阪 41 …), 2 digits
	DistrictCode   string // 郡市区符号, the first two characters of the 事業所整理記号
	OfficeSymbol   string // 事業所記号, the rest of the 事業所整理記号 (half-width kana or alphanumerics)
	OfficeNumber   string // 事業所番号 (年金事務所), up to 5 digits
	// EmploymentInsuranceOfficeNumber is the 雇用保険適用事業所番号, 11 digits written 4-6-1.
	EmploymentInsuranceOfficeNumber string
	Name                            string // 事業所名称
	PostalCode                      string // 7 digits, with or without the hyphen
	Address                         string // 事業所所在地
	OwnerName                       string // 事業主氏名
	Phone                           string // digits and hyphens, e.g. 03-1234-5678
}

// FilingPerson is the insured person's block of a form, a snapshot of the employee at the fact date.
type FilingPerson struct {
	InsuredNumber             string // 被保険者整理番号 (up to 6 digits; blank on a first acquisition)
	FamilyName, GivenName     string // kanji
	FamilyNameKana            string // full-width katakana
	GivenNameKana             string
	BirthDate                 FormDate
	Gender                    string // "male" | "female"
	MyNumber                  string // 個人番号, 12 digits; when blank the basic pension number and address are required
	BasicPensionNumber        string // 基礎年金番号, 10 digits (4-6)
	EmploymentInsuranceNumber string // 雇用保険被保険者番号, 11 digits (4-6-1); blank when new
	PostalCode                string
	Address                   string // kanji
	AddressKana               string // full-width katakana; the CSV needs it when My Number is blank
}

// FilingForm is a filled form, ready to render as a PDF or to write as electronic-filing data. Fields that do
// not belong to Type stay zero.
type FilingForm struct {
	Type       string // one of the Form* codes
	Title      string // e.g. 健康保険・厚生年金保険 被保険者資格取得届
	Office     string // pension_office | hello_work | health_insurance_society
	OfficeName string // where it is filed, e.g. 日本年金機構
	Prepared   FormDate
	Employer   FilingEmployer
	Person     FilingPerson

	// Acquisition (資格取得届, 雇用保険資格取得届).
	AcquisitionDate FormDate
	// AcquisitionKind is the 取得区分: 1 健保・厚年 (social insurance); 1 新規, 2 再取得 (employment insurance).
	AcquisitionKind string
	// AcquisitionCause is the 雇用保険 取得原因: 1 新規学卒, 2 その他新規, 3 日雇から, 4 適用拡大, 8 出向元への復帰.
	AcquisitionCause string
	HasDependents    bool
	MonthlyPayCash   int // 報酬月額 通貨, yen
	MonthlyPayInKind int // 報酬月額 現物, yen
	// StandardMonthlyRemuneration is the 標準報酬月額 (health insurance), yen, when known.
	StandardMonthlyRemuneration int
	EmploymentType              string // 雇用形態 (employment insurance)
	Occupation                  string // 職種
	WeeklyWorkingMinutes        int    // 1週間の所定労働時間, minutes
	FixedTerm                   bool   // 契約期間の定め

	// Loss (資格喪失届).
	LossDate FormDate // the day after the last day of employment
	// LossReason is the 喪失原因: 4 退職等, 5 死亡, 7 75歳到達, 9 障害認定, 11 社会保障協定.
	LossReason     string
	RetirementDate FormDate // 退職日 or 死亡日, for reasons 4 and 5

	// Remarks (備考) as flags and free text.
	Over70               bool // 70歳以上被用者
	MultipleWorkplaces   bool // 二以上事業所勤務者
	ShortTimeWorker      bool // 短時間労働者 (特定適用事業所等)
	RehiredAfterRetiring bool // 退職後の継続再雇用者
	Remarks              string
}

// DocumentRenderer renders a filled form as a printable PDF (A4, Japanese font embedded).
type DocumentRenderer interface {
	RenderPDF(ctx context.Context, form FilingForm) ([]byte, error)
}

// FilingAttachment is one file of a submission: the electronic-filing data, a form PDF, a scan.
type FilingAttachment struct {
	Name        string // e.g. SHFD0006.CSV
	ContentType string
	Data        []byte
}

// Submission is one electronic filing: a procedure of one tenant with its files.
type Submission struct {
	TenantID string
	// Reference identifies the filing on our side: <procedure ID>/<NNN>, NNN counting the procedure's
	// filings (its 媒体通番). Submitting the same tenant and reference again returns the first arrival number,
	// so a retried submission files once, while a filing after a 補正 is a new submission.
	Reference   string
	FormType    string // one of the Form* codes
	Attachments []FilingAttachment
}

// FilingState is the state of a submission at the filing office.
type FilingState string

// The states of an electronic filing (e-Gov 手続状況).
const (
	FilingArrived             FilingState = "arrived"              // 到達
	FilingUnderReview         FilingState = "under_review"         // 審査中
	FilingCompleted           FilingState = "completed"            // 手続終了
	FilingCorrectionRequested FilingState = "correction_requested" // 補正
)

// Final reports whether no further change will come: 手続終了, or 補正 (which needs a new submission).
func (s FilingState) Final() bool { return s == FilingCompleted || s == FilingCorrectionRequested }

// FilingStatus is what polling a submission returns.
type FilingStatus struct {
	ArrivalNumber string
	State         FilingState
	Message       string // the office's message in Japanese, e.g. the reason for a 補正
	UpdatedAt     time.Time
}

// FilingGateway files submissions electronically (e-Gov 電子申請) and reports their progress. Status of an
// unknown arrival number is ErrNotFound; an invalid submission is ErrInvalid; an unreachable office is
// ErrUnavailable.
type FilingGateway interface {
	Submit(ctx context.Context, s Submission) (arrivalNumber string, err error)
	Status(ctx context.Context, arrivalNumber string) (FilingStatus, error)
}

// ScanResult is a malware scanner's verdict on one file.
type ScanResult struct {
	Clean     bool
	Signature string // the name of what was found, when not clean
}

// MalwareScanner scans an uploaded file before it is stored. An unreachable scanner is ErrUnavailable (never
// "clean"); a file larger than the scanner accepts is ErrInvalid with code "attachment_too_large".
type MalwareScanner interface {
	Scan(ctx context.Context, r io.Reader) (ScanResult, error)
}
