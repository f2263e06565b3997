package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// LoginPage shows the sign-in form: GET /login.
func (h *Handler) LoginPage(c echo.Context) error {
	next := SafeNext(c.QueryParam("next"))
	if junction.UserFromContext(c.Request().Context()) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return h.renderLogin(c, http.StatusOK, views.LoginForm{Next: next})
}

// Login checks the credentials and starts a session: POST /login.
func (h *Handler) Login(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.LoginForm{Email: c.FormValue("email"), Next: SafeNext(c.FormValue("next"))}
	if h.PasswordLoginOff {
		form.Error = "Sign-in with a password is turned off on this console."
		if h.Provider != nil {
			form.Error += " Sign in with " + h.Provider.Name() + " instead."
		}
		return h.renderLogin(c, http.StatusForbidden, form)
	}
	user, err := h.Users.Authenticate(ctx, form.Email, c.FormValue("password"))
	if junction.ErrorCode(err) == junction.EUNAUTHORIZED {
		form.Error = junction.ErrorMessage(err)
		return h.renderLogin(c, http.StatusUnauthorized, form)
	} else if err != nil {
		return err
	}
	if err := h.Sessions.SignIn(c, user); err != nil {
		return err
	}
	h.Logger.Info("signed in", "user", user.Email)
	return h.redirect(c, form.Next, "")
}

// LogoutPage asks to confirm signing out: GET /logout.
func (h *Handler) LogoutPage(c echo.Context) error {
	if junction.UserFromContext(c.Request().Context()) == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return render(c, http.StatusOK, views.LogoutPage(h.page(c, "Sign out", "")))
}

// Logout ends the session: POST /logout. A session started at the identity provider is
// also ended there when the provider offers that (RP-initiated logout); the provider then
// sends the browser back to /login.
func (h *Handler) Logout(c echo.Context) error {
	idToken, err := h.Sessions.IDToken(c)
	if err != nil {
		h.Logger.Warn("read ID token of session", "err", err)
	}
	if err := h.Sessions.SignOut(c); err != nil {
		return err
	}
	h.Sessions.Flash(c, "info", "You have signed out.")
	if h.Provider != nil && idToken != "" {
		if target := h.Provider.LogoutURL(c.Request().Context(), idToken); target != "" {
			return c.Redirect(http.StatusSeeOther, target)
		}
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
