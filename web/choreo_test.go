package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func (f *connectionFixture) yaml(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	status, _, out := f.yamlWithHeader(t, method, path, body)
	return status, out
}

func (f *connectionFixture) yamlWithHeader(t *testing.T, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.admin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(out)
}

// mappingsOf returns a component's mappings as "connection ID/parameter" -> variable.
func (f *connectionFixture) mappingsOf(t *testing.T, component string) map[string]string {
	t.Helper()
	status, body := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/"+component+"/mappings", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	out := map[string]string{}
	for _, item := range body["items"].([]any) {
		m := item.(map[string]any)
		out[m["connection_id"].(string)+"/"+m["parameter"].(string)] = m["env"].(string)
	}
	return out
}

func envNamesOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, env := range m {
		out[env] = true
	}
	return out
}

// legacyRename gives a connection a name from before the connection name rule, as an
// older Junction could, writing the database directly.
func (f *connectionFixture) legacyRename(t *testing.T, id, name string) {
	t.Helper()
	conn := f.rawSQL(t)
	_, err := conn.ExecContext(t.Context(), `UPDATE connections SET name = ? WHERE id = ?`, name, id)
	require.NoError(t, err)
}

const componentYAMLPath = "/api/v1/projects/shop/components/orders/component.yaml"

