package clamav

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roumu/roumu/ports"
	"github.com/roumu/roumu/test/tools"
)

// fakeClamd speaks clamd's INSTREAM and PING commands on a listener, with clamd's replies.
type fakeClamd struct {
	ln       net.Listener
	limit    int     // StreamMaxLength
	reply    *string // when set, the reply to every INSTREAM (e.g. garbage)
	silent   bool    // never reply
	mu       sync.Mutex
	maxChunk int
}

func startFakeClamd(t *testing.T, network string, configure func(*fakeClamd)) *fakeClamd {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "clamd.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeClamd{ln: ln, limit: 1 << 20}
	if configure != nil {
		configure(f)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(conn) }()
		}
	}()
	return f
}

func (f *fakeClamd) scanner(opts ...Option) *Scanner {
	return New(f.ln.Addr().Network(), f.ln.Addr().String(), opts...)
}

func (f *fakeClamd) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	cmd, err := r.ReadString(0)
	if err != nil {
		return
	}
	switch cmd {
	case "zPING\x00":
		_, _ = conn.Write([]byte("PONG\x00"))
		return
	case "zINSTREAM\x00":
	default:
		_, _ = conn.Write([]byte("UNKNOWN COMMAND\x00"))
		return
	}
	var data []byte
	for {
		var size [4]byte
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(size[:]))
		if n == 0 {
			break
		}
		f.mu.Lock()
		f.maxChunk = max(f.maxChunk, n)
		f.mu.Unlock()
		if len(data)+n > f.limit {
			_, _ = conn.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
			return
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return
		}
		data = append(data, chunk...)
	}
	switch {
	case f.silent:
		time.Sleep(time.Second)
	case f.reply != nil:
		_, _ = conn.Write([]byte(*f.reply + "\x00"))
	case bytes.Contains(data, []byte(EICAR)):
		_, _ = conn.Write([]byte("stream: Eicar-Signature FOUND\x00"))
	default:
		_, _ = conn.Write([]byte("stream: OK\x00"))
	}
}

// testScanner is the contract every ports.MalwareScanner here meets, given its size limit.
func testScanner(t *testing.T, s ports.MalwareScanner, limit int64) {
	ctx := context.Background()
	filler := bytes.Repeat([]byte("roumu attachment "), 9000) // ~150 KB: several chunks
	cases := []struct {
		name  string
		data  []byte
		clean bool
	}{
		{"empty file", nil, true},
		{"text", []byte("雇用契約書 2026-04-01"), true},
		{"large clean file", filler, true},
		{"EICAR alone", []byte(EICAR), false},
		{"EICAR after a chunk boundary", append(append([]byte{}, filler...), EICAR...), false},
		{"EICAR split over chunks", append(append(bytes.Repeat([]byte{'x'}, DefaultChunkSize-30), EICAR...), filler...), false},
	}
	for _, tc := range cases {
		got, err := s.Scan(ctx, bytes.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.Clean != tc.clean || (!got.Clean && got.Signature == "") || (got.Clean && got.Signature != "") {
			t.Errorf("%s: %+v, want clean=%v", tc.name, got, tc.clean)
		}
	}
	_, err := s.Scan(ctx, bytes.NewReader(make([]byte, limit+1)))
	if e, ok := ports.AsError(err); !ok || !errors.Is(err, ports.ErrInvalid) || e.Code != "attachment_too_large" {
		t.Errorf("file over the limit: err = %v, want attachment_too_large", err)
	}
	if got, err := s.Scan(ctx, bytes.NewReader(make([]byte, limit))); err != nil || !got.Clean {
		t.Errorf("file at the limit: %+v, %v", got, err)
	}
	// Concurrent scans each get their own verdict.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, infected := []byte(fmt.Sprintf("file %d", i)), i%2 == 0
			if infected {
				data = append(data, EICAR...)
			}
			got, err := s.Scan(ctx, bytes.NewReader(data))
			if err != nil || got.Clean == infected {
				errs <- fmt.Errorf("scan %d: %+v, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestScannerAgainstFakeClamd(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			f := startFakeClamd(t, network, nil)
			testScanner(t, f.scanner(WithMaxSize(int64(f.limit))), int64(f.limit))
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.maxChunk > DefaultChunkSize {
				t.Errorf("a chunk of %d bytes, want at most %d", f.maxChunk, DefaultChunkSize)
			}
		})
	}
}

func TestEICARScanner(t *testing.T) {
	t.Parallel()
	testScanner(t, EICARScanner{MaxSize: 1 << 20}, 1<<20)
}

