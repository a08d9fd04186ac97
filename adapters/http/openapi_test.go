package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	web "github.com/roumu/roumu/adapters/http"
)

// loadOpenAPI parses and validates the served document (its examples included).
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPIDocument())
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// TestOpenAPIIsServed fetches the document without a token.
func TestOpenAPIIsServed(t *testing.T) {
	h := newDefault(t)
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Body.String() != string(web.OpenAPIDocument()) {
		t.Fatal("the served document is not the embedded one")
	}
	loadOpenAPI(t)
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPITokenScopes holds every operation's x-token-scope to the scope table the adapter must meet
// (wantScope): an operation open to API tokens names its scope, one closed to them names none.
func TestOpenAPITokenScopes(t *testing.T) {
	doc := loadOpenAPI(t)
	checked := 0
	for path, item := range doc.Paths.Map() {
		route := "/api/v1" + pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			got, _ := op.Extensions["x-token-scope"].(string)
			if want := wantScope(method, route); got != want {
				t.Errorf("%s %s: x-token-scope %q, want %q", method, path, got, want)
			}
			checked++
		}
	}
	if checked < 90 {
		t.Fatalf("only %d operations in the document", checked)
	}
}
