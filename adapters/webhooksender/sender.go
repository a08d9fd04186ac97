// Package webhooksender implements ports.WebhookSender over net/http, as a client that cannot be turned
// against the service's own network (SSRF): it connects only to addresses the operator's
// ports.WebhookDestinations allows, checked on the address each connection actually goes to, after name
// resolution, so a host name that resolves to a public address when the subscription is saved and to
// 127.0.0.1 or 169.254.169.254 later (DNS rebinding) is refused. It follows no redirects, uses no proxy,
// bounds the time of every step, and reads at most 64 KiB of an answer.
package webhooksender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/roumu/roumu/ports"
)

// UserAgent names the sender to receivers.
const UserAgent = "Roumu-Webhooks/1"

// Defaults of Config.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 10 * time.Second
	// maxResponseBytes is how much of an answer is read: the status is all that counts, and reading a little
	// lets the connection be reused.
	maxResponseBytes = 64 << 10
)

// ErrDestinationRefused is the error (wrapped) of a request to a destination the policy does not allow.
var ErrDestinationRefused = errors.New("webhook destination refused")

// Config configures a Sender. Zero durations take the defaults.
type Config struct {
	Destinations   ports.WebhookDestinations
	ConnectTimeout time.Duration // TCP connect and TLS handshake, each
	Timeout        time.Duration // the whole request, answer included
	// RootCAs are the certificate authorities trusted for https; nil is the system's.
	RootCAs *x509.CertPool
}

// Sender implements ports.WebhookSender. Safe for concurrent use.
type Sender struct {
	client       *http.Client
	destinations ports.WebhookDestinations
}

var _ ports.WebhookSender = (*Sender)(nil)

// New builds a Sender.
func New(cfg Config) *Sender {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error { return checkAddress(cfg.Destinations, address) }}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, past the address check
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Sender{destinations: cfg.Destinations, client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect is an answer like any other: following it would reach a destination never checked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// checkAddress is the dialer's last word: it runs for every address a connection is about to be made to,
// after resolution.
func checkAddress(d ports.WebhookDestinations, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unreadable address %q", ErrDestinationRefused, address)
	}
	if !d.AddrAllowed(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrDestinationRefused, ap.Addr())
	}
	return nil
}

// Send implements ports.WebhookSender: one POST, no redirects followed. Errors never contain the URL.
func (s *Sender) Send(ctx context.Context, r ports.WebhookRequest) (int, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return 0, fmt.Errorf("%w: unreadable URL", ErrDestinationRefused)
	}
	if !s.destinations.SchemeAllowed(u.Scheme) {
		return 0, fmt.Errorf("%w: scheme %q is not allowed", ErrDestinationRefused, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, fmt.Errorf("%w: unusable URL", ErrDestinationRefused)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the URL, which may hold the receiver's credentials
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	return resp.StatusCode, nil
}
