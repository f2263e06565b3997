package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/views"
)

const (
	sessionCookie = "junction_session"
	keySessionID  = "sid"
	keyCSRF       = "csrf"
	ctxSession    = "junction.session"
	ctxAuthMethod = "junction.auth"
)

// sessionStore keeps the session in an encrypted, signed cookie. The cookie holds only a
// random session ID (whose hash is the database row that makes the session valid), the CSRF
// token and flash messages, so signing out or expiring a session works server-side.
type sessionStore struct {
	cookies *sessions.CookieStore
	users   junction.UserService
}

func newSessionStore(hashKey, blockKey []byte, users junction.UserService) *sessionStore {
	store := sessions.NewCookieStore(hashKey, blockKey)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(7 * 24 * 60 * 60),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	return &sessionStore{cookies: store, users: users}
}

// session returns the request's session, loading it once per request. A cookie that no
// longer decodes (after a key change, say) yields a fresh session.
func (s *sessionStore) session(c echo.Context) *sessions.Session {
	if sess, ok := c.Get(ctxSession).(*sessions.Session); ok {
		return sess
	}
	sess, _ := s.cookies.Get(c.Request(), sessionCookie)
	sess.Options.Secure = isHTTPS(c.Request())
	c.Set(ctxSession, sess)
	return sess
}

func (s *sessionStore) save(c echo.Context) error {
	return s.session(c).Save(c.Request(), c.Response())
}

// CSRFToken implements handlers.Sessions. A session gets its token on first use.
func (s *sessionStore) CSRFToken(c echo.Context) string {
	sess := s.session(c)
	if token, ok := sess.Values[keyCSRF].(string); ok && token != "" {
		return token
	}
	token := randomToken()
	sess.Values[keyCSRF] = token
	s.save(c)
	return token
}

// validCSRF reports whether the request carries the session's CSRF token in the form
// field or the header.
func (s *sessionStore) validCSRF(c echo.Context) bool {
	want, _ := s.session(c).Values[keyCSRF].(string)
	got := c.Request().Header.Get(views.CSRFHeaderName)
	if got == "" {
		got = c.FormValue(views.CSRFFieldName)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// SignIn implements handlers.Sessions: it ends any current session and starts a new one
// with a new CSRF token, so a session fixed before sign-in is worthless after it.
func (s *sessionStore) SignIn(c echo.Context, user *junction.User) error {
	return s.signIn(c, user, "")
}

// SignInWithIDToken implements handlers.Sessions: SignIn, with the identity provider's ID
// token kept (encrypted) in the session's database row rather than in the cookie.
func (s *sessionStore) SignInWithIDToken(c echo.Context, user *junction.User, idToken string) error {
	return s.signIn(c, user, idToken)
}

func (s *sessionStore) signIn(c echo.Context, user *junction.User, idToken string) error {
	ctx := c.Request().Context()
	sess := s.session(c)
	if old, ok := sess.Values[keySessionID].(string); ok {
		if err := s.users.DeleteSession(ctx, old); err != nil {
			return err
		}
	}
	id, err := s.users.CreateSession(ctx, user.ID)
	if err != nil {
		return err
	}
	if idToken != "" {
		if err := s.users.SetSessionIDToken(ctx, id, idToken); err != nil {
			return errors.Join(err, s.users.DeleteSession(ctx, id))
		}
	}
	sess.Values = map[any]any{keySessionID: id, keyCSRF: randomToken()}
	return s.save(c)
}

// IDToken implements handlers.Sessions.
func (s *sessionStore) IDToken(c echo.Context) (string, error) {
	id, ok := s.session(c).Values[keySessionID].(string)
	if !ok {
		return "", nil
	}
	return s.users.SessionIDToken(c.Request().Context(), id)
}

// SignOut implements handlers.Sessions.
func (s *sessionStore) SignOut(c echo.Context) error {
	sess := s.session(c)
	if id, ok := sess.Values[keySessionID].(string); ok {
		if err := s.users.DeleteSession(c.Request().Context(), id); err != nil {
			return err
		}
	}
	sess.Values = map[any]any{keyCSRF: randomToken()}
	return s.save(c)
}

// Flash implements handlers.Sessions.
func (s *sessionStore) Flash(c echo.Context, kind, message string) {
	sess := s.session(c)
	sess.AddFlash(kind + "\x00" + message)
	s.save(c)
}

// Flashes implements handlers.Sessions.
func (s *sessionStore) Flashes(c echo.Context) []views.Flash {
	sess := s.session(c)
	raw := sess.Flashes()
	if len(raw) == 0 {
		return nil
	}
	s.save(c)
	flashes := make([]views.Flash, 0, len(raw))
	for _, f := range raw {
		if str, ok := f.(string); ok {
			kind, msg, ok := strings.Cut(str, "\x00")
			if !ok {
				kind, msg = "info", str
			}
			flashes = append(flashes, views.Flash{Kind: kind, Message: msg})
		}
	}
	return flashes
}

// keyNewToken prefixes the session key of a token just created, by the page that shows it.
const keyNewToken = "newtoken:"

// FlashToken implements handlers.Sessions. The cookie is encrypted and signed; the token
// stays in it only until the page after the redirect takes it.
func (s *sessionStore) FlashToken(c echo.Context, path string, token views.NewToken) {
	b, err := json.Marshal(token)
	if err != nil {
		return
	}
	s.session(c).Values[keyNewToken+path] = string(b)
	s.save(c)
}

// TakeToken implements handlers.Sessions.
func (s *sessionStore) TakeToken(c echo.Context, path string) *views.NewToken {
	sess := s.session(c)
	raw, ok := sess.Values[keyNewToken+path].(string)
	if !ok {
		return nil
	}
	delete(sess.Values, keyNewToken+path)
	s.save(c)
	var token views.NewToken
	if json.Unmarshal([]byte(raw), &token) != nil {
		return nil
	}
	return &token
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// isHTTPS reports whether the browser reached the console over HTTPS, directly or through a
// TLS-terminating proxy that says so in X-Forwarded-Proto. Believing the header can only
// make cookies stricter.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
