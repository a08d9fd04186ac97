package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// demoTenant is the company code of the demo tenant.
const demoTenant = "demo"

// seedDemo creates the demo tenant with an admin, an HR clerk and an employee, and prints their one-time
// passwords (each must be changed at first login). It does nothing when the tenant exists already.
func (a *app) seedDemo(ctx context.Context, out io.Writer) error {
	adminPassword := "Demo-" + kernel.RandomToken(12)
	_, _, err := a.accounts.CreateTenant(ctx, ports.CreateTenantCommand{Code: demoTenant, Name: "デモ株式会社",
		AdminLogin: "admin", AdminName: "管理 太郎", AdminPassword: adminPassword, Source: cliSource()})
	if errors.Is(err, ports.ErrConflict) {
		_, err = fmt.Fprintln(out, "demo tenant exists already; its logins are unchanged")
		return err
	}
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(out, "demo tenant %q (企業コード) created; logins (change the password at first login):\n", demoTenant)
	fmt.Fprintf(out, "  admin     %s\n", adminPassword)
	return nil
}
