package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/handlers"
)

// OIDCConfig configures sign-in with an OpenID Connect provider (JUNCTION_OIDC_*).
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Name is shown as "Sign in with <Name>"; empty means the issuer's host.
	Name string
	// AdminGroup and ProjectRoles map the provider's groups claim to roles (see
	// junction.ProviderRoles and junction.ParseProjectRoles).
	AdminGroup   string
	ProjectRoles string
	// HTTPClient reaches the provider; nil means a client with a 10-second timeout.
	HTTPClient *http.Client
}

// Enabled reports whether any part of the provider is configured; a part without the rest
// is a configuration error to report, not a setting to ignore.
func (c OIDCConfig) Enabled() bool {
	return c.Issuer != "" || c.ClientID != "" || c.ClientSecret != "" || c.Name != "" || c.AdminGroup != "" || c.ProjectRoles != ""
}

// CallbackPath is where the provider sends the browser back; register PublicURL + CallbackPath
// as the client's redirect URI at the provider.
const CallbackPath = "/login/oidc/callback"

// OIDCProvider is a configured OpenID Connect provider. Its discovery document is fetched on
// first use and fetched again on the next sign-in for as long as that fails, so a provider
// that comes up after the console works without a restart. It keeps nothing per sign-in:
// the flow state travels in a sealed cookie, so any replica can finish a sign-in.
type OIDCProvider struct {
	cfg       OIDCConfig
	name      string
	roles     junction.ProviderRoles
	configErr error
	client    *http.Client
	publicURL string

	discovering sync.Mutex // one discovery at a time
	mu          sync.Mutex
	disc        *oidcDiscovery
	discErr     error
	attempts    int
}

// oidcDiscovery is what the provider's discovery document says.
type oidcDiscovery struct {
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	endSession string
	scopes     []string
}

// NewOIDCProvider checks the configuration; a bad one makes a provider that never signs
// anyone in and says why (ConfigError), rather than stopping the console.
func NewOIDCProvider(cfg OIDCConfig) *OIDCProvider {
	cfg.Issuer = strings.TrimSpace(cfg.Issuer)
	p := &OIDCProvider{cfg: cfg, name: strings.TrimSpace(cfg.Name), client: cfg.HTTPClient,
		roles: junction.ProviderRoles{AdminGroup: strings.TrimSpace(cfg.AdminGroup)}}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	u, err := url.Parse(cfg.Issuer)
	if p.name == "" && err == nil {
		p.name = u.Host
	}
	if p.name == "" {
		p.name = "your identity provider"
	}
	switch {
	case cfg.Issuer == "":
		p.configErr = errors.New("JUNCTION_OIDC_ISSUER is not set")
	case err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
		p.configErr = fmt.Errorf("JUNCTION_OIDC_ISSUER %q is not an http(s) URL", cfg.Issuer)
	case cfg.ClientID == "":
		p.configErr = errors.New("JUNCTION_OIDC_CLIENT_ID is not set")
	case cfg.ClientSecret == "":
		p.configErr = errors.New("JUNCTION_OIDC_CLIENT_SECRET is not set")
	}
	if p.configErr == nil {
		if p.roles.Projects, err = junction.ParseProjectRoles(cfg.ProjectRoles); err != nil {
			p.configErr = fmt.Errorf("JUNCTION_OIDC_PROJECT_ROLES: %w", err)
		}
	}
	return p
}

// Name is the provider's name on the sign-in page.
func (p *OIDCProvider) Name() string { return p.name }

// Issuer is the configured issuer URL.
func (p *OIDCProvider) Issuer() string { return p.cfg.Issuer }

// ConfigError says what is wrong with the configuration, or nil.
func (p *OIDCProvider) ConfigError() error { return p.configErr }

// ProjectRoles returns the group to project role mapping.
func (p *OIDCProvider) ProjectRoles() []junction.ProjectGroupRole { return p.roles.Projects }

// SetPublicURL sets where browsers reach the console; call it before serving.
func (p *OIDCProvider) SetPublicURL(u string) { p.publicURL = strings.TrimSuffix(u, "/") }

// RedirectURL is the redirect URI to register at the provider.
func (p *OIDCProvider) RedirectURL() string { return p.publicURL + CallbackPath }

