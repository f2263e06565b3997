package web_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// auditOp is one operation and the exact entry it must write: its action, target type, a
// target ID (when known) and the keys of its details. An empty action means that the
// operation writes no entry at all (reads, dry runs, validation).
type auditOp struct {
	name     string
	do       func(t *testing.T) int
	status   int
	action   string
	target   string
	targetID func() string
	details  []string
	outcome  string
}

// TestAuditEntries runs every mutating operation through the API and the pages and checks
// the one entry each writes, and that reads, dry runs and validation write none.
func TestAuditEntries(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.createUser(t, "ada@example.com", true)
	ts.createUser(t, "vic@example.com", false)
	tok := ts.token(t, admin)
	api := func(method, path, body string) (int, map[string]any) { return ts.api(t, method, path, tok, body) }
	var ids = map[string]string{}
	id := func(k string) func() string { return func() string { return ids[k] } }
	call := func(method, path, body string, keep ...string) func(t *testing.T) int {
		return func(t *testing.T) int {
			for k, v := range ids {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
				body = strings.ReplaceAll(body, "{"+k+"}", v)
			}
			status, out := api(method, path, body)
			if len(keep) == 2 {
				if v, ok := out[keep[1]]; ok {
					ids[keep[0]] = jsonString(v)
				}
			}
			return status
		}
	}
	b := ts.browser(t)
	form := func(path string, values url.Values) func(t *testing.T) int {
		return func(t *testing.T) int {
			for k, v := range ids {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
				for name, vals := range values {
					for i := range vals {
						vals[i] = strings.ReplaceAll(vals[i], "{"+k+"}", v)
					}
					values[name] = vals
				}
			}
			res, body := b.post(path, values)
			if loc := res.Header.Get("Location"); res.StatusCode == http.StatusSeeOther && path == "/account/tokens" {
				_, body = b.get(loc) // the new token is on the page the form leads to
			}
			if m := regexp.MustCompile(`/account/tokens/(\d+)/delete`).FindStringSubmatch(body); m != nil {
				ids["pat"] = m[1]
			}
			if loc := res.Header.Get("Location"); strings.HasPrefix(loc, "/connections/conn_") {
				ids["pageconn"] = strings.TrimPrefix(loc, "/connections/")
			}
			return res.StatusCode
		}
	}
	const created, ok, none, seeOther = http.StatusCreated, http.StatusOK, http.StatusNoContent, http.StatusSeeOther
	third := `{"kind":"third-party","name":"Acme","version":"v1","parameters":[{"name":"Token","secret":true}],
		"endpoints":[{"name":"live","url":"https://acme.example","environments":["development","production"],"values":{"Token":"acme-secret-token"}}]}`
	mapping := `{"mappings":{"ServiceURL":"ACME_URL","Token":"ACME_TOKEN"}}`
	ops := []auditOp{
		{name: "api project.create", do: call("POST", "/api/v1/projects", `{"handle":"shop","name":"Shop"}`), status: created, action: "project.create", target: "project", targetID: func() string { return "shop" }, details: []string{"after"}},
		{name: "api project.update", do: call("PATCH", "/api/v1/projects/shop", `{"name":"The Shop"}`), status: ok, action: "project.update", target: "project", targetID: func() string { return "shop" }, details: []string{"after", "before"}},
		{name: "api component.create", do: call("POST", "/api/v1/projects/shop/components", `{"handle":"orders","name":"Orders","type":"service"}`), status: created, action: "component.create", target: "component", targetID: func() string { return "shop/orders" }, details: []string{"after"}},
		{name: "api component.update", do: call("PATCH", "/api/v1/projects/shop/components/orders", `{"name":"Order service"}`), status: ok, action: "component.update", target: "component", details: []string{"after", "before"}},
		{name: "api member.set", do: call("PUT", "/api/v1/projects/shop/members/vic@example.com", `{"role":"viewer"}`), status: ok, action: "member.set", target: "member", targetID: func() string { return "shop/vic@example.com" }, details: []string{"after", "before"}},
		{name: "api service.register", do: call("POST", "/api/v1/services", third, "acme", "id"), status: created, action: "service.register", target: "service", targetID: id("acme"), details: []string{"after"}},
		{name: "api service.unlist", do: call("PATCH", "/api/v1/services/{acme}", `{"unlisted":true}`), status: ok, action: "service.unlist", target: "service", targetID: id("acme"), details: []string{"after", "before"}},
		{name: "api service.list", do: call("PATCH", "/api/v1/services/{acme}", `{"unlisted":false}`), status: ok, action: "service.list", target: "service", targetID: id("acme"), details: []string{"after", "before"}},
		{name: "api connection.create", do: call("POST", "/api/v1/projects/shop/connections", `{"name":"acme","service_id":"{acme}"}`, "conn", "id"), status: created, action: "connection.create", target: "connection", targetID: id("conn"), details: []string{"after"}},
		{name: "api connection.update", do: call("PATCH", "/api/v1/connections/{conn}", `{"description":"SMS"}`), status: ok, action: "connection.update", target: "connection", targetID: id("conn"), details: []string{"after", "before"}},
		{name: "api read writes nothing", do: call("GET", "/api/v1/connections/{conn}", ""), status: ok},
		{name: "api secret.reveal", do: call("GET", "/api/v1/connections/{conn}?reveal=true", ""), status: ok, action: "secret.reveal", target: "connection", targetID: id("conn")},
		{name: "api mappings.replace", do: call("PUT", "/api/v1/projects/shop/components/orders/mappings/{conn}", mapping), status: ok, action: "mappings.replace", target: "mappings", targetID: func() string { return "shop/orders" }, details: []string{"after", "before", "connection_id", "version"}},
		{name: "api invalid mapping writes nothing", do: call("PUT", "/api/v1/projects/shop/components/orders/mappings/{conn}", `{"mappings":{"ServiceURL":"1BAD"}}`), status: http.StatusUnprocessableEntity},
		{name: "api history writes nothing", do: call("GET", "/api/v1/projects/shop/components/orders/mappings/history", ""), status: ok},
		{name: "api mappings.delete", do: call("DELETE", "/api/v1/projects/shop/components/orders/mappings/{conn}", ""), status: none, action: "mappings.delete", target: "mappings", details: []string{"after", "before", "connection_id", "version"}},
		{name: "api mappings.restore", do: call("POST", "/api/v1/projects/shop/components/orders/mappings/restore", `{"version":1}`), status: ok, action: "mappings.restore", target: "mappings", details: []string{"after", "before", "restored_version", "version"}},
		{name: "api dry-run import writes nothing", do: call("PUT", "/api/v1/projects/shop/components/orders/component.yaml?dry_run=true", "schemaVersion: 1.1\ndependencies:\n  connectionReferences:\n    - name: acme\n      resourceRef: thirdparty:Acme/v1\n"), status: ok},
		{name: "api mappings.import", do: call("PUT", "/api/v1/projects/shop/components/orders/component.yaml", "schemaVersion: 1.1\ndependencies:\n  connectionReferences:\n    - name: acme\n      resourceRef: thirdparty:Acme/v1\n"), status: ok, action: "mappings.import", target: "mappings", details: []string{"after", "before", "version"}},
		{name: "api runtime_token.create", do: call("POST", "/api/v1/projects/shop/components/orders/runtime-tokens", `{"environment":"production"}`, "rt", "id"), status: created, action: "runtime_token.create", target: "runtime_token", targetID: id("rt"), details: []string{"after"}},
		{name: "api runtime_token.revoke", do: call("DELETE", "/api/v1/projects/shop/components/orders/runtime-tokens/{rt}", ""), status: none, action: "runtime_token.revoke", target: "runtime_token", targetID: id("rt"), details: []string{"before"}},
		{name: "api service.register internal", do: call("POST", "/api/v1/services", `{"kind":"internal","name":"Orders API","version":"v1","project":"shop","component":"orders","visibility":"organization","security":"oauth","urls":{"production":"https://orders"}}`, "ordersapi", "id"), status: created, action: "service.register", target: "service", targetID: id("ordersapi"), details: []string{"after"}},
		{name: "api service.update", do: call("PATCH", "/api/v1/services/{ordersapi}", `{"name":"Orders API","version":"v1","description":"orders","visibility":"organization","security":"oauth","urls":{"production":"https://orders.example"}}`), status: ok, action: "service.update", target: "service", targetID: id("ordersapi"), details: []string{"after", "before"}},
		{name: "api oauth connection.create", do: call("POST", "/api/v1/projects/shop/connections", `{"name":"orders-api","service_id":"{ordersapi}"}`, "oauth", "id"), status: created, action: "connection.create", target: "connection", targetID: id("oauth"), details: []string{"after"}},
		{name: "api connection.rotate", do: call("POST", "/api/v1/connections/{oauth}/rotate", `{"environment":"production","grace":"1h"}`), status: ok, action: "connection.rotate", target: "connection", targetID: id("oauth"), details: []string{"environment", "grace", "kind", "previous_valid_until", "secret", "shared_with"}},
		{name: "api bad grace writes nothing", do: call("POST", "/api/v1/connections/{oauth}/rotate", `{"environment":"production","grace":"200h"}`), status: http.StatusUnprocessableEntity},
		{name: "api connection.rotate_finish", do: call("POST", "/api/v1/connections/{oauth}/rotate/finish", `{"environment":"production"}`), status: ok, action: "connection.rotate_finish", target: "connection", targetID: id("oauth"), details: []string{"environment", "previous_secret"}},
		{name: "api connection.delete", do: call("DELETE", "/api/v1/connections/{oauth}", ""), status: ok, action: "connection.delete", target: "connection", targetID: id("oauth"), details: []string{"before"}},
		{name: "api environment.create", do: call("POST", "/api/v1/environments", `{"name":"staging"}`), status: created, action: "environment.create", target: "environment", targetID: func() string { return "staging" }},
		{name: "api member.remove", do: call("DELETE", "/api/v1/projects/shop/members/vic@example.com", ""), status: ok, action: "member.remove", target: "member", details: []string{"before"}},

		{name: "page session.sign_in denied", do: form("/login", url.Values{"email": {"ada@example.com"}, "password": {"not the password"}}), status: http.StatusUnauthorized, action: "session.sign_in", target: "session", details: []string{"method"}, outcome: "denied"},
		{name: "page session.sign_in", do: form("/login", url.Values{"email": {"ada@example.com"}, "password": {testPassword}}), status: seeOther, action: "session.sign_in", target: "session", targetID: func() string { return "ada@example.com" }, details: []string{"method"}},
		{name: "page project.create", do: form("/projects", url.Values{"handle": {"blog"}, "name": {"Blog"}}), status: seeOther, action: "project.create", target: "project", targetID: func() string { return "blog" }, details: []string{"after"}},
		{name: "page project.update", do: form("/projects/blog", url.Values{"name": {"The Blog"}}), status: seeOther, action: "project.update", target: "project", details: []string{"after", "before"}},
		{name: "page component.create", do: form("/projects/blog/components", url.Values{"handle": {"web"}, "name": {"Web"}, "type": {"web-app"}}), status: seeOther, action: "component.create", target: "component", targetID: func() string { return "blog/web" }, details: []string{"after"}},
		{name: "page member.set", do: form("/projects/blog/members", url.Values{"email": {"vic@example.com"}, "role": {"developer"}}), status: seeOther, action: "member.set", target: "member", details: []string{"after", "before"}},
		{name: "page member.remove", do: form("/projects/blog/members/remove", url.Values{"email": {"vic@example.com"}}), status: seeOther, action: "member.remove", target: "member", details: []string{"before"}},
		{name: "page connection.create", do: form("/projects/blog/components/web/connections", url.Values{"name": {"acme-web"}, "service_id": {"{acme}"}}), status: seeOther, action: "connection.create", target: "connection", targetID: id("pageconn"), details: []string{"after"}},
		{name: "page connection.update", do: form("/connections/{pageconn}", url.Values{"name": {"acme-web2"}}), status: seeOther, action: "connection.update", target: "connection", targetID: id("pageconn"), details: []string{"after", "before"}},
		{name: "page validation writes nothing", do: form("/projects/blog/components/web/env/validate", url.Values{"connections": {"{pageconn}"}, "{pageconn}.ServiceURL": {"X"}}), status: ok},
		{name: "page mappings.replace", do: form("/projects/blog/components/web/env", url.Values{"connections": {"{pageconn}"}, "{pageconn}.ServiceURL": {"WEB_URL"}, "{pageconn}.Token": {"WEB_TOKEN"}}), status: seeOther, action: "mappings.replace", target: "mappings", targetID: func() string { return "blog/web" }, details: []string{"after", "before", "version"}},
		{name: "page mappings.replace again", do: form("/projects/blog/components/web/env", url.Values{"connections": {"{pageconn}"}, "{pageconn}.ServiceURL": {"WEB_URL2"}, "{pageconn}.Token": {"WEB_TOKEN"}}), status: seeOther, action: "mappings.replace", target: "mappings", details: []string{"after", "before", "version"}},
		{name: "page mappings.restore", do: form("/projects/blog/components/web/env/restore", url.Values{"version": {"1"}}), status: seeOther, action: "mappings.restore", target: "mappings", details: []string{"after", "before", "restored_version", "version"}},
		{name: "page runtime_token.create", do: form("/projects/blog/components/web/runtime-tokens", url.Values{"environment": {"development"}}), status: seeOther, action: "runtime_token.create", target: "runtime_token", details: []string{"after"}},
		{name: "page connection.delete", do: form("/connections/{pageconn}/delete", url.Values{"confirm": {"yes"}}), status: seeOther, action: "connection.delete", target: "connection", targetID: id("pageconn"), details: []string{"before", "unmapped_from"}},
		{name: "page token.create", do: form("/account/tokens", url.Values{"name": {"ci"}}), status: seeOther, action: "token.create", target: "token", details: []string{"after"}},
		{name: "page token.revoke", do: form("/account/tokens/{pat}/delete", nil), status: seeOther, action: "token.revoke", target: "token", targetID: id("pat"), details: []string{"before"}},
		{name: "page user.create", do: form("/users", url.Values{"email": {"new@example.com"}, "password": {"a long enough password"}}), status: seeOther, action: "user.create", target: "user", targetID: func() string { return "new@example.com" }, details: []string{"after"}},
		{name: "page environment.create", do: form("/environments", url.Values{"name": {"preview"}}), status: seeOther, action: "environment.create", target: "environment", targetID: func() string { return "preview" }},
		{name: "page component.delete", do: form("/projects/blog/components/web/delete", url.Values{"confirm": {"yes"}}), status: seeOther, action: "component.delete", target: "component", targetID: func() string { return "blog/web" }, details: []string{"before"}},
		{name: "page project.delete", do: form("/projects/blog/delete", url.Values{"confirm": {"yes"}}), status: seeOther, action: "project.delete", target: "project", targetID: func() string { return "blog" }, details: []string{"before", "components"}},
		{name: "page session.sign_out", do: form("/logout", nil), status: seeOther, action: "session.sign_out", target: "session", targetID: func() string { return "ada@example.com" }},
	}
	count := func() int {
		_, list := api("GET", "/api/v1/audit?per_page=1", "")
		return int(list["total"].(float64))
	}
	for _, op := range ops {
		before := count()
		status := op.do(t)
		require.Equal(t, op.status, status, op.name)
		after := count()
		if op.action == "" {
			require.Equal(t, before, after, "%s writes no entry", op.name)
			continue
		}
		require.Equal(t, before+1, after, "%s writes exactly one entry", op.name)
		_, list := api("GET", "/api/v1/audit?per_page=1", "")
		e := list["items"].([]any)[0].(map[string]any)
		target := e["target"].(map[string]any)
		require.Equal(t, op.action, e["action"], op.name)
		require.Equal(t, op.target, target["type"], op.name)
		if op.targetID != nil {
			require.Equal(t, op.targetID(), target["id"], op.name)
		}
		want := op.outcome
		if want == "" {
			want = "ok"
		}
		require.Equal(t, want, e["outcome"], op.name)
		require.NotEmpty(t, e["request_id"], op.name)
		var keys []string
		if d, ok := e["details"].(map[string]any); ok {
			for k := range d {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		want2 := slices.Clone(op.details)
		slices.Sort(want2)
		require.Equal(t, want2, keys, "%s details", op.name)
	}

	// A denial is recorded as denied, with the action it attempted.
	vic := ts.token(t, &junction.User{ID: mustUserID(t, ts, "vic@example.com")})
	status, _ := ts.api(t, http.MethodPatch, "/api/v1/connections/"+ids["conn"], vic, `{"name":"nope"}`)
	require.Equal(t, http.StatusNotFound, status, "vic is no longer a member of shop")
	status, _ = ts.api(t, http.MethodPost, "/api/v1/environments", vic, `{"name":"nope"}`)
	require.Equal(t, http.StatusForbidden, status)
	_, list := api("GET", "/api/v1/audit?per_page=1", "")
	e := list["items"].([]any)[0].(map[string]any)
	require.Equal(t, "environment.create", e["action"])
	require.Equal(t, "denied", e["outcome"])
	require.Equal(t, "vic@example.com", e["actor"])

	// format=jsonl streams every entry, each line one JSON object.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/audit?format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Type"), "application/jsonl")
	lines := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var entry junction.AuditEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &entry))
		require.NotEmpty(t, entry.Action)
		lines++
	}
	require.Equal(t, count(), lines)
	status, _ = api("GET", "/api/v1/audit?format=xml", "")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	// The audit page links each entry to its target.
	b.mustLogin("ada@example.com")
	_, page := b.get("/audit?target=" + ids["conn"])
	require.Contains(t, page, `href="/connections/`+ids["conn"]+`"`)
	require.Contains(t, page, `class="detail-list"`, "details read as lines")
	require.NotContains(t, page, `{&#34;after&#34;`, "not as raw JSON")
	require.NotContains(t, page, `{"after"`)
	_, page = b.get("/audit?project=shop&action=connection")
	require.Contains(t, page, "connection.create")
	require.NotContains(t, page, "project.delete")

	// No entry holds a secret.
	_, revealed := api("GET", "/api/v1/connections/"+ids["conn"]+"?reveal=true", "")
	secrets := []string{"acme-secret-token", testPassword, "not the password", "a long enough password", tok}
	for _, p := range revealed["parameters"].([]any) {
		prm := p.(map[string]any)
		if prm["secret"].(bool) {
			for _, v := range prm["values"].(map[string]any) {
				secrets = append(secrets, v.(string))
			}
		}
	}
	require.NoError(t, ts.svc.Audit.EachAudit(as(admin), junction.AuditFilter{}, func(e *junction.AuditEntry) error {
		raw, err := json.Marshal(e)
		require.NoError(t, err)
		for _, s := range secrets {
			require.NotContains(t, string(raw), s, e.Action)
		}
		return nil
	}))
}

