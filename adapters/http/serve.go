package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr and serves until ctx is cancelled, then shuts down gracefully: it stops accepting,
// lets requests in flight finish (up to Config.ShutdownTimeout) and returns nil. With a certificate and key
// configured it speaks HTTPS only, TLS 1.2 at least.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened (tests use port 0). It closes ln.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: s.e,
		// Timeouts keep slow or idle clients from holding connections (slowloris).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serve := func() error { return srv.Serve(ln) }
	if s.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("web: loading server.tls.cert_file/key_file: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}

	s.log.Info("http server listening", slog.String("addr", ln.Addr().String()), slog.Bool("tls", srv.TLSConfig != nil))
	done := make(chan error, 1)
	go func() { done <- serve() }()

	select {
	case err := <-done:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("web: graceful shutdown: %w", err)
	}
	s.log.Info("http server stopped", slog.String("addr", ln.Addr().String()))
	return nil
}