func TestChoreoComponentYAML(t *testing.T) {
	f := newConnectionFixture(t)
	posts := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	postsID := posts["id"].(string)
	status, _ := f.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+postsID, f.admin,
		`{"mappings":{"ServiceURL":"POSTS_URL","ConsumerKey":"POSTS_KEY","ConsumerSecret":"POSTS_SECRET","TokenURL":"POSTS_TOKEN_URL"}}`)
	require.Equal(t, http.StatusOK, status)

	t.Run("Export", func(t *testing.T) {
		status, header, out := f.yamlWithHeader(t, http.MethodGet, componentYAMLPath, "")
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, header.Get("Warning"))
		require.Contains(t, out, "schemaVersion: \"1.2\"")
		require.Regexp(t, `resourceRef: service:/blog/engine/v1/[0-9a-f]{5}/ORGANIZATION`, out)
		require.Contains(t, out, "name: POSTS_SECRET")
		require.Contains(t, out, "key: ConsumerSecret")
	})

	t.Run("ExportSchema11Warns", func(t *testing.T) {
		status, header, out := f.yamlWithHeader(t, http.MethodGet, componentYAMLPath+"?schema=1.1", "")
		require.Equal(t, http.StatusOK, status)
		require.NotContains(t, out, "configurations")
		warning := header.Get("Warning")
		require.Regexp(t, `^299 junction "Schema 1.1 cannot carry custom variable names: .*posts: ServiceURL -> POSTS_URL.*Export schema 1.2 \(by connection name\) or 1.0 \(by Connection ID\) to keep them."$`, warning)
		require.Contains(t, out, "# Warning: Schema 1.1 cannot carry custom variable names")
	})

	t.Run("ExportSchema10RoundTrips", func(t *testing.T) {
		before := f.mappingsOf(t, "orders")
		status, header, out := f.yamlWithHeader(t, http.MethodGet, componentYAMLPath+"?schema=1.0", "")
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, header.Get("Warning"))
		require.Contains(t, out, "schemaVersion: \"1.0\"")
		require.Contains(t, out, "connectionConfig: "+postsID)
		require.Regexp(t, `name: choreo:///junction/blog/engine/[0-9a-f]{5}/v1/ORGANIZATION`, out)

		status, _ = f.api(t, http.MethodDelete, "/api/v1/projects/shop/components/orders/mappings/"+postsID, f.admin, "")
		require.Equal(t, http.StatusNoContent, status)
		require.Empty(t, f.mappingsOf(t, "orders"))
		status, body := f.yaml(t, http.MethodPut, componentYAMLPath, out)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `"match":"connection_id"`)
		require.Equal(t, before, f.mappingsOf(t, "orders"), "the same mappings, by Connection ID")
	})

	t.Run("ExportErrSchema", func(t *testing.T) {
		status, out := f.yaml(t, http.MethodGet, componentYAMLPath+"?schema=2", "")
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, out, `"schema"`)
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
		status, out := f.yaml(t, http.MethodPut, componentYAMLPath+"?dry_run=true", file)
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"created":true`, "sms is resolved in the catalog and would be connected")
		require.Contains(t, out, `"dry_run":true`)
		require.Contains(t, out, `"message":"Applying maps 7 variables of 2 connections, connecting 1 new component connection."`)
		status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/connections", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.EqualValues(t, 1, list["total"], "a dry run changes nothing")

		status, out = f.yaml(t, http.MethodPut, componentYAMLPath, file)
		require.Equal(t, http.StatusOK, status, out)
		envs := envNamesOf(f.mappingsOf(t, "orders"))
		require.True(t, envs["CHOREO_POSTS_SERVICEURL"], "a 1.1-style reference gets Choreo's default names: %v", envs)
		require.True(t, envs["SMS_URL"], "a configurations.env entry maps exactly its name")
		require.True(t, envs["CHOREO_SMS_AUTHTOKEN"], "the other parameters get default names")
		require.False(t, envs["POSTS_URL"], "the imported names replace the old ones")
	})

	t.Run("ImportComponentConfig", func(t *testing.T) {
		file := `apiVersion: core.choreo.dev/v1alpha1
kind: ComponentConfig
metadata:
  name: Orders
  projectName: Shop
spec:
  build:
    branch: main
  inbound:
    - name: Orders
      port: 8080
      type: REST
  outbound:
    serviceReferences:
    - name: choreo:///acme/blog/engine/abcde/v1.0/PUBLIC
      connectionConfig: 01ee9ff1-8efd-1da8-8df5-4675ccafa740
      env:
      - from: ServiceURL
        to: BLOG_URL
      - from: ConsumerKey
        to: BLOG_CLIENT_ID
`
		status, out := f.yaml(t, http.MethodPut, componentYAMLPath+"?dry_run=true", file)
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, `"format":"component-config.yaml (core.choreo.dev/v1alpha1)"`)
		require.Contains(t, out, `"match":"service"`, "the component already uses a connection to blog/engine v1: posts")
		require.Contains(t, out, `"connection":"posts"`)
		require.Contains(t, out, `"env":"BLOG_CLIENT_ID"`)
	})

	t.Run("ImportNothing", func(t *testing.T) {
		before := f.mappingsOf(t, "orders")
		for _, file := range []string{
			"schemaVersion: 1.2\nendpoints:\n  - name: orders\n    service:\n      port: 8080\n    type: REST\n",
			"apiVersion: ''\nendpoints:\n  - name: chat\n    port: 8080\n    type: WS\n",
			"apiVersion: core.choreo.dev/v1beta1\nkind: ComponentConfig\nspec:\n  inbound:\n    - {name: api, port: 8080, type: REST}\n",
		} {
			for _, path := range []string{componentYAMLPath, componentYAMLPath + "?dry_run=true"} {
				status, body := f.api(t, http.MethodPut, path, f.admin, file)
				require.Equal(t, http.StatusOK, status, "%s: %v", file, body)
				require.Equal(t, []any{}, body["steps"])
				require.Contains(t, body["message"], "nothing to import")
			}
		}
		require.Equal(t, before, f.mappingsOf(t, "orders"))
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ body, want string }{
			{"dependencies: [unclosed", "Line 1: The file is not valid YAML"},
			{"schemaVersion: 1.2\ndependencies:\n  connectionReferences:\n    - {name: a, resourceRef: [engine/v1\nconfigurations: {}\n", "Line 4: The file is not valid YAML"},
			{"dependencies:\n  connectionReferences:\n    - name: ghost\n      resourceRef: thirdparty:Nope/v9\n", "Line 3"},
			{"dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: ftp:/x\n", "Line 4"},
			{"dependencies:\n  connectionReferences:\n    - name: db\n      resourceRef: thirdparty:Twilio/v1\n", `Line 3: A new connection named \"db\"`},
			{"schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:Twilio/v1\n", "Line 4: Each service reference needs"},
			{"", "The file is empty"},
		} {
			status, out := f.yaml(t, http.MethodPut, componentYAMLPath, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, tc.body)
			require.Contains(t, out, tc.want)
			require.Contains(t, out, `"yaml"`)
		}
	})
}

