package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction/views"
)

// ServicesPage shows the service catalog: GET /services.
func (h *Handler) ServicesPage(c echo.Context) error {
	return render(c, http.StatusOK, views.ServicesPage(h.page(c, "Services", "services")))
}
