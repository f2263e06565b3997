package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretsNeverLogged runs a full scenario (sign-in, tokens, a service with secrets, a
// connection, reveal, rotation, runtime fetches, the token endpoint, failed calls) and scans
// the server's whole log for every secret the scenario created or sent.
func TestSecretsNeverLogged(t *testing.T) {
	logs := &lockedBuffer{}
	ts := newTestServerWithLog(t, logs)
	admin := ts.createUser(t, "ada@example.com", true)
	secrets := []string{testPassword}
	ctx := as(admin)
	require.NoError(t, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(t, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))

	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	b.login("ada@example.com", "a wrong password that must not be logged")
	secrets = append(secrets, "a wrong password that must not be logged", sessionCookie(t, b))
	_, page := b.postFollow("/account/tokens", url.Values{"name": {"ci"}})
	pat := regexpFind(t, page, `jct_[a-z2-7]+`)
	secrets = append(secrets, pat)

	status, body := ts.api(t, http.MethodPost, "/api/v1/services", pat, `{"kind":"third-party","name":"Acme","version":"v1",
		"parameters":[{"name":"Token","secret":true}],
		"endpoints":[{"name":"live","url":"https://acme.example","environments":["production"],"values":{"Token":"acme-third-party-secret"}}]}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	secrets = append(secrets, "acme-third-party-secret")
	oauth := &junction.Service{Kind: junction.KindInternal, Project: "shop", Component: "orders", Name: "Orders API", Version: "v1",
		Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth, URLs: map[string]string{"production": "https://orders"}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, oauth))

	status, conn := ts.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/connections", pat, `{"name":"orders","service_id":"`+oauth.ID+`"}`)
	require.Equal(t, http.StatusCreated, status)
	id := conn["id"].(string)
	_, revealed := ts.api(t, http.MethodGet, "/api/v1/connections/"+id+"?reveal=true", pat, "")
	clientID, clientSecret := param(t, revealed, "ConsumerKey", "production"), param(t, revealed, "ConsumerSecret", "production")
	secrets = append(secrets, clientSecret)

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	decodeJSONBody(t, res, &tok)
	secrets = append(secrets, tok.AccessToken)

	status, _ = ts.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+id, pat,
		`{"mappings":{"ServiceURL":"ORDERS_URL","ConsumerKey":"ORDERS_KEY","ConsumerSecret":"ORDERS_SECRET","TokenURL":"ORDERS_TOKEN_URL"}}`)
	require.Equal(t, http.StatusOK, status)
	status, rt := ts.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", pat, `{"environment":"production"}`)
	require.Equal(t, http.StatusCreated, status)
	runtimeToken := rt["token"].(string)
	secrets = append(secrets, runtimeToken)
	status, _ = ts.api(t, http.MethodGet, "/api/v1/runtime/env", runtimeToken, "")
	require.Equal(t, http.StatusOK, status)
	_, _ = ts.api(t, http.MethodGet, "/api/v1/runtime/env?format=dotenv", "jrt_wrong", "")
	status, _ = ts.api(t, http.MethodPost, "/api/v1/connections/"+id+"/rotate", pat, `{"environment":"production"}`)
	require.Equal(t, http.StatusOK, status)
	_, revealed = ts.api(t, http.MethodGet, "/api/v1/connections/"+id+"?reveal=true", pat, "")
	secrets = append(secrets, param(t, revealed, "ConsumerSecret", "production"))

	// A database credential: created, used, given a new password, refused removal.
	status, body = ts.api(t, http.MethodPost, "/api/v1/services", pat, `{"kind":"database","name":"orders-db","engine":"postgres","values":{"production":
		{"HostName":"db","Port":"5432","DatabaseName":"orders","Username":"app","Password":"db-default-log-secret","credentials":{"readonly":{"Username":"ro","Password":"db-readonly-log-secret"}}}}}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	dbID := body["id"].(string)
	status, dbConn := ts.api(t, http.MethodPost, "/api/v1/projects/shop/connections", pat, `{"name":"orders-ro","service_id":"`+dbID+`","credentials":{"production":"readonly"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", dbConn)
	ts.api(t, http.MethodGet, "/api/v1/connections/"+dbConn["id"].(string)+"?reveal=true", pat, "")
	status, _ = ts.api(t, http.MethodPatch, "/api/v1/services/"+dbID, pat, `{"values":{"production":{"HostName":"db","Port":"5432","DatabaseName":"orders","Username":"app",
		"credentials":{"readonly":{"Username":"ro","Password":"db-readonly-log-secret-2"}}}}}`)
	require.Equal(t, http.StatusOK, status)
	status, _ = ts.api(t, http.MethodPatch, "/api/v1/services/"+dbID, pat, `{"values":{"production":{"HostName":"db","Port":"5432","DatabaseName":"orders","Username":"app","Password":"db-never-saved-log-secret",
		"credentials":{"readonly":null}}}}`)
	require.Equal(t, http.StatusConflict, status)
	secrets = append(secrets, "db-default-log-secret", "db-readonly-log-secret", "db-never-saved-log-secret")

	log := logs.String()
	require.Contains(t, log, "/api/v1/runtime/env", "the scenario was logged")
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		require.NotContains(t, log, secret, "a secret reached the log")
	}
}
