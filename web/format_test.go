package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// formatFixture is a mappingFixture whose shop/orders maps a third-party "Weird" connection:
// its development values can be written as dotenv, its production ones cannot; shop/web (a
// web application) maps a connection without secrets.
type formatFixture struct {
	*mappingFixture
	devToken, prodToken, webToken string
	dev, prod                     map[string]string // the orders variables by environment
	web                           map[string]string
}

func newFormatFixture(t *testing.T) *formatFixture {
	t.Helper()
	f := &formatFixture{mappingFixture: newMappingFixture(t)}
	ada := as(mustUser(t, f.testServer, "ada@example.com"))
	devValues := map[string]string{"AccountSID": `AC "quoted" \ back $HOME`, "AuthToken": "multi\nline secret $(touch pwned) `id` "}
	prodValues := map[string]string{"AccountSID": "it's $HOME", "AuthToken": "crlf\r\nsecret"}
	weird := &junction.Service{Kind: junction.KindThirdParty, Name: "Weird", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{
			{Name: "dev", URL: "https://dev.weird.example/?a=1&b=$2", Environments: []string{"development"}, Values: maps.Clone(devValues)},
			{Name: "prod", URL: "https://weird.example", Environments: []string{"production"}, Values: maps.Clone(prodValues)},
		}}
	require.NoError(t, f.svc.Services.CreateService(ada, weird))
	connID := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"weird","service_id":"`+weird.ID+`"}`)["id"].(string)
	f.mustPut(t, "orders", connID, map[string]string{"ServiceURL": "WEIRD_URL", "AccountSID": "WEIRD_SID", "AuthToken": "WEIRD_TOKEN"})
	f.dev = map[string]string{"WEIRD_URL": weird.Endpoints[0].URL, "WEIRD_SID": devValues["AccountSID"], "WEIRD_TOKEN": devValues["AuthToken"]}
	f.prod = map[string]string{"WEIRD_URL": weird.Endpoints[1].URL, "WEIRD_SID": prodValues["AccountSID"], "WEIRD_TOKEN": prodValues["AuthToken"]}

	mapsSvc := &junction.Service{Kind: junction.KindThirdParty, Name: "Maps", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "BrowserKey"}},
		Endpoints: []junction.Endpoint{{Name: "any", URL: "https://maps.example/js?v=3&libs=places", Environments: []string{"development", "production"},
			Values: map[string]string{"BrowserKey": "</script><b>"}}}}
	require.NoError(t, f.svc.Services.CreateService(ada, mapsSvc))
	mapsID := f.create(t, "/api/v1/projects/shop/components/web/connections", f.admin, `{"name":"maps","service_id":"`+mapsSvc.ID+`"}`)["id"].(string)
	f.mustPut(t, "web", mapsID, map[string]string{"ServiceURL": "MAPS_URL", "BrowserKey": "MAPS_KEY"})
	f.web = map[string]string{"MAPS_URL": mapsSvc.Endpoints[0].URL, "MAPS_KEY": "</script><b>"}

	runtimeToken := func(component, env string) string {
		status, created := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/"+component+"/runtime-tokens", f.admin, `{"environment":"`+env+`"}`)
		require.Equal(t, http.StatusCreated, status, "%v", created)
		return created["token"].(string)
	}
	f.devToken, f.prodToken, f.webToken = runtimeToken("orders", "development"), runtimeToken("orders", "production"), runtimeToken("web", "development")
	return f
}

// errorBody decodes a JSON error answer.
func errorBody(t *testing.T, raw string) (code, message string, fields map[string]any) {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &body), raw)
	code, fields = apiError(t, body)
	return code, body["error"].(map[string]any)["message"].(string), fields
}

func TestRuntimeEnvFormats(t *testing.T) {
	f := newFormatFixture(t)
	get := func(t *testing.T, format, token string) (int, string, string) {
		t.Helper()
		return f.raw(t, http.MethodGet, "/api/v1/runtime/env?format="+format, "Bearer "+token)
	}

	t.Run("JSON", func(t *testing.T) {
		for token, want := range map[string]map[string]string{f.devToken: f.dev, f.prodToken: f.prod} {
			status, ctype, raw := get(t, "json", token)
			require.Equal(t, http.StatusOK, status, raw)
			require.Contains(t, ctype, "application/json")
			var got map[string]string
			require.NoError(t, json.Unmarshal([]byte(raw), &got))
			require.Equal(t, want, got, "every value exactly")
		}
	})

	t.Run("Dotenv", func(t *testing.T) {
		status, ctype, raw := get(t, "dotenv", f.devToken)
		require.Equal(t, http.StatusOK, status, raw)
		require.Equal(t, "text/plain; charset=utf-8", ctype)
		want, err := junction.FormatDotenv(f.dev)
		require.NoError(t, err)
		require.Equal(t, want, raw)
		require.Contains(t, raw, `WEIRD_SID='AC "quoted" \ back $HOME'`+"\n")
		require.Contains(t, raw, "WEIRD_TOKEN='multi\nline secret $(touch pwned) `id` '\n")
	})

	t.Run("ErrDotenvCannotCarry", func(t *testing.T) {
		status, ctype, raw := get(t, "dotenv", f.prodToken)
		require.Equal(t, http.StatusUnprocessableEntity, status, raw)
		require.Contains(t, ctype, "application/json")
		code, msg, fields := errorBody(t, raw)
		require.Equal(t, "invalid", code)
		require.Contains(t, msg, "WEIRD_SID, WEIRD_TOKEN cannot be written as a .env file")
		require.Contains(t, msg, "Use format=json or format=shell.")
		require.Equal(t, []string{"WEIRD_SID", "WEIRD_TOKEN"}, keysOf(fields))
		require.NotContains(t, raw, "crlf", "the answer never holds a value")
		require.NotContains(t, raw, "it's")
	})

	t.Run("Shell", func(t *testing.T) {
		for token, want := range map[string]map[string]string{f.devToken: f.dev, f.prodToken: f.prod} {
			status, ctype, raw := get(t, "shell", token)
			require.Equal(t, http.StatusOK, status, raw)
			require.Equal(t, "text/plain; charset=utf-8", ctype)
			expected, err := junction.FormatShell(want)
			require.NoError(t, err)
			require.Equal(t, expected, raw)
			// eval reads every value back exactly, and runs nothing.
			dir := t.TempDir()
			cmd := exec.Command("sh", "-c", `eval "$1"; printf '%s\0' "$WEIRD_URL" "$WEIRD_SID" "$WEIRD_TOKEN"`, "sh", raw)
			cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin:/bin", "HOME=/nowhere"}
			out, err := cmd.Output()
			require.NoError(t, err)
			require.Equal(t, want["WEIRD_URL"]+"\x00"+want["WEIRD_SID"]+"\x00"+want["WEIRD_TOKEN"]+"\x00", string(out))
			require.NoFileExists(t, dir+"/pwned")
		}
	})

	t.Run("JS", func(t *testing.T) {
		status, ctype, raw := get(t, "js", f.webToken)
		require.Equal(t, http.StatusOK, status, raw)
		require.Equal(t, "text/javascript; charset=utf-8", ctype)
		require.Equal(t, "window.configs = {\n"+
			`  "MAPS_KEY": "\u003c/script\u003e\u003cb\u003e",`+"\n"+
			`  "MAPS_URL": "https://maps.example/js?v=3\u0026libs=places"`+"\n};\n", raw)
	})

	t.Run("ErrJSSecret", func(t *testing.T) {
		status, ctype, raw := get(t, "js", f.devToken)
		require.Equal(t, http.StatusUnprocessableEntity, status, raw)
		require.Contains(t, ctype, "application/json")
		code, msg, fields := errorBody(t, raw)
		require.Equal(t, "invalid", code)
		require.Contains(t, msg, "WEIRD_TOKEN is a secret parameter")
		require.Contains(t, msg, "never receive a secret")
		require.Equal(t, []string{"WEIRD_TOKEN"}, keysOf(fields))
		require.NotContains(t, raw, "line secret")
	})

	t.Run("ErrFormat", func(t *testing.T) {
		status, _, raw := get(t, "xml", f.devToken)
		require.Equal(t, http.StatusUnprocessableEntity, status, raw)
		_, msg, fields := errorBody(t, raw)
		require.Equal(t, "format must be json, dotenv, shell or js.", msg)
		require.Contains(t, fields, "format")
	})
}

func TestExportFormats(t *testing.T) {
	f := newFormatFixture(t)
	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	dev := f.createUser(t, "dev@example.com", false)
	_, err := f.svc.Projects.SetMember(as(mustUser(t, f.testServer, "ada@example.com")), "shop", dev.Email, junction.RoleDeveloper)
	require.NoError(t, err)
	developer, viewer := f.browser(t), f.browser(t)
	developer.mustLogin(dev.Email)
	viewer.mustLogin("vic@example.com")
	reveals := func(t *testing.T, email string) int {
		t.Helper()
		conn := f.rawSQL(t)
		var n int
		require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action = 'secret.reveal' AND outcome = 'ok' AND target_type = 'component' AND actor = ?`, email).Scan(&n))
		return n
	}
	const page = "/projects/shop/components/orders/export?environment=development&format="

	t.Run("KubernetesHoldsRealValues", func(t *testing.T) {
		before := reveals(t, dev.Email)
		res, body := developer.get(page + "kubernetes")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.Equal(t, `attachment; filename="orders-development-secret.yaml"`, res.Header.Get("Content-Disposition"))
		require.Contains(t, body, "  TWILIO_TOKEN: \"sand-secret\"\n")
		require.Contains(t, body, "  WEIRD_TOKEN: ")
		require.NotContains(t, body, junction.Masked)
		require.Equal(t, before+1, reveals(t, dev.Email), "audited as a reveal")

		// The API too, with or without reveal=true.
		devToken := f.token(t, dev)
		for _, query := range []string{"", "&reveal=true", "&reveal=false"} {
			status, _, raw := f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development&format=kubernetes"+query, "Bearer "+devToken)
			require.Equal(t, http.StatusOK, status, raw)
			require.Contains(t, raw, "  TWILIO_TOKEN: \"sand-secret\"\n")
			require.NotContains(t, raw, junction.Masked)
		}
		require.Equal(t, before+4, reveals(t, dev.Email), "each API export audited as a reveal")
	})

	t.Run("ErrKubernetesViewer", func(t *testing.T) {
		before := reveals(t, "vic@example.com")
		res, body := viewer.get(page + "kubernetes")
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, body, "A Kubernetes Secret holds the real values, and viewers cannot reveal secret values")
		require.NotContains(t, body, "sand-secret")
		require.NotContains(t, body, junction.Masked)

		status, _, raw := f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development&format=kubernetes", "Bearer "+f.viewer)
		require.Equal(t, http.StatusForbidden, status, raw)
		code, msg, _ := errorBody(t, raw)
		require.Equal(t, "forbidden", code)
		require.Contains(t, msg, "A Kubernetes Secret holds the real values")
		require.Equal(t, before, reveals(t, "vic@example.com"), "nothing revealed")

		// The masked preview stays what it was for viewers.
		status, body2 := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development", f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, junction.Masked, body2["TWILIO_TOKEN"])
	})

	t.Run("Dotenv", func(t *testing.T) {
		res, body := developer.get(page + "dotenv")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.Contains(t, body, "TWILIO_TOKEN='sand-secret'\n")

		res, body = developer.get("/projects/shop/components/orders/export?environment=production&format=dotenv")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, "WEIRD_SID, WEIRD_TOKEN cannot be written as a .env file")
		require.Contains(t, body, "Use format=json or format=shell.")
		require.Empty(t, res.Header.Get("Content-Disposition"), "no file")

		// As it says: the shell export carries them.
		res, body = developer.get("/projects/shop/components/orders/export?environment=production&format=shell")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.Equal(t, `attachment; filename="orders-production.sh"`, res.Header.Get("Content-Disposition"))
		require.Contains(t, body, "export WEIRD_TOKEN='crlf\r\nsecret'\n")
		res, _ = viewer.get("/projects/shop/components/orders/export?environment=production&format=shell")
		require.Equal(t, http.StatusForbidden, res.StatusCode)

		// The preview API writes the same formats, masked unless reveal=true.
		status, _, raw := f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=production&format=dotenv&reveal=true", "Bearer "+f.admin)
		require.Equal(t, http.StatusUnprocessableEntity, status, raw)
		require.Contains(t, raw, "WEIRD_SID, WEIRD_TOKEN cannot be written as a .env file")
		status, _, raw = f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=production&format=shell&reveal=true", "Bearer "+f.admin)
		require.Equal(t, http.StatusOK, status, raw)
		require.Contains(t, raw, "export WEIRD_TOKEN='crlf\r\nsecret'\n")
		status, _, raw = f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=production&format=shell", "Bearer "+f.viewer)
		require.Equal(t, http.StatusOK, status, raw)
		require.Contains(t, raw, "export WEIRD_TOKEN='"+junction.Masked+"'\n")
		status, ctype, raw := f.raw(t, http.MethodGet, "/api/v1/projects/shop/components/web/env?environment=production&format=js", "Bearer "+f.viewer)
		require.Equal(t, http.StatusOK, status, raw)
		require.Equal(t, "text/javascript; charset=utf-8", ctype)
		require.Contains(t, raw, `"MAPS_KEY": "\u003c/script\u003e\u003cb\u003e"`)
	})

	t.Run("ConfigJS", func(t *testing.T) {
		for _, b := range []*browser{developer, viewer} {
			res, body := b.get("/projects/shop/components/web/export?environment=development&format=js")
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
			require.Equal(t, `attachment; filename="config.js"`, res.Header.Get("Content-Disposition"))
			want, err := junction.FormatJS([]junction.EnvVar{{Name: "MAPS_URL", Value: f.web["MAPS_URL"], HasValue: true}, {Name: "MAPS_KEY", Value: f.web["MAPS_KEY"], HasValue: true}})
			require.NoError(t, err)
			require.Equal(t, want, body, "viewers too: config.js holds no secret")
		}

		res, body := developer.get(page + "js")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, "TWILIO_TOKEN, WEIRD_TOKEN are secret parameters")
		require.NotContains(t, body, "sand-secret")
		require.Empty(t, res.Header.Get("Content-Disposition"), "no file")
	})
}

