package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// A procedure's attachments (the scans a filing needs): uploaded as multipart/form-data (field "file") or
// as a raw body with its Content-Type and ?name=, listed, downloaded as attachments (no-store) and removed.
// The module scans, checks and stores them; this adapter only bounds the body and carries the bytes.

// attachmentBodyLimit bounds an upload's body: the file's limit and room for the multipart framing.
const attachmentBodyLimit = ports.AttachmentMaxBytes + 64<<10

// isAttachmentUpload tells the general body limit to leave an attachment upload to attachmentLimit.
func isAttachmentUpload(c echo.Context) bool {
	p := strings.TrimPrefix(c.Request().URL.Path, "/api/v1")
	parts := strings.Split(p, "/")
	return c.Request().Method == http.MethodPost && len(parts) == 4 && parts[1] == "procedures" && parts[3] == "attachments"
}

// attachmentLimit bounds an attachment upload's body before anything reads it.
func attachmentLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > attachmentBodyLimit {
			return attachmentTooLarge()
		}
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, attachmentBodyLimit)
		return next(c)
	}
}

func attachmentTooLarge() error {
	return newProblem(http.StatusRequestEntityTooLarge, "attachment_too_large",
		"The file is larger than 10 MiB.", "ファイルが大きすぎます（上限 10 MiB）。")
}

func (s *Server) procedureAttachmentRoutes(api *echo.Group) {
	member := s.bearer(gateFull)
	page := s.session(memberArea, gateFull)
	id, ids := validParams("id"), validParams("id", "aid")
	api.POST("/procedures/:id/attachments", s.apiAddAttachment, attachmentLimit, member, id)
	api.GET("/procedures/:id/attachments", s.apiListAttachments, member, id)
	api.GET("/procedures/:id/attachments/:aid", s.downloadAttachment, member, ids)
	api.DELETE("/procedures/:id/attachments/:aid", s.apiRemoveAttachment, member, ids)
	s.e.POST("/procedures/:id/attachments", s.addAttachmentSubmit, attachmentLimit, s.csrf, page, id)
	s.e.GET("/procedures/:id/attachments/:aid", s.downloadAttachment, page, ids)
	s.e.POST("/procedures/:id/attachments/:aid/remove", s.removeAttachmentSubmit, s.csrf, page, ids)
}

func (s *Server) attachmentsPort() (ports.ProcedureAttachments, error) {
	if s.attachments == nil {
		return nil, ports.NewError(ports.ErrUnavailable, "attachments_unavailable",
			"Attachments are not available on this installation.", "この環境ではファイルを添付できません。")
	}
	return s.attachments, nil
}

// attachmentJSON is an attachment as the API shows it.
type attachmentJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
	URL         string    `json:"url"`
}

func toAttachmentJSON(v ports.AttachmentView) attachmentJSON {
	return attachmentJSON{ID: v.ID, Name: v.Name, ContentType: v.ContentType, Size: v.Size, SHA256: v.SHA256,
		UploadedBy: v.UploadedBy, CreatedAt: v.CreatedAt.UTC(),
		URL: "/api/v1/procedures/" + v.ProcedureID + "/attachments/" + v.ID}
}

// upload returns the uploaded file's name, declared type and bytes: the multipart field "file", or the raw
// body with ?name=.
func upload(c echo.Context) (name, contentType string, body io.Reader, closeFn func(), err error) {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEMultipartForm {
		return c.QueryParam("name"), mt, req.Body, func() {}, nil
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if tooLarge(err) || isMaxBytes(err) {
			return "", "", nil, nil, attachmentTooLarge()
		}
		return "", "", nil, nil, ports.Invalid("validation_failed", "Choose a file to attach.", "添付するファイルを選んでください。",
			ports.FieldError{Field: "file", Code: "required", MessageEN: "is required", MessageJA: "必須です"})
	}
	f, err := fh.Open()
	if err != nil {
		return "", "", nil, nil, err
	}
	return fh.Filename, fh.Header.Get(echo.HeaderContentType), f, func() { _ = f.Close() }, nil
}

// addAttachment passes the upload to the module; a body cut by the limit, or the module's size refusal, is 413.
func (s *Server) addAttachment(c echo.Context) (ports.AttachmentView, error) {
	port, err := s.attachmentsPort()
	if err != nil {
		return ports.AttachmentView{}, err
	}
	name, typ, body, done, err := upload(c)
	if err != nil {
		return ports.AttachmentView{}, err
	}
	defer done()
	v, err := port.AddAttachment(c.Request().Context(), principalOf(c), c.Param("id"), name, typ, body)
	if e, ok := ports.AsError(err); (ok && e.Code == "attachment_too_large") || isMaxBytes(err) {
		return ports.AttachmentView{}, attachmentTooLarge()
	}
	return v, err
}

func (s *Server) apiAddAttachment(c echo.Context) error {
	v, err := s.addAttachment(c)
	if err != nil {
		return err
	}
	j := toAttachmentJSON(v)
	c.Response().Header().Set(echo.HeaderLocation, j.URL)
	return writeJSON(c, http.StatusCreated, j)
}

func (s *Server) apiListAttachments(c echo.Context) error {
	port, err := s.attachmentsPort()
	if err != nil {
		return err
	}
	return replyItems(c, toAttachmentJSON)(port.ListAttachments(c.Request().Context(), principalOf(c), c.Param("id")))
}

// downloadAttachment serves the bytes as an attachment, never rendered inline, never cached.
func (s *Server) downloadAttachment(c echo.Context) error {
	port, err := s.attachmentsPort()
	if err != nil {
		return err
	}
	f, err := port.GetAttachment(c.Request().Context(), principalOf(c), c.Param("id"), c.Param("aid"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, f.ContentType, f.Body)
}

func (s *Server) apiRemoveAttachment(c echo.Context) error {
	port, err := s.attachmentsPort()
	if err != nil {
		return err
	}
	if err := port.RemoveAttachment(c.Request().Context(), principalOf(c), c.Param("id"), c.Param("aid")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// addAttachmentSubmit is the page's upload form; a refusal shows the procedure again with the message.
func (s *Server) addAttachmentSubmit(c echo.Context) error {
	if _, err := s.addAttachment(c); err != nil {
		return s.refusedOnProcedure(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/procedures/"+c.Param("id")+"?notice=attached")
}

func (s *Server) removeAttachmentSubmit(c echo.Context) error {
	port, err := s.attachmentsPort()
	if err == nil {
		err = port.RemoveAttachment(c.Request().Context(), principalOf(c), c.Param("id"), c.Param("aid"))
	}
	if err != nil {
		return s.refusedOnProcedure(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/procedures/"+c.Param("id")+"?notice=detached")
}

// refusedOnProcedure shows the procedure with a refusal the user can act on (422, 409, 413, 503); others
// go to the error page.
func (s *Server) refusedOnProcedure(c echo.Context, err error) error {
	var pr *problemError
	if errors.As(err, &pr) && pr.status == http.StatusRequestEntityTooLarge {
		return s.showProcedure(c, pr.status, nil, &message{JA: pr.ja, EN: pr.en})
	}
	e, ok := ports.AsError(err)
	if !ok || !(errors.Is(err, ports.ErrInvalid) || errors.Is(err, ports.ErrConflict) || errors.Is(err, ports.ErrUnavailable)) {
		return err
	}
	status := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, ports.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, ports.ErrUnavailable):
		status = http.StatusServiceUnavailable
	}
	return s.showProcedure(c, status, nil, &message{JA: e.MessageJA, EN: e.MessageEN})
}