// TestScannerAgainstRealClamd scans through a real clamd: the one ROUMU_TEST_CLAMD names
// (unix:/run/clamav/clamd.ctl or tcp:127.0.0.1:3310), else one the test starts with a database of an EICAR
// signature alone (the machine has no network for freshclam). Without clamd the test skips, except under
// CI=true, where .ci/run installs clamav-daemon.
func TestScannerAgainstRealClamd(t *testing.T) {
	t.Parallel()
	target := os.Getenv("ROUMU_TEST_CLAMD")
	if target == "" {
		target = "unix:" + startClamd(t)
	}
	network, address, _ := strings.Cut(target, ":")
	s := New(network, address, WithMaxSize(1<<20))
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("clamd at %s: %v", target, err)
	}
	testScanner(t, s, 1<<20)
}

// startClamd runs clamd in the foreground on a socket of its own, until the test ends, and returns the
// socket's path once clamd answers there.
func startClamd(t *testing.T) string {
	t.Helper()
	clamd := tools.Path(t, "clamd", "apt-get install clamav-daemon")
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	// A body signature (.ndb, any file type, any offset): the contract also finds EICAR inside larger files.
	sig := fmt.Sprintf("Eicar-Test-Signature:0:*:%x\n", EICAR)
	socket := filepath.Join(dir, "clamd.sock")
	conf := fmt.Sprintf("Foreground yes\nLocalSocket %s\nDatabaseDirectory %s\nLogFile %s\nTemporaryDirectory %s\n",
		socket, db, filepath.Join(dir, "clamd.log"), dir)
	if os.Geteuid() == 0 {
		conf += "User root\n" // else clamd would switch to the clamav user, who cannot read the test's files
	}
	for name, content := range map[string]string{filepath.Join(db, "eicar.ndb"): sig, filepath.Join(dir, "clamd.conf"): conf} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(clamd, "-c", filepath.Join(dir, "clamd.conf"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting clamd: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// clamd loads its database before it listens; a one-signature database takes well under a second.
	ping := New("unix", socket)
	deadline := time.Now().Add(30 * time.Second)
	for ping.Ping(t.Context()) != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd did not answer on %s within 30 s; its log:\n%s", socket, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return socket
}

func TestScannerFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	unavailable := func(name string, s *Scanner) {
		t.Helper()
		got, err := s.Scan(ctx, strings.NewReader("hello"))
		if !errors.Is(err, ports.ErrUnavailable) || got.Clean {
			t.Errorf("%s: %+v, %v; want ErrUnavailable and not clean", name, got, err)
		}
	}
	// Nothing listening.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	unavailable("no daemon", New("tcp", addr))

	garbage := "stream: something odd"
	unavailable("unknown reply", startFakeClamd(t, "tcp", func(f *fakeClamd) { f.reply = &garbage }).scanner())
	errReply := "stream: Can't allocate memory ERROR"
	unavailable("clamd error", startFakeClamd(t, "tcp", func(f *fakeClamd) { f.reply = &errReply }).scanner())
	unavailable("no reply in time", startFakeClamd(t, "tcp", func(f *fakeClamd) { f.silent = true }).scanner(WithTimeout(100*time.Millisecond)))

	// A daemon limit lower than ours still ends as attachment_too_large, not as a broken pipe.
	small := startFakeClamd(t, "tcp", func(f *fakeClamd) { f.limit = 1000 })
	_, err := small.scanner(WithChunkSize(512)).Scan(ctx, bytes.NewReader(make([]byte, 100_000)))
	if e, ok := ports.AsError(err); !ok || e.Code != "attachment_too_large" {
		t.Errorf("clamd's size limit: err = %v", err)
	}

	// A cancelled context stops the scan.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := startFakeClamd(t, "tcp", nil).scanner().Scan(cctx, strings.NewReader("x")); err == nil {
		t.Error("scan with a cancelled context succeeded")
	}
	// Reading the file fails: the caller's error comes back, not a verdict.
	readErr := errors.New("disk gone")
	if _, err := startFakeClamd(t, "tcp", nil).scanner().Scan(ctx, io.MultiReader(strings.NewReader("abc"), errReader{readErr})); !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestPing(t *testing.T) {
	t.Parallel()
	if err := startFakeClamd(t, "unix", nil).scanner().Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if err := New("tcp", addr).Ping(context.Background()); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("ping without daemon: %v", err)
	}
}