// Discover fetches the discovery document unless that has been done; it returns the
// configuration error or why the provider cannot be reached.
func (p *OIDCProvider) Discover(ctx context.Context) error {
	_, err := p.discovered(ctx)
	return err
}

func (p *OIDCProvider) discovered(ctx context.Context) (*oidcDiscovery, error) {
	if p.configErr != nil {
		return nil, p.configErr
	}
	d, attempts := p.current()
	if d != nil {
		return d, nil
	}
	p.discovering.Lock()
	defer p.discovering.Unlock()
	p.mu.Lock()
	d, err, tried := p.disc, p.discErr, p.attempts != attempts
	p.mu.Unlock()
	if d != nil || tried {
		// Another sign-in tried while this one waited: share its answer rather than queue
		// one more attempt behind a provider that does not answer.
		return d, err
	}
	d, err = p.discover(ctx)
	p.mu.Lock()
	p.disc, p.discErr = d, err
	p.attempts++
	p.mu.Unlock()
	return d, err
}

// current returns the discovery document, if fetched, and how many attempts were made.
func (p *OIDCProvider) current() (*oidcDiscovery, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.disc, p.attempts
}

func (p *OIDCProvider) discover(ctx context.Context) (*oidcDiscovery, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", p.cfg.Issuer, err)
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		Scopes     []string `json:"scopes_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", p.cfg.Issuer, err)
	}
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	if slices.Contains(meta.Scopes, "groups") {
		// Providers such as Dex and Okta release the groups claim only for this scope;
		// asking for a scope a provider does not list could be refused.
		scopes = append(scopes, "groups")
	}
	return &oidcDiscovery{
		provider:   provider,
		verifier:   provider.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}),
		endSession: meta.EndSession,
		scopes:     scopes,
	}, nil
}

// Unavailable implements handlers.IdentityProvider.
func (p *OIDCProvider) Unavailable() (string, bool) {
	if p.configErr != nil {
		return fmt.Sprintf("Sign-in with %s is not configured correctly. Ask your administrator: the console's log says what is wrong.", p.name), false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc == nil && p.discErr != nil {
		return fmt.Sprintf("%s is unavailable: Junction could not reach it. Signing in with it tries again.", p.name), true
	}
	return "", true
}

func (p *OIDCProvider) oauth2Config(d *oidcDiscovery) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     d.provider.Endpoint(),
		RedirectURL:  p.RedirectURL(),
		Scopes:       d.scopes,
	}
}

// oidcFlow is the state of one sign-in between /login/oidc and its callback. It is kept in
// a signed and encrypted cookie, so it works whichever replica answers the callback.
type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

const (
	oidcFlowCookie   = "junction_oidc"
	oidcFlowLifetime = 10 * time.Minute
)

// oidcSignIn implements handlers.IdentityProvider: the provider with the cookie codec of
// this installation's keys.
type oidcSignIn struct {
	*OIDCProvider
	flows  *securecookie.SecureCookie
	logger *slog.Logger
}

func newOIDCSignIn(p *OIDCProvider, hashKey, blockKey []byte, logger *slog.Logger) *oidcSignIn {
	flows := securecookie.New(hashKey, blockKey)
	flows.MaxAge(int(oidcFlowLifetime / time.Second))
	flows.SetSerializer(securecookie.JSONEncoder{})
	return &oidcSignIn{OIDCProvider: p, flows: flows, logger: logger}
}

func (o *oidcSignIn) flowCookie(c echo.Context, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcFlowCookie, Value: value, Path: "/login/oidc", MaxAge: maxAge,
		HttpOnly: true, Secure: isHTTPS(c.Request()), SameSite: http.SameSiteLaxMode}
}

func (o *oidcSignIn) unavailable(err error) error {
	if o.configErr != nil {
		msg, _ := o.Unavailable()
		return junction.Errorf(junction.EUNAVAILABLE, "%s", msg)
	}
	o.logger.Warn("identity provider unavailable", "issuer", o.cfg.Issuer, "err", err)
	return junction.Errorf(junction.EUNAVAILABLE, "%s is unavailable: Junction could not reach it. Try again in a moment.", o.name)
}

// Start implements handlers.IdentityProvider.
func (o *oidcSignIn) Start(c echo.Context, next string) (string, error) {
	d, err := o.discovered(c.Request().Context())
	if err != nil {
		return "", o.unavailable(err)
	}
	flow := oidcFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: time.Now().Add(oidcFlowLifetime).Unix()}
	value, err := o.flows.Encode(oidcFlowCookie, flow)
	if err != nil {
		return "", fmt.Errorf("encode sign-in state: %w", err)
	}
	c.SetCookie(o.flowCookie(c, value, int(oidcFlowLifetime/time.Second)))
	return o.oauth2Config(d).AuthCodeURL(flow.State, oauth2.S256ChallengeOption(flow.Verifier), oidc.Nonce(flow.Nonce)), nil
}

// takeFlow returns the sign-in state of this browser and clears it: a state is used once.
func (o *oidcSignIn) takeFlow(c echo.Context) (oidcFlow, bool) {
	var flow oidcFlow
	cookie, err := c.Cookie(oidcFlowCookie)
	if err != nil {
		return flow, false
	}
	c.SetCookie(o.flowCookie(c, "", -1))
	if err := o.flows.Decode(oidcFlowCookie, cookie.Value, &flow); err != nil || time.Now().Unix() > flow.Expires {
		return flow, false
	}
	return flow, true
}

var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// Finish implements handlers.IdentityProvider.
func (o *oidcSignIn) Finish(c echo.Context) (*handlers.ProviderSignIn, error) {
	ctx := c.Request().Context()
	q := c.Request().URL.Query()
	flow, ok := o.takeFlow(c)
	if !ok {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "This sign-in has expired or was started in another browser. Please sign in again.")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The answer from %s does not belong to the sign-in started in this browser (state mismatch). Please sign in again.", o.name)
	}
	if e := q.Get("error"); e != "" {
		// The description is the provider's free text; only a well-formed code is shown.
		if !oauthErrorCode.MatchString(e) {
			e = "unknown error"
		}
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "%s did not sign you in (%s).", o.name, e)
	}
	code := q.Get("code")
	if code == "" {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The answer from %s has no authorization code. Please sign in again.", o.name)
	}
	d, err := o.discovered(ctx)
	if err != nil {
		return nil, o.unavailable(err)
	}
	ctx = oidc.ClientContext(ctx, o.client)
	token, err := o.oauth2Config(d).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	var retrieve *oauth2.RetrieveError
	if errors.As(err, &retrieve) {
		reason := retrieve.ErrorCode
		if !oauthErrorCode.MatchString(reason) {
			reason = strings.ToLower(http.StatusText(retrieve.Response.StatusCode))
		}
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "%s refused the sign-in code (%s): it was already used, has expired, or was not issued to this browser. Please sign in again.", o.name, reason)
	} else if err != nil {
		return nil, o.unavailable(err)
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	if rawIDToken == "" {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "%s did not send an ID token. Check that the client is an OpenID Connect client.", o.name)
	}
	idToken, err := d.verifier.Verify(ctx, rawIDToken)
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The ID token from %s has expired. Check that the clocks of Junction and %s agree, then sign in again.", o.name, o.name)
	} else if err != nil {
		o.logger.Warn("ID token rejected", "issuer", o.cfg.Issuer, "err", err)
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The ID token from %s could not be verified (issuer, audience or signature). Please sign in again.", o.name)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The ID token from %s was not issued for this sign-in (nonce mismatch). Please sign in again.", o.name)
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
			return nil, junction.Errorf(junction.EUNAUTHORIZED, "The tokens from %s do not match (at_hash). Please sign in again.", o.name)
		}
	}
	var claims providerClaims
	if err := idToken.Claims(&claims); err != nil {
		return nil, junction.Errorf(junction.EUNAUTHORIZED, "The ID token from %s has malformed claims.", o.name)
	}
	needGroups := o.roles.AdminGroup != "" || len(o.roles.Projects) > 0
	if (claims.Email == "" || needGroups && claims.Groups == nil) && d.provider.UserInfoEndpoint() != "" {
		// Many providers put only the subject in the ID token; the rest is at userinfo.
		if err := o.fillFromUserInfo(ctx, d, token, idToken.Subject, &claims); err != nil {
			return nil, err
		}
	}
	id := junction.ProviderIdentity{Issuer: idToken.Issuer, Subject: idToken.Subject, Email: claims.Email,
		EmailVerified: claims.EmailVerified.value(), Name: claims.name(), Groups: claims.Groups.values()}
	return &handlers.ProviderSignIn{Identity: id, Grants: o.roles.Grants(id.Groups), IDToken: rawIDToken, Next: flow.Next}, nil
}

func (o *oidcSignIn) fillFromUserInfo(ctx context.Context, d *oidcDiscovery, token *oauth2.Token, subject string, claims *providerClaims) error {
	info, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return o.unavailable(err)
	} else if err != nil {
		o.logger.Warn("userinfo refused", "issuer", o.cfg.Issuer, "err", err)
		return junction.Errorf(junction.EUNAUTHORIZED, "%s refused to say who signed in (userinfo). Please sign in again.", o.name)
	}
	var more providerClaims
	if err := info.Claims(&more); err != nil || more.Subject != subject {
		return junction.Errorf(junction.EUNAUTHORIZED, "The userinfo answer from %s is not about the user of the ID token.", o.name)
	}
	if claims.Email == "" {
		claims.Email, claims.EmailVerified = more.Email, more.EmailVerified
	}
	if claims.Groups == nil {
		claims.Groups = more.Groups
	}
	if claims.Name == "" {
		claims.Name = more.Name
	}
	if claims.PreferredUsername == "" {
		claims.PreferredUsername = more.PreferredUsername
	}
	return nil
}

// LogoutURL implements handlers.IdentityProvider: the provider's end_session_endpoint with
// the ID token as hint and the sign-in page to come back to (RP-initiated logout).
func (o *oidcSignIn) LogoutURL(ctx context.Context, idToken string) string {
	if idToken == "" {
		return ""
	}
	// A replica that has not needed the provider since it started learns its endpoints now.
	d, err := o.discovered(ctx)
	if err != nil || d.endSession == "" {
		return ""
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("id_token_hint", idToken)
	q.Set("client_id", o.cfg.ClientID)
	q.Set("post_logout_redirect_uri", o.publicURL+"/login")
	u.RawQuery = q.Encode()
	return u.String()
}

// formActionSources are the origins the sign-out form may be redirected to (its
// end_session_endpoint), for the Content-Security-Policy's form-action: the issuer's origin,
// where providers serve it, and the endpoint's own once discovery has named it.
func (o *oidcSignIn) formActionSources() string {
	if o.configErr != nil {
		return ""
	}
	sources := []string{origin(o.cfg.Issuer)}
	if d, _ := o.current(); d != nil && d.endSession != "" {
		if end := origin(d.endSession); end != "" && end != sources[0] {
			sources = append(sources, end)
		}
	}
	return strings.Join(sources, " ")
}

func origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// providerClaims are the claims Junction reads from the ID token and userinfo.
type providerClaims struct {
	Subject           string         `json:"sub"`
	Email             string         `json:"email"`
	EmailVerified     flexibleBool   `json:"email_verified"`
	Name              string         `json:"name"`
	PreferredUsername string         `json:"preferred_username"`
	Groups            flexibleGroups `json:"groups"`
}

func (c providerClaims) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.PreferredUsername
}

// flexibleBool reads a JSON boolean, or "true"/"false" as some providers (AWS Cognito) send;
// nil when absent.
type flexibleBool struct{ v *bool }

func (b *flexibleBool) UnmarshalJSON(data []byte) error {
	var v bool
	if err := json.Unmarshal(data, &v); err == nil {
		b.v = &v
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("email_verified is neither a boolean nor a string")
	}
	v = strings.EqualFold(s, "true")
	b.v = &v
	return nil
}

func (b flexibleBool) value() *bool { return b.v }

// flexibleGroups reads the groups claim: a list of strings, or one string. nil when absent.
type flexibleGroups []string

func (g *flexibleGroups) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err == nil {
		*g = append(flexibleGroups{}, list...)
		return nil
	}
	var one string
	if err := json.Unmarshal(data, &one); err != nil {
		return fmt.Errorf("groups is neither a list of strings nor a string")
	}
	*g = flexibleGroups{one}
	return nil
}

func (g flexibleGroups) values() []string { return g }
