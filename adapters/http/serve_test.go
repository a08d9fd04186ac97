package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	web "github.com/roumu/roumu/adapters/http"
)

// serveInBackground runs ServeListener on a free port and returns its URL and a stop function that cancels
// the context and returns Serve's result.
func serveInBackground(t *testing.T, srv *web.Server, scheme string) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	return scheme + "://" + ln.Addr().String(), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after cancel")
			return nil
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	h := newDefault(t)
	url, stop := serveInBackground(t, h.srv, "http")
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" || res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("healthz over plain HTTP: %d %q %v", res.StatusCode, body, res.Header)
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestServeRefusesABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := newDefault(t).srv.Serve(t.Context(), ln.Addr().String()); err == nil {
		t.Fatal("Serve on a busy address succeeded")
	}
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	h := newHarness(t, web.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	url, stop := serveInBackground(t, h.srv, "https")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	}()

	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion}}}
	}
	res, err := client(tls.VersionTLS12).Get(url + "/healthz")
	if err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("HTTPS healthz %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	if _, err := client(tls.VersionTLS11).Get(url + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
}

func TestServeWithMissingCertificate(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, web.Config{TLSCertFile: filepath.Join(dir, "cert.pem"), TLSKeyFile: filepath.Join(dir, "key.pem")})
	if err := h.srv.Serve(t.Context(), "127.0.0.1:0"); err == nil {
		t.Fatal("served without a certificate")
	}
}

// selfSigned writes a throw-away certificate for 127.0.0.1 and returns its files and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "roumu test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
