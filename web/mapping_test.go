package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// mappingFixture is a connectionFixture with shop's project connection "Twilio", the
// component connection "posts" of shop/orders, blog's project connection "posts", and an
// outsider.
type mappingFixture struct {
	*connectionFixture
	outsider             string // token
	twilioID, postsID    string
	blogID               string
	twilioMap, postsMaps map[string]string
}

func newMappingFixture(t *testing.T) *mappingFixture {
	t.Helper()
	f := &mappingFixture{connectionFixture: newConnectionFixture(t)}
	f.outsider = f.token(t, f.createUser(t, "out@example.com", false))
	f.twilioID = f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"Twilio","service_id":"`+f.twilio+`"}`)["id"].(string)
	f.postsID = f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)["id"].(string)
	f.blogID = f.create(t, "/api/v1/projects/blog/connections", f.admin, `{"name":"posts","service_id":"`+f.oauthA+`"}`)["id"].(string)
	f.twilioMap = map[string]string{"ServiceURL": "TWILIO_URL", "AccountSID": "TWILIO_SID", "AuthToken": "TWILIO_TOKEN"}
	f.postsMaps = map[string]string{"ServiceURL": "POSTS_URL", "ConsumerKey": "POSTS_KEY", "ConsumerSecret": "POSTS_SECRET", "TokenURL": "POSTS_TOKEN_URL"}
	return f
}

func mappingsBody(t *testing.T, m map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"mappings": m})
	require.NoError(t, err)
	return string(b)
}

func (f *mappingFixture) put(t *testing.T, component, connID, token string, m map[string]string) (int, map[string]any) {
	t.Helper()
	return f.api(t, http.MethodPut, "/api/v1/projects/shop/components/"+component+"/mappings/"+connID, token, mappingsBody(t, m))
}

func (f *mappingFixture) mustPut(t *testing.T, component, connID string, m map[string]string) map[string]any {
	t.Helper()
	status, body := f.put(t, component, connID, f.admin, m)
	require.Equal(t, http.StatusOK, status, "%v", body)
	return body
}

func (f *mappingFixture) items(t *testing.T, component string) []any {
	t.Helper()
	status, body := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/"+component+"/mappings", f.admin, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	items, ok := body["items"].([]any)
	require.True(t, ok, "%v", body)
	return items
}

// raw sends a request with an Authorization header (if any) and returns the status, the
// Content-Type and the body.
func (ts *testServer) raw(t *testing.T, method, path, auth string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

// runtimeEnv fetches GET /api/v1/runtime/env?format=json with a runtime token.
func (ts *testServer) runtimeEnv(t *testing.T, token string) (int, map[string]any) {
	t.Helper()
	status, ctype, body := ts.raw(t, http.MethodGet, "/api/v1/runtime/env", "Bearer "+token)
	require.Contains(t, ctype, "application/json")
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	return status, out
}

func keysOf(m map[string]any) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestMappingsAPI(t *testing.T) {
	f := newMappingFixture(t)
	path := "/api/v1/projects/shop/components/orders/mappings"

	t.Run("Empty", func(t *testing.T) {
		require.Equal(t, []any{}, f.items(t, "orders"), "an empty list, not null")
	})

	t.Run("ErrFirstSaveSavesNothing", func(t *testing.T) {
		status, body := f.put(t, "orders", f.twilioID, f.admin, map[string]string{"ServiceURL": "TWILIO_URL", "AccountSID": "1SID", "AuthToken": "PATH", "Region": "TWILIO_REGION"})
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
		code, fields := apiError(t, body)
		require.Equal(t, "invalid", code)
		require.Equal(t, []string{"AccountSID", "AuthToken", "Region"}, keysOf(fields), "fields are keyed by parameter: %v", fields)
		for k, v := range fields {
			require.NotEmpty(t, v, k)
		}
		require.Empty(t, f.items(t, "orders"), "nothing saved")
	})

	t.Run("Save", func(t *testing.T) {
		body := f.mustPut(t, "orders", f.twilioID, f.twilioMap)
		require.Equal(t, []string{"items"}, keysOf(body))
		require.Equal(t, []any{
			map[string]any{"connection_id": f.twilioID, "parameter": "AccountSID", "env": "TWILIO_SID"},
			map[string]any{"connection_id": f.twilioID, "parameter": "AuthToken", "env": "TWILIO_TOKEN"},
			map[string]any{"connection_id": f.twilioID, "parameter": "ServiceURL", "env": "TWILIO_URL"},
		}, body["items"])
		require.Equal(t, body["items"], f.items(t, "orders"))

		body = f.mustPut(t, "orders", f.postsID, f.postsMaps)
		items := body["items"].([]any)
		require.Len(t, items, 7, "the answer is all of the component's mappings")
		for _, it := range items {
			require.Equal(t, []string{"connection_id", "env", "parameter"}, keysOf(it.(map[string]any)))
		}
	})

	t.Run("ErrBadSaveKeepsPrevious", func(t *testing.T) {
		before := f.items(t, "orders")
		tests := []struct {
			name   string
			conn   string
			names  map[string]string
			fields []string
		}{
			{"Reserved", f.twilioID, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID", "AuthToken": "junction_token"}, []string{"AuthToken"}},
			{"Missing", f.twilioID, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID"}, []string{"AuthToken"}},
			{"Unknown", f.twilioID, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID", "AuthToken": "NEW_TOKEN", "Nope": "NOPE"}, []string{"Nope"}},
			{"Duplicate", f.twilioID, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_URL", "AuthToken": "NEW_TOKEN"}, []string{"AccountSID"}},
			{"TooLong", f.twilioID, map[string]string{"ServiceURL": strings.Repeat("U", 129), "AccountSID": "NEW_SID", "AuthToken": "NEW_TOKEN"}, []string{"ServiceURL"}},
			{"Unicode", f.twilioID, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "SÍD", "AuthToken": "NEW_TOKEN"}, []string{"AccountSID"}},
			{"TakenByOther", f.postsID, map[string]string{"ServiceURL": "TWILIO_URL", "ConsumerKey": "K", "ConsumerSecret": "S", "TokenURL": "T"}, []string{"ServiceURL"}},
			{"All", f.twilioID, map[string]string{}, []string{"AccountSID", "AuthToken", "ServiceURL"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := f.put(t, "orders", tt.conn, f.admin, tt.names)
				require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
				_, fields := apiError(t, body)
				require.ElementsMatch(t, tt.fields, keysOf(fields), "%v", fields)
				require.Equal(t, before, f.items(t, "orders"), "nothing saved")
			})
		}
		t.Run("NoMappingsKey", func(t *testing.T) {
			status, body := f.api(t, http.MethodPut, path+"/"+f.twilioID, f.admin, `{}`)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
			_, fields := apiError(t, body)
			require.Equal(t, []string{"AccountSID", "AuthToken", "ServiceURL"}, keysOf(fields))
			require.Equal(t, before, f.items(t, "orders"))
		})
		t.Run("MessageNamesOtherConnection", func(t *testing.T) {
			status, body := f.put(t, "orders", f.postsID, f.admin, map[string]string{"ServiceURL": "X_URL", "ConsumerKey": "TWILIO_SID", "ConsumerSecret": "S", "TokenURL": "T"})
			require.Equal(t, http.StatusUnprocessableEntity, status)
			_, fields := apiError(t, body)
			msg, _ := fields["ConsumerKey"].(string)
			require.Contains(t, msg, "Twilio")
			require.Contains(t, msg, f.twilioID)
		})
	})

	t.Run("ErrStatuses", func(t *testing.T) {
		before := f.items(t, "orders")
		tests := []struct {
			name, method, path, token, body string
			status                          int
		}{
			{"OtherProjectsConnection", http.MethodPut, path + "/" + f.blogID, f.admin, mappingsBody(t, f.postsMaps), http.StatusNotFound},
			{"OtherComponentsConnection", http.MethodPut, "/api/v1/projects/shop/components/web/mappings/" + f.postsID, f.admin, mappingsBody(t, f.postsMaps), http.StatusNotFound},
			{"UnknownConnection", http.MethodPut, path + "/conn_nope", f.admin, mappingsBody(t, f.twilioMap), http.StatusNotFound},
			{"UnknownComponent", http.MethodPut, "/api/v1/projects/shop/components/nope/mappings/" + f.twilioID, f.admin, mappingsBody(t, f.twilioMap), http.StatusNotFound},
			{"Viewer", http.MethodPut, path + "/" + f.twilioID, f.viewer, mappingsBody(t, map[string]string{"ServiceURL": "A", "AccountSID": "B", "AuthToken": "C"}), http.StatusForbidden},
			{"Outsider", http.MethodPut, path + "/" + f.twilioID, f.outsider, mappingsBody(t, f.twilioMap), http.StatusNotFound},
			{"Anonymous", http.MethodPut, path + "/" + f.twilioID, "", mappingsBody(t, f.twilioMap), http.StatusUnauthorized},
			{"MalformedJSON", http.MethodPut, path + "/" + f.twilioID, f.admin, `{"mappings":`, http.StatusBadRequest},
			{"WrongType", http.MethodPut, path + "/" + f.twilioID, f.admin, `{"mappings":["A"]}`, http.StatusBadRequest},
			{"ViewerDelete", http.MethodDelete, path + "/" + f.twilioID, f.viewer, "", http.StatusForbidden},
			{"OutsiderDelete", http.MethodDelete, path + "/" + f.twilioID, f.outsider, "", http.StatusNotFound},
			{"OutsiderList", http.MethodGet, path, f.outsider, "", http.StatusNotFound},
			{"AnonymousList", http.MethodGet, path, "", "", http.StatusUnauthorized},
			{"DeleteUnmapped", http.MethodDelete, "/api/v1/projects/shop/components/web/mappings/" + f.twilioID, f.admin, "", http.StatusNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := f.api(t, tt.method, tt.path, tt.token, tt.body)
				require.Equal(t, tt.status, status, "%v", body)
				apiError(t, body)
			})
		}
		require.Equal(t, before, f.items(t, "orders"))
		status, body := f.api(t, http.MethodGet, path, f.viewer, "")
		require.Equal(t, http.StatusOK, status, "viewers may read mappings")
		require.Equal(t, before, body["items"])
	})

	t.Run("OtherComponentMayReuseNames", func(t *testing.T) {
		f.mustPut(t, "web", f.twilioID, f.twilioMap)
		require.Len(t, f.items(t, "web"), 3)
	})

	t.Run("Delete", func(t *testing.T) {
		status, body := f.api(t, http.MethodDelete, path+"/"+f.twilioID, f.admin, "")
		require.Equal(t, http.StatusNoContent, status, "%v", body)
		items := f.items(t, "orders")
		require.Len(t, items, 4)
		for _, it := range items {
			require.Equal(t, f.postsID, it.(map[string]any)["connection_id"])
		}
		require.Len(t, f.items(t, "web"), 3, "other components keep theirs")
		status, _ = f.api(t, http.MethodDelete, path+"/"+f.twilioID, f.admin, "")
		require.Equal(t, http.StatusNotFound, status)
	})
}

func TestEnvAPI(t *testing.T) {
	f := newMappingFixture(t)
	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	liveOnly := &junction.Service{Kind: junction.KindThirdParty, Name: "Twilio Live", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{
			{Name: "live", URL: "https://api.twilio.example", Environments: []string{"production"}, Values: map[string]string{"AccountSID": "AC-live", "AuthToken": "live-secret"}},
		}}
	require.NoError(t, f.svc.Services.CreateService(as(mustUser(t, f.testServer, "ada@example.com")), liveOnly))
	liveID := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin, `{"name":"live","service_id":"`+liveOnly.ID+`"}`)["id"].(string)
	f.mustPut(t, "orders", liveID, map[string]string{"ServiceURL": "LIVE_URL", "AccountSID": "LIVE_SID", "AuthToken": "LIVE_TOKEN"})

	env := func(token, query string) (int, map[string]any) {
		t.Helper()
		return f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?"+query, token, "")
	}

	status, body := env(f.admin, "environment=development")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, map[string]any{
		"TWILIO_URL": "https://sandbox.twilio.example", "TWILIO_SID": "AC-sand", "TWILIO_TOKEN": junction.Masked,
	}, body, "secrets masked; the live-only connection has no development values")

	status, body = env(f.viewer, "environment=development")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, junction.Masked, body["TWILIO_TOKEN"])

	status, body = env(f.admin, "environment=development&reveal=true")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{
		"TWILIO_URL": "https://sandbox.twilio.example", "TWILIO_SID": "AC-sand", "TWILIO_TOKEN": "sand-secret",
	}, body)

	status, body = env(f.admin, "environment=production&reveal=true")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{
		"TWILIO_URL": "https://api.twilio.example", "TWILIO_SID": "AC-live", "TWILIO_TOKEN": "live-secret",
		"LIVE_URL": "https://api.twilio.example", "LIVE_SID": "AC-live", "LIVE_TOKEN": "live-secret",
	}, body)

	status, body = env(f.admin, "environment=production")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, junction.Masked, body["LIVE_TOKEN"])
	require.Equal(t, "AC-live", body["LIVE_SID"])

	t.Run("Audited", func(t *testing.T) {
		conn := f.rawSQL(t)
		var n int
		require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE action = 'secret.reveal' AND outcome = 'ok' AND target_type = 'component' AND actor = 'ada@example.com'`).Scan(&n))
		require.Equal(t, 2, n)
	})

	t.Run("Errors", func(t *testing.T) {
		tests := []struct {
			name, token, query string
			status             int
			field              string
		}{
			{"ViewerReveal", f.viewer, "environment=development&reveal=true", http.StatusForbidden, ""},
			{"UnknownEnvironment", f.admin, "environment=staging", http.StatusUnprocessableEntity, "environment"},
			{"NoEnvironment", f.admin, "", http.StatusUnprocessableEntity, "environment"},
			{"Outsider", f.outsider, "environment=development", http.StatusNotFound, ""},
			{"Anonymous", "", "environment=development", http.StatusUnauthorized, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := env(tt.token, tt.query)
				require.Equal(t, tt.status, status, "%v", body)
				_, fields := apiError(t, body)
				if tt.field != "" {
					require.Contains(t, fields, tt.field)
				}
			})
		}
		status, body := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/nope/env?environment=development", f.admin, "")
		require.Equal(t, http.StatusNotFound, status, "%v", body)
	})
}

