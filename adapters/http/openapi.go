package web

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// openAPIDocument is the OpenAPI 3 description of /api/v1. Two tests keep it true: test/e2e walks the
// server's routes against its operations both ways and validates every request and answer of the end-to-end
// suite with it, and openapi_test.go checks each operation's x-token-scope against tokenScopes.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// openAPIMediaType is YAML's media type (RFC 9512), which takes no charset parameter: YAML is UTF-8 here.
const openAPIMediaType = "application/yaml"

// OpenAPIDocument returns the document served at GET /api/v1/openapi.yaml.
func OpenAPIDocument() []byte { return slices.Clone(openAPIDocument) }

// openAPI serves the document to anyone; it is counted against the client address like the notices.
func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, openAPIMediaType, openAPIDocument)
}
