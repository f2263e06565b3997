package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// Secret values registered by the catalog tests. None of them may ever appear in an answer.
const (
	sandboxToken = "sandbox-auth-token-7f3a1c"
	liveToken    = "live-auth-token-9c1d2e"
	dbPassword   = "pg-password-4e2b8f"
	formSecret   = "form-secret-5d6e0a"
)

// The service bodies of DESIGN.md, with concrete values.
const (
	twilioBody = `{"kind":"third-party","name":"Twilio","version":"v1","description":"SMS and voice calls","tags":["sms"],
	"parameters":[{"name":"AccountSID","secret":false},{"name":"AuthToken","secret":true}],
	"endpoints":[
		{"name":"sandbox","url":"https://sandbox.twilio.example/2010-04-01","environments":["development"],
		 "values":{"AccountSID":"AC-sandbox","AuthToken":"` + sandboxToken + `"}},
		{"name":"live","url":"https://api.twilio.com/2010-04-01","environments":["production"],
		 "values":{"AccountSID":"AC-live","AuthToken":"` + liveToken + `"}}]}`
	databaseBody = `{"kind":"database","name":"orders-db","engine":"postgres","values":{"development":
	{"HostName":"db.dev.internal","Port":"5432","DatabaseName":"orders","Username":"orders_app","Password":"` + dbPassword + `"}}}`
	internalBody = `{"kind":"internal","name":"Inventory API","version":"v1","project":"shop","component":"inventory",
	"visibility":"organization","security":"oauth","urls":{"development":"http://inventory.dev.internal:8080","production":"https://inventory.example.com"}}`
)

var allSecrets = []string{sandboxToken, liveToken, dbPassword, formSecret}

// catalog is a test server with two projects and users in every role:
//   - shop (components inventory, orders): dev is a developer, vic a viewer;
//   - blog (component web): bea is a developer (and no member of shop);
//   - olga is a member of no project; ada is an admin.
type catalog struct {
	*testServer
	admin, dev, viewer, blogger, outsider                          *junction.User
	adminToken, devToken, viewerToken, bloggerToken, outsiderToken string
}

func newCatalog(t *testing.T) *catalog {
	t.Helper()
	c := &catalog{testServer: newTestServer(t)}
	c.admin = c.createUser(t, "ada@example.com", true)
	c.dev = c.createUser(t, "dev@example.com", false)
	c.viewer = c.createUser(t, "vic@example.com", false)
	c.blogger = c.createUser(t, "bea@example.com", false)
	c.outsider = c.createUser(t, "olga@example.com", false)
	ctx := as(c.admin)
	require.NoError(t, c.svc.Projects.CreateProject(ctx, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(t, c.svc.Projects.CreateProject(ctx, &junction.Project{Handle: "blog", Name: "Blog"}))
	for _, pc := range [][3]string{{"shop", "inventory", "Inventory"}, {"shop", "orders", "Orders"}, {"blog", "web", "Web"}} {
		require.NoError(t, c.svc.Components.CreateComponent(ctx, pc[0], &junction.Component{Handle: pc[1], Name: pc[2]}))
	}
	for _, m := range []struct {
		project, email string
		role           junction.Role
	}{
		{"shop", "dev@example.com", junction.RoleDeveloper},
		{"shop", "vic@example.com", junction.RoleViewer},
		{"blog", "bea@example.com", junction.RoleDeveloper},
	} {
		_, err := c.svc.Projects.SetMember(ctx, m.project, m.email, m.role)
		require.NoError(t, err)
	}
	c.adminToken = c.token(t, c.admin)
	c.devToken = c.token(t, c.dev)
	c.viewerToken = c.token(t, c.viewer)
	c.bloggerToken = c.token(t, c.blogger)
	c.outsiderToken = c.token(t, c.outsider)
	return c
}

// mustCreate registers a service through the API and returns the answer.
func (c *catalog) mustCreate(t *testing.T, token, body string) map[string]any {
	t.Helper()
	status, svc := c.api(t, http.MethodPost, "/api/v1/services", token, body)
	require.Equal(t, http.StatusCreated, status, "%v", svc)
	return svc
}

// list searches the catalog through the API.
func (c *catalog) list(t *testing.T, token, query string) map[string]any {
	t.Helper()
	status, body := c.api(t, http.MethodGet, "/api/v1/services"+query, token, "")
	require.Equal(t, http.StatusOK, status, "%s: %v", query, body)
	return body
}

// listIDs returns the IDs of the items of a list answer, in order.
func listIDs(t *testing.T, body map[string]any) []string {
	t.Helper()
	items, ok := body["items"].([]any)
	require.True(t, ok, "items is not a list: %v", body)
	ids := make([]string, len(items))
	for i, item := range items {
		ids[i] = item.(map[string]any)["id"].(string)
	}
	return ids
}

// listNames returns the names of the items of a list answer, in order.
func listNames(t *testing.T, body map[string]any) []string {
	t.Helper()
	var names []string
	for _, item := range body["items"].([]any) {
		names = append(names, item.(map[string]any)["name"].(string))
	}
	return names
}

// editJSON decodes base, lets edit change it and encodes it again.
func editJSON(t *testing.T, base string, edit func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(base), &m))
	edit(m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return string(out)
}

// endpointAt returns endpoint i of a decoded third-party body.
func endpointAt(m map[string]any, i int) map[string]any {
	return m["endpoints"].([]any)[i].(map[string]any)
}

// requireNoSecret fails if any registered secret value appears in v (a string or a JSON value).
func requireNoSecret(t *testing.T, v any) {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		s = string(raw)
	}
	for _, secret := range allSecrets {
		require.NotContains(t, s, secret, "a secret value is shown in clear")
	}
}

// htmx sends a GET as htmx does when it swaps the element with the given id.
func (b *browser) htmx(path, target string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	return b.do(req)
}

