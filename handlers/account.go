package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// AccountPage shows the user's personal access tokens: GET /account.
func (h *Handler) AccountPage(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, views.AccountView{})
}

func (h *Handler) renderAccount(c echo.Context, status int, v views.AccountView) error {
	tokens, err := h.Users.FindTokens(c.Request().Context())
	if err != nil {
		return err
	}
	v.Tokens = tokens
	return render(c, status, views.AccountPage(h.page(c, "Your account", "account"), v))
}

// CreateToken creates a personal access token and shows it once: POST /account/tokens.
// The answer is the page itself rather than a redirect, so the secret is never stored
// anywhere, not even in a flash message.
func (h *Handler) CreateToken(c echo.Context) error {
	user := junction.UserFromContext(c.Request().Context())
	token, secret, err := h.Users.CreateToken(c.Request().Context(), user.ID, c.FormValue("name"))
	if isFormError(err) {
		return h.renderAccount(c, formStatus(err), views.AccountView{Errors: junction.ErrorFields(err)})
	} else if err != nil {
		return err
	}
	return h.renderAccount(c, http.StatusCreated, views.AccountView{NewToken: secret, NewTokenName: token.Name})
}

// DeleteToken revokes a token: POST /account/tokens/:id/delete.
func (h *Handler) DeleteToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return junction.Errorf(junction.ENOTFOUND, "Token not found.")
	}
	if err := h.Users.DeleteToken(c.Request().Context(), id); err != nil {
		return err
	}
	return h.redirect(c, "/account", "Token revoked. It stops working at once.")
}
