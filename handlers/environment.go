package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// EnvironmentsPage lists environments: GET /environments.
func (h *Handler) EnvironmentsPage(c echo.Context) error {
	envs, err := h.Environments.FindEnvironments(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.EnvironmentsPage(h.page(c, "Environments", "environments"), envs, "", nil))
}

// CreateEnvironment handles the add environment form: POST /environments.
func (h *Handler) CreateEnvironment(c echo.Context) error {
	ctx := c.Request().Context()
	env := &junction.Environment{Name: c.FormValue("name")}
	if err := h.Environments.CreateEnvironment(ctx, env); isFormError(err) {
		envs, ferr := h.Environments.FindEnvironments(ctx)
		if ferr != nil {
			return ferr
		}
		return render(c, formStatus(err), views.EnvironmentsPage(h.page(c, "Environments", "environments"), envs, c.FormValue("name"), junction.ErrorFields(err)))
	} else if err != nil {
		return err
	}
	return h.redirect(c, "/environments", "Environment "+env.Name+" added.")
}

// APIEnvironments lists environments: GET /api/v1/environments.
func (h *Handler) APIEnvironments(c echo.Context) error {
	envs, err := h.Environments.FindEnvironments(c.Request().Context())
	if err != nil {
		return err
	}
	return writePage(c, envs)
}

// APICreateEnvironment adds an environment: POST /api/v1/environments (admins).
func (h *Handler) APICreateEnvironment(c echo.Context) error {
	var env junction.Environment
	if err := decodeJSON(c, &env); err != nil {
		return err
	}
	if err := h.Environments.CreateEnvironment(c.Request().Context(), &env); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &env)
}