// TestChoreoPages: the import page says when there is nothing to import, and the export
// links say what schema 1.1 loses.
func TestChoreoPages(t *testing.T) {
	f := newConnectionFixture(t)
	posts := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)
	b := f.browser(t)
	b.mustLogin("ada@example.com")

	res, page := b.post("/projects/shop/components/orders/import", url.Values{"yaml": {"schemaVersion: 1.2\nendpoints:\n  - name: api\n    service: {port: 8080}\n    type: REST\n"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, page, `data-testid="import-nothing"`)
	require.Contains(t, page, "there is nothing to import, and nothing changes")
	require.NotContains(t, page, `data-testid="apply-import"`, "nothing to apply")

	res, page = b.post("/projects/shop/components/orders/import", url.Values{"yaml": {"a: 1\nb: [1, 2\n"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, page, "Line 2: The file is not valid YAML")

	file := "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:Twilio/v1\n      connectionConfig: 5a0c7a52-6f0e-4d8e-9a51-0d7f3c1e2b44\n      env:\n        - {from: ServiceURL, to: SMS_URL}\n"
	res, page = b.post("/projects/shop/components/orders/import", url.Values{"yaml": {file}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, page, "new component connection")
	require.Contains(t, page, "Read as component.yaml schema 1.0.")
	require.Contains(t, page, `data-testid="apply-import"`)
	res, _ = b.post("/projects/shop/components/orders/import", url.Values{"yaml": {file}, "apply": {"yes"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	_, page = b.get("/projects/shop/components/orders/env")
	require.Contains(t, page, `data-testid="export-choreo-1.0"`)
	require.Contains(t, page, "schema=1.1")
	require.Contains(t, page, `data-testid="choreo-1.1-warning"`, "SMS_URL is not a name 1.1 can carry")
	require.Contains(t, page, "Twilio: ServiceURL -&gt; SMS_URL")

	// Only Choreo's default names: schema 1.1 loses nothing, and the warning goes.
	status, _ := f.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+posts["id"].(string), f.admin,
		`{"mappings":{"ServiceURL":"CHOREO_POSTS_SERVICEURL","ConsumerKey":"CHOREO_POSTS_CONSUMERKEY","ConsumerSecret":"CHOREO_POSTS_CONSUMERSECRET","TokenURL":"CHOREO_POSTS_TOKENURL"}}`)
	require.Equal(t, http.StatusOK, status)
	status, conns := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/connections", f.admin, "")
	require.Equal(t, http.StatusOK, status)
	for _, item := range conns["items"].([]any) {
		c := item.(map[string]any)
		if c["name"] == "Twilio" {
			status, _ = f.api(t, http.MethodDelete, "/api/v1/connections/"+c["id"].(string)+"?force=true", f.admin, "")
			require.Less(t, status, 300)
		}
	}
	_, page = b.get("/projects/shop/components/orders/env")
	require.NotContains(t, page, `data-testid="choreo-1.1-warning"`)
	status, header, _ := f.yamlWithHeader(t, http.MethodGet, componentYAMLPath+"?schema=1.1", "")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, header.Get("Warning"))
}

// TestChoreoRules: new connection names and service versions follow Choreo's validator, with
// a 422 naming the field in the API and an inline error on the forms; names given before the
// rule keep working.
func TestChoreoRules(t *testing.T) {
	f := newConnectionFixture(t)

	t.Run("ConnectionNameAPI", func(t *testing.T) {
		for _, name := range []string{"db", "a--b", "Twilio (SMS)", strings.Repeat("x", 51), "-posts"} {
			status, body := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin, `{"name":"`+name+`","service_id":"`+f.twilio+`"}`)
			require.Equal(t, http.StatusUnprocessableEntity, status, name)
			code, fields := apiError(t, body)
			require.Equal(t, "invalid", code)
			require.Contains(t, fields["name"], "Choreo's rule for connection names", name)
		}
		conn := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"sms gateway","service_id":"`+f.twilio+`"}`)
		id := conn["id"].(string)
		status, body := f.api(t, http.MethodPatch, "/api/v1/connections/"+id, f.admin, `{"name":"x"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "a rename follows the rule")
		_, fields := apiError(t, body)
		require.Contains(t, fields["name"], "Choreo")

		// A name from before the rule: reads, description changes and exports keep working.
		f.legacyRename(t, id, "tw")
		status, body = f.api(t, http.MethodPatch, "/api/v1/connections/"+id, f.admin, `{"description":"kept"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, "tw", body["name"])
		status, body = f.api(t, http.MethodPatch, "/api/v1/connections/"+id, f.admin, `{"name":"tw","description":"again"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		status, _ = f.api(t, http.MethodPatch, "/api/v1/connections/"+id, f.admin, `{"name":"tx"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "but not to another name that breaks the rule")

		status, _ = f.api(t, http.MethodPut, "/api/v1/projects/shop/components/web/mappings/"+id, f.admin,
			`{"mappings":{"ServiceURL":"TW_URL","AccountSID":"TW_SID","AuthToken":"TW_TOKEN"}}`)
		require.Equal(t, http.StatusOK, status)
		status, out := f.yaml(t, http.MethodGet, "/api/v1/projects/shop/components/web/component.yaml?schema=1.2", "")
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, out, `the connection name \"tw\" is not one Choreo accepts`)
		require.Contains(t, out, "rename the connection, or export schema 1.0")
		status, out = f.yaml(t, http.MethodGet, "/api/v1/projects/shop/components/web/component.yaml?schema=1.0", "")
		require.Equal(t, http.StatusOK, status, out)
		require.Contains(t, out, "connectionConfig: "+id)

		b := f.browser(t)
		b.mustLogin("ada@example.com")
		_, page := b.get("/projects/shop/components/web/env")
		require.Contains(t, page, `data-testid="choreo-bad-names"`)
	})

	t.Run("ConnectionNameForms", func(t *testing.T) {
		b := f.browser(t)
		b.mustLogin("ada@example.com")
		res, page := b.post("/projects/shop/connections", url.Values{"service_id": {f.twilio}, "name": {"db"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, page, "Use 3 to 50 characters (Choreo&#39;s rule for connection names).")
		require.Contains(t, page, `aria-invalid="true"`)

		_, page = b.get("/projects/shop/connections/new?service=" + f.twilio)
		require.Contains(t, page, `value="Twilio"`, "the suggested name follows the rule")
		require.Contains(t, page, "suggested variable names: TWILIO_SERVICEURL, TWILIO_", "the help names this service's suggestion")

		conn := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"renamed-later","service_id":"`+f.twilio+`"}`)
		res, page = b.post("/connections/"+conn["id"].(string), url.Values{"name": {"a_-b"}, "description": {""}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, page, "Choreo&#39;s rule for connection names")
	})

	t.Run("Versions", func(t *testing.T) {
		for _, body := range []string{
			`{"kind":"third-party","name":"Acme","version":"2010-04-01","parameters":[],"endpoints":[{"name":"live","url":"https://acme.example","environments":["production"],"values":{}}]}`,
			`{"kind":"internal","name":"Engine API","version":"1.0","project":"blog","component":"engine","visibility":"organization","security":"none","urls":{"development":"http://e.dev"}}`,
		} {
			status, out := f.api(t, http.MethodPost, "/api/v1/services", f.admin, body)
			require.Equal(t, http.StatusUnprocessableEntity, status, body)
			_, fields := apiError(t, out)
			require.Contains(t, fields["version"], "Choreo's rule for versions")
		}
		status, out := f.api(t, http.MethodPost, "/api/v1/services", f.admin,
			`{"kind":"third-party","name":"Acme","version":"V2.1","parameters":[],"endpoints":[{"name":"live","url":"https://acme.example","environments":["production"],"values":{}}]}`)
		require.Equal(t, http.StatusCreated, status, "%v", out)

		b := f.browser(t)
		b.mustLogin("ada@example.com")
		form := thirdPartyForm("Acme Two")
		form.Set("version", "2010-04-01")
		res, page := b.post("/services/third-party", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, page, "Choreo&#39;s rule for versions", "the error beside the version field")
		require.Contains(t, page, `value="2010-04-01"`, "the form keeps what was typed")
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
