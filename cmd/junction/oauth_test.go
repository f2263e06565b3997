package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/junction-dev/junction"
)

// oauthFixture is a running console where the project shop connects to two OAuth services
// (one shared application) and its component web to a third (an application of its own).
type oauthFixture struct {
	base                      string
	app                       *App
	as                        context.Context
	orders, stock, billing    *junction.Service
	shared, unshared          map[string]string // production parameters
	ordersRuntime, webRuntime string
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	t.Helper()
	base, app := e2eServer(t)
	f := &oauthFixture{base: base, app: app}
	ctx := context.Background()
	admin := &junction.User{Email: "admin@example.org", IsAdmin: true}
	require.NoError(t, app.Services.Users.CreateUser(ctx, admin, e2ePassword))
	f.as = junction.NewContextWithUser(ctx, admin)
	require.NoError(t, app.Services.Projects.CreateProject(f.as, &junction.Project{Handle: "shop", Name: "Shop"}))
	for _, c := range []string{"orders", "billing", "web"} {
		require.NoError(t, app.Services.Components.CreateComponent(f.as, "shop", &junction.Component{Handle: c, Name: c}))
	}
	publish := func(component, name, url string) *junction.Service {
		svc := &junction.Service{Kind: junction.KindInternal, Project: "shop", Component: component, Name: name, Version: "v1",
			Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth, URLs: map[string]string{"production": url}}
		require.NoError(t, app.Services.Services.CreateService(f.as, svc))
		return svc
	}
	f.orders = publish("orders", "Orders API", "https://orders.example/v1")
	f.stock = publish("orders", "Stock API", "https://stock.example/v1")
	f.billing = publish("billing", "Billing API", "https://billing.example/v1")
	connect := func(component string, svc *junction.Service) map[string]string {
		conn := &junction.Connection{Name: strings.ToLower(strings.Fields(svc.Name)[0]), Project: "shop", Component: component, Service: junction.ServiceRef{ID: svc.ID}}
		require.NoError(t, app.Services.Connections.CreateConnection(f.as, conn))
		revealed, err := app.Services.Connections.FindConnection(f.as, conn.ID, true)
		require.NoError(t, err)
		values := map[string]string{}
		for _, p := range revealed.Parameters {
			values[p.Name] = p.Values["production"]
		}
		return values
	}
	f.shared = connect("", f.orders)
	require.Equal(t, f.shared["ConsumerKey"], connect("", f.stock)["ConsumerKey"], "project connections share one application")
	f.unshared = connect("web", f.billing)
	require.Equal(t, base+"/oauth2/token", f.shared["TokenURL"])
	var err error
	_, f.ordersRuntime, err = app.Services.Mappings.CreateRuntimeToken(f.as, "shop", "orders", "production")
	require.NoError(t, err)
	_, f.webRuntime, err = app.Services.Mappings.CreateRuntimeToken(f.as, "shop", "web", "production")
	require.NoError(t, err)
	return f
}

// clientToken gets a token as a consumer would: x/oauth2's client credentials flow with the
// connection's ConsumerKey, ConsumerSecret and TokenURL only, plus optional parameters.
func (f *oauthFixture) clientToken(t *testing.T, params map[string]string, extra url.Values) (*oauth2.Token, error) {
	t.Helper()
	cfg := clientcredentials.Config{ClientID: params["ConsumerKey"], ClientSecret: params["ConsumerSecret"], TokenURL: params["TokenURL"],
		EndpointParams: extra}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cfg.Token(ctx)
}

// verify checks a token as a provider service would, with golang-jwt and a JWKS fetched by
// keyfunc: signature, issuer, expiry, and that its own service ID is in the audience.
func (f *oauthFixture) verify(t *testing.T, token, serviceID string) (jwt.MapClaims, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, err := keyfunc.NewDefaultCtx(ctx, []string{f.base + "/.well-known/jwks.json"})
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, k.Keyfunc, jwt.WithIssuer(f.base), jwt.WithAudience(serviceID),
		jwt.WithExpirationRequired(), jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt())
	return claims, err
}