func TestServiceAPICreate(t *testing.T) {
	c := newCatalog(t)

	t.Run("ThirdParty", func(t *testing.T) {
		svc := c.mustCreate(t, c.adminToken, twilioBody)
		require.True(t, strings.HasPrefix(svc["id"].(string), "svc_"), svc["id"])
		require.Equal(t, "third-party", svc["kind"])
		require.Equal(t, "Twilio", svc["name"])
		require.Equal(t, "v1", svc["version"])
		require.Equal(t, []any{"sms"}, svc["tags"])
		require.Equal(t, []any{
			map[string]any{"name": "AccountSID", "secret": false},
			map[string]any{"name": "AuthToken", "secret": true},
		}, svc["parameters"])
		endpoints := svc["endpoints"].([]any)
		require.Len(t, endpoints, 2)
		sandbox, live := endpoints[0].(map[string]any), endpoints[1].(map[string]any)
		require.Equal(t, "sandbox", sandbox["name"])
		require.Equal(t, "https://sandbox.twilio.example/2010-04-01", sandbox["url"])
		require.Equal(t, []any{"development"}, sandbox["environments"])
		require.Equal(t, map[string]any{"AccountSID": "AC-sandbox", "AuthToken": junction.Masked}, sandbox["values"])
		require.Equal(t, "live", live["name"])
		require.Equal(t, []any{"production"}, live["environments"])
		require.Equal(t, map[string]any{"AccountSID": "AC-live", "AuthToken": junction.Masked}, live["values"])
		requireNoSecret(t, svc)

		for _, token := range []string{c.adminToken, c.devToken, c.outsiderToken} {
			status, got := c.api(t, http.MethodGet, "/api/v1/services/"+svc["id"].(string), token, "")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, svc["endpoints"], got["endpoints"])
			requireNoSecret(t, got)

			body := c.list(t, token, "")
			require.Contains(t, listIDs(t, body), svc["id"])
			requireNoSecret(t, body)
		}
	})
	t.Run("Database", func(t *testing.T) {
		svc := c.mustCreate(t, c.devToken, databaseBody)
		require.True(t, strings.HasPrefix(svc["id"].(string), "svc_"), svc["id"])
		require.Equal(t, "database", svc["kind"])
		require.Equal(t, "orders-db", svc["name"])
		require.Equal(t, "postgres", svc["engine"])
		require.Equal(t, map[string]any{"development": map[string]any{
			"HostName": "db.dev.internal", "Port": "5432", "DatabaseName": "orders", "Username": "orders_app", "Password": junction.Masked,
		}}, svc["values"])
		requireNoSecret(t, svc)

		status, got := c.api(t, http.MethodGet, "/api/v1/services/"+svc["id"].(string), c.devToken, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, svc["values"], got["values"])
		requireNoSecret(t, got)
		body := c.list(t, c.devToken, "?kind=database")
		require.Equal(t, []string{svc["id"].(string)}, listIDs(t, body))
		requireNoSecret(t, body)
	})
	t.Run("Internal", func(t *testing.T) {
		svc := c.mustCreate(t, c.devToken, internalBody)
		require.True(t, strings.HasPrefix(svc["id"].(string), "svc_"), svc["id"])
		require.Equal(t, "internal", svc["kind"])
		require.Equal(t, "Inventory API", svc["name"])
		require.Equal(t, "v1", svc["version"])
		require.Equal(t, "shop", svc["project"])
		require.Equal(t, "inventory", svc["component"])
		require.Equal(t, "organization", svc["visibility"])
		require.Equal(t, "oauth", svc["security"])
		require.Equal(t, map[string]any{"development": "http://inventory.dev.internal:8080", "production": "https://inventory.example.com"}, svc["urls"])

		status, got := c.api(t, http.MethodGet, "/api/v1/services/"+svc["id"].(string), c.bloggerToken, "")
		require.Equal(t, http.StatusOK, status, "organization visibility: other projects see it")
		require.Equal(t, svc["urls"], got["urls"])
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct {
			name, body, field string
		}{
			{"RelativeURL", editJSON(t, twilioBody, func(m map[string]any) { endpointAt(m, 0)["url"] = "/2010-04-01" }), "endpoints[0].url"},
			{"FTPURL", editJSON(t, twilioBody, func(m map[string]any) { endpointAt(m, 1)["url"] = "ftp://api.twilio.com" }), "endpoints[1].url"},
			{"PortOutOfRange", strings.Replace(databaseBody, `"5432"`, `"70000"`, 1), "values.development.Port"},
			{"PortNotNumber", strings.Replace(databaseBody, `"5432"`, `"abc"`, 1), "values.development.Port"},
			{"DuplicateParameter", editJSON(t, twilioBody, func(m map[string]any) {
				m["parameters"] = []any{map[string]any{"name": "AuthToken", "secret": true}, map[string]any{"name": "AuthToken"}}
			}), "parameters[1].name"},
			{"DuplicateParameterOtherCase", editJSON(t, twilioBody, func(m map[string]any) {
				m["parameters"] = []any{map[string]any{"name": "AuthToken", "secret": true}, map[string]any{"name": "authtoken"}}
			}), "parameters[1].name"},
			{"ParameterServiceURL", editJSON(t, twilioBody, func(m map[string]any) {
				m["parameters"] = []any{map[string]any{"name": "ServiceURL"}}
			}), "parameters[0].name"},
			{"MissingParameterValue", editJSON(t, twilioBody, func(m map[string]any) {
				delete(endpointAt(m, 0)["values"].(map[string]any), "AuthToken")
			}), "endpoints[0].values.AuthToken"},
			{"BlankParameterValue", editJSON(t, twilioBody, func(m map[string]any) {
				endpointAt(m, 1)["values"].(map[string]any)["AuthToken"] = "   "
			}), "endpoints[1].values.AuthToken"},
			{"UnknownEndpointEnvironment", editJSON(t, twilioBody, func(m map[string]any) {
				endpointAt(m, 0)["environments"] = []any{"staging"}
			}), "endpoints[0].environments"},
			{"NoEndpointEnvironment", editJSON(t, twilioBody, func(m map[string]any) {
				endpointAt(m, 0)["environments"] = []any{}
			}), "endpoints[0].environments"},
			{"DuplicateEndpoint", editJSON(t, twilioBody, func(m map[string]any) { endpointAt(m, 1)["name"] = "sandbox" }), "endpoints[1].name"},
			{"NoEndpoints", editJSON(t, twilioBody, func(m map[string]any) { m["endpoints"] = []any{} }), "endpoints"},
			{"UnknownDatabaseEnvironment", strings.Replace(databaseBody, `"development"`, `"staging"`, 1), "values.staging"},
			{"NoDatabaseValues", `{"kind":"database","name":"empty-db","engine":"postgres","values":{}}`, "values"},
			{"BadEngine", strings.Replace(databaseBody, `"postgres"`, `"sqlite"`, 1), "engine"},
			{"UnknownURLEnvironment", editJSON(t, internalBody, func(m map[string]any) {
				m["urls"] = map[string]any{"staging": "https://staging.example.com"}
			}), "urls.staging"},
			{"BadInternalURL", editJSON(t, internalBody, func(m map[string]any) {
				m["urls"] = map[string]any{"development": "inventory:8080"}
			}), "urls.development"},
			{"NoURLs", editJSON(t, internalBody, func(m map[string]any) { m["urls"] = map[string]any{} }), "urls"},
			{"BadVisibility", editJSON(t, internalBody, func(m map[string]any) { m["visibility"] = "secret" }), "visibility"},
			{"BadSecurity", editJSON(t, internalBody, func(m map[string]any) { m["security"] = "basic" }), "security"},
			{"MissingProject", editJSON(t, internalBody, func(m map[string]any) { delete(m, "project") }), "project"},
			{"MissingComponent", editJSON(t, internalBody, func(m map[string]any) { delete(m, "component") }), "component"},
			{"BadKind", editJSON(t, twilioBody, func(m map[string]any) { m["kind"] = "webhook" }), "kind"},
			{"MissingKind", editJSON(t, twilioBody, func(m map[string]any) { delete(m, "kind") }), "kind"},
			{"MissingName", editJSON(t, twilioBody, func(m map[string]any) { m["name"] = " " }), "name"},
			{"MissingVersion", editJSON(t, twilioBody, func(m map[string]any) { delete(m, "version") }), "version"},
			{"BadVersion", editJSON(t, twilioBody, func(m map[string]any) { m["version"] = "v 1/2" }), "version"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.api(t, http.MethodPost, "/api/v1/services", c.adminToken, tc.body)
				require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
				code, fields := apiError(t, body)
				require.Equal(t, "invalid", code)
				require.Contains(t, fields, tc.field, "fields: %v", fields)
				require.NotEmpty(t, fields[tc.field])
				requireNoSecret(t, body)
			})
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		for _, tc := range []struct{ name, body string }{
			{"ThirdParty", twilioBody},
			{"ThirdPartyOtherCase", strings.Replace(twilioBody, `"Twilio"`, `"twilio"`, 1)},
			{"Database", databaseBody},
			{"Internal", internalBody},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.api(t, http.MethodPost, "/api/v1/services", c.adminToken, tc.body)
				require.Equal(t, http.StatusConflict, status, "%v", body)
				code, _ := apiError(t, body)
				require.Equal(t, "conflict", code)
			})
		}
		// Another version, or the same name from another component, is a new service.
		c.mustCreate(t, c.adminToken, strings.Replace(twilioBody, `"v1"`, `"v2"`, 1))
		c.mustCreate(t, c.devToken, strings.Replace(internalBody, `"inventory"`, `"orders"`, 1))
	})
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		for _, body := range []string{`{"kind":`, ``, `{"kind":"third-party","name":42}`, `[1,2]`, `{"kind":"database"} {}`, `nonsense`} {
			status, answer := c.api(t, http.MethodPost, "/api/v1/services", c.adminToken, body)
			require.Equal(t, http.StatusBadRequest, status, body)
			code, _ := apiError(t, answer)
			require.Equal(t, "bad_request", code, body)
		}
	})
	t.Run("ErrViewerCannotRegister", func(t *testing.T) {
		for _, token := range []string{c.viewerToken, c.outsiderToken} {
			for _, body := range []string{strings.Replace(twilioBody, `"Twilio"`, `"Twilio Viewer"`, 1), strings.Replace(databaseBody, `"orders-db"`, `"viewer-db"`, 1)} {
				status, answer := c.api(t, http.MethodPost, "/api/v1/services", token, body)
				require.Equal(t, http.StatusForbidden, status, "%v", answer)
				code, _ := apiError(t, answer)
				require.Equal(t, "forbidden", code)
			}
		}
		status, answer := c.api(t, http.MethodPost, "/api/v1/services", c.viewerToken, strings.Replace(internalBody, `"Inventory API"`, `"Viewer API"`, 1))
		require.Equal(t, http.StatusForbidden, status, "a viewer of shop cannot publish there: %v", answer)
	})
	t.Run("ErrNonMemberPublishes", func(t *testing.T) {
		body := strings.Replace(internalBody, `"Inventory API"`, `"Sneaky API"`, 1)
		for _, token := range []string{c.bloggerToken, c.outsiderToken} {
			status, answer := c.api(t, http.MethodPost, "/api/v1/services", token, body)
			require.Equal(t, http.StatusNotFound, status, "%v", answer)
			code, _ := apiError(t, answer)
			require.Equal(t, "not_found", code)
		}
		status, answer := c.api(t, http.MethodPost, "/api/v1/services", c.devToken, strings.Replace(body, `"inventory"`, `"ghost"`, 1))
		require.Equal(t, http.StatusNotFound, status, "unknown component: %v", answer)
	})
	t.Run("ErrUnauthenticatedRead", func(t *testing.T) {
		for _, path := range []string{"/api/v1/services", "/api/v1/services/svc_nope"} {
			status, body := c.api(t, http.MethodGet, path, "", "")
			require.Equal(t, http.StatusUnauthorized, status, path)
			code, _ := apiError(t, body)
			require.Equal(t, "unauthorized", code)
		}
	})
	t.Run("ErrUnauthenticatedWrite", func(t *testing.T) {
		status, body := c.api(t, http.MethodPost, "/api/v1/services", "", twilioBody)
		require.Less(t, status, 500)
		if status == http.StatusForbidden {
		}
		require.Equal(t, http.StatusUnauthorized, status)
		code, _ := apiError(t, body)
		require.Equal(t, "unauthorized", code)
	})
	t.Run("ErrUnknownID", func(t *testing.T) {
		for _, id := range []string{"svc_nope", "nope", "%27%20OR%201%3D1"} {
			status, body := c.api(t, http.MethodGet, "/api/v1/services/"+id, c.adminToken, "")
			require.Equal(t, http.StatusNotFound, status, id)
			code, _ := apiError(t, body)
			require.Equal(t, "not_found", code)
		}
	})
}

