package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/roumu/roumu/test/fixtures"
)

// Passwords of the seeded accounts: policy-compliant, and none contains a login or tenant code.
const (
	initialPassword = "Kx7#mq2!zpW9"
	ownPassword     = "Vt4$hr8@LmQ2"
	wrongPassword   = "Wq3%nd5&RtY6"
)

// tenantData is one seeded tenant: its code and ID, its HR staff's full sessions (the ordinary users),
// the logins of its storm targets, and its employees' IDs.
type tenantData struct {
	code, id    string
	adminToken  string
	hrLogins    []string
	hrTokens    []string
	stormLogins []string
	stormIDs    map[string]string // login → account ID
	employees   []string
}

// seedOptions size the data set.
type seedOptions struct {
	tenants, employeesPerTenant, hrPerTenant, stormAccountsPerTenant int
	parallel                                                         int
}

// seed creates the tenants with the CLI, then through the API their accounts and employees (CSV import), and
// reads the employees' IDs back from the database.
func seed(ctx context.Context, svc *service, a *api, dsn string, o seedOptions, logf func(string, ...any)) ([]*tenantData, error) {
	tenants := make([]*tenantData, o.tenants)
	for i := range tenants {
		t := &tenantData{code: fmt.Sprintf("load-%02d", i+1), stormIDs: map[string]string{}}
		id, err := svc.createTenant(ctx, t.code, "admin", initialPassword)
		if err != nil {
			return nil, err
		}
		t.id = id
		tenants[i] = t
	}
	if err := svc.start(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.parallel)
	for i, t := range tenants {
		g.Go(func() error { return seedTenant(gctx, a, t, i, o) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	logf("seeded %d tenants × %d employees, %d HR and %d storm accounts each in %.1f s", o.tenants,
		o.employeesPerTenant, o.hrPerTenant, o.stormAccountsPerTenant, time.Since(start).Seconds())
	return tenants, readEmployeeIDs(ctx, dsn, tenants)
}

func seedTenant(ctx context.Context, a *api, t *tenantData, index int, o seedOptions) error {
	admin, err := a.fullSession(ctx, t.code, "admin", initialPassword, ownPassword)
	if err != nil {
		return err
	}
	t.adminToken = admin.Token
	create := func(login, role string) (string, error) {
		var created struct {
			ID string `json:"id"`
		}
		_, err := a.call(ctx, request{method: http.MethodPost, path: "/api/v1/accounts", token: t.adminToken,
			body: map[string]any{"login": login, "name": "負荷 " + login, "roles": []string{role}, "password": initialPassword}},
			http.StatusCreated, &created)
		return created.ID, err
	}
	for i := range o.hrPerTenant {
		login := fmt.Sprintf("hr%02d", i+1)
		if _, err := create(login, "hr"); err != nil {
			return err
		}
		s, err := a.fullSession(ctx, t.code, login, initialPassword, ownPassword)
		if err != nil {
			return err
		}
		t.hrLogins = append(t.hrLogins, login)
		t.hrTokens = append(t.hrTokens, s.Token)
	}
	for i := range o.stormAccountsPerTenant {
		login := fmt.Sprintf("staff%03d", i+1)
		id, err := create(login, "employee")
		if err != nil {
			return err
		}
		t.stormLogins = append(t.stormLogins, login)
		t.stormIDs[login] = id
	}
	if o.employeesPerTenant == 0 {
		return nil
	}
	return importEmployees(ctx, a, t.adminToken, employeeCSV(index, o.employeesPerTenant))
}

// importEmployees posts a CSV file and, when the service answers with a job, follows it to its end.
func importEmployees(ctx context.Context, a *api, token string, csv []byte) error {
	resp, err := a.do(ctx, request{method: http.MethodPost, path: "/api/v1/employees/import?dry_run=false", token: token,
		body: csv, contentType: "text/csv; charset=utf-8"})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	var job struct {
		ID     string          `json:"id"`
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	switch resp.status {
	case http.StatusOK:
		return checkImport(resp.body)
	case http.StatusAccepted:
		if err := json.Unmarshal(resp.body, &job); err != nil {
			return fmt.Errorf("import job: %w", err)
		}
	default:
		return fmt.Errorf("import: status %d: %.500s", resp.status, resp.body)
	}
	for job.Status != "succeeded" && job.Status != "failed" {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if _, err := a.call(ctx, request{method: http.MethodGet, path: "/api/v1/jobs/" + job.ID, token: token},
			http.StatusOK, &job); err != nil {
			return err
		}
	}
	if job.Status == "failed" {
		return fmt.Errorf("import job %s failed: %.500s", job.ID, job.Result)
	}
	return checkImport(job.Result)
}

func checkImport(result []byte) error {
	var r struct {
		Created int               `json:"created"`
		Errors  []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(result, &r); err != nil {
		return fmt.Errorf("import result: %w: %.300s", err, result)
	}
	if len(r.Errors) > 0 || r.Created == 0 {
		return fmt.Errorf("import: %d created, %d errors, first: %s", r.Created, len(r.Errors), firstOf(r.Errors))
	}
	return nil
}

func firstOf(errs []json.RawMessage) string {
	if len(errs) == 0 {
		return "none"
	}
	return string(errs[0])
}

// readEmployeeIDs loads every tenant's employee IDs straight from the service's schema.
func readEmployeeIDs(ctx context.Context, dsn string, tenants []*tenantData) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, t := range tenants {
		rows, err := conn.Query(ctx, "SELECT id FROM employees WHERE tenant_id = $1 ORDER BY id", t.id)
		if err != nil {
			return err
		}
		if t.employees, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
	}
	return nil
}

// Name parts of the generated register: surnames and given names common in Japan, with their readings.
var (
	familyNames = [][2]string{{"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"髙橋", "タカハシ"}, {"田中", "タナカ"},
		{"伊藤", "イトウ"}, {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"},
		{"加藤", "カトウ"}, {"吉田", "ヨシダ"}, {"山田", "ヤマダ"}, {"佐々木", "ササキ"}, {"山口", "ヤマグチ"},
		{"松本", "マツモト"}, {"井上", "イノウエ"}, {"木村", "キムラ"}, {"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"山﨑", "ヤマザキ"}}
	givenNames = [][2]string{{"太郎", "タロウ"}, {"花子", "ハナコ"}, {"翔", "ショウ"}, {"結衣", "ユイ"},
		{"大輔", "ダイスケ"}, {"美咲", "ミサキ"}, {"健", "ケン"}, {"陽菜", "ヒナ"}, {"拓也", "タクヤ"}, {"さくら", "サクラ"},
		{"直樹", "ナオキ"}, {"愛", "アイ"}, {"蓮", "レン"}, {"葵", "アオイ"}, {"誠", "マコト"}, {"彩", "アヤ"}}
	employmentLabels = []string{"正社員", "正社員", "正社員", "正社員", "正社員", "正社員", "契約社員", "パート", "パート", "アルバイト"}
)

// employeeCSV builds the register of tenant index: n employees with every kind of field an HR department
// keeps, sealed ones (My Number, insurance numbers, bank account) included, in the Japanese-labelled columns
// of a spreadsheet export.
func employeeCSV(index, n int) []byte {
	var b bytes.Buffer
	b.WriteString("社員番号,姓,名,セイ,メイ,生年月日,性別,メールアドレス,電話番号,郵便番号,都道府県,市区町村,番地," +
		"入社日,雇用形態,役職,月額報酬(通貨),月額報酬(現物),基礎年金番号,雇用保険被保険者番号,個人番号,銀行コード,支店コード," +
		"口座種別,口座番号,口座名義カナ\r\n")
	for i := range n {
		g := index*n + i // unique across tenants, so that sealed numbers differ everywhere
		f, gn := familyNames[i%len(familyNames)], givenNames[(i/len(familyNames))%len(givenNames)]
		gender := "男"
		if i%2 == 1 {
			gender = "女"
		}
		fmt.Fprintf(&b, "E%06d,%s,%s,%s,%s,19%02d/%d/%d,%s,e%06d@example.jp,03-1234-%04d,100-0001,東京都,千代田区,"+
			"千代田1-%d,20%02d-%02d-01,%s,主任,\"%d\",0,%04d-%06d,%04d-%06d-1,%s,0005,001,普通,%07d,%s %s\r\n",
			i, f[0], gn[0], f[1], gn[1], 60+i%40, 1+i%12, 1+i%28, gender, i, i%10000, i%100, 5+i%20, 1+i%12,
			employmentLabels[i%len(employmentLabels)], 200000+(i*7919)%500000, g%10000, g%1000000, g%10000, g%1000000,
			fixtures.MyNumber(fmt.Sprintf("%011d", 10_000_000_000+g)), g%10_000_000, f[1], gn[1])
	}
	return b.Bytes()
}