func TestParameterValuesKeepSpaces(t *testing.T) {
	f := newMappingFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")

	// The forms say so.
	_, body := b.get("/services/new/third-party")
	require.Contains(t, body, "Spaces at the start or end are kept.")
	_, body = b.get("/services/new/database")
	require.Equal(t, 4, strings.Count(body, "Spaces at the start or end are kept."),
		"under DatabaseName and over the credentials (user names and passwords) of each of the two environments, not under HostName and Port")

	// A third-party API from the form, a database from the form, one more from the API.
	form := thirdPartyForm("Spaced")
	form.Set("endpoints[0].values[0]", "  secret with spaces\t")
	form.Set("endpoints[0].values[1]", " AC-spaced ")
	res, _ := b.post("/services/third-party", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	thirdParty := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))[1]

	res, body = b.post("/services/database", url.Values{"name": {"spaced-db"}, "engine": {"postgres"},
		"values.development.HostName": {" db.local "}, "values.development.Port": {" 5432 "}, "values.development.DatabaseName": {" orders "},
		"values.development.Username": {" app "}, "values.development.Password": {"  pw  "}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	database := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))[1]

	status, created := f.api(t, http.MethodPost, "/api/v1/services", f.admin, `{"kind":"third-party","name":"Spaced API","version":"v1",
		"parameters":[{"name":"Greeting"}],"endpoints":[{"name":"any","url":" https://spaced.example ","environments":["development"],"values":{"Greeting":" hello "}}]}`)
	require.Equal(t, http.StatusCreated, status, "%v", created)
	require.Equal(t, "https://spaced.example", created["endpoints"].([]any)[0].(map[string]any)["url"], "URLs are trimmed")
	require.Equal(t, " hello ", created["endpoints"].([]any)[0].(map[string]any)["values"].(map[string]any)["Greeting"])

	mapAll := func(name, serviceID string, names map[string]string) {
		id := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"`+name+`","service_id":"`+serviceID+`"}`)["id"].(string)
		f.mustPut(t, "orders", id, names)
	}
	mapAll("spaced", thirdParty, map[string]string{"ServiceURL": "SPACED_URL", "AuthToken": "SPACED_TOKEN", "AccountSID": "SPACED_SID"})
	mapAll("spaced-db", database, map[string]string{"HostName": "DB_HOST", "Port": "DB_PORT", "DatabaseName": "DB_NAME", "Username": "DB_USER", "Password": "DB_PASSWORD"})
	mapAll("spaced-api", created["id"].(string), map[string]string{"ServiceURL": "API_URL", "Greeting": "API_GREETING"})
	status, tok := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", f.admin, `{"environment":"development"}`)
	require.Equal(t, http.StatusCreated, status)

	status, env := f.runtimeEnv(t, tok["token"].(string))
	require.Equal(t, http.StatusOK, status, "%v", env)
	for name, want := range map[string]string{
		"SPACED_TOKEN": "  secret with spaces\t", "SPACED_SID": " AC-spaced ",
		"DB_HOST": "db.local", "DB_PORT": "5432", "DB_NAME": " orders ", "DB_USER": " app ", "DB_PASSWORD": "  pw  ",
		"API_URL": "https://spaced.example", "API_GREETING": " hello ",
	} {
		require.Equal(t, want, env[name], name)
	}
	status, _, raw := f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=dotenv", "Bearer "+tok["token"].(string))
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, "SPACED_TOKEN='  secret with spaces\t'\n")
	require.Contains(t, raw, "DB_USER=' app '\n")
}

func TestEnvPageConfigJS(t *testing.T) {
	f := newFormatFixture(t)
	ada := as(mustUser(t, f.testServer, "ada@example.com"))
	require.NoError(t, f.svc.Components.CreateComponent(ada, "shop", &junction.Component{Handle: "spa", Name: "SPA", Type: junction.ComponentTypeWebApp}))
	require.NoError(t, f.svc.Components.CreateComponent(ada, "shop", &junction.Component{Handle: "spa-secret", Name: "SPA with a secret", Type: junction.ComponentTypeWebApp}))
	var mapsID string
	_, list := f.api(t, http.MethodGet, "/api/v1/services?q=Maps", f.admin, "")
	for _, it := range list["items"].([]any) {
		if it.(map[string]any)["name"] == "Maps" {
			mapsID = it.(map[string]any)["id"].(string)
		}
	}
	require.NotEmpty(t, mapsID)
	conn := f.create(t, "/api/v1/projects/shop/components/spa/connections", f.admin, `{"name":"maps","service_id":"`+mapsID+`"}`)["id"].(string)
	f.mustPut(t, "spa", conn, map[string]string{"ServiceURL": "MAPS_URL", "BrowserKey": "MAPS_KEY"})
	f.mustPut(t, "spa-secret", f.twilioID, f.twilioMap)

	viewer := f.browser(t)
	viewer.mustLogin("vic@example.com")
	_, page := viewer.get("/projects/shop/components/spa/env?environment=production")
	require.Contains(t, page, `<a href="/projects/shop/components/spa/export?format=js&amp;environment=production" role="button" class="secondary" data-testid="export-config-js">config.js</a>`,
		"a web application offers its config.js, to viewers too")
	res, body := viewer.get("/projects/shop/components/spa/export?format=js&environment=production")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, `"MAPS_KEY": "\u003c/script\u003e\u003cb\u003e"`)

	_, page = viewer.get("/projects/shop/components/spa-secret/env")
	require.NotContains(t, page, `data-testid="export-config-js"`)
	require.Contains(t, page, `data-testid="config-js-refused"`)
	require.Contains(t, page, "TWILIO_TOKEN is a secret parameter")

	_, page = viewer.get("/projects/shop/components/web/env")
	require.NotContains(t, page, `data-testid="config-js"`, "only web applications offer config.js on the page")
}
