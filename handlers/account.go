package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// AccountTokensPath is the page of the user's personal access tokens; /account shows it too.
const AccountTokensPath = "/account/tokens"

// AccountPage shows the user's personal access tokens, and once a token just created:
// GET /account and GET /account/tokens.
func (h *Handler) AccountPage(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, views.AccountView{New: h.Sessions.TakeToken(c, AccountTokensPath)})
}

func (h *Handler) renderAccount(c echo.Context, status int, v views.AccountView) error {
	tokens, err := h.Users.FindTokens(c.Request().Context())
	if err != nil {
		return err
	}
	v.Tokens = tokens
	return render(c, status, views.AccountPage(h.page(c, "Your account", "account"), v))
}

// CreateToken creates a personal access token: POST /account/tokens. It ends in a 303 to
// the token page, which shows the secret once from a one-time flash in the encrypted
// session cookie, so a reload never creates a second token.
func (h *Handler) CreateToken(c echo.Context) error {
	user := junction.UserFromContext(c.Request().Context())
	token, secret, err := h.Users.CreateToken(c.Request().Context(), user.ID, c.FormValue("name"))
	if isFormError(err) {
		return h.renderAccount(c, formStatus(err), views.AccountView{Errors: junction.ErrorFields(err)})
	} else if err != nil {
		return err
	}
	h.Sessions.FlashToken(c, AccountTokensPath, views.NewToken{Name: token.Name, Secret: secret})
	return h.redirect(c, AccountTokensPath, "")
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
	return h.redirect(c, AccountTokensPath, "Token revoked. It stops working at once.")
}