// seedCatalog registers six services: Twilio and Stripe (third-party), orders-db
// (database), and from shop: Inventory API (organization), Orders Internal (project)
// and Catalog Public (public). It returns their IDs by name.
func (c *catalog) seedCatalog(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	add := func(token, body string) {
		svc := c.mustCreate(t, token, body)
		ids[svc["name"].(string)] = svc["id"].(string)
	}
	add(c.adminToken, twilioBody)
	add(c.devToken, editJSON(t, twilioBody, func(m map[string]any) {
		m["name"], m["description"], m["tags"] = "Stripe", "Card payments", []any{"payments"}
	}))
	add(c.adminToken, databaseBody)
	add(c.devToken, internalBody)
	add(c.devToken, editJSON(t, internalBody, func(m map[string]any) {
		m["name"], m["component"], m["visibility"], m["security"] = "Orders Internal", "orders", "project", "api-key"
	}))
	add(c.devToken, editJSON(t, internalBody, func(m map[string]any) {
		m["name"], m["visibility"], m["security"], m["description"] = "Catalog Public", "public", "none", "Product catalog for partners"
	}))
	return ids
}

func TestServiceAPIList(t *testing.T) {
	c := newCatalog(t)
	ids := c.seedCatalog(t)

	t.Run("Shape", func(t *testing.T) {
		body := c.list(t, c.adminToken, "")
		require.ElementsMatch(t, []string{"items", "total", "page", "per_page", "facets"}, mapKeys(body))
		require.EqualValues(t, 6, body["total"])
		require.EqualValues(t, 1, body["page"])
		require.EqualValues(t, junction.DefaultPerPage, body["per_page"])
		require.ElementsMatch(t, []string{ids["Twilio"], ids["Stripe"], ids["orders-db"], ids["Inventory API"], ids["Orders Internal"], ids["Catalog Public"]}, listIDs(t, body))
		facets := body["facets"].(map[string]any)
		require.Equal(t, map[string]any{"internal": 3.0, "third-party": 2.0, "database": 1.0}, nonZeroCounts(facets["kind"]))
		require.Equal(t, map[string]any{"project": 1.0, "organization": 1.0, "public": 1.0}, nonZeroCounts(facets["visibility"]))
		requireNoSecret(t, body)

		// An empty result is an empty list, not null.
		body = c.list(t, c.adminToken, "?q=zzzzzz")
		require.Equal(t, []any{}, body["items"])
		require.EqualValues(t, 0, body["total"])
	})
	t.Run("Search", func(t *testing.T) {
		for q, want := range map[string][]string{
			"twil":          {"Twilio"},
			"TWIL":          {"Twilio"},
			"sms":           {"Twilio"}, // tag
			"payments":      {"Stripe"}, // tag
			"card":          {"Stripe"}, // description
			"partners":      {"Catalog Public"},
			"inventory":     {"Catalog Public", "Inventory API"}, // "Inventory – …" display names
			"orders":        {"orders-db", "Orders Internal"},
			"twil sms":      {"Twilio"},
			"nothing-here":  nil,
			"  ":            {"Catalog Public", "Inventory API", "orders-db", "Orders Internal", "Stripe", "Twilio"},
			"inv api":       {"Inventory API"},
			"orders intern": {"Orders Internal"},
		} {
			body := c.list(t, c.adminToken, "?q="+url.QueryEscape(q))
			require.ElementsMatch(t, want, listNames(t, body), "q=%q", q)
			require.EqualValues(t, len(want), body["total"], "q=%q", q)
		}
		body := c.list(t, c.adminToken, "?q=twil")
		facets := body["facets"].(map[string]any)
		require.Equal(t, map[string]any{"third-party": 1.0}, nonZeroCounts(facets["kind"]))
	})
	t.Run("Filters", func(t *testing.T) {
		for query, want := range map[string][]string{
			"?kind=third-party":                {"Stripe", "Twilio"},
			"?kind=database":                   {"orders-db"},
			"?kind=internal":                   {"Catalog Public", "Inventory API", "Orders Internal"},
			"?visibility=public":               {"Catalog Public"},
			"?visibility=project":              {"Orders Internal"},
			"?visibility=organization":         {"Inventory API"},
			"?project=shop":                    {"Catalog Public", "Inventory API", "Orders Internal"},
			"?project=blog":                    nil,
			"?project=nope":                    nil,
			"?kind=internal&visibility=public": {"Catalog Public"},
			"?kind=database&visibility=public": nil,
			"?q=orders&kind=internal":          {"Orders Internal"},
			"?q=inventory&visibility=public":   {"Catalog Public"},
			"?q=inventory&project=shop":        {"Catalog Public", "Inventory API"},
		} {
			body := c.list(t, c.adminToken, query)
			require.ElementsMatch(t, want, listNames(t, body), query)
			require.EqualValues(t, len(want), body["total"], query)
		}
		// Each facet counts with the other filters applied, not its own.
		body := c.list(t, c.adminToken, "?kind=internal")
		facets := body["facets"].(map[string]any)
		require.Equal(t, map[string]any{"internal": 3.0, "third-party": 2.0, "database": 1.0}, nonZeroCounts(facets["kind"]))
		require.Equal(t, map[string]any{"project": 1.0, "organization": 1.0, "public": 1.0}, nonZeroCounts(facets["visibility"]))
	})
	t.Run("ErrBadFilters", func(t *testing.T) {
		for query, field := range map[string]string{
			"?kind=bogus":           "kind",
			"?kind=Internal":        "kind",
			"?visibility=everyone":  "visibility",
			"?sort=price":           "sort",
			"?q=twil&kind=webhooks": "kind",
		} {
			status, body := c.api(t, http.MethodGet, "/api/v1/services"+query, c.adminToken, "")
			require.Equal(t, http.StatusUnprocessableEntity, status, query)
			code, fields := apiError(t, body)
			require.Equal(t, "invalid", code, query)
			require.Contains(t, fields, field, query)
		}
		for _, query := range []string{"?page=abc", "?per_page=0", "?per_page=-5", "?page=1.5"} {
			status, body := c.api(t, http.MethodGet, "/api/v1/services"+query, c.adminToken, "")
			require.Equal(t, http.StatusBadRequest, status, query)
			code, _ := apiError(t, body)
			require.Equal(t, "bad_request", code, query)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		var seen []string
		for page := 1; page <= 4; page++ {
			body := c.list(t, c.adminToken, "?per_page=2&page="+strconv.Itoa(page))
			require.EqualValues(t, page, body["page"])
			require.EqualValues(t, 2, body["per_page"])
			require.EqualValues(t, 6, body["total"], "the total counts every page")
			if page <= 3 {
				require.Len(t, listIDs(t, body), 2, "page %d", page)
			} else {
				require.Empty(t, listIDs(t, body), "past the last page")
			}
			seen = append(seen, listIDs(t, body)...)
		}
		var all []string
		for _, id := range ids {
			all = append(all, id)
		}
		require.ElementsMatch(t, all, seen, "pages neither skip nor repeat")

		// A search pages alike.
		var found []string
		for page := 1; page <= 3; page++ {
			body := c.list(t, c.adminToken, "?q=inventory&sort=name&per_page=1&page="+strconv.Itoa(page))
			require.EqualValues(t, 2, body["total"])
			found = append(found, listNames(t, body)...)
		}
		require.Equal(t, []string{"Catalog Public", "Inventory API"}, found)

		// Display names ("Component – endpoint" for internal services) sort case-insensitively.
		body := c.list(t, c.adminToken, "?per_page=200")
		require.Equal(t, []string{"Catalog Public", "Inventory API", "Orders Internal", "orders-db", "Stripe", "Twilio"}, listNames(t, body))
		body = c.list(t, c.adminToken, "?per_page=1000")
		require.EqualValues(t, junction.MaxPerPage, body["per_page"])
		body = c.list(t, c.adminToken, "?per_page=1&sort=newest")
		require.Equal(t, []string{"Catalog Public"}, listNames(t, body))
	})
	t.Run("HostileQueries", func(t *testing.T) {
		for _, q := range []string{
			`"`, `'`, `""`, `"twil`, `twil"`, `*`, `twil*`, `**`, `NEAR(`, `NEAR(twil sms)`, `NEAR`, `AND`, `OR NOT`,
			`twil AND`, `-twil`, `+`, `^twil`, `:`, `display_name:twil`, `{display_name description}: twil`, `(`, `)`,
			`'; DROP TABLE services; --`, `%_\`, `\x00`, "\x00", "a\x00b", strings.Repeat("x", 5*1024), strings.Repeat("twil ", 1024),
			strings.Repeat("名", 2000), "名前", "ünïcødé", "e\u0301", "\u0301", "\u0301\u0301 twil", "🙂", "🙂twil", "\u200b", "\ufeff",
			"Ｔｗｉｌ", "ǅ", "İ", "\uFFFD", "<script>alert(1)</script>", "twil\r\nsms", "\t",
		} {
			status, body := c.api(t, http.MethodGet, "/api/v1/services?q="+url.QueryEscape(q), c.adminToken, "")
			require.Equal(t, http.StatusOK, status, "q=%q: %v", q, body)
			require.Contains(t, body, "items", "q=%q", q)
			require.Contains(t, body, "total", "q=%q", q)
		}
		// Operators are plain text: a star or quote does not break a prefix search.
		for _, q := range []string{`"twil"`, `twil*`, `(twil`, `twil)`, `twil:`, `^twil`, `-twil`} {
			require.Equal(t, []string{"Twilio"}, listNames(t, c.list(t, c.adminToken, "?q="+url.QueryEscape(q))), q)
		}
	})
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// nonZeroCounts returns the facet counts of a JSON facet object without the zeros.
func nonZeroCounts(v any) map[string]any {
	out := map[string]any{}
	for k, n := range v.(map[string]any) {
		if n.(float64) != 0 {
			out[k] = n
		}
	}
	return out
}

func TestServiceVisibility(t *testing.T) {
	c := newCatalog(t)
	ids := c.seedCatalog(t)
	projectSvc, orgSvc, publicSvc := ids["Orders Internal"], ids["Inventory API"], ids["Catalog Public"]

	t.Run("ProjectServiceHiddenFromOtherProjects", func(t *testing.T) {
		for _, token := range []string{c.bloggerToken, c.outsiderToken} {
			body := c.list(t, token, "")
			got := listIDs(t, body)
			require.NotContains(t, got, projectSvc)
			require.Contains(t, got, orgSvc)
			require.Contains(t, got, publicSvc)
			require.Contains(t, got, ids["Twilio"])
			require.Contains(t, got, ids["orders-db"])
			require.EqualValues(t, 5, body["total"])
			facets := body["facets"].(map[string]any)
			require.Equal(t, map[string]any{"internal": 2.0, "third-party": 2.0, "database": 1.0}, nonZeroCounts(facets["kind"]),
				"facets do not count what the user cannot see")
			require.Equal(t, map[string]any{"organization": 1.0, "public": 1.0}, nonZeroCounts(facets["visibility"]))

			for _, query := range []string{"?q=orders", "?visibility=project", "?project=shop", "?kind=internal", "?q=intern"} {
				require.NotContains(t, listIDs(t, c.list(t, token, query)), projectSvc, query)
			}
			body = c.list(t, token, "?project=shop")
			require.ElementsMatch(t, []string{orgSvc, publicSvc}, listIDs(t, body))
			require.Equal(t, map[string]any{"internal": 2.0}, nonZeroCounts(body["facets"].(map[string]any)["kind"]))

			status, answer := c.api(t, http.MethodGet, "/api/v1/services/"+projectSvc, token, "")
			require.Equal(t, http.StatusNotFound, status)
			code, _ := apiError(t, answer)
			require.Equal(t, "not_found", code)
			for _, id := range []string{orgSvc, publicSvc} {
				status, _ = c.api(t, http.MethodGet, "/api/v1/services/"+id, token, "")
				require.Equal(t, http.StatusOK, status)
			}
		}
	})
	t.Run("ProjectMembersSeeIt", func(t *testing.T) {
		for _, token := range []string{c.devToken, c.viewerToken, c.adminToken} {
			require.Contains(t, listIDs(t, c.list(t, token, "")), projectSvc)
			require.Contains(t, listIDs(t, c.list(t, token, "?q=orders")), projectSvc)
			status, body := c.api(t, http.MethodGet, "/api/v1/services/"+projectSvc, token, "")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "project", body["visibility"])
		}
	})
	t.Run("Unlist", func(t *testing.T) {
		status, body := c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, `{"unlisted":true}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, true, body["unlisted"])
		require.Equal(t, orgSvc, body["id"])

		for _, token := range []string{c.devToken, c.bloggerToken, c.adminToken} {
			for _, query := range []string{"", "?q=inventory", "?kind=internal", "?project=shop", "?visibility=organization"} {
				require.NotContains(t, listIDs(t, c.list(t, token, query)), orgSvc, query)
			}
			status, body = c.api(t, http.MethodGet, "/api/v1/services/"+orgSvc, token, "")
			require.Equal(t, http.StatusOK, status, "an unlisted service is still found by ID")
			require.Equal(t, true, body["unlisted"])
		}
		body = c.list(t, c.adminToken, "")
		require.EqualValues(t, 5, body["total"])
		require.Equal(t, map[string]any{"project": 1.0, "public": 1.0}, nonZeroCounts(body["facets"].(map[string]any)["visibility"]))

		status, body = c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, `{"unlisted":false}`)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, false, body["unlisted"])
		require.Contains(t, listIDs(t, c.list(t, c.bloggerToken, "?q=inventory")), orgSvc)
		require.EqualValues(t, 6, c.list(t, c.adminToken, "")["total"])
	})
	t.Run("ErrUnlistBadBody", func(t *testing.T) {
		status, body := c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, `{}`)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		_, fields := apiError(t, body)
		require.Contains(t, fields, "unlisted")
		for _, bad := range []string{`{"unlisted":"yes"}`, `{"unlisted":`, ``} {
			status, _ = c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, bad)
			require.Equal(t, http.StatusBadRequest, status, bad)
		}
	})
	t.Run("PatchDetails", func(t *testing.T) {
		_, before := c.api(t, http.MethodGet, "/api/v1/services/"+orgSvc, c.devToken, "")
		status, body := c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, `{"description":"Stock levels, hourly.","tags":["stock","hourly"]}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, "Stock levels, hourly.", body["description"])
		require.Equal(t, []any{"stock", "hourly"}, body["tags"])
		for _, field := range []string{"name", "version", "visibility", "security", "urls"} {
			require.Equal(t, before[field], body[field], "%s is kept when not sent", field)
		}

		status, body = c.api(t, http.MethodPatch, "/api/v1/services/"+orgSvc, c.devToken, `{"urls":{"production":"ftp://stock"},"description":"never saved"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
		_, fields := apiError(t, body)
		require.NotEmpty(t, fields)
		_, after := c.api(t, http.MethodGet, "/api/v1/services/"+orgSvc, c.devToken, "")
		require.Equal(t, "Stock levels, hourly.", after["description"], "a refused change saves nothing")

		// A database keeps its stored passwords when they are not sent (or sent masked).
		_, db := c.api(t, http.MethodGet, "/api/v1/services/"+ids["orders-db"], c.adminToken, "")
		status, body = c.api(t, http.MethodPatch, "/api/v1/services/"+ids["orders-db"], c.adminToken, `{"description":"Orders, moved."}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, "Orders, moved.", body["description"])
		require.Equal(t, db["values"], body["values"])
		requireNoSecret(t, body)

		// A third-party API is versioned, not edited.
		status, body = c.api(t, http.MethodPatch, "/api/v1/services/"+ids["Twilio"], c.adminToken, `{"description":"x"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
		require.Contains(t, body["error"].(map[string]any)["message"], "new version")
	})
	t.Run("OnlyEditorsPatch", func(t *testing.T) {
		for _, tc := range []struct {
			name, token, id string
			want            int
		}{
			{"ViewerInternal", c.viewerToken, orgSvc, http.StatusForbidden},
			{"ViewerProjectService", c.viewerToken, projectSvc, http.StatusForbidden},
			{"OtherProjectOrgService", c.bloggerToken, orgSvc, http.StatusForbidden},
			{"OtherProjectPublicService", c.bloggerToken, publicSvc, http.StatusForbidden},
			{"OtherProjectProjectService", c.bloggerToken, projectSvc, http.StatusNotFound},
			{"OutsiderProjectService", c.outsiderToken, projectSvc, http.StatusNotFound},
			{"DeveloperOthersThirdParty", c.devToken, ids["Twilio"], http.StatusForbidden},
			{"DeveloperOthersDatabase", c.devToken, ids["orders-db"], http.StatusForbidden},
			{"OutsiderThirdParty", c.outsiderToken, ids["Stripe"], http.StatusForbidden},
			{"UnknownID", c.adminToken, "svc_unknown", http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.api(t, http.MethodPatch, "/api/v1/services/"+tc.id, tc.token, `{"unlisted":true}`)
				require.Equal(t, tc.want, status, "%v", body)
				apiError(t, body)
			})
		}
		for _, id := range ids {
			status, body := c.api(t, http.MethodGet, "/api/v1/services/"+id, c.adminToken, "")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, false, body["unlisted"], "a refused PATCH changes nothing")
		}
		// The one who registered a third-party service, and admins, may unlist it.
		for _, tc := range []struct{ token, id string }{{c.devToken, ids["Stripe"]}, {c.adminToken, ids["Twilio"]}, {c.adminToken, projectSvc}} {
			status, body := c.api(t, http.MethodPatch, "/api/v1/services/"+tc.id, tc.token, `{"unlisted":true}`)
			require.Equal(t, http.StatusOK, status, "%v", body)
			status, _ = c.api(t, http.MethodPatch, "/api/v1/services/"+tc.id, tc.token, `{"unlisted":false}`)
			require.Equal(t, http.StatusOK, status)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		for _, tc := range []struct {
			name, token, id string
			want            int
			code            string
		}{
			{"ViewerInternal", c.viewerToken, publicSvc, http.StatusForbidden, "forbidden"},
			{"OtherProjectPublic", c.bloggerToken, publicSvc, http.StatusForbidden, "forbidden"},
			{"OtherProjectProjectService", c.bloggerToken, projectSvc, http.StatusNotFound, "not_found"},
			{"ThirdParty", c.adminToken, ids["Twilio"], http.StatusUnprocessableEntity, "invalid"},
			{"ThirdPartyByItsCreator", c.devToken, ids["Stripe"], http.StatusUnprocessableEntity, "invalid"},
			{"Database", c.adminToken, ids["orders-db"], http.StatusUnprocessableEntity, "invalid"},
			{"Unknown", c.adminToken, "svc_unknown", http.StatusNotFound, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.api(t, http.MethodDelete, "/api/v1/services/"+tc.id, tc.token, "")
				require.Equal(t, tc.want, status, "%v", body)
				code, _ := apiError(t, body)
				require.Equal(t, tc.code, code)
			})
		}
		require.EqualValues(t, 6, c.list(t, c.adminToken, "")["total"], "nothing was deleted")

		status, deleted := c.api(t, http.MethodDelete, "/api/v1/services/"+publicSvc, c.devToken, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, publicSvc, deleted["id"], "DELETE answers the service as it was")
		status, _ = c.api(t, http.MethodGet, "/api/v1/services/"+publicSvc, c.devToken, "")
		require.Equal(t, http.StatusNotFound, status)
		status, _ = c.api(t, http.MethodDelete, "/api/v1/services/"+publicSvc, c.devToken, "")
		require.Equal(t, http.StatusNotFound, status)
		body := c.list(t, c.adminToken, "")
		require.NotContains(t, listIDs(t, body), publicSvc)
		require.EqualValues(t, 5, body["total"])
		require.Empty(t, listIDs(t, c.list(t, c.adminToken, "?q=partners")), "unpublished services leave the search index")
		require.Equal(t, map[string]any{"project": 1.0, "organization": 1.0}, nonZeroCounts(body["facets"].(map[string]any)["visibility"]))

		// The name and version are free again.
		c.mustCreate(t, c.devToken, editJSON(t, internalBody, func(m map[string]any) {
			m["name"], m["visibility"], m["security"] = "Catalog Public", "public", "none"
		}))
	})
}

