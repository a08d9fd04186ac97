package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	web "github.com/roumu/roumu/adapters/http"
	"github.com/roumu/roumu/test/testenv"
)

// The OpenAPI document (adapters/http/openapi.yaml) and the handlers are kept from drifting apart twice over:
// TestOpenAPIMatchesRoutes holds the document's operations to the server's /api/v1 routes both ways, and
// every exchange of every test in this package under /api/v1 is validated against the document (serveApp
// wraps the client's transport in openAPIChecked), so an answer the document does not describe, a status it
// does not list, or a request it refuses that the service accepts fails the test that made it.

// openAPI is the document, loaded and validated once, with a router that finds a request's operation.
var openAPI = sync.OnceValues(func() (openAPISpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPIDocument())
	if err != nil {
		return openAPISpec{}, fmt.Errorf("loading openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return openAPISpec{}, fmt.Errorf("openapi.yaml is not a valid OpenAPI 3 document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return openAPISpec{}, fmt.Errorf("routing openapi.yaml: %w", err)
	}
	return openAPISpec{doc: doc, router: router}, nil
})

type openAPISpec struct {
	doc    *openapi3.T
	router routers.Router
}

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// TestOpenAPIMatchesRoutes walks the routes of the server as cmd/roumu wires it: every /api/v1 route is an
// operation of the document and every operation is a route. It also fetches the document as a client would.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	spec, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t)
	routes := map[string]bool{}
	for _, r := range newServer(t, env, testenv.PublicURL).Echo().Routes() {
		path, ok := strings.CutPrefix(r.Path, "/api/v1/")
		if !ok {
			continue
		}
		path = "/" + echoParam.ReplaceAllString(path, "{$1}")
		routes[r.Method+" "+path] = true
		if item := spec.doc.Paths.Value(path); item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s /api/v1%s is not in openapi.yaml", r.Method, path)
		}
	}
	documented := 0
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			documented++
			if !routes[method+" "+path] {
				t.Errorf("openapi.yaml documents %s /api/v1%s, which the server does not route", method, path)
			}
		}
	}
	if documented < 90 || len(routes) != documented {
		t.Errorf("%d routes under /api/v1, %d operations documented", len(routes), documented)
	}

	a := serveApp(t, env, newServer(t, env, testenv.PublicURL))
	res := a.send(http.MethodGet, "/api/v1/openapi.yaml", nil, nil)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/yaml" ||
		!bytes.Equal(res.body, web.OpenAPIDocument()) {
		t.Errorf("GET /api/v1/openapi.yaml without a token: %d %q, %d bytes", res.status, res.header.Get("Content-Type"), len(res.body))
	}
}

// openAPIChecked wraps a client's transport so that every exchange under /api/v1 is checked against the
// document; a mismatch fails t (the exchange itself goes through unchanged).
func openAPIChecked(t testing.TB, base http.RoundTripper) http.RoundTripper {
	return openAPICheck{t: t, base: base}
}

type openAPICheck struct {
	t    testing.TB
	base http.RoundTripper
}

func (c openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return c.base.RoundTrip(req)
	}
	body, err := drain(req.Body)
	if err != nil {
		return nil, err
	}
	sent := req.Clone(req.Context())
	sent.Body = replay(req.Body, body)
	res, err := c.base.RoundTrip(sent)
	if err != nil {
		return nil, err
	}
	answer, err := drain(res.Body)
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(answer))
	if err := checkExchange(req, body, res, answer); err != nil {
		c.t.Errorf("%s %s answered %d, which openapi.yaml does not describe: %v\n%s", req.Method, req.URL.RequestURI(),
			res.StatusCode, err, shorten(answer))
	}
	return res, nil
}

// drain reads and closes a body; nil stays empty.
func drain(r io.ReadCloser) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	defer r.Close()
	return io.ReadAll(r)
}

// replay is a fresh reader of a drained body, or nil for a request that had none.
func replay(orig io.ReadCloser, body []byte) io.ReadCloser {
	if orig == nil || orig == http.NoBody {
		return orig
	}
	return io.NopCloser(bytes.NewReader(body))
}

func shorten(b []byte) string {
	if len(b) > 512 {
		return string(b[:512]) + "…"
	}
	return string(b)
}

// validationOptions: every status must be documented; the bearer scheme only asks that a token be sent (the
// service decides whether it is good).
var validationOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return errors.New("no bearer token")
		}
		return nil
	},
}

// checkExchange validates one exchange. The answer must always match its operation. The request must match
// too when the service accepted it: tests send malformed requests on purpose, and what matters then is that
// the refusal is documented.
func checkExchange(req *http.Request, body []byte, res *http.Response, answer []byte) error {
	spec, err := openAPI()
	if err != nil {
		return err
	}
	in := req.Clone(req.Context())
	in.Body = replay(req.Body, body)
	route, params, err := spec.router.FindRoute(in)
	if err != nil {
		if res.StatusCode >= 400 {
			return nil // an unknown path or method, refused
		}
		return fmt.Errorf("no operation: %w", err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: in, PathParams: params, Route: route, Options: validationOptions}
	if err := openapi3filter.ValidateRequest(req.Context(), reqIn); err != nil && res.StatusCode < 400 {
		return fmt.Errorf("the service accepted a request the document refuses: %w", err)
	}
	return openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(answer)), Options: validationOptions,
	})
}
