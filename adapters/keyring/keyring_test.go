package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/roumu/roumu/ports"
)

var ctx = context.Background()

func open(t *testing.T, path string) *Keyring {
	t.Helper()
	k, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRing(t *testing.T) (*Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "var", "keyring.json")
	return open(t, path), path
}

func keys(t *testing.T, k *Keyring) []ports.DataKey {
	t.Helper()
	list, err := k.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func keyID(sealed []byte) uint32 { return binary.BigEndian.Uint32(sealed[1:5]) }

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	k, path := newRing(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %04o, want 0600", info.Mode().Perm())
	}
	dirInfo, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if dirInfo.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %04o, want 0700", dirInfo.Mode().Perm())
	}
	if list := keys(t, k); len(list) != 1 || list[0].ID != 1 || list[0].CreatedAt.IsZero() {
		t.Fatalf("keys = %+v", list)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("stray files left: %v", entries)
	}
	// Reopening loads the same key: what was sealed still opens.
	sealed, err := k.Seal(ctx, []byte("123456789012"), []byte("mynumber:e1"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := open(t, path).Open(ctx, sealed, []byte("mynumber:e1")); err != nil || string(got) != "123456789012" {
		t.Fatalf("reopened keyring: %q, %v", got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	k, _ := newRing(t)
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("123456789012"), bytes.Repeat([]byte("秘密"), 10000)} {
		for _, ad := range [][]byte{nil, []byte("totp:acc-1")} {
			sealed, err := k.Seal(ctx, pt, ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != 1+4+12+len(pt)+16 || sealed[0] != 1 || keyID(sealed) != 1 {
				t.Fatalf("sealed layout wrong: len %d", len(sealed))
			}
			got, err := k.Open(ctx, sealed, ad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open = %q, %v", got, err)
			}
		}
	}
}

func TestSealIsRandomisedAndHidesThePlaintext(t *testing.T) {
	k, _ := newRing(t)
	pt := []byte("My Number 123456789018")
	a, _ := k.Seal(ctx, pt, nil)
	b, _ := k.Seal(ctx, pt, nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal: nonce reused")
	}
	for _, s := range [][]byte{a, b} {
		if bytes.Contains(s, pt) || bytes.Contains(s, []byte("123456789018")) {
			t.Fatal("plaintext visible in the sealed bytes")
		}
	}
}

func TestAdditionalDataMismatchFails(t *testing.T) {
	k, _ := newRing(t)
	sealed, _ := k.Seal(ctx, []byte("secret"), []byte("mynumber:emp-1"))
	for _, ad := range [][]byte{nil, []byte("mynumber:emp-2"), []byte("mynumber:emp-1 "), []byte("MYNUMBER:emp-1")} {
		if got, err := k.Open(ctx, sealed, ad); !errors.Is(err, ErrAuthentication) || got != nil {
			t.Errorf("Open with AD %q = %q, %v", ad, got, err)
		}
	}
}

func TestTamperingFails(t *testing.T) {
	k, _ := newRing(t)
	_, _ = k.Rotate(ctx) // two keys, so that a changed key id can point at a real key
	sealed, _ := k.Seal(ctx, []byte("secret value"), []byte("ad"))
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			if got, err := k.Open(ctx, bad, []byte("ad")); err == nil || got != nil {
				t.Fatalf("flipping bit %#x of byte %d went unnoticed", bit, i)
			}
		}
	}
	// Truncated, extended and garbage inputs are errors, not panics.
	for _, bad := range [][]byte{nil, {}, {1}, sealed[:len(sealed)-1], sealed[:1+4+12+15], append(bytes.Clone(sealed), 0)} {
		if _, err := k.Open(ctx, bad, []byte("ad")); err == nil {
			t.Fatalf("Open(%d bytes) succeeded", len(bad))
		}
	}
	if _, err := k.Open(ctx, sealed[:10], nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short input: %v", err)
	}
	bad := bytes.Clone(sealed)
	bad[0] = 2
	if _, err := k.Open(ctx, bad, []byte("ad")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown version: %v", err)
	}
	bad = bytes.Clone(sealed)
	binary.BigEndian.PutUint32(bad[1:5], 99)
	if _, err := k.Open(ctx, bad, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestRotate(t *testing.T) {
	k, path := newRing(t)
	old, _ := k.Seal(ctx, []byte("sealed before rotation"), []byte("ad"))

	info, err := k.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != 2 {
		t.Fatalf("new key id %d", info.ID)
	}
	if got, err := k.Open(ctx, old, []byte("ad")); err != nil || string(got) != "sealed before rotation" {
		t.Fatalf("old key no longer opens: %v", err)
	}
	fresh, _ := k.Seal(ctx, []byte("after"), []byte("ad"))
	if keyID(fresh) != 2 || keyID(old) != 1 {
		t.Fatalf("key ids: old %d new %d", keyID(old), keyID(fresh))
	}
	// Persisted: a new process has both keys, seals with the new one, opens both.
	k2 := open(t, path)
	if n := len(keys(t, k2)); n != 2 {
		t.Fatalf("reopened keyring has %d keys", n)
	}
	for _, s := range [][]byte{old, fresh} {
		if _, err := k2.Open(ctx, s, []byte("ad")); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := k2.Seal(ctx, []byte("x"), nil); keyID(s) != 2 {
		t.Fatal("reopened keyring does not seal with the newest key")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rotate %04o", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left after rotate: %v", entries)
	}
}

func TestRotationByAnotherProcessIsPickedUp(t *testing.T) {
	a, path := newRing(t)
	b := open(t, path)
	if _, err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	sealedByB, _ := b.Seal(ctx, []byte("from b"), nil)
	if got, err := a.Open(ctx, sealedByB, nil); err != nil || string(got) != "from b" {
		t.Fatalf("a cannot open b's value after b rotated: %v", err)
	}
	if s, _ := a.Seal(ctx, []byte("x"), nil); keyID(s) != 2 {
		t.Fatal("a does not seal with the newest key after reloading")
	}
	// Rotating a keeps b's key and does not reuse its id.
	if info, err := a.Rotate(ctx); err != nil || info.ID != 3 {
		t.Fatalf("a.Rotate = %+v, %v", info, err)
	}
	if n := len(keys(t, open(t, path))); n != 3 {
		t.Fatalf("file has %d keys", n)
	}
}

func TestOpenRefusesFileReadableByOthers(t *testing.T) {
	_, path := newRing(t)
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode)) {
			t.Errorf("mode %04o: err = %v; want an error naming the path and the mode", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err != nil {
		t.Errorf("owner read-only file refused: %v", err)
	}
}

func TestMalformedKeyringFiles(t *testing.T) {
	secretKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xAB}, 32))
	short := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	for name, content := range map[string]string{
		"empty":            ``,
		"not json":         `keys: []`,
		"no keys":          `{"version":1,"keys":[]}`,
		"wrong version":    `{"version":2,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `"}]}`,
		"unknown field":    `{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `","kid":"x"}]}`,
		"key too short":    `{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + short + `"}]}`,
		"key not base64":   `{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey[:20] + `!!"}]}`,
		"duplicate id":     `{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `"},{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `"}]}`,
		"id zero":          `{"version":1,"keys":[{"id":0,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `"}]}`,
		"negative id":      `{"version":1,"keys":[{"id":-1,"created_at":"2026-01-01T00:00:00Z","key":"` + secretKey + `"}]}`,
		"key not a string": `{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":7}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want an error naming the file", err)
			}
			if strings.Contains(err.Error(), secretKey) || strings.Contains(err.Error(), secretKey[:20]) {
				t.Fatal("error message contains key material")
			}
		})
	}
}

func TestValidHandWrittenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	content := `{"version":1,"keys":[` +
		`{"id":7,"created_at":"2026-03-01T00:00:00Z","key":"` + key(7) + `"},` +
		`{"id":3,"created_at":"2026-04-01T00:00:00Z","key":"` + key(3) + `"}]}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	k := open(t, path)
	// The newest key is the highest id, whatever the order in the file or the dates.
	if s, _ := k.Seal(ctx, []byte("x"), nil); keyID(s) != 7 {
		t.Fatalf("seals with key %d, want 7", keyID(s))
	}
	if info, err := k.Rotate(ctx); err != nil || info.ID != 8 {
		t.Fatalf("Rotate = %+v, %v", info, err)
	}
}

func TestConcurrentSealOpenRotate(t *testing.T) {
	k, _ := newRing(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if g == 0 && i%10 == 0 {
					if _, err := k.Rotate(ctx); err != nil {
						t.Error(err)
						return
					}
				}
				ad := []byte(fmt.Sprintf("g%d:%d", g, i))
				s, err := k.Seal(ctx, ad, ad)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := k.Open(ctx, s, ad); err != nil || !bytes.Equal(got, ad) {
					t.Errorf("round trip under concurrency: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(keys(t, k)); n != 6 {
		t.Fatalf("%d keys after 5 rotations", n)
	}
}

func TestConcurrentCreationKeepsOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "keyring.json")
	rings := make([]*Keyring, 4)
	var wg sync.WaitGroup
	for i := range rings {
		wg.Go(func() {
			k, err := Open(path)
			if err != nil {
				t.Error(err)
				return
			}
			rings[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed, _ := rings[0].Seal(ctx, []byte("x"), nil)
	for i, k := range rings {
		if _, err := k.Open(ctx, sealed, nil); err != nil {
			t.Fatalf("ring %d has a different first key: %v", i, err)
		}
	}
}

// TestRetire: a retired key's values no longer open, what the newer key sealed does; the file keeps the
// entry without material, so the id is never given again; another process sharing the file drops the key
// when it notices the change.
func TestRetire(t *testing.T) {
	k, path := newRing(t)
	other := open(t, path)
	old, _ := k.Seal(ctx, []byte("under key 1"), []byte("ad"))
	if _, err := k.Retire(ctx, 1); err == nil {
		t.Fatal("the newest (only) key was retired")
	}
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	fresh, _ := k.Seal(ctx, []byte("under key 2"), []byte("ad"))
	if _, err := k.Retire(ctx, 9); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Retire(unknown) = %v, want ErrNotFound", err)
	}
	retired, err := k.Retire(ctx, 1)
	if err != nil || retired.ID != 1 || retired.RetiredAt.IsZero() {
		t.Fatalf("Retire(1) = %+v, %v", retired, err)
	}
	if again, err := k.Retire(ctx, 1); err != nil || !again.RetiredAt.Equal(retired.RetiredAt) {
		t.Fatalf("Retire(1) again = %+v, %v; want it unchanged", again, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ff fileFormat
	if err := json.Unmarshal(b, &ff); err != nil || len(ff.Keys) != 2 || ff.Keys[0].Key != "" || ff.Keys[0].RetiredAt == nil || ff.Keys[1].Key == "" {
		t.Fatalf("file after retiring key 1: %s (%v)", b, err)
	}
	for name, ring := range map[string]*Keyring{"retiring": k, "other process": other, "reopened": open(t, path)} {
		if _, err := ring.Open(ctx, old, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: value under the retired key: %v, want ErrUnknownKey", name, err)
		}
		if got, err := ring.Open(ctx, fresh, []byte("ad")); err != nil || string(got) != "under key 2" {
			t.Errorf("%s: value under key 2: %q %v", name, got, err)
		}
		if list := keys(t, ring); len(list) != 2 || list[0].RetiredAt.IsZero() || !list[1].RetiredAt.IsZero() {
			t.Errorf("%s: keys %+v", name, list)
		}
	}
	if next, err := k.Rotate(ctx); err != nil || next.ID != 3 {
		t.Fatalf("Rotate after retiring = %+v, %v; want id 3", next, err)
	}
}

// TestSealFollowsAnotherProcessRotation: an instance that only seals (never opens a newer value) still
// seals under a key another process added, so that nothing new lands under a key about to be retired.
func TestSealFollowsAnotherProcessRotation(t *testing.T) {
	a, path := newRing(t)
	if _, err := open(t, path).Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Seal(ctx, []byte("x"), nil); keyID(s) != 2 {
		t.Fatalf("a seals under key %d after another process rotated, want 2", keyID(s))
	}
}

func TestSealedBy(t *testing.T) {
	k, _ := newRing(t)
	_, _ = k.Rotate(ctx)
	s, _ := k.Seal(ctx, []byte("x"), nil)
	if id, err := k.SealedBy(s); err != nil || id != 2 {
		t.Fatalf("SealedBy = %d, %v", id, err)
	}
	bad := bytes.Clone(s)
	bad[0] = 9
	for _, v := range [][]byte{nil, s[:20], bad} {
		if _, err := k.SealedBy(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("SealedBy(%d bytes) = %v, want ErrMalformed", len(v), err)
		}
	}
}

func TestRetiredEntriesInFiles(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	for name, tc := range map[string]struct {
		content string
		ok      bool
	}{
		"retired old key":          {`{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","retired_at":"2026-02-01T00:00:00Z"},{"id":2,"created_at":"2026-01-15T00:00:00Z","key":"` + key + `"}]}`, true},
		"retired key with key":     {`{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","retired_at":"2026-02-01T00:00:00Z","key":"` + key + `"},{"id":2,"created_at":"2026-01-15T00:00:00Z","key":"` + key + `"}]}`, false},
		"newest retired":           {`{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z","key":"` + key + `"},{"id":2,"created_at":"2026-01-15T00:00:00Z","retired_at":"2026-02-01T00:00:00Z"}]}`, false},
		"key missing, not retired": {`{"version":1,"keys":[{"id":1,"created_at":"2026-01-01T00:00:00Z"}]}`, false},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if tc.ok != (err == nil) {
				t.Fatalf("Open = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Fatal("error message contains key material")
			}
		})
	}
}
