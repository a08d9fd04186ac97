package backupfile_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/roumu/roumu/adapters/backupfile"
	"github.com/roumu/roumu/ports"
)

func newSealer(t *testing.T) (*backupfile.Sealer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "var", "backup.key")
	s, err := backupfile.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return s, path
}

func seal(t *testing.T, s *backupfile.Sealer, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := s.Seal(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// open reads the whole plaintext of file, as a restore does before it trusts any of it.
func open(s *backupfile.Sealer, file []byte) ([]byte, error) {
	r, err := s.Open(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func wantDamaged(t *testing.T, err error, what string) {
	t.Helper()
	var pe *ports.Error
	if err == nil || !errors.Is(err, ports.ErrInvalid) || !errors.As(err, &pe) {
		t.Fatalf("%s: got %v, want an ErrInvalid *ports.Error", what, err)
	}
}

func TestRoundTripAndKeyFile(t *testing.T) {
	s, path := newSealer(t)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	plain := bytes.Repeat([]byte("社員,employee\n"), 10_000)
	file := seal(t, s, plain)
	if bytes.Contains(file, []byte("employee")) {
		t.Fatal("plaintext visible in the sealed file")
	}
	// The key is kept: a second load opens what the first sealed.
	again, err := backupfile.LoadOrCreate(path)
	if err != nil || again.Recipient() != s.Recipient() {
		t.Fatalf("reload: %v, recipient %q vs %q", err, again.Recipient(), s.Recipient())
	}
	got, err := open(again, file)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %v (%d bytes of %d)", err, len(got), len(plain))
	}
}

func TestLoadRequiresTheKey(t *testing.T) {
	if _, err := backupfile.Load(filepath.Join(t.TempDir(), "missing.key")); err == nil {
		t.Fatal("Load of a missing key file succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.key")
	if err := os.WriteFile(junk, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backupfile.Load(junk); err == nil {
		t.Fatal("Load of a junk key file succeeded")
	}
}

// TestX25519KeyFile: a key made with age-keygen (X25519) works as well as the default hybrid one.
func TestX25519KeyFile(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(path, []byte("# created by age-keygen\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := backupfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := open(s, seal(t, s, []byte("hello")))
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	a, _ := newSealer(t)
	b, _ := newSealer(t)
	_, err := open(b, seal(t, a, []byte("secret")))
	wantDamaged(t, err, "other key")
	var pe *ports.Error
	if errors.As(err, &pe); pe.Code != "backup_wrong_key" {
		t.Fatalf("code %q, want backup_wrong_key", pe.Code)
	}
}

// TestEveryFlippedByteIsDetected flips each byte of a small file in turn, header and payload alike.
func TestEveryFlippedByteIsDetected(t *testing.T) {
	s, _ := newSealer(t)
	file := seal(t, s, []byte(`{"format":"roumu-backup"}`+"\n"+`["a","b"]`+"\n"))
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x01
		_, err := open(s, bad)
		wantDamaged(t, err, fmt.Sprint("flip at ", i))
	}
}

// TestTruncationIsDetected cuts the file at every length, including at a chunk boundary of the payload.
func TestTruncationIsDetected(t *testing.T) {
	s, _ := newSealer(t)
	plain := make([]byte, 3*64<<10) // incompressible: three full chunks and a bit
	_, _ = rand.Read(plain)
	file := seal(t, s, plain)
	for n := 0; n < len(file); n += max(1, len(file)/300) {
		_, err := open(s, file[:n])
		wantDamaged(t, err, fmt.Sprint("cut at ", n))
	}
	for _, n := range []int{len(file) - 1, len(file) - 16, len(file) - 17} {
		_, err := open(s, file[:n])
		wantDamaged(t, err, fmt.Sprint("cut at ", n))
	}
	_, err := open(s, append(bytes.Clone(file), 0))
	wantDamaged(t, err, "a byte appended")
}

// TestReorderedChunksAreDetected swaps the first two payload chunks (64 KiB of ciphertext and a 16-byte
// tag each), which follow the header and a 16-byte nonce.
func TestReorderedChunksAreDetected(t *testing.T) {
	s, _ := newSealer(t)
	plain := make([]byte, 4*64<<10)
	_, _ = rand.Read(plain)
	file := seal(t, s, plain)
	header, err := age.ExtractHeader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 64<<10 + 16
	first := len(header) + 16
	bad := bytes.Clone(file)
	copy(bad[first:first+chunk], file[first+chunk:first+2*chunk])
	copy(bad[first+chunk:first+2*chunk], file[first:first+chunk])
	_, err = open(s, bad)
	wantDamaged(t, err, "chunks swapped")
}