var parameterTablePattern = regexp.MustCompile(`(?s)<table data-testid="parameter-table">.*?</table>`)
var parameterNamePattern = regexp.MustCompile(`<tr><td class="mono">([^<]+)</td>`)

// parameterNames returns the parameter names listed on a service page.
func parameterNames(t *testing.T, page string) []string {
	t.Helper()
	table := parameterTablePattern.FindString(page)
	require.NotEmpty(t, table, "no parameter table on the page")
	var names []string
	for _, m := range parameterNamePattern.FindAllStringSubmatch(table, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestServicePages(t *testing.T) {
	c := newCatalog(t)
	ids := c.seedCatalog(t)
	b := c.browser(t)
	b.mustLogin("dev@example.com")

	t.Run("Catalog", func(t *testing.T) {
		res, body := b.get("/services")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, res.Header.Get("Content-Type"), "text/html")
		require.Contains(t, body, "<html")
		require.Contains(t, body, `data-testid="service-list"`)
		require.Contains(t, body, `id="catalog"`)
		require.Contains(t, body, "Twilio")
		require.Contains(t, body, "/services/"+ids["Twilio"])
		require.Contains(t, body, `data-testid="register-service"`, "developers may register services")
		requireNoSecret(t, body)

		res, body = b.get("/services?q=twil")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "/services/"+ids["Twilio"])
		require.NotContains(t, body, "/services/"+ids["Stripe"])
	})
	t.Run("HtmxFragment", func(t *testing.T) {
		res, body := b.htmx("/services?q=twil", "catalog")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.NotContains(t, body, "<html")
		require.NotContains(t, body, "<nav class=\"container\"")
		require.Contains(t, body, `id="catalog"`)
		require.Contains(t, body, `data-testid="service-list"`)
		require.Contains(t, body, "/services/"+ids["Twilio"])
		require.NotContains(t, body, "/services/"+ids["Stripe"])

		// Other htmx requests (a boosted link, say) get the whole page.
		res, body = b.htmx("/services", "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "<html")
	})
	t.Run("BadFiltersStillRender", func(t *testing.T) {
		for _, query := range []string{"?kind=bogus", "?visibility=bogus", "?sort=bogus", "?kind=bogus&q=twil", "?q=" + url.QueryEscape(`NEAR("`), "?q=" + strings.Repeat("x", 5000)} {
			res, body := b.get("/services" + query)
			require.Equal(t, http.StatusOK, res.StatusCode, query)
			require.Contains(t, body, `id="catalog"`, query)
		}
		res, body := b.get("/services?kind=bogus")
		require.Contains(t, body, "/services/"+ids["Twilio"], "the bad filter is dropped")
		res, _ = b.htmx("/services?kind=bogus", "catalog")
		require.Equal(t, http.StatusOK, res.StatusCode)
		for _, query := range []string{"?page=abc", "?per_page=-1"} {
			res, _ := b.get("/services" + query)
			require.Less(t, res.StatusCode, 500, query)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		res, body := b.get("/services?per_page=2")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `rel="next"`)
		require.Equal(t, 2, strings.Count(body, `data-testid="service-svc_`))
		res, body = b.get("/services?per_page=2&page=3")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `rel="prev"`)
		require.NotContains(t, body, `rel="next"`)
	})
	t.Run("ThirdPartyMasked", func(t *testing.T) {
		res, body := b.get("/services/" + ids["Twilio"])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, junction.Masked)
		require.Contains(t, body, `data-testid="value-sandbox-AuthToken">`+junction.Masked+`<`)
		require.Contains(t, body, `data-testid="value-live-AuthToken">`+junction.Masked+`<`)
		require.Contains(t, body, `data-testid="value-sandbox-AccountSID">AC-sandbox<`, "values that are not secret are shown")
		requireNoSecret(t, body)
		require.Contains(t, body, `data-testid="connect-panel"`)
		require.Contains(t, body, `data-testid="connect-form"`, "a developer of shop may connect")
		require.Equal(t, []string{"ServiceURL", "AccountSID", "AuthToken"}, parameterNames(t, body))
	})
	t.Run("DatabaseMasked", func(t *testing.T) {
		res, body := b.get("/services/" + ids["orders-db"])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="value-development-Password">`+junction.Masked+`<`)
		require.Contains(t, body, `data-testid="value-development-HostName">db.dev.internal<`)
		requireNoSecret(t, body)
		require.Contains(t, body, `data-testid="connect-panel"`)
		require.Equal(t, []string{"HostName", "Port", "DatabaseName", "Username", "Password"}, parameterNames(t, body))
	})
	t.Run("InternalParameters", func(t *testing.T) {
		for name, want := range map[string][]string{
			"Inventory API":   {"ServiceURL", "ConsumerKey", "ConsumerSecret", "TokenURL"}, // oauth
			"Orders Internal": {"ServiceURL", "ChoreoAPIKey"},                              // api-key
			"Catalog Public":  {"ServiceURL"},                                              // none
		} {
			res, body := b.get("/services/" + ids[name])
			require.Equal(t, http.StatusOK, res.StatusCode, name)
			require.Contains(t, body, `data-testid="connect-panel"`, name)
			require.Equal(t, want, parameterNames(t, body), name)
			require.Contains(t, body, `data-testid="service-id">`+ids[name]+`<`)
		}
	})
	t.Run("ViewerSeesNoConnectForm", func(t *testing.T) {
		vb := c.browser(t)
		vb.mustLogin("vic@example.com")
		res, body := vb.get("/services/" + ids["Twilio"])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="connect-panel"`)
		require.NotContains(t, body, `data-testid="connect-form"`)
		require.NotContains(t, body, `data-testid="unlist-service"`)
		_, body = vb.get("/services")
		require.NotContains(t, body, `data-testid="register-service"`)
	})
	t.Run("Connect", func(t *testing.T) {
		res, _ := b.get("/services/" + ids["Twilio"] + "/connect?project=shop")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/projects/shop/connections/new?service="+ids["Twilio"], res.Header.Get("Location"))
		res, _ = b.get("/services/" + ids["Inventory API"] + "/connect?project=shop")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/projects/shop/connections/new?service="+ids["Inventory API"], res.Header.Get("Location"))
		// Or one of its components: the form's target, or project and component.
		_, body := b.get("/services/" + ids["Twilio"])
		require.Contains(t, body, `<option value="shop/orders">`, "the form offers the project's components")
		for _, query := range []string{"target=shop%2Forders", "project=shop&component=orders"} {
			res, _ = b.get("/services/" + ids["Twilio"] + "/connect?" + query)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, query)
			require.Equal(t, "/projects/shop/components/orders/connections/new?service="+ids["Twilio"], res.Header.Get("Location"), query)
		}
		res, _ = b.get("/services/" + ids["Twilio"] + "/connect?target=shop")
		require.Equal(t, "/projects/shop/connections/new?service="+ids["Twilio"], res.Header.Get("Location"))
		for _, path := range []string{
			"/services/" + ids["Twilio"] + "/connect?target=shop%2Fnope",
			"/services/" + ids["Twilio"] + "/connect?target=blog%2Fweb",
			"/services/" + ids["Twilio"] + "/connect?project=blog", // not a member
			"/services/" + ids["Twilio"] + "/connect?project=nope",
			"/services/" + ids["Twilio"] + "/connect",
			"/services/svc_unknown/connect?project=shop",
		} {
			res, _ = b.get(path)
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
		}
	})
	t.Run("HiddenServicePage", func(t *testing.T) {
		ob := c.browser(t)
		ob.mustLogin("bea@example.com")
		for _, path := range []string{
			"/services/" + ids["Orders Internal"],
			"/services/" + ids["Orders Internal"] + "/connect?project=blog",
			"/services/" + ids["Orders Internal"] + "/edit",
			"/services/svc_unknown",
		} {
			res, body := ob.get(path)
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
			require.Contains(t, body, `data-testid="error-404"`)
		}
		_, body := ob.get("/services")
		require.NotContains(t, body, ids["Orders Internal"])
		res, _ := ob.get("/services/" + ids["Inventory API"])
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("TagLinks", func(t *testing.T) {
		svc := c.mustCreate(t, c.adminToken, editJSON(t, twilioBody, func(m map[string]any) {
			m["name"], m["tags"] = "Tagged", []any{"sms", "c++"}
		}))
		_, body := b.get("/services/" + svc["id"].(string))
		require.Contains(t, body, `href="/services?q=sms"`)
		if strings.Contains(body, `href="/services?q=c++"`) {
		}
		require.Contains(t, body, `href="/services?q=c%2B%2B"`)
	})
	t.Run("SignInRequired", func(t *testing.T) {
		res, _ := c.browser(t).get("/services/" + ids["Twilio"])
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/login?next="+url.QueryEscape("/services/"+ids["Twilio"]), res.Header.Get("Location"))
	})
}

// thirdPartyForm is a filled-in register third-party form with two parameters and one
// endpoint.
func thirdPartyForm(name string) url.Values {
	return url.Values{
		"name": {name}, "version": {"v1"}, "description": {"Registered from the form"}, "tags": {"sms, voice"},
		"parameters[0].name": {"AuthToken"}, "parameters[0].secret": {"true"},
		"parameters[1].name": {"AccountSID"},
		"endpoints[0].name":  {"sandbox"}, "endpoints[0].url": {"https://sandbox.example.com/v1"},
		"endpoints[0].environments": {"development", "production"},
		"endpoints[0].values[0]":    {formSecret}, "endpoints[0].values[1]": {"AC-form"},
		"op": {"save"},
	}
}

var serviceLocation = regexp.MustCompile(`^/services/(svc_[A-Za-z0-9]+)$`)

func TestServiceForms(t *testing.T) {
	c := newCatalog(t)
	b := c.browser(t)
	b.mustLogin("dev@example.com")

	t.Run("ThirdPartySave", func(t *testing.T) {
		res, body := b.get("/services/new/third-party")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="third-party-form"`)

		res, _ = b.post("/services/third-party", thirdPartyForm("Twilio"))
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		m := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))
		require.NotNil(t, m, res.Header.Get("Location"))

		res, body = b.get(m[0])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "Twilio")
		require.Contains(t, body, `data-testid="value-sandbox-AuthToken">`+junction.Masked+`<`)
		require.Contains(t, body, `data-testid="value-sandbox-AccountSID">AC-form<`)
		requireNoSecret(t, body)
		require.Equal(t, []string{"ServiceURL", "AuthToken", "AccountSID"}, parameterNames(t, body))

		status, svc := c.api(t, http.MethodGet, "/api/v1/services/"+m[1], c.devToken, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, []any{"sms", "voice"}, svc["tags"])
		require.Equal(t, []any{map[string]any{"name": "AuthToken", "secret": true}, map[string]any{"name": "AccountSID", "secret": false}}, svc["parameters"])
		ep := svc["endpoints"].([]any)[0].(map[string]any)
		require.Equal(t, []any{"development", "production"}, ep["environments"])
		require.Equal(t, map[string]any{"AuthToken": junction.Masked, "AccountSID": "AC-form"}, ep["values"])
		requireNoSecret(t, svc)
	})
	t.Run("ThirdPartyDuplicate", func(t *testing.T) {
		res, body := b.post("/services/third-party", thirdPartyForm("Twilio"))
		require.Equal(t, http.StatusConflict, res.StatusCode)
		require.Contains(t, body, "already exists")
		require.Contains(t, body, `data-testid="third-party-form"`)
	})
	t.Run("AddEndpoint", func(t *testing.T) {
		form := thirdPartyForm("Vonage")
		form.Set("op", "add-endpoint")
		res, body := b.post("/services/third-party", form)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="endpoints[1].name"`)
		require.Contains(t, body, `name="endpoints[1].url"`)
		require.Contains(t, body, `name="endpoints[1].values[0]"`)
		require.Contains(t, body, `name="endpoints[1].values[1]"`)
		require.NotContains(t, body, `name="endpoints[2].name"`)
		require.Contains(t, body, `value="Vonage"`, "typed values are kept")
		require.Contains(t, body, `value="https://sandbox.example.com/v1"`)
		require.Contains(t, body, `value="AC-form"`)
		require.Empty(t, listIDs(t, c.list(t, c.devToken, "?q=vonage")), "adding a row saves nothing")

		form.Set("op", "add-parameter")
		res, body = b.post("/services/third-party", form)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="parameters[2].name"`)
		require.Contains(t, body, `name="endpoints[0].values[2]"`)
	})
	t.Run("RemoveParameter", func(t *testing.T) {
		form := thirdPartyForm("Vonage")
		form.Set("op", "remove-parameter:0")
		res, body := b.post("/services/third-party", form)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.NotContains(t, body, `name="parameters[1].name"`, "one parameter row left")
		require.NotContains(t, body, `value="AuthToken"`, "the removed row is gone")
		require.Regexp(t, `name="parameters\[0\]\.name" value="AccountSID"`, body, "the other row moves up")
		require.Regexp(t, `name="endpoints\[0\]\.values\[0\]" value="AC-form"`, body, "its value moves with it")
		require.NotContains(t, body, `name="endpoints[0].values[1]"`)
		require.NotContains(t, body, formSecret, "the removed parameter's value is dropped")

		form.Set("op", "remove-endpoint:0")
		res, body = b.post("/services/third-party", form)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.NotContains(t, body, `name="endpoints[0].name"`)
		require.Empty(t, listIDs(t, c.list(t, c.devToken, "?q=vonage")))
	})
	t.Run("ErrBadURLKeepsValues", func(t *testing.T) {
		form := thirdPartyForm("Vonage")
		form.Set("endpoints[0].url", "sandbox.example.com/v1")
		res, body := b.post("/services/third-party", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-endpoints[0].url"`)
		require.Contains(t, body, `aria-invalid="true"`)
		require.Contains(t, body, `value="sandbox.example.com/v1"`)
		require.Contains(t, body, `value="Vonage"`)
		require.Contains(t, body, "Registered from the form")
		require.Contains(t, body, `value="sms, voice"`)
		require.Contains(t, body, `value="AuthToken"`)
		require.Contains(t, body, `value="AccountSID"`)
		require.Contains(t, body, `value="sandbox"`)
		require.Contains(t, body, `value="AC-form"`)
		require.Regexp(t, `name="parameters\[0\]\.secret" value="true" checked`, body)
		require.Regexp(t, `name="endpoints\[0\]\.environments" value="production" checked`, body)
		require.Empty(t, listIDs(t, c.list(t, c.devToken, "?q=vonage")))
	})
	t.Run("ErrOtherFields", func(t *testing.T) {
		form := thirdPartyForm("")
		form.Set("version", "")
		form.Set("parameters[1].name", "Bad Name!")
		form.Del("endpoints[0].environments")
		form.Set("endpoints[0].values[0]", "")
		res, body := b.post("/services/third-party", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		for _, field := range []string{"name", "version", "parameters[1].name", "endpoints[0].environments", "endpoints[0].values[0]"} {
			require.Contains(t, body, `data-testid="error-`+field+`"`, field)
		}
	})
	t.Run("ErrViewer", func(t *testing.T) {
		vb := c.browser(t)
		vb.mustLogin("vic@example.com")
		res, _ := vb.post("/services/third-party", thirdPartyForm("Viewer API"))
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = vb.post("/services/database", url.Values{"name": {"viewer-db"}, "engine": {"postgres"},
			"values.development.HostName": {"h"}, "values.development.Port": {"5432"}, "values.development.DatabaseName": {"d"}, "values.development.Username": {"u"}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
	})
	t.Run("DatabaseBadPort", func(t *testing.T) {
		res, body := b.get("/services/new/database")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="database-form"`)

		form := url.Values{
			"name": {"orders-db"}, "engine": {"postgres"},
			"values.development.HostName": {"db.dev.internal"}, "values.development.Port": {"abc"},
			"values.development.DatabaseName": {"orders"}, "values.development.Username": {"orders_app"},
			"values.development.Password": {dbPassword},
		}
		res, body = b.post("/services/database", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Regexp(t, `name="values\.development\.Port" value="abc" aria-invalid="true"[^>]*>\s*<small[^>]*data-testid="error-values\.development\.Port"`, body,
			"the error is next to the field")
		require.Contains(t, body, `value="db.dev.internal"`)
		require.Contains(t, body, `value="orders-db"`)

		form.Set("values.development.Port", "70000")
		res, body = b.post("/services/database", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-values.development.Port"`)

		form.Set("values.development.Port", "5432")
		res, _ = b.post("/services/database", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		m := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))
		require.NotNil(t, m, res.Header.Get("Location"))
		res, body = b.get(m[0])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="value-development-Password">`+junction.Masked+`<`)
		require.Contains(t, body, `data-testid="value-development-Port">5432<`)
		requireNoSecret(t, body)

		res, body = b.post("/services/database", form)
		require.Equal(t, http.StatusConflict, res.StatusCode)
		require.Contains(t, body, "already exists")
	})
	t.Run("EditDatabase", func(t *testing.T) {
		form := url.Values{
			"name": {"billing-db"}, "engine": {"postgres"},
			"values.development.HostName": {"billing.dev.internal"}, "values.development.Port": {"5432"},
			"values.development.DatabaseName": {"billing"}, "values.development.Username": {"billing_app"},
			"values.development.Password": {dbPassword},
		}
		res, _ := b.post("/services/database", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		page := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))[0]
		res, body := b.get(page)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `href="`+page+`/edit"`, "the creator is offered the edit form")

		res, body = b.get(page + "/edit")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="database-form"`)
		require.Contains(t, body, `action="`+page+`"`)
		require.Contains(t, body, `value="billing.dev.internal"`)
		require.Regexp(t, `name="values\.development\.Password" value=""[^>]*placeholder="unchanged"`, body,
			"the stored password is neither shown nor masked into the input")
		requireNoSecret(t, body)

		// A bad port is refused inline, and nothing typed is lost.
		edit := url.Values{}
		for k, v := range form {
			edit[k] = v
		}
		edit.Set("values.development.Password", "")
		edit.Set("values.development.HostName", "billing2.dev.internal")
		edit.Set("values.development.Port", "99999")
		res, body = b.post(page, edit)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-values.development.Port"`)
		require.Contains(t, body, `value="billing2.dev.internal"`)
		require.Contains(t, body, `placeholder="unchanged"`)

		edit.Set("values.development.Port", "6432")
		res, _ = b.post(page, edit)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, body = b.get(page)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="value-development-Port">6432<`)
		require.Contains(t, body, `data-testid="value-development-HostName">billing2.dev.internal<`)
		require.Contains(t, body, `data-testid="value-development-Password">`+junction.Masked+`<`, "the password was kept")

		// Someone else's database: another developer may not edit it; a third-party API is
		// never edited in place.
		ob := c.browser(t)
		ob.mustLogin("bea@example.com")
		res, _ = ob.get(page + "/edit")
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = ob.post(page, edit)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = b.post("/services/third-party", thirdPartyForm("Edit Me"))
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = b.get(serviceLocation.FindStringSubmatch(res.Header.Get("Location"))[0] + "/edit")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
	t.Run("PublishEndpoint", func(t *testing.T) {
		res, body := b.get("/projects/shop/components/inventory/endpoints/new")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="endpoint-form"`)

		form := url.Values{"name": {"Stock API"}, "version": {"v2"}, "visibility": {"organization"}, "security": {"api-key"},
			"urls.development": {"http://stock.dev.internal"}, "urls.production": {""}, "description": {"Stock levels"}}
		res, _ = b.post("/projects/shop/components/inventory/endpoints", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		m := serviceLocation.FindStringSubmatch(res.Header.Get("Location"))
		require.NotNil(t, m, res.Header.Get("Location"))

		res, body = b.get("/projects/shop/components/inventory")
		require.Equal(t, http.StatusOK, res.StatusCode)
		table := regexp.MustCompile(`(?s)<table data-testid="published-endpoints">.*?</table>`).FindString(body)
		require.NotEmpty(t, table, "the component page lists its endpoints")
		require.Contains(t, table, "Stock API")
		require.Contains(t, table, "v2")
		require.Contains(t, table, "/services/"+m[1])

		res, body = b.get(m[0])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, []string{"ServiceURL", "ChoreoAPIKey"}, parameterNames(t, body))
		require.Contains(t, body, "http://stock.dev.internal")

		res, body = b.post("/projects/shop/components/inventory/endpoints", form)
		require.Equal(t, http.StatusConflict, res.StatusCode, "same name and version again")
		require.Contains(t, body, `data-testid="endpoint-form"`)

		bad := url.Values{"name": {"Stock API"}, "version": {"v3"}, "visibility": {"galaxy"}, "security": {"api-key"}, "urls.development": {"stock.dev"}}
		res, body = b.post("/projects/shop/components/inventory/endpoints", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-urls.development"`)
		require.Contains(t, body, `data-testid="error-visibility"`)
		require.Contains(t, body, `value="stock.dev"`)
	})
	t.Run("ErrPublishEndpointRoles", func(t *testing.T) {
		form := url.Values{"name": {"Viewer API"}, "version": {"v1"}, "visibility": {"organization"}, "security": {"none"},
			"urls.development": {"http://viewer.dev.internal"}}
		vb := c.browser(t)
		vb.mustLogin("vic@example.com")
		res, _ := vb.post("/projects/shop/components/inventory/endpoints", form)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = vb.get("/projects/shop/components/inventory/endpoints/new")
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		_, body := vb.get("/projects/shop/components/inventory")
		require.NotContains(t, body, `data-testid="publish-endpoint"`)

		ob := c.browser(t)
		ob.mustLogin("bea@example.com")
		res, _ = ob.post("/projects/shop/components/inventory/endpoints", form)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res, _ = b.post("/projects/shop/components/ghost/endpoints", form)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		require.Empty(t, listIDs(t, c.list(t, c.adminToken, "?q=viewer")))
	})
}