func jsonString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	}
	return ""
}

func mustUserID(t *testing.T, ts *testServer, email string) int64 {
	t.Helper()
	u, err := ts.svc.Users.FindUserByEmail(t.Context(), email)
	require.NoError(t, err)
	return u.ID
}

// TestRotationGracePages rotates with a grace on the rotate page, sees until when the
// previous secret works on the connection page, finishes it there, and reads the History tab.
func TestRotationGracePages(t *testing.T) {
	f := newConnectionFixture(t)
	conn := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"keyed","service_id":"`+f.apiKeySvc+`"}`)
	id := conn["id"].(string)
	_, revealed := f.api(t, http.MethodGet, "/api/v1/connections/"+id+"?reveal=true", f.admin, "")
	var oldKey string
	for _, p := range revealed["parameters"].([]any) {
		if prm := p.(map[string]any); prm["name"] == "ChoreoAPIKey" {
			oldKey = prm["values"].(map[string]any)["production"].(string)
		}
	}
	require.NotEmpty(t, oldKey)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	_, page := b.get("/connections/" + id + "/rotate?environment=production")
	require.Contains(t, page, `name="grace"`)
	res, _ := b.post("/connections/"+id+"/rotate", url.Values{"environment": {"production"}, "grace": {"24h"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, page = b.get("/connections/" + id)
	require.Contains(t, page, `data-testid="grace-production"`)
	require.Contains(t, page, "the previous secret is still valid until")
	require.Contains(t, page, `data-testid="finish-rotation-production"`)
	status, _ := f.api(t, http.MethodPost, "/api/v1/api-keys/verify", "", `{"key":"`+oldKey+`"}`)
	require.Equal(t, http.StatusOK, status, "the previous key verifies during the grace")

	res, _ = b.post("/connections/"+id+"/rotate/finish", url.Values{"environment": {"production"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, page = b.get("/connections/" + id)
	require.NotContains(t, page, `data-testid="grace-production"`)
	status, _ = f.api(t, http.MethodPost, "/api/v1/api-keys/verify", "", `{"key":"`+oldKey+`"}`)
	require.Equal(t, http.StatusUnauthorized, status, "finished: the previous key fails at once")
	res, _ = b.post("/connections/"+id+"/rotate", url.Values{"environment": {"production"}, "grace": {"8d"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// The History tab, a plain page: who, when, what changed.
	status, _ = f.api(t, http.MethodPatch, "/api/v1/connections/"+id, f.admin, `{"name":"keyed-two"}`)
	require.Equal(t, http.StatusOK, status)
	_, page = b.get("/connections/" + id + "/history")
	for _, want := range []string{"connection.update", "connection.rotate_finish", "connection.rotate", "connection.create", "ada@example.com", "keyed-two"} {
		require.Contains(t, page, want)
	}
	require.Regexp(t, `(?s)diff-old">keyed<.*diff-new">keyed-two<`, page, "old → new")
	require.NotContains(t, page, oldKey)
	for _, path := range []string{"/projects/shop/history", "/services/" + f.apiKeySvc + "/history", "/projects/shop/components/orders/env/history"} {
		res, page := b.get(path)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.Contains(t, page, "History", path)
	}
}
