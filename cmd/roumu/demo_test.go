package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/ports"
)

// TestSeedDemo: --demo creates three logins and a register of sample employees, and a second run changes
// nothing.
func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Database.Driver = config.DriverMemory
	cfg.Security.KeyringFile = filepath.Join(t.TempDir(), "keyring.json")
	cfg.Security.Argon2.MemoryKiB, cfg.Security.Argon2.Time = 19456, 1 // the least the hasher accepts: keeps the test quick
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out bytes.Buffer
	if err := a.seedDemo(ctx, &out); err != nil {
		t.Fatalf("seedDemo: %v\n%s", err, out.String())
	}
	for _, login := range []string{"admin", "sato", "yamada"} {
		if !strings.Contains(out.String(), "  "+login+" ") {
			t.Errorf("output does not name login %s:\n%s", login, out.String())
		}
	}
	tenant, err := a.store.TenantByCode(ctx, demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	admin := ports.Principal{AccountID: "cli", TenantID: tenant.ID, Kind: ports.KindMember,
		Roles: []string{ports.RoleAdmin}, Stage: ports.StageFull}
	page, err := a.employees.ListEmployees(ctx, admin, ports.EmployeeFilter{Limit: 100})
	if err != nil || len(page.Items) != len(demoPeople) {
		t.Fatalf("register: %d employees, %v; want %d", len(page.Items), err, len(demoPeople))
	}
	out.Reset()
	if err := a.seedDemo(ctx, &out); err != nil || !strings.Contains(out.String(), "exists already") {
		t.Fatalf("second seed: %v %q", err, out.String())
	}
}
