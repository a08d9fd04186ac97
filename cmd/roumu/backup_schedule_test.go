package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/roumu/roumu/config"
	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// TestScheduledBackupsAndRetention drives the schedule with a fake clock: a backup when none is there, none
// while the newest is younger than the interval (a restart included), the newest keep kept, nothing else in
// the directory touched, and every file one that restores.
func TestScheduledBackupsAndRetention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Database = config.Database{Driver: config.DriverSQLite, DSN: filepath.Join(dir, "roumu.db")}
	cfg.Security.BackupKeyFile = filepath.Join(dir, "backup.key")
	cfg.Backup = config.Backup{Dir: filepath.Join(dir, "backups"), Interval: 24 * time.Hour, Keep: 3}
	store, err := openSQLStore(ctx, cfg.Database, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := kernel.NewFakeClock(time.Date(2026, 4, 1, 2, 0, 0, 0, time.UTC))
	newSchedule := func() *scheduledBackups { // as a (re)started serve builds it
		b, err := newScheduledBackups(cfg, store, clock, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := newSchedule()
	foreign := []string{"notes.txt", ".roumu-20260101T000000Z.backup.123.partial", "roumu-yesterday.backup"}
	for _, name := range foreign {
		if err := os.WriteFile(filepath.Join(cfg.Backup.Dir, name), []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	runAt := func(advance time.Duration, wantWritten int) {
		t.Helper()
		clock.Advance(advance)
		if n, err := b.run(ctx); err != nil || n != wantWritten {
			t.Fatalf("at %s: run = %d, %v; want %d written", clock.Now().Format(time.RFC3339), n, err, wantWritten)
		}
	}
	runAt(0, 1)
	runAt(15*time.Minute, 0)
	b = newSchedule() // a restart 23 hours on: the newest backup is still young
	runAt(23*time.Hour, 0)
	runAt(45*time.Minute, 1) // 24 h after the first
	for range 4 {
		runAt(24*time.Hour, 1)
	}

	var names []string
	entries, err := os.ReadDir(cfg.Backup.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	kept := []string{"roumu-20260404T020000Z.backup", "roumu-20260405T020000Z.backup", "roumu-20260406T020000Z.backup"}
	want := append(slices.Clone(foreign), kept...)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("backup dir holds %v, want %v", names, want)
	}

	for _, name := range kept {
		if _, err := readBackup(ctx, store, b.sealer, filepath.Join(cfg.Backup.Dir, name),
			ports.RestoreOptions{Force: true, VerifyOnly: true}); err != nil {
			t.Errorf("%s does not verify: %v", name, err)
		}
	}
}