// TestOAuthClientsInterop gets tokens with golang.org/x/oauth2/clientcredentials for a
// shared and an unshared application and verifies them with golang-jwt + keyfunc and with
// go-oidc's discovery, as unchanged client and provider code would.
func TestOAuthClientsInterop(t *testing.T) {
	f := newOAuthFixture(t)

	t.Run("SharedApplicationNoTarget", func(t *testing.T) {
		tok, err := f.clientToken(t, f.shared, nil)
		require.NoError(t, err, "client credentials with nothing but the client's key, secret and TokenURL")
		require.Equal(t, "Bearer", tok.TokenType)
		require.WithinDuration(t, time.Now().Add(15*time.Minute), tok.Expiry, time.Minute)
		for _, svc := range []*junction.Service{f.orders, f.stock} {
			claims, err := f.verify(t, tok.AccessToken, svc.ID)
			require.NoError(t, err, "valid for %s", svc.Name)
			require.Equal(t, f.shared["ConsumerKey"], claims["client_id"])
			require.Equal(t, "production", claims["environment"])
		}
		_, err = f.verify(t, tok.AccessToken, f.billing.ID)
		require.ErrorIs(t, err, jwt.ErrTokenInvalidAudience, "not for a service the application does not connect to")
	})

	t.Run("UnsharedApplication", func(t *testing.T) {
		tok, err := f.clientToken(t, f.unshared, nil)
		require.NoError(t, err)
		claims, err := f.verify(t, tok.AccessToken, f.billing.ID)
		require.NoError(t, err)
		aud, _ := claims.GetAudience()
		require.Equal(t, jwt.ClaimStrings{f.billing.ID}, aud)
	})

	t.Run("ResourceNarrows", func(t *testing.T) {
		for name, resource := range map[string]string{"ServiceURL": "https://stock.example/v1", "ServiceID": f.stock.ID} {
			tok, err := f.clientToken(t, f.shared, url.Values{"resource": {resource}})
			require.NoError(t, err, name)
			_, err = f.verify(t, tok.AccessToken, f.stock.ID)
			require.NoError(t, err, name)
			_, err = f.verify(t, tok.AccessToken, f.orders.ID)
			require.ErrorIs(t, err, jwt.ErrTokenInvalidAudience, "a token narrowed to Stock API cannot be replayed to Orders API (%s)", name)
		}
		tok, err := f.clientToken(t, f.shared, url.Values{"audience": {f.orders.ID}})
		require.NoError(t, err)
		_, err = f.verify(t, tok.AccessToken, f.orders.ID)
		require.NoError(t, err)
		_, err = f.verify(t, tok.AccessToken, f.stock.ID)
		require.ErrorIs(t, err, jwt.ErrTokenInvalidAudience)
	})

	t.Run("ErrInvalidTarget", func(t *testing.T) {
		_, err := f.clientToken(t, f.shared, url.Values{"resource": {f.billing.ID}})
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		require.Equal(t, "invalid_target", re.ErrorCode)
		require.Equal(t, http.StatusBadRequest, re.Response.StatusCode)
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		wrong := map[string]string{"ConsumerKey": f.shared["ConsumerKey"], "ConsumerSecret": "jcs_wrong", "TokenURL": f.shared["TokenURL"]}
		_, err := f.clientToken(t, wrong, nil)
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		require.Equal(t, "invalid_client", re.ErrorCode)
	})

	t.Run("OpenIDDiscovery", func(t *testing.T) {
		// go-oidc discovers the token endpoint and the keys from the issuer alone, and
		// checks the issuer in the document matches.
		provider, err := oidc.NewProvider(context.Background(), f.base)
		require.NoError(t, err)
		require.Equal(t, f.base+"/oauth2/token", provider.Endpoint().TokenURL)
		cfg := clientcredentials.Config{ClientID: f.shared["ConsumerKey"], ClientSecret: f.shared["ConsumerSecret"], TokenURL: provider.Endpoint().TokenURL}
		tok, err := cfg.Token(context.Background())
		require.NoError(t, err)
		// A provider that trusts discovery verifies with go-oidc's verifier: signature from
		// the discovered jwks_uri, issuer, expiry, and its own service ID in the audience.
		verifier := provider.Verifier(&oidc.Config{ClientID: f.orders.ID, SupportedSigningAlgs: []string{oidc.ES256}})
		_, err = verifier.Verify(context.Background(), tok.AccessToken)
		require.NoError(t, err)
		_, err = provider.Verifier(&oidc.Config{ClientID: f.billing.ID, SupportedSigningAlgs: []string{oidc.ES256}}).Verify(context.Background(), tok.AccessToken)
		require.Error(t, err, "not for Billing API")
	})

	t.Run("AuthorizationServerMetadata", func(t *testing.T) {
		for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
			res, err := http.Get(f.base + path)
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, json.NewDecoder(res.Body).Decode(&doc))
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode, path)
			require.Equal(t, f.base, doc["issuer"], path)
			require.Equal(t, f.base+"/oauth2/token", doc["token_endpoint"], path)
			require.Equal(t, f.base+"/.well-known/jwks.json", doc["jwks_uri"], path)
			require.Equal(t, f.base+"/oauth2/introspect", doc["introspection_endpoint"], path)
			require.Equal(t, []any{"client_credentials"}, doc["grant_types_supported"], path)
			require.Equal(t, []any{"client_secret_basic", "client_secret_post"}, doc["token_endpoint_auth_methods_supported"], path)
		}
	})

	t.Run("Introspection", func(t *testing.T) {
		tok, err := f.clientToken(t, f.shared, nil)
		require.NoError(t, err)
		introspect := func(credential, token string) (int, map[string]any) {
			req, _ := http.NewRequest(http.MethodPost, f.base+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if credential != "" {
				req.Header.Set("Authorization", "Bearer "+credential)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			var body map[string]any
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			return res.StatusCode, body
		}
		// The publisher of Orders and Stock API asks with its own runtime token.
		status, body := introspect(f.ordersRuntime, tok.AccessToken)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, true, body["active"])
		require.Equal(t, f.shared["ConsumerKey"], body["client_id"])
		require.Equal(t, "production", body["environment"])
		aud := []string{f.orders.ID, f.stock.ID}
		slices.Sort(aud)
		require.Equal(t, []any{aud[0], aud[1]}, body["aud"])
		require.InDelta(t, float64(time.Now().Add(15*time.Minute).Unix()), body["exp"], 60)
		// A component that publishes none of the token's services learns nothing.
		status, body = introspect(f.webRuntime, tok.AccessToken)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"active": false}, body)
		status, body = introspect(f.ordersRuntime, "eyJhbGciOiJub25lIn0.e30.")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"active": false}, body)
		status, body = introspect("", tok.AccessToken)
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, "invalid_client", body["error"])
		status, body = introspect("jrt_unknown", tok.AccessToken)
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, "invalid_client", body["error"])
	})
}
