package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	web "github.com/roumu/roumu/adapters/http"
)

const peer = "203.0.113.5:4321" // the default test client address (TEST-NET-3)

// syncBuffer is a log sink the server may write from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	t    *testing.T
	fake *fakeAccounts
	srv  *web.Server
	logs *syncBuffer
}

func newHarness(t *testing.T, cfg web.Config, deps ...func(*web.Deps)) *harness {
	t.Helper()
	h := &harness{t: t, fake: newFake(), logs: &syncBuffer{}}
	d := web.Deps{Accounts: h.fake, MFA: h.fake, APITokens: fakeAPITokens{}, Employees: fakeEmployees{},
		Procedures: fakeProcedures{}, Notices: fakeNotices{}, Operations: fakeOperations{}, AuditSearch: fakeAuditSearch{},
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, fn := range deps {
		fn(&d)
	}
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	srv, err := web.New(cfg, d)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	h.srv = srv
	return h
}

func newDefault(t *testing.T) *harness { return newHarness(t, web.Config{}) }

// request is one HTTP request to the handler.
type request struct {
	method, path string
	body         io.Reader
	contentType  string
	token        string
	header       http.Header
	remote       string
}

func (h *harness) do(r request) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(r.method, r.path, r.body)
	req.RemoteAddr = peer
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// api sends a JSON request (body "" means none).
func (h *harness) api(method, path, token, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := request{method: method, path: path, token: token}
	if body != "" {
		r.body, r.contentType = strings.NewReader(body), "application/json"
	}
	return h.do(r)
}

type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	DetailJA  string `json:"detail_ja"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field     string `json:"field"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageJA string `json:"message_ja"`
	} `json:"errors"`
}

// mustProblem checks that rec is a complete problem document with the given status and code.
func mustProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body: %v: %s", err, rec.Body)
	}
	if p.Status != status || p.Title == "" || p.Type == "" || p.Detail == "" || p.DetailJA == "" || p.Code == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	if code != "" && p.Code != code {
		t.Fatalf("code %q, want %q; body %s", p.Code, code, rec.Body)
	}
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") {
		t.Fatalf("request_id %q does not match X-Request-Id %q", p.RequestID, rec.Header().Get("X-Request-Id"))
	}
	return p
}

func mustJSON(t *testing.T, rec *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("body: %v: %s", err, rec.Body)
		}
	}
}

// browser keeps cookies between page requests, like a browser would.
type browser struct {
	h       *harness
	cookies map[string]*http.Cookie
	header  http.Header
}

func (h *harness) browser() *browser {
	return &browser{h: h, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

func (b *browser) send(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.h.t.Helper()
	r := request{method: method, path: path, header: b.header.Clone()}
	if form != nil {
		r.body, r.contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	for _, c := range b.cookies {
		r.header.Add("Cookie", c.Name+"="+c.Value)
	}
	rec := b.h.do(r)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

func (b *browser) get(path string) *httptest.ResponseRecorder {
	return b.send(http.MethodGet, path, nil)
}

// post submits a form with the CSRF token a page of the site would carry.
func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	b.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c, ok := b.cookies["roumu_csrf"]; ok && form.Get("_csrf") == "" {
		form.Set("_csrf", c.Value)
	}
	return b.send(http.MethodPost, path, form)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login opens a member session through the login form.
func (b *browser) login(login string) {
	b.h.t.Helper()
	page := b.get("/login")
	m := csrfField.FindStringSubmatch(page.Body.String())
	if m == nil || m[1] != b.cookies["roumu_csrf"].Value {
		b.h.t.Fatalf("login page has no CSRF field matching the cookie: %s", page.Body)
	}
	rec := b.post("/login", url.Values{"tenant": {tenantCode}, "login": {login}, "password": {goodPassword}})
	if rec.Code != http.StatusSeeOther {
		b.h.t.Fatalf("login %s: status %d: %s", login, rec.Code, rec.Body)
	}
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != location {
		t.Fatalf("got %d Location %q, want 303 to %q; body %s", rec.Code, rec.Header().Get("Location"), location, rec.Body)
	}
}

func wantPage(t *testing.T, rec *httptest.ResponseRecorder, status int, contains ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q, want text/html", ct)
	}
	for _, s := range contains {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("page lacks %q:\n%s", s, rec.Body)
		}
	}
}

// useCases returns the port calls other than Authenticate.
func (f *fakeAccounts) useCases() []string {
	var out []string
	for _, c := range f.Calls() {
		if c != "Authenticate" {
			out = append(out, c)
		}
	}
	return out
}