func TestRuntimeTokensAPI(t *testing.T) {
	f := newMappingFixture(t)
	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	tokens := "/api/v1/projects/shop/components/orders/runtime-tokens"

	status, created := f.api(t, http.MethodPost, tokens, f.admin, `{"environment":"development"}`)
	require.Equal(t, http.StatusCreated, status, "%v", created)
	require.Equal(t, []string{"created_at", "created_by", "environment", "id", "name", "prefix", "token"}, keysOf(created))
	require.Equal(t, "development", created["environment"])
	require.Equal(t, "orders-development", created["name"], "the default name")
	token := created["token"].(string)
	require.True(t, strings.HasPrefix(token, "jrt_"), token)
	require.Equal(t, token[:8], created["prefix"])
	id := created["id"].(float64)
	require.NotZero(t, id)

	status, prodCreated := f.api(t, http.MethodPost, tokens, f.admin, `{"environment":"production","name":"  edge workers  "}`)
	require.Equal(t, http.StatusCreated, status)
	require.Equal(t, "edge workers", prodCreated["name"])
	prodToken := prodCreated["token"].(string)

	t.Run("List", func(t *testing.T) {
		status, list := f.api(t, http.MethodGet, tokens, f.viewer, "")
		require.Equal(t, http.StatusOK, status, "%v", list)
		require.EqualValues(t, 2, list["total"])
		items := list["items"].([]any)
		require.Len(t, items, 2)
		envs := []string{}
		for _, it := range items {
			it := it.(map[string]any)
			// DESIGN's fields, plus first_used_at (the audit of runtime fetches), name, prefix
			// and created_by; never the token.
			require.Equal(t, []string{"created_at", "created_by", "environment", "first_used_at", "id", "last_used_at", "name", "prefix"}, keysOf(it), "the token itself is never listed")
			require.Len(t, it["prefix"], 8)
			require.NotEmpty(t, it["created_by"])
			require.NotEmpty(t, it["created_at"])
			require.Nil(t, it["last_used_at"], "not used yet")
			envs = append(envs, it["environment"].(string))
		}
		require.ElementsMatch(t, []string{"development", "production"}, envs)
	})

	t.Run("CreateErrors", func(t *testing.T) {
		tests := []struct {
			name, path, token, body string
			status                  int
		}{
			{"Viewer", tokens, f.viewer, `{"environment":"development"}`, http.StatusForbidden},
			{"Outsider", tokens, f.outsider, `{"environment":"development"}`, http.StatusNotFound},
			{"Anonymous", tokens, "", `{"environment":"development"}`, http.StatusUnauthorized},
			{"UnknownEnvironment", tokens, f.admin, `{"environment":"staging"}`, http.StatusUnprocessableEntity},
			{"NoEnvironment", tokens, f.admin, `{}`, http.StatusUnprocessableEntity},
			{"NameTooLong", tokens, f.admin, `{"environment":"development","name":"` + strings.Repeat("n", 101) + `"}`, http.StatusUnprocessableEntity},
			{"Malformed", tokens, f.admin, `{"environment":`, http.StatusBadRequest},
			{"UnknownComponent", "/api/v1/projects/shop/components/nope/runtime-tokens", f.admin, `{"environment":"development"}`, http.StatusNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := f.api(t, http.MethodPost, tt.path, tt.token, tt.body)
				require.Equal(t, tt.status, status, "%v", body)
				apiError(t, body)
			})
		}
		_, list := f.api(t, http.MethodGet, tokens, f.admin, "")
		require.EqualValues(t, 2, list["total"], "no token was made")
	})

	t.Run("RuntimeEnv", func(t *testing.T) {
		status, body := f.runtimeEnv(t, token)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, map[string]any{"TWILIO_URL": "https://sandbox.twilio.example", "TWILIO_SID": "AC-sand", "TWILIO_TOKEN": "sand-secret"}, body, "secrets in clear")
		status, ctype, raw := f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=json", "Bearer "+token)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, ctype, "application/json")
		var again map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &again))
		require.Equal(t, body, again)

		status, body = f.runtimeEnv(t, prodToken)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"TWILIO_URL": "https://api.twilio.example", "TWILIO_SID": "AC-live", "TWILIO_TOKEN": "live-secret"}, body)

		status, ctype, raw = f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=dotenv", "Bearer "+token)
		require.Equal(t, http.StatusOK, status, raw)
		require.Contains(t, ctype, "text/plain")
		require.Equal(t, "TWILIO_SID='AC-sand'\nTWILIO_TOKEN='sand-secret'\nTWILIO_URL='https://sandbox.twilio.example'\n", raw)

		status, _, raw = f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=xml", "Bearer "+token)
		require.Equal(t, http.StatusUnprocessableEntity, status, raw)
	})

	t.Run("LastUsedAt", func(t *testing.T) {
		_, list := f.api(t, http.MethodGet, tokens, f.admin, "")
		for _, it := range list["items"].([]any) {
			it := it.(map[string]any)
			require.NotNil(t, it["last_used_at"], "used above: %v", it)
		}
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		pat := f.admin
		for _, auth := range []string{"", "Bearer ", "Bearer jrt_nope", "Bearer " + token + "x", "Basic " + token, "Bearer " + pat, token} {
			status, ctype, raw := f.raw(t, http.MethodGet, "/api/v1/runtime/env", auth)
			require.Equal(t, http.StatusUnauthorized, status, "%q: %s", auth, raw)
			require.Contains(t, ctype, "application/json")
			require.NotContains(t, raw, "sand-secret")
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		byID := tokens + "/" + jsonNumber(id)
		for _, tt := range []struct {
			name, path, token string
			status            int
		}{
			{"Viewer", byID, f.viewer, http.StatusForbidden},
			{"Outsider", byID, f.outsider, http.StatusNotFound},
			{"OtherComponent", "/api/v1/projects/shop/components/web/runtime-tokens/" + jsonNumber(id), f.admin, http.StatusNotFound},
			{"Unknown", tokens + "/999999", f.admin, http.StatusNotFound},
			{"NotANumber", tokens + "/abc", f.admin, http.StatusNotFound},
		} {
			status, body := f.api(t, http.MethodDelete, tt.path, tt.token, "")
			require.Equal(t, tt.status, status, "%s: %v", tt.name, body)
		}
		status, _ := f.runtimeEnv(t, token)
		require.Equal(t, http.StatusOK, status, "still works")

		status, body := f.api(t, http.MethodDelete, byID, f.admin, "")
		require.Equal(t, http.StatusNoContent, status, "%v", body)
		status, body = f.runtimeEnv(t, token)
		require.Equal(t, http.StatusUnauthorized, status, "a revoked token stops working at once: %v", body)
		code, _ := apiError(t, body)
		require.Equal(t, "unauthorized", code)
		status, _, _ = f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=dotenv", "Bearer "+token)
		require.Equal(t, http.StatusUnauthorized, status)

		status, _ = f.runtimeEnv(t, prodToken)
		require.Equal(t, http.StatusOK, status, "the other token keeps working")
		_, list := f.api(t, http.MethodGet, tokens, f.admin, "")
		require.EqualValues(t, 1, list["total"])
		status, _ = f.api(t, http.MethodDelete, byID, f.admin, "")
		require.Equal(t, http.StatusNotFound, status)
	})
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestDeleteMappedConnectionAPI(t *testing.T) {
	f := newMappingFixture(t)
	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	f.mustPut(t, "web", f.twilioID, f.twilioMap)
	conn := "/api/v1/connections/" + f.twilioID

	status, body := f.api(t, http.MethodDelete, conn, f.admin, "")
	require.Equal(t, http.StatusConflict, status, "%v", body)
	code, _ := apiError(t, body)
	require.Equal(t, "conflict", code)
	msg := body["error"].(map[string]any)["message"].(string)
	require.Contains(t, msg, "shop/orders")
	require.Contains(t, msg, "shop/web")
	status, _ = f.api(t, http.MethodGet, conn, f.admin, "")
	require.Equal(t, http.StatusOK, status, "the connection stays")
	require.Len(t, f.items(t, "orders"), 3)

	status, _ = f.api(t, http.MethodDelete, conn+"?force=false", f.admin, "")
	require.Equal(t, http.StatusConflict, status)
	status, _ = f.api(t, http.MethodDelete, conn+"?force=true", f.viewer, "")
	require.Equal(t, http.StatusForbidden, status)

	status, body = f.api(t, http.MethodDelete, conn+"?force=true", f.admin, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, f.twilioID, body["id"])
	status, _ = f.api(t, http.MethodGet, conn, f.admin, "")
	require.Equal(t, http.StatusNotFound, status)
	require.Empty(t, f.items(t, "orders"), "the mappings went with it")
	require.Empty(t, f.items(t, "web"))

	// An unmapped connection needs no force.
	status, body = f.api(t, http.MethodDelete, "/api/v1/connections/"+f.postsID, f.admin, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
}

// TestRuntimeTokenFormShowsTokenOnce: the form ends in a 303 to the component page, which
// shows the token (and the hint with this server's URL and the token) once; a reload shows
// neither and creates nothing; a GET on the form target goes to the component page.
func TestRuntimeTokenFormShowsTokenOnce(t *testing.T) {
	f := newMappingFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	const page = "/projects/shop/components/orders"

	res, body := b.post(page+"/runtime-tokens", url.Values{"environment": {"production"}, "name": {"edge"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	require.Equal(t, page+"#runtime-heading", res.Header.Get("Location"))
	require.NotContains(t, res.Header.Get("Location")+body, "jrt_")

	_, body = b.get(page)
	token := regexpFind(t, body, `jrt_[a-z2-7]{20,}`)
	require.Contains(t, body, `data-testid="new-runtime-token"`)
	require.Contains(t, body, "junction run --server "+f.URL+" --token "+token+" -- your-command", "the hint has the real URL and the new token")
	require.Contains(t, body, token[:8]+"…")
	require.Contains(t, body, `data-testid="runtime-token-name">edge<`)

	_, body = b.get(page)
	require.NotContains(t, body, token, "shown once")
	require.Contains(t, body, "junction run --server "+f.URL+" --token $JUNCTION_TOKEN")
	_, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/runtime-tokens", f.admin, "")
	require.EqualValues(t, 1, list["total"], "a reload creates no second token")

	res, _ = b.get(page + "/runtime-tokens")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "no 405 on the form target")
	require.Equal(t, page, res.Header.Get("Location"))
}

// TestConnectionSnippetsUseMappedNames: the connection page's snippets read the names the
// components map, with a picker when several do.
func TestConnectionSnippetsUseMappedNames(t *testing.T) {
	f := newMappingFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	page := "/connections/" + f.twilioID

	_, body := b.get(page)
	require.Contains(t, body, "No component maps this connection yet")
	require.Contains(t, body, `os.Getenv(&#34;TWILIO_SERVICEURL&#34;)`)

	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	_, body = b.get(page)
	require.Contains(t, body, `twilioURL := os.Getenv(&#34;TWILIO_URL&#34;)`)
	require.Contains(t, body, `const twilioUrl = process.env.TWILIO_URL;`)
	require.Contains(t, body, `twilio_url = os.environ[&#34;TWILIO_URL&#34;]`)
	require.NotContains(t, body, "TWILIO_SERVICEURL")
	require.NotContains(t, body, `data-testid="usage-picker"`)

	f.create(t, "/api/v1/projects/shop/components", f.admin, `{"handle":"billing","name":"Billing","type":"service"}`)
	f.mustPut(t, "billing", f.twilioID, map[string]string{"ServiceURL": "SMS_URL", "AccountSID": "SMS_SID", "AuthToken": "SMS_TOKEN"})
	_, body = b.get(page)
	require.Contains(t, body, `data-testid="usage-picker"`)
	require.Contains(t, body, `?component=shop%2Fbilling`)
	_, body = b.get(page + "?component=shop/billing")
	require.Contains(t, body, `smsURL := os.Getenv(&#34;SMS_URL&#34;)`)
	require.Contains(t, body, `curl &#34;$SMS_URL&#34;`)
	require.NotContains(t, body, "os.Getenv(&#34;TWILIO_URL")
}
