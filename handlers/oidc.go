package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

// IdentityProvider is the OpenID Connect provider that /login offers, when one is
// configured. It speaks the protocol; the handlers only translate.
type IdentityProvider interface {
	// Name is shown as "Sign in with <Name>".
	Name() string
	// Issuer is the provider's issuer URL.
	Issuer() string
	// Unavailable says why signing in with the provider cannot work now ("" when it can),
	// and whether trying again may help.
	Unavailable() (problem string, retry bool)
	// Start begins a sign-in that returns to next and gives the provider's URL to send the
	// browser to.
	Start(c echo.Context, next string) (string, error)
	// Finish checks the provider's answer (state, code, ID token) and says who signed in.
	// Failures are EUNAUTHORIZED, or EUNAVAILABLE when the provider cannot be reached.
	Finish(c echo.Context) (*ProviderSignIn, error)
	// LogoutURL is where to send the browser to sign out at the provider too, or "".
	LogoutURL(ctx context.Context, idToken string) string
}

// ProviderSignIn is a sign-in the provider vouched for.
type ProviderSignIn struct {
	Identity junction.ProviderIdentity
	Grants   junction.ProviderGrants
	// IDToken is kept with the session for signing out at the provider.
	IDToken string
	Next    string
}

// LoginOIDC sends the browser to the identity provider: GET /login/oidc.
func (h *Handler) LoginOIDC(c echo.Context) error {
	if h.Provider == nil {
		return echo.ErrNotFound
	}
	next := SafeNext(c.QueryParam("next"))
	target, err := h.Provider.Start(c, next)
	if err != nil {
		return h.loginFailed(c, err, next)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// LoginOIDCCallback finishes a sign-in with the identity provider: GET /login/oidc/callback.
func (h *Handler) LoginOIDCCallback(c echo.Context) error {
	if h.Provider == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	in, err := h.Provider.Finish(c)
	if err != nil {
		if junction.ErrorCode(err) == junction.EUNAUTHORIZED {
			// No identity to name yet: the answer itself was refused.
			h.recordDenied(ctx, junction.ProviderIdentity{Issuer: h.Provider.Issuer()})
		}
		return h.loginFailed(c, err, "")
	}
	user, err := h.Users.SignInWithProvider(ctx, in.Identity, in.Grants)
	if err != nil {
		return h.loginFailed(c, err, in.Next)
	}
	if err := h.Sessions.SignInWithIDToken(c, user, in.IDToken); err != nil {
		return err
	}
	h.Logger.Info("signed in", "user", user.Email, "method", "oidc")
	return c.Redirect(http.StatusSeeOther, in.Next)
}

func (h *Handler) recordDenied(ctx context.Context, id junction.ProviderIdentity) {
	if h.Audit == nil {
		return
	}
	if err := h.Audit.RecordDenied(ctx, junction.AuditEntry{Actor: "anonymous", Action: "session.sign_in",
		Target:  junction.AuditTarget{Type: "session", Name: id.AuditTarget()},
		Details: map[string]any{"method": "oidc", "issuer": id.Issuer}}); err != nil {
		h.Logger.Error("audit", "err", err)
	}
}

// loginFailed shows the sign-in page with the reason a sign-in failed; internal errors go to
// the error handler.
func (h *Handler) loginFailed(c echo.Context, err error, next string) error {
	code := junction.ErrorCode(err)
	if code == junction.EINTERNAL {
		return err
	}
	f := h.loginForm(views.LoginForm{Next: SafeNext(next), Error: junction.ErrorMessage(err)})
	if code == junction.EUNAVAILABLE {
		f.ProviderProblem = "" // the error says it already
	}
	return render(c, statuses[code], views.LoginPage(h.page(c, "Sign in", ""), f))
}

// renderLogin renders the sign-in page with the sign-in methods that are on.
func (h *Handler) renderLogin(c echo.Context, status int, f views.LoginForm) error {
	return render(c, status, views.LoginPage(h.page(c, "Sign in", ""), h.loginForm(f)))
}

// loginForm adds the sign-in methods that are on to the page's state.
func (h *Handler) loginForm(f views.LoginForm) views.LoginForm {
	f.Password = !h.PasswordLoginOff
	if h.Provider != nil {
		f.Provider = h.Provider.Name()
		f.ProviderProblem, f.ProviderButton = h.Provider.Unavailable()
	}
	return f
}
