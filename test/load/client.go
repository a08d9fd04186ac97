package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/netip"
	"time"
)

// newHTTPClient returns a keep-alive client that holds one idle connection per worker, so that a measured
// request never pays for a TCP handshake.
func newHTTPClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * workers
	t.MaxIdleConnsPerHost = 2 * workers
	t.IdleConnTimeout = 5 * time.Minute
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// api is a client of one service.
type api struct {
	http *http.Client
	base string
}

// request is one call: method, path, an optional body (JSON unless contentType says otherwise) and headers.
type request struct {
	method, path string
	token        string
	body         any // marshalled as JSON; []byte is sent as is
	contentType  string
	ifMatch      string
	forwardedFor string
}

// response is what came back: status, body and ETag.
type response struct {
	status int
	body   []byte
	etag   string
}

func (a *api) do(ctx context.Context, r request) (response, error) {
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		body = bytes.NewReader(buf)
		if ct == "" {
			ct = "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, a.base+r.path, body)
	if err != nil {
		return response{}, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	if r.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", r.forwardedFor)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, body: b, etag: resp.Header.Get("ETag")}, nil
}

// call does r and expects status want, decoding the body into out when out is not nil.
func (a *api) call(ctx context.Context, r request, want int, out any) (response, error) {
	resp, err := a.do(ctx, r)
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if resp.status != want {
		return resp, fmt.Errorf("%s %s: status %d, want %d: %.300s", r.method, r.path, resp.status, want, resp.body)
	}
	if out != nil {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return resp, fmt.Errorf("%s %s: decoding: %w", r.method, r.path, err)
		}
	}
	return resp, nil
}

type session struct {
	Token string `json:"token"`
	Stage string `json:"stage"`
}

// login logs in and returns the session.
func (a *api) login(ctx context.Context, tenant, login, password string) (session, error) {
	var s session
	_, err := a.call(ctx, request{method: http.MethodPost, path: "/api/v1/auth/login", forwardedFor: personAddress(tenant, login),
		body: map[string]string{"tenant": tenant, "login": login, "password": password}}, http.StatusOK, &s)
	return s, err
}

// personAddress is the address a person logs in from (X-Forwarded-For through the trusted loopback proxy):
// one of their own, as each clerk has a desk, so that the per-address login limit (10 a minute) counts each
// person apart rather than the whole harness behind 127.0.0.1.
func personAddress(tenant, login string) string {
	h := fnv.New32a()
	h.Write([]byte(tenant + "/" + login))
	s := h.Sum32()
	return netip.AddrFrom4([4]byte{10, byte(s >> 16), byte(s >> 8), byte(s)}).String()
}

// fullSession logs in with password; when the account must change it first, it changes it to newPassword and
// returns the full session that the change opens.
func (a *api) fullSession(ctx context.Context, tenant, login, password, newPassword string) (session, error) {
	s, err := a.login(ctx, tenant, login, password)
	if err != nil {
		return s, err
	}
	if s.Stage != "password_change" {
		return s, nil
	}
	var changed session
	_, err = a.call(ctx, request{method: http.MethodPost, path: "/api/v1/me/password", token: s.Token,
		body: map[string]string{"current_password": password, "new_password": newPassword}}, http.StatusOK, &changed)
	if err == nil && changed.Stage != "full" {
		err = fmt.Errorf("%s/%s: after the password change the session is %q, not full", tenant, login, changed.Stage)
	}
	return changed, err
}
