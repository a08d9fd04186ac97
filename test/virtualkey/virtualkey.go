// Package virtualkey makes emulated WebAuthn authenticator keys for tests (github.com/descope/virtualwebauthn).
package virtualkey

import (
	"crypto/ecdsa"
	"crypto/x509"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// New makes an emulated P-256 credential. virtualwebauthn encodes the public key's coordinates with
// big.Int.Bytes, which drops leading zero bytes; go-webauthn rightly refuses such a key ("x or y coordinate has
// invalid length"), which made about one run in 128 fail. Keys with a coordinate starting with 0x00 are skipped.
func New(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	for {
		cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		parsed, err := x509.ParsePKCS8PrivateKey(cred.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := parsed.(*ecdsa.PrivateKey).PublicKey.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		point := pub.Bytes() // 0x04 || X (32 bytes) || Y (32 bytes)
		if point[1] != 0 && point[33] != 0 {
			return cred
		}
	}
}