func TestServiceListingForms(t *testing.T) {
	c := newCatalog(t)
	ids := c.seedCatalog(t)
	b := c.browser(t)
	b.mustLogin("dev@example.com")
	id := ids["Inventory API"]

	_, body := b.get("/services/" + id)
	require.Contains(t, body, `data-testid="unlist-service"`)
	require.Contains(t, body, `data-testid="unpublish-service"`)

	res, _ := b.post("/services/"+id+"/listing", url.Values{"listed": {"false"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/services/"+id, res.Header.Get("Location"))
	_, body = b.get("/services/" + id)
	require.Contains(t, body, `data-testid="unlisted-notice"`)
	require.Contains(t, body, `data-testid="relist-service"`)
	require.NotContains(t, body, `data-testid="connect-form"`, "unlisted services take no new connections")
	require.NotContains(t, listIDs(t, c.list(t, c.devToken, "")), id)
	_, body = b.get("/services")
	require.NotContains(t, body, id)

	res, _ = b.post("/services/"+id+"/listing", url.Values{"listed": {"true"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Contains(t, listIDs(t, c.list(t, c.devToken, "")), id)

	for _, tc := range []struct {
		email, path string
		want        int
	}{
		{"vic@example.com", "/services/" + id + "/listing", http.StatusForbidden},
		{"vic@example.com", "/services/" + id + "/delete", http.StatusForbidden},
		{"bea@example.com", "/services/" + id + "/listing", http.StatusForbidden},
		{"bea@example.com", "/services/" + ids["Orders Internal"] + "/listing", http.StatusNotFound},
		{"bea@example.com", "/services/" + ids["Orders Internal"] + "/delete", http.StatusNotFound},
		{"dev@example.com", "/services/" + ids["Twilio"] + "/listing", http.StatusForbidden},
	} {
		ob := c.browser(t)
		ob.mustLogin(tc.email)
		res, _ := ob.post(tc.path, url.Values{"listed": {"false"}, "confirm": {"yes"}})
		require.Equal(t, tc.want, res.StatusCode, "%s %s", tc.email, tc.path)
	}
	require.Len(t, listIDs(t, c.list(t, c.adminToken, "")), 6, "refused forms change nothing")

	res, body = b.post("/services/"+id+"/delete", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `data-testid="confirm-delete"`)
	status, _ := c.api(t, http.MethodGet, "/api/v1/services/"+id, c.devToken, "")
	require.Equal(t, http.StatusOK, status, "not unpublished without confirmation")

	res, _ = b.post("/services/"+id+"/delete", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/projects/shop/components/inventory", res.Header.Get("Location"))
	res, _ = b.get("/services/" + id)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	_, body = b.get("/projects/shop/components/inventory")
	require.NotContains(t, body, "/services/"+id)

	ab := c.browser(t)
	ab.mustLogin("ada@example.com")
	res, _ = ab.post("/services/"+ids["Twilio"]+"/delete", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "third-party services are unlisted, not unpublished")
}

// TestServiceConcurrentWrites registers, lists and unlists services from many goroutines:
// a taken name is a 409 for all but one, and SQLite contention never surfaces as a 500.
func TestServiceConcurrentWrites(t *testing.T) {
	c := newCatalog(t)
	const n = 12
	type answer struct {
		status int
		err    error
	}
	answers := make(chan answer, 3*n)
	send := func(method, path, token, body string) {
		req, _ := http.NewRequest(method, c.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		res.Body.Close()
		answers <- answer{status: res.StatusCode}
	}
	for i := range n {
		token := []string{c.adminToken, c.devToken}[i%2]
		go send(http.MethodPost, "/api/v1/services", token, twilioBody)
		go send(http.MethodPost, "/api/v1/services", token, strings.Replace(databaseBody, `"orders-db"`, `"db-`+strconv.Itoa(i)+`"`, 1))
		go send(http.MethodGet, "/api/v1/services?q=twil", token, "")
	}
	counts := map[int]int{}
	for range 3 * n {
		a := <-answers
		require.NoError(t, a.err)
		counts[a.status]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: 1 + n, http.StatusConflict: n - 1, http.StatusOK: n}, counts)
	body := c.list(t, c.adminToken, "")
	require.EqualValues(t, 1+n, body["total"])
	require.Equal(t, map[string]any{"third-party": 1.0, "database": float64(n)}, nonZeroCounts(body["facets"].(map[string]any)["kind"]),
		"facet counts kept by triggers agree with the rows")
}

// TestServiceNoInputCauses500 throws awkward input at every catalog form, page and API
// call: nothing a user types may produce a server error.
func TestServiceNoInputCauses500(t *testing.T) {
	c := newCatalog(t)
	ids := c.seedCatalog(t)
	b := c.browser(t)
	b.mustLogin("dev@example.com")
	nasty := []string{"", " ", "'; DROP TABLE services; --", "%_\\", "<script>alert(1)</script>", strings.Repeat("x", 5000),
		"\x00", "ünïcødé-名前", "../../etc/passwd", "a\r\nb", `{"a":`, "🙂", "-1", "99999999999999999999", "NEAR(", `"*`}
	for _, s := range nasty {
		values := url.Values{"name": {s}, "version": {s}, "description": {s}, "tags": {s}, "engine": {s},
			"visibility": {s}, "security": {s}, "urls.development": {s}, "urls." + s: {s},
			"parameters[0].name": {s}, "parameters[0].secret": {s}, "parameters[99].name": {s},
			"endpoints[0].name": {s}, "endpoints[0].url": {s}, "endpoints[0].environments": {s, "development"},
			"endpoints[0].values[0]": {s}, "endpoints[12].values[40]": {s},
			"values.development.Port": {s}, "values.development.HostName": {s}, "values.development.Password": {s},
			"listed": {s}, "confirm": {s}}
		for _, op := range []string{"save", "add-endpoint", "add-parameter", "remove-parameter:" + s, "remove-endpoint:" + s,
			"remove-parameter:-1", "remove-endpoint:99", s} {
			values.Set("op", op)
			res, _ := b.post("/services/third-party", values)
			require.Less(t, res.StatusCode, 500, "op %q with %q", op, s)
		}
		for _, path := range []string{"/services/database", "/projects/shop/components/inventory/endpoints",
			"/services/" + ids["Inventory API"], "/services/" + ids["Twilio"] + "/listing", "/services/" + url.PathEscape(s) + "/listing",
			"/services/" + ids["Twilio"] + "/delete"} {
			res, _ := b.post(path, values)
			require.Less(t, res.StatusCode, 500, "POST %s with %q", path, s)
		}
		for _, path := range []string{"/services?q=" + url.QueryEscape(s) + "&kind=" + url.QueryEscape(s) + "&visibility=" + url.QueryEscape(s),
			"/services/" + url.PathEscape(s), "/services/" + ids["Twilio"] + "/connect?project=" + url.QueryEscape(s)} {
			res, _ := b.get(path)
			require.Less(t, res.StatusCode, 500, "GET %s", path)
			res, _ = b.htmx(path, "catalog")
			require.Less(t, res.StatusCode, 500, "GET %s (htmx)", path)
		}

		body, _ := json.Marshal(map[string]any{"kind": "third-party", "name": s, "version": s, "description": s, "tags": []string{s},
			"parameters": []any{map[string]any{"name": s, "secret": true}},
			"endpoints":  []any{map[string]any{"name": s, "url": s, "environments": []string{s}, "values": map[string]string{s: s}}}})
		for _, kind := range []string{"third-party", "database", "internal", s} {
			reqBody := strings.Replace(string(body), `"third-party"`, mustJSON(t, kind), 1)
			status, _ := c.api(t, http.MethodPost, "/api/v1/services", c.devToken, reqBody)
			require.Less(t, status, 500, "POST service %s with %q", kind, s)
		}
		dbBody, _ := json.Marshal(map[string]any{"kind": "database", "name": s, "engine": s,
			"values": map[string]any{s: map[string]string{"Port": s}, "development": map[string]string{"Port": s, "HostName": s, "Password": s}}})
		status, _ := c.api(t, http.MethodPost, "/api/v1/services", c.devToken, string(dbBody))
		require.Less(t, status, 500)
		inBody, _ := json.Marshal(map[string]any{"kind": "internal", "name": s, "version": s, "project": s, "component": s,
			"visibility": s, "security": s, "urls": map[string]string{s: s}})
		status, _ = c.api(t, http.MethodPost, "/api/v1/services", c.devToken, string(inBody))
		require.Less(t, status, 500)
		for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
			status, _ = c.api(t, method, "/api/v1/services/"+url.PathEscape(s), c.devToken, `{"unlisted":true}`)
			require.Less(t, status, 500, "%s with %q", method, s)
		}
		status, _ = c.api(t, http.MethodGet, "/api/v1/services?q="+url.QueryEscape(s)+"&project="+url.QueryEscape(s)+"&per_page="+url.QueryEscape(s), c.devToken, "")
		require.Less(t, status, 500)
	}
	// The catalog is intact.
	require.GreaterOrEqual(t, len(listIDs(t, c.list(t, c.adminToken, "?per_page=200"))), len(ids))
	requireNoSecret(t, c.list(t, c.adminToken, "?per_page=200"))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestConnectEntryPointRules(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	ctx := as(admin)
	for _, handle := range []string{"shop", "blog"} {
		require.NoError(t, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: handle, Name: handle}))
	}
	require.NoError(t, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	svc := &junction.Service{Kind: junction.KindInternal, Project: "shop", Component: "orders", Name: "Orders API", Version: "v1",
		Visibility: junction.VisibilityProject, Security: junction.SecurityNone, URLs: map[string]string{"development": "http://orders"}}
	require.NoError(t, ts.svc.Services.CreateService(ctx, svc))
	b := ts.browser(t)
	b.mustLogin("ada@example.com")

	res, _ := b.get("/services/" + svc.ID + "/connect?project=shop")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, page := b.get(res.Header.Get("Location"))
	require.Equal(t, http.StatusOK, res.StatusCode, "the Connect entry point leads to the new connection form")
	require.Contains(t, page, `data-testid="connection-form"`)
	res, _ = b.get("/services/" + svc.ID + "/connect?project=blog")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "project services connect only from their project")
	_, body := b.get("/services/" + svc.ID)
	require.Contains(t, body, `<option value="shop">`)
	require.NotContains(t, body, `<option value="blog">`, "the Connect entry point offers only projects that may connect")

	require.NoError(t, ts.svc.Services.SetServiceListed(ctx, svc.ID, false))
	res, _ = b.get("/services/" + svc.ID + "/connect?project=shop")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "unlisted services take no new connections")
}

func TestUnlistedServicesCanBeFoundAgain(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	token := ts.token(t, admin)
	status, body := ts.api(t, http.MethodPost, "/api/v1/services", token, `{"kind":"database","name":"old-db","engine":"postgres",
		"values":{"development":{"HostName":"db","Port":"5432","DatabaseName":"old","Username":"app","Password":"pw"}}}`)
	require.Equal(t, http.StatusCreated, status)
	id := body["id"].(string)
	status, _ = ts.api(t, http.MethodPatch, "/api/v1/services/"+id, token, `{"unlisted":true}`)
	require.Equal(t, http.StatusOK, status)

	status, list := ts.api(t, http.MethodGet, "/api/v1/services", token, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, list["total"])
	status, list = ts.api(t, http.MethodGet, "/api/v1/services?unlisted=true&q=old", token, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"], "removed services are listed on request, and searchable")
	status, list = ts.api(t, http.MethodGet, "/api/v1/services?unlisted=true", token, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, list["total"])
	status, _ = ts.api(t, http.MethodGet, "/api/v1/services?unlisted=maybe", token, "")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	b := ts.browser(t)
	b.mustLogin("ada@example.com")
	_, page := b.get("/services?unlisted=true")
	require.Contains(t, page, "old-db")
	require.Contains(t, page, `data-testid="facet-unlisted"`)
}
