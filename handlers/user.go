package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

func (h *Handler) requireUserManager(c echo.Context) error {
	if !junction.UserFromContext(c.Request().Context()).CanManageUsers() {
		return junction.Errorf(junction.EFORBIDDEN, "Only admins can manage users.")
	}
	return nil
}

func (h *Handler) renderUsers(c echo.Context, status int, f views.UserForm) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	users, total, err := h.Users.FindUsers(c.Request().Context(), page)
	if err != nil {
		return err
	}
	return render(c, status, views.UsersPage(h.page(c, "Users", "users"), users, total, page, f))
}

// UsersPage lists users: GET /users (admins).
func (h *Handler) UsersPage(c echo.Context) error {
	if err := h.requireUserManager(c); err != nil {
		return err
	}
	return h.renderUsers(c, http.StatusOK, views.UserForm{})
}

// CreateUser handles the add user form: POST /users (admins).
func (h *Handler) CreateUser(c echo.Context) error {
	if err := h.requireUserManager(c); err != nil {
		return err
	}
	user := &junction.User{Email: c.FormValue("email"), IsAdmin: c.FormValue("admin") == "true"}
	if err := h.Users.CreateUser(c.Request().Context(), user, c.FormValue("password")); isFormError(err) {
		return h.renderUsers(c, formStatus(err), views.UserForm{Email: c.FormValue("email"), Admin: user.IsAdmin, Errors: junction.ErrorFields(err)})
	} else if err != nil {
		return err
	}
	h.Logger.Info("user added", "user", user.Email, "by", junction.UserFromContext(c.Request().Context()).Email)
	return h.redirect(c, "/users", user.Email+" can now sign in.")
}
