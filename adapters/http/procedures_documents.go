package web

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// A procedure's documents: the filled form as PDF and, for the social-insurance forms, the 届書作成プログラム
// CSV. The API and the pages serve the same bytes as attachments; the module decides who may have them
// (admin and hr of the tenant) and audits every download, since the form carries the person's numbers.

func (s *Server) procedureDocumentRoutes(api *echo.Group) {
	id := validParams("id")
	for path, kind := range map[string]string{"/document.pdf": ports.DocumentPDF, "/efiling.csv": ports.DocumentEFilingCSV} {
		api.GET("/procedures/:id"+path, s.procedureDocument(kind), s.bearer(gateFull), id)
		s.e.GET("/procedures/:id"+path, s.procedureDocument(kind), s.session(memberArea, gateFull), id)
	}
}

func (s *Server) procedureDocument(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.documents == nil {
			return ports.NewError(ports.ErrUnavailable, "documents_unavailable",
				"Documents cannot be produced by this installation.", "この環境では書類を出力できません。")
		}
		doc, err := s.documents.Document(c.Request().Context(), principalOf(c), c.Param("id"), kind)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": doc.Name}))
		h.Set(echo.HeaderCacheControl, "no-store")
		return c.Blob(http.StatusOK, doc.ContentType, doc.Body)
	}
}
