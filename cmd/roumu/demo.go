package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// demoTenant is the company code of the demo tenant.
const demoTenant = "demo"

// seedDemo creates the demo tenant with an admin, an HR clerk and an employee, a small department tree and a
// register of sample employees (the employee's own record linked to their login), and prints the one-time
// passwords (each must be changed at first login). It does nothing when the tenant exists already.
func (a *app) seedDemo(ctx context.Context, out io.Writer) error {
	adminPassword := "Rm-" + kernel.RandomToken(12) + "-9a"
	tenant, admin, err := a.accounts.CreateTenant(ctx, ports.CreateTenantCommand{Code: demoTenant, Name: "デモ株式会社",
		AdminLogin: "admin", AdminName: "管理 太郎", AdminPassword: adminPassword, Source: cliSource()})
	if errors.Is(err, ports.ErrConflict) {
		_, err = fmt.Fprintln(out, "demo tenant exists already; its logins are unchanged")
		return err
	}
	if err != nil {
		return describe(err)
	}
	// The CLI acts as the admin it has just created: it is the operator's own wiring, not a network caller.
	p := ports.Principal{AccountID: admin.ID, TenantID: tenant.ID, TenantCode: demoTenant, Kind: ports.KindMember,
		Login: "admin", Roles: []string{ports.RoleAdmin}, Stage: ports.StageFull, Source: cliSource()}
	fmt.Fprintf(out, "demo tenant %q (企業コード) created; logins (change the password at first login):\n", demoTenant)
	fmt.Fprintf(out, "  admin     %s\n", adminPassword)
	var employeeAccount string
	for _, acc := range []struct{ login, name, role string }{
		{"sato", "佐藤 花子", ports.RoleHR}, {"yamada", "山田 一郎", ports.RoleEmployee}} {
		view, password, err := a.accounts.CreateAccount(ctx, p, ports.CreateAccountCommand{Login: acc.login,
			Name: acc.name, Roles: []string{acc.role}})
		if err != nil {
			return describe(err)
		}
		if acc.role == ports.RoleEmployee {
			employeeAccount = view.ID
		}
		fmt.Fprintf(out, "  %-9s %s\n", acc.login, password)
	}
	return describe(a.seedDemoRegister(ctx, p, employeeAccount))
}

// demoPeople are the sample employees: names, kana, birth date, gender.
var demoPeople = [][4]string{
	{"山田 一郎", "ヤマダ イチロウ", "1985-04-12", "male"}, {"佐藤 花子", "サトウ ハナコ", "1990-08-03", "female"},
	{"髙橋 健太", "タカハシ ケンタ", "1978-11-30", "male"}, {"田中 美咲", "タナカ ミサキ", "1995-02-14", "female"},
	{"伊藤 翔", "イトウ ショウ", "1988-06-21", "male"}, {"渡辺 さくら", "ワタナベ サクラ", "1999-03-31", "female"},
	{"山﨑 大輔", "ヤマザキ ダイスケ", "1982-09-09", "male"}, {"中村 結衣", "ナカムラ ユイ", "1993-12-01", "female"},
}

// seedDemoRegister creates two departments and the sample employees; the first is linked to employeeAccount.
func (a *app) seedDemoRegister(ctx context.Context, p ports.Principal, employeeAccount string) error {
	var deptIDs []string
	for _, d := range [][2]string{{"SALES", "営業部"}, {"HR", "人事部"}} {
		code, name := d[0], d[1]
		dept, err := a.employees.CreateDepartment(ctx, p, ports.DepartmentInput{Code: &code, Name: &name})
		if err != nil {
			return err
		}
		deptIDs = append(deptIDs, dept.ID)
	}
	for i, person := range demoPeople {
		family, given, _ := strings.Cut(person[0], " ")
		familyKana, givenKana, _ := strings.Cut(person[1], " ")
		fields := map[string]string{"employee_number": fmt.Sprintf("E%04d", i+1), "family_name": family,
			"given_name": given, "family_name_kana": familyKana, "given_name_kana": givenKana,
			"birth_date": person[2], "gender": person[3], "hire_date": "2020-04-01", "employment_type": "regular",
			"department_id": deptIDs[i%len(deptIDs)], "monthly_pay.cash": strconv.Itoa(250000 + 15000*i),
			"address.postal_code": "100-0001", "address.prefecture": "東京都", "address.city": "千代田区",
			"address.street": "千代田1-1"}
		if i == 0 {
			fields["account_id"] = employeeAccount
		}
		if _, err := a.employees.CreateEmployee(ctx, p, ports.EmployeeInput{Fields: fields,
			EffectiveOn: "2020-04-01", Reason: "demo data"}); err != nil {
			return err
		}
	}
	return nil
}
