// Package clamav scans uploads for malware with ClamAV's daemon (clamd) over its INSTREAM protocol, on TCP or a
// unix socket, and offers EICARScanner, a scanner for tests and the demo that finds only the EICAR test file.
package clamav

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/roumu/roumu/ports"
)

// Defaults: clamd's own StreamMaxLength is 25 MiB; chunks of 64 KiB keep memory flat.
const (
	DefaultMaxSize   = 25 << 20
	DefaultChunkSize = 64 << 10
	DefaultTimeout   = 30 * time.Second
)

// Scanner talks to clamd. It opens one connection per scan, so it is safe for concurrent use.
type Scanner struct {
	network, address string
	maxSize          int64
	chunkSize        int
	timeout          time.Duration
	dialer           net.Dialer
}

// Option configures a Scanner.
type Option func(*Scanner)

// WithMaxSize sets the largest file accepted; keep it at or below clamd's StreamMaxLength.
func WithMaxSize(n int64) Option { return func(s *Scanner) { s.maxSize = n } }

// WithChunkSize sets the size of the INSTREAM chunks.
func WithChunkSize(n int) Option { return func(s *Scanner) { s.chunkSize = n } }

// WithTimeout bounds one scan, connection included, when the context has no earlier deadline.
func WithTimeout(d time.Duration) Option { return func(s *Scanner) { s.timeout = d } }

// New returns a scanner for clamd at address on network "tcp" (host:port) or "unix" (socket path).
func New(network, address string, opts ...Option) *Scanner {
	s := &Scanner{network: network, address: address, maxSize: DefaultMaxSize, chunkSize: DefaultChunkSize, timeout: DefaultTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ ports.MalwareScanner = (*Scanner)(nil)

// errTooLarge is the boundary error for a file above the size limit.
func errTooLarge(limit int64) error {
	return ports.NewError(ports.ErrInvalid, "attachment_too_large",
		fmt.Sprintf("the file is larger than %d bytes", limit),
		fmt.Sprintf("ファイルが大きすぎます（上限 %d バイト）", limit))
}

func errUnavailable(err error) error {
	return fmt.Errorf("%w: %w", ports.NewError(ports.ErrUnavailable, "scanner_unavailable",
		"the malware scanner is not available", "ウイルス検査を実行できません"), err)
}

// Scan streams r to clamd and returns its verdict. A file over the size limit is refused without a verdict;
// any failure to get a verdict is ErrUnavailable, never "clean".
func (s *Scanner) Scan(ctx context.Context, r io.Reader) (ports.ScanResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.dialer.DialContext(ctx, s.network, s.address)
	if err != nil {
		return ports.ScanResult{}, errUnavailable(err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) }) // unblock on cancel
	defer stop()

	sendErr := s.send(conn, r)
	switch {
	case errors.Is(sendErr, errLimit):
		return ports.ScanResult{}, errTooLarge(s.maxSize)
	case sendErr != nil && !errors.Is(sendErr, errWrite):
		return ports.ScanResult{}, sendErr // reading the file failed: the caller's error
	}
	// Read the reply even after a write error: clamd may have closed the stream with its own verdict (its
	// size limit) and that explains the failure better than the broken pipe.
	reply, readErr := bufio.NewReader(conn).ReadString(0)
	if readErr != nil && reply == "" {
		if sendErr != nil {
			return ports.ScanResult{}, errUnavailable(sendErr)
		}
		if ctx.Err() != nil {
			return ports.ScanResult{}, errUnavailable(ctx.Err())
		}
		return ports.ScanResult{}, errUnavailable(readErr)
	}
	return s.parse(strings.TrimRight(reply, "\x00\n"))
}

var (
	errLimit = errors.New("clamav: size limit")
	errWrite = errors.New("clamav: write")
)

// send writes the INSTREAM command, the file in length-prefixed chunks and the zero-length end chunk.
func (s *Scanner) send(w io.Writer, r io.Reader) error {
	bw := bufio.NewWriterSize(w, s.chunkSize+4)
	if _, err := bw.WriteString("zINSTREAM\x00"); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	buf := make([]byte, s.chunkSize)
	var sent int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			sent += int64(n)
			if sent > s.maxSize {
				return errLimit
			}
			var size [4]byte
			binary.BigEndian.PutUint32(size[:], uint32(n))
			if _, werr := bw.Write(size[:]); werr != nil {
				return fmt.Errorf("%w: %w", errWrite, werr)
			}
			if _, werr := bw.Write(buf[:n]); werr != nil {
				return fmt.Errorf("%w: %w", errWrite, werr)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("clamav: reading the file: %w", err)
		}
	}
	if _, err := bw.Write([]byte{0, 0, 0, 0}); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	return nil
}

// parse reads clamd's reply: "stream: OK", "stream: NAME FOUND", or "… ERROR".
func (s *Scanner) parse(reply string) (ports.ScanResult, error) {
	body, ok := strings.CutPrefix(reply, "stream: ")
	switch {
	case ok && body == "OK":
		return ports.ScanResult{Clean: true}, nil
	case ok && strings.HasSuffix(body, " FOUND"):
		return ports.ScanResult{Signature: strings.TrimSuffix(body, " FOUND")}, nil
	case strings.Contains(reply, "size limit exceeded"):
		return ports.ScanResult{}, errTooLarge(s.maxSize)
	}
	return ports.ScanResult{}, errUnavailable(fmt.Errorf("clamd replied %q", reply))
}

// Ping reports whether clamd answers PING with PONG; readiness checks use it.
func (s *Scanner) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.dialer.DialContext(ctx, s.network, s.address)
	if err != nil {
		return errUnavailable(err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return errUnavailable(err)
	}
	reply, err := bufio.NewReader(conn).ReadString(0)
	if err != nil || strings.TrimRight(reply, "\x00\n") != "PONG" {
		return errUnavailable(fmt.Errorf("clamd replied %q (%v)", reply, err))
	}
	return nil
}

var _ ports.Pinger = (*Scanner)(nil)
