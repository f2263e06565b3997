package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func (f *connectionFixture) yaml(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.admin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

func TestChoreoComponentYAML(t *testing.T) {
	f := newConnectionFixture(t)
	posts := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	status, _ := f.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+posts["id"].(string), f.admin,
		`{"mappings":{"ServiceURL":"POSTS_URL","ConsumerKey":"POSTS_KEY","ConsumerSecret":"POSTS_SECRET","TokenURL":"POSTS_TOKEN_URL"}}`)
	require.Equal(t, http.StatusOK, status)

	t.Run("Export", func(t *testing.T) {
		status, out := f.yaml(t, http.MethodGet, "/api/v1/projects/shop/components/orders/component.yaml", "")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, out, "schemaVersion: \"1.2\"")
		require.Regexp(t, `resourceRef: service:/blog/engine/v1/[0-9a-f]{5}/ORGANIZATION`, out)
		require.Contains(t, out, "name: POSTS_SECRET")
		require.Contains(t, out, "key: ConsumerSecret")
		status, out = f.yaml(t, http.MethodGet, "/api/v1/projects/shop/components/orders/component.yaml?schema=1.1", "")
		require.Equal(t, http.StatusOK, status)
		require.NotContains(t, out, "configurations")
	})

	t.Run("Import", func(t *testing.T) {
		file := `# A real Choreo file: comments and other sections are ignored.
schemaVersion: 1.2
endpoints:
  - name: orders
    service:
      port: 8080
dependencies:
  connectionReferences:
    - name: posts
      resourceRef: service:/blog/engine/v1/abcde/ORGANIZATION
    - name: sms
      resourceRef: thirdparty:Twilio/v1
configurations:
  env:
    - name: SMS_URL
      valueFrom:
        connectionRef:
          name: sms
          key: ServiceURL
    - name: PLAIN
      value: not from a connection
`
		status, out := f.yaml(t, http.MethodPut, "/api/v1/projects/shop/components/orders/component.yaml?dry_run=true", file)
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"created":true`, "sms is resolved in the catalog and would be connected")
		status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/connections", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 1, list["total"], "a dry run changes nothing")

		status, out = f.yaml(t, http.MethodPut, "/api/v1/projects/shop/components/orders/component.yaml", file)
		require.Equal(t, http.StatusOK, status, out)
		_, mappings := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/mappings", f.admin, "")
		envs := map[string]bool{}
		for _, m := range mappings["items"].([]any) {
			envs[m.(map[string]any)["env"].(string)] = true
		}
		require.True(t, envs["CHOREO_POSTS_SERVICEURL"], "a 1.1-style reference gets Choreo's default names: %v", envs)
		require.True(t, envs["SMS_URL"], "a configurations.env entry maps exactly its name")
		require.True(t, envs["CHOREO_SMS_AUTHTOKEN"], "the other parameters get default names")
		require.False(t, envs["POSTS_URL"], "the imported names replace the old ones")
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ body, want string }{
			{"dependencies: [unclosed", "not valid YAML"},
			{"dependencies:\n  connectionReferences:\n    - name: ghost\n      resourceRef: thirdparty:Nope/v9\n", "Line 3"},
			{"dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: ftp:/x\n", "Line 3"},
			{"configurations:\n  env: []\n", "no connection references"},
		} {
			status, out := f.yaml(t, http.MethodPut, "/api/v1/projects/shop/components/orders/component.yaml", tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, tc.body)
			require.Contains(t, out, tc.want)
			require.Contains(t, out, `"yaml"`)
		}
	})
}

func TestBlastRadiusAndMappedBy(t *testing.T) {
	f := newConnectionFixture(t)
	a := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"comments","service_id":"`+f.oauthB+`"}`)
	status, _ := f.api(t, http.MethodPut, "/api/v1/projects/shop/components/web/mappings/"+a["id"].(string), f.admin,
		`{"mappings":{"ServiceURL":"POSTS_URL","ConsumerKey":"POSTS_KEY","ConsumerSecret":"POSTS_SECRET","TokenURL":"POSTS_TOKEN_URL"}}`)
	require.Equal(t, http.StatusOK, status)

	b := f.browser(t)
	b.mustLogin("ada@example.com")
	_, page := b.get("/connections/" + a["id"].(string))
	require.Contains(t, page, `data-testid="mapped-by"`)
	require.Contains(t, page, `<a href="/projects/shop/components/web/env" class="mono" data-testid="mapped-by-link">shop/web</a>`,
		"each component that maps it links to its environment editor")
	res, _ := b.get("/projects/shop/components/web/env")
	require.Equal(t, http.StatusOK, res.StatusCode)

	_, page = b.get("/connections/" + a["id"].(string) + "/rotate?environment=production")
	require.Contains(t, page, "posts")
	require.Contains(t, page, "comments", "the connections that share the application")
	require.Contains(t, page, `data-testid="blast-radius-components"`)
	require.Contains(t, page, "shop/web")

	status, out := f.yaml(t, http.MethodGet, "/api/v1/projects/shop/components/web/env?environment=production&reveal=true&format=dotenv", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, out, `POSTS_URL='https://posts.prod'`)
}
