package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// auditFilter reads ?actor=&action=&project=&since=&until= (dates as 2006-01-02).
func auditFilter(c echo.Context) (junction.AuditFilter, error) {
	page, err := pageParam(c)
	if err != nil {
		return junction.AuditFilter{}, err
	}
	f := junction.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Project: c.QueryParam("project"), Page: page}
	fields := junction.FieldErrors{}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				fields.Add(name, "Use a date such as 2026-11-27.")
				continue
			}
			*dst = t
		}
	}
	if !f.Until.IsZero() {
		f.Until = f.Until.Add(24 * time.Hour) // the whole day
	}
	return f, fields.Err()
}

// APIAudit lists the audit log: GET /api/v1/audit (admins), with filters.
func (h *Handler) APIAudit(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	list, total, err := h.Audit.FindAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return writeList(c, list, total, f.Page)
}

// AuditPage shows the audit log with filters: GET /audit (admins).
func (h *Handler) AuditPage(c echo.Context) error {
	f, err := auditFilter(c)
	if junction.ErrorCode(err) == junction.EINVALID {
		f.Since, f.Until = time.Time{}, time.Time{}
	} else if err != nil {
		return err
	}
	list, total, err := h.Audit.FindAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AuditPage(h.page(c, "Audit log", "audit"), views.AuditView{
		Entries: list, Total: total, Filter: f, Query: c.QueryParams()}))
}
