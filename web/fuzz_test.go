package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// FuzzAPIBodies sends arbitrary bodies to every API route that reads one, and arbitrary
// form values to the forms: nothing may panic or answer 500.
func FuzzAPIBodies(f *testing.F) {
	for _, seed := range []string{`{}`, `{"name":"x","handle":"abc"}`, `[]`, `{"kind":"third-party","endpoints":[{"values":{"a":1}}]}`,
		`{"mappings":{"ServiceURL":"A"}}`, `{"environment":"production"}`, `{"role":"viewer"}`, `null`, `"`, `{"unlisted":true}`, `{"values":{"production":null,"x":{"Password":"********"}},"engine":"mysql"}`, `{"urls":{},"tags":null}`,
		"name=x&version=v1&parameters[0].name=A&endpoints[0].name=e&endpoints[0].url=https://x&endpoints[0].environments=production&endpoints[0].values[0]=1&op=save",
		"op=add-endpoint&endpoints[99].name=x&parameters[5].secret=true", "op=remove-parameter:-1", "connections=conn_x&conn_x.ServiceURL=A",
		`{"engine":"postgres","values":{"production":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"u","credentials":{"readonly":{"Username":"r","Password":"********"},"gone":null,"":{}}}}}`,
		`{"credentials":{"production":"readonly","development":null},"name":"x"}`, `{"values":{"production":{"credentials":[1]}}}`,
		"op=add-credential:production&credentials.production[19].name=x&credentials.production[0].Password=p",
		"op=remove-credential:production:-1&credentials.staging[0].name=x", "credentials.production=readonly&name=db&service_id=x"} {
		f.Add(seed)
	}
	ts := newTestServer(f)
	admin := ts.createUser(f, "ada@example.com", true)
	ctx := as(admin)
	require.NoError(f, ts.svc.Projects.CreateProject(ctx, &junction.Project{Handle: "shop", Name: "Shop"}))
	require.NoError(f, ts.svc.Components.CreateComponent(ctx, "shop", &junction.Component{Handle: "orders", Name: "Orders"}))
	dbSvc := &junction.Service{Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres",
		Values: map[string]map[string]string{"production": {"HostName": "db", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "pw"}}}
	require.NoError(f, ts.svc.Services.CreateService(ctx, dbSvc))
	apiSvc := &junction.Service{Kind: junction.KindInternal, Project: "shop", Component: "orders", Name: "Orders API", Version: "v1",
		Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth, URLs: map[string]string{"production": "https://orders.example.com"}}
	require.NoError(f, ts.svc.Services.CreateService(ctx, apiSvc))
	dbConn := &junction.Connection{Name: "orders-db", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: dbSvc.ID}}
	require.NoError(f, ts.svc.Connections.CreateConnection(ctx, dbConn))
	token := ts.token(f, admin)
	routes := []struct{ method, path string }{
		{http.MethodPost, "/api/v1/projects"}, {http.MethodPatch, "/api/v1/projects/shop"},
		{http.MethodPost, "/api/v1/projects/shop/components"}, {http.MethodPatch, "/api/v1/projects/shop/components/orders"},
		{http.MethodPut, "/api/v1/projects/shop/members/ada@example.com"}, {http.MethodPost, "/api/v1/environments"},
		{http.MethodPost, "/api/v1/services"}, {http.MethodPost, "/api/v1/projects/shop/connections"},
		{http.MethodPost, "/api/v1/projects/shop/components/orders/connections"},
		{http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/conn_x"},
		{http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens"},
		{http.MethodPut, "/api/v1/projects/shop/components/orders/component.yaml"},
		{http.MethodPost, "/api/v1/api-keys/verify"},
		{http.MethodPatch, "/api/v1/services/" + dbSvc.ID}, {http.MethodPatch, "/api/v1/services/" + apiSvc.ID},
		{http.MethodPatch, "/api/v1/connections/" + dbConn.ID},
	}
	handler := ts.Config.Handler
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range routes {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
			}
		}
		// The same text as a raw form body for the page forms, including the third-party form
		// whose row fields are parsed by index (a bearer token needs no CSRF token).
		for _, path := range []string{"/services/third-party", "/services/database", "/projects", "/projects/shop/components",
			"/projects/shop/components/orders/env", "/projects/shop/components/orders/endpoints", "/projects/shop/members",
			"/services/" + dbSvc.ID, "/services/" + apiSvc.ID, "/connections/" + dbConn.ID, "/projects/shop/components/orders/connections"} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("form %s with %q: %d %s", path, body, rec.Code, rec.Body)
			}
		}
		form := url.Values{"name": {body}, "handle": {body}, "description": {body}, "type": {body}, "email": {body}}
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()+"&grant_type="+url.QueryEscape(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("token endpoint with %q: %d", body, rec.Code)
		}
	})
}
