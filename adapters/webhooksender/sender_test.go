package webhooksender_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roumu/roumu/adapters/webhooksender"
	"github.com/roumu/roumu/ports"
)

// loopbackAllowed lets the sender reach httptest servers, which listen on 127.0.0.1.
func loopbackAllowed(t *testing.T, allowHTTP bool) ports.WebhookDestinations {
	t.Helper()
	d, err := ports.ParseWebhookDestinations(allowHTTP, []string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// receiver is a test server that counts the requests it gets.
type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

func newReceiver(t *testing.T, tls bool, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		h(w, req)
	})
	if tls {
		r.Server = httptest.NewTLSServer(handler)
	} else {
		r.Server = httptest.NewServer(handler)
	}
	t.Cleanup(r.Close)
	return r
}

func request(url string) ports.WebhookRequest {
	return ports.WebhookRequest{URL: url, Body: []byte(`{"id":"ev-1"}`), Headers: map[string]string{
		"Content-Type": "application/json", "Roumu-Event-Id": "ev-1", "Roumu-Signature": "t=1,v1=ab"}}
}

func TestSendPostsTheDeliveryOverHTTPS(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var body []byte
	srv := newReceiver(t, true, func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusAccepted)
	})
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, false),
		RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})
	status, err := s.Send(t.Context(), request(srv.URL+"/hook?k=1"))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("Send = %d, %v", status, err)
	}
	if got.Method != http.MethodPost || got.URL.RequestURI() != "/hook?k=1" || got.UserAgent() != "Roumu-Webhooks/1" ||
		got.Header.Get("Content-Type") != "application/json" || got.Header.Get("Roumu-Event-Id") != "ev-1" ||
		got.Header.Get("Roumu-Signature") != "t=1,v1=ab" || string(body) != `{"id":"ev-1"}` {
		t.Errorf("request = %s %s %v %s", got.Method, got.URL, got.Header, body)
	}
}

func TestAnswersAreReturnedWhateverTheirStatus(t *testing.T) {
	t.Parallel()
	for _, code := range []int{200, 204, 400, 410, 500, 503} {
		srv := newReceiver(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
		s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, true)})
		if status, err := s.Send(t.Context(), request(srv.URL)); status != code || err != nil {
			t.Errorf("answer %d: Send = %d, %v", code, status, err)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { followed.Store(true) })
	srv := newReceiver(t, false, mux.ServeHTTP)
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, true)})
	status, err := s.Send(t.Context(), request(srv.URL+"/hook"))
	if status != http.StatusTemporaryRedirect || err != nil || followed.Load() {
		t.Errorf("Send = %d, %v; followed %v", status, err, followed.Load())
	}
}

func TestALargeAnswerIsNotReadToTheEnd(t *testing.T) {
	t.Parallel()
	const offered = 256 << 20
	written := make(chan int, 1)
	srv := newReceiver(t, false, func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 32<<10)
		n := 0
		for n < offered {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	})
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, true)})
	if status, err := s.Send(t.Context(), request(srv.URL)); status != 200 || err != nil {
		t.Fatalf("Send = %d, %v", status, err)
	}
	n := <-written
	t.Logf("the receiver could write %d KiB of its %d MiB before the sender hung up", n>>10, offered>>20)
	if n >= offered {
		t.Errorf("the whole %d MiB answer was read", offered>>20)
	}
}

func TestASlowReceiverTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := newReceiver(t, false, func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, true), Timeout: 200 * time.Millisecond})
	began := time.Now()
	status, err := s.Send(t.Context(), request(srv.URL))
	if err == nil || status != 0 || time.Since(began) > 5*time.Second {
		t.Errorf("Send = %d, %v after %v; want a timeout after 200ms", status, err, time.Since(began))
	}
}

func TestNonPublicDestinationsAreRefusedWhenConnecting(t *testing.T) {
	t.Parallel()
	srv := newReceiver(t, false, func(http.ResponseWriter, *http.Request) {})
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	open, err := ports.ParseWebhookDestinations(true, nil) // http allowed, but no address range
	if err != nil {
		t.Fatal(err)
	}
	s := webhooksender.New(webhooksender.Config{Destinations: open, ConnectTimeout: time.Second})
	for _, url := range []string{
		srv.URL + "/hook?token=secret-credential",                   // 127.0.0.1
		"http://localhost" + port + "/hook?token=secret-credential", // a name resolving to loopback
		"http://[::ffff:127.0.0.1]" + port + "/",
		"http://[::1]" + port + "/",
		"http://10.255.255.1:9/",
		"http://192.168.0.1:9/",
		"http://169.254.169.254/latest/meta-data/",
		"http://100.64.0.1:9/",
		"http://0.0.0.0" + port + "/",
	} {
		status, err := s.Send(t.Context(), request(url))
		if !errors.Is(err, webhooksender.ErrDestinationRefused) || status != 0 {
			t.Errorf("%s: Send = %d, %v; want refused", url, status, err)
			continue
		}
		if strings.Contains(err.Error(), "secret-credential") {
			t.Errorf("the error quotes the URL: %v", err)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
}

func TestHTTPIsRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	srv := newReceiver(t, false, func(http.ResponseWriter, *http.Request) {})
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, false)})
	for _, url := range []string{srv.URL, "ftp://example.com/", "://bad"} {
		if _, err := s.Send(t.Context(), request(url)); !errors.Is(err, webhooksender.ErrDestinationRefused) {
			t.Errorf("%s: %v, want refused", url, err)
		}
	}
	if srv.hits.Load() != 0 {
		t.Error("an http receiver was reached")
	}
}

func TestACancelledContextStopsTheRequest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	srv := newReceiver(t, false, func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a hang-up only once the body is read
		cancel()
		<-r.Context().Done()
	})
	s := webhooksender.New(webhooksender.Config{Destinations: loopbackAllowed(t, true)})
	if _, err := s.Send(ctx, request(srv.URL)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
