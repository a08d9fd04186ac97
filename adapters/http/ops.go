package web

import (
	"context"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

// healthz says the process is alive and serving; it checks nothing else, so an orchestrator does not restart
// a healthy process because the database is away.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

var errNotReady = newProblem(http.StatusServiceUnavailable, "not_ready",
	"The service cannot reach its database.", "サービスがデータベースに接続できません。")

// readyz says whether the service can do its work (the database answers) within a short time, so a load
// balancer takes the instance out of rotation while it cannot.
func (s *Server) readyz(c echo.Context) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.ReadyTimeout)
		defer cancel()
		if err := s.ready.Ping(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed",
				slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
			return errNotReady
		}
	}
	return c.String(http.StatusOK, "ok")
}

// static serves the embedded stylesheet (and whatever else static/ holds). The files change only with a
// release, so browsers may keep them a while.
func (s *Server) static(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) || name == "." {
		return errNotFound
	}
	data, err := fs.ReadFile(staticFiles, path.Join("static", name))
	if err != nil {
		return errNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, ctype, data)
}
