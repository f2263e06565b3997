package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// Passwords of the credentials tests; none may reach an answer in clear unless revealed.
const (
	credAppPassword = "app-password-0b1c2d"
	credROPassword  = "readonly-password-3e4f5a"
	credNewPassword = "rotated-password-6b7c8d"
)

// credentialDatabaseBody is a database with a readonly credential in development; production
// has only the default one.
const credentialDatabaseBody = `{"kind":"database","name":"orders-db","engine":"postgres","values":{
	"development":{"HostName":"db.dev","Port":"5432","DatabaseName":"orders","Username":"orders_app","Password":"` + credAppPassword + `",
		"credentials":{"readonly":{"Username":"orders_ro","Password":"` + credROPassword + `"}}},
	"production":{"HostName":"db.prod","Port":"5432","DatabaseName":"orders","Username":"orders_app","Password":"prod-` + credAppPassword + `"}}}`

// credentialFixture is a connectionFixture with the database above.
type credentialFixture struct {
	*connectionFixture
	db string // service ID
}

func newCredentialFixture(t *testing.T) *credentialFixture {
	f := &credentialFixture{connectionFixture: newConnectionFixture(t)}
	status, svc := f.api(t, http.MethodPost, "/api/v1/services", f.admin, credentialDatabaseBody)
	require.Equal(t, http.StatusCreated, status, "%v", svc)
	f.db = svc["id"].(string)
	return f
}

func requireNoCredentialPassword(t *testing.T, v any) {
	t.Helper()
	s := mustJSON(t, v)
	if str, ok := v.(string); ok {
		s = str
	}
	for _, pw := range []string{credAppPassword, credROPassword, credNewPassword} {
		require.NotContains(t, s, pw, "a password in clear")
	}
}

// credentialsOf returns values.{env}.credentials of a service answer.
func credentialsOf(svc map[string]any, env string) map[string]any {
	vals, _ := svc["values"].(map[string]any)[env].(map[string]any)
	creds, _ := vals["credentials"].(map[string]any)
	return creds
}

func TestDatabaseCredentialsAPI(t *testing.T) {
	f := newCredentialFixture(t)
	svcPath := "/api/v1/services/" + f.db

	t.Run("CreateMasked", func(t *testing.T) {
		status, svc := f.api(t, http.MethodGet, svcPath, f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"readonly": map[string]any{"Username": "orders_ro", "Password": junction.Masked}}, credentialsOf(svc, "development"))
		require.Nil(t, credentialsOf(svc, "production"), "production has only the default credential")
		require.Equal(t, junction.Masked, svc["values"].(map[string]any)["development"].(map[string]any)["Password"])
		requireNoCredentialPassword(t, svc)
	})

	t.Run("ErrBadCredentials", func(t *testing.T) {
		body := func(creds string) string {
			return `{"kind":"database","name":"bad-db","engine":"postgres","values":{"development":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"u","credentials":` + creds + `}}}`
		}
		for _, tt := range []struct{ name, creds, field string }{
			{"TooShort", `{"ro":{"Username":"u"}}`, "values.development.credentials.ro"},
			{"UpperCase", `{"ReadOnly":{"Username":"u"}}`, "values.development.credentials.ReadOnly"},
			{"Default", `{"default":{"Username":"u"}}`, "values.development.credentials.default"},
			{"NoUsername", `{"readonly":{"Password":"p"}}`, "values.development.credentials.readonly.Username"},
			{"MisspeltKey", `{"readonly":{"Username":"u","password":"p"}}`, "values.development.credentials.readonly.password"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				status, res := f.api(t, http.MethodPost, "/api/v1/services", f.admin, body(tt.creds))
				require.Equal(t, http.StatusUnprocessableEntity, status, "%v", res)
				code, fields := apiError(t, res)
				require.Equal(t, junction.EINVALID, code)
				require.Contains(t, fields, tt.field)
			})
		}
		t.Run("NotAnEnvironmentServed", func(t *testing.T) {
			status, res := f.api(t, http.MethodPost, "/api/v1/services", f.admin,
				`{"kind":"database","name":"bad-db","engine":"postgres","values":{"development":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"u"},"production":{"credentials":{"readonly":{"Username":"u"}}}}}`)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			_, fields := apiError(t, res)
			require.Contains(t, fields, "values.production.credentials")
		})
		t.Run("WrongType", func(t *testing.T) {
			status, res := f.api(t, http.MethodPost, "/api/v1/services", f.admin, body(`{"readonly":{"Username":"u","Password":5}}`))
			require.Equal(t, http.StatusBadRequest, status, "%v", res)
			require.Contains(t, res["error"].(map[string]any)["message"], `Field "values": expected a JSON string`)
			status, res = f.api(t, http.MethodPost, "/api/v1/services", f.admin, body(`["readonly"]`))
			require.Equal(t, http.StatusBadRequest, status, "%v", res)
		})
	})

	var reportsID string
	t.Run("ConnectionChoosesReadonly", func(t *testing.T) {
		conn := f.create(t, "/api/v1/projects/shop/components/orders/connections", f.admin,
			`{"name":"reports","service_id":"`+f.db+`","credentials":{"development":"readonly"}}`)
		reportsID = conn["id"].(string)
		require.Equal(t, map[string]any{"development": "readonly", "production": "default"}, conn["credentials"])
		require.Equal(t, "orders_ro", param(t, conn, "Username", "development"))
		require.Equal(t, junction.Masked, param(t, conn, "Password", "development"))
		require.Equal(t, "orders_app", param(t, conn, "Username", "production"))
		requireNoCredentialPassword(t, conn)
		status, revealed := f.api(t, http.MethodGet, "/api/v1/connections/"+reportsID+"?reveal=true", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, credROPassword, param(t, revealed, "Password", "development"))
		status, viewed := f.api(t, http.MethodGet, "/api/v1/connections/"+reportsID, f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"development": "readonly", "production": "default"}, viewed["credentials"])
		requireNoCredentialPassword(t, viewed)

		// A connection that names no credential gets the default one; today's body is valid.
		plain := f.create(t, "/api/v1/projects/shop/connections", f.admin, `{"name":"orders-db","service_id":"`+f.db+`"}`)
		require.Equal(t, map[string]any{"development": "default", "production": "default"}, plain["credentials"])
		require.Equal(t, "orders_app", param(t, plain, "Username", "development"))
	})

	t.Run("ErrUnknownCredential", func(t *testing.T) {
		for _, path := range []string{"/api/v1/projects/shop/connections", "/api/v1/projects/shop/components/web/connections"} {
			status, res := f.api(t, http.MethodPost, path, f.admin,
				`{"name":"admin-db","service_id":"`+f.db+`","credentials":{"development":"admin"}}`)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", res)
			code, fields := apiError(t, res)
			require.Equal(t, junction.EINVALID, code)
			require.Contains(t, fields["credentials.development"], "development")
			require.Contains(t, fields["credentials.development"], "default, readonly")
		}
		status, res := f.api(t, http.MethodPost, "/api/v1/projects/shop/connections", f.admin,
			`{"name":"admin-db","service_id":"`+f.db+`","credentials":{"production":"readonly"}}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "readonly exists in development only: %v", res)
		_, fields := apiError(t, res)
		require.Contains(t, fields, "credentials.production")
	})

	// The reports connection is mapped by shop/orders, which fetches its variables at run time.
	status, _ := f.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+reportsID, f.admin,
		`{"mappings":{"HostName":"DB_HOST","Port":"DB_PORT","DatabaseName":"DB_NAME","Username":"DB_USER","Password":"DB_PASSWORD"}}`)
	require.Equal(t, http.StatusOK, status)
	status, tok := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", f.admin, `{"environment":"development"}`)
	require.Equal(t, http.StatusCreated, status)
	runtimeToken := tok["token"].(string)

	t.Run("PasswordChangeReachesConsumers", func(t *testing.T) {
		_, env := f.runtimeEnv(t, runtimeToken)
		require.Equal(t, map[string]any{"DB_HOST": "db.dev", "DB_PORT": "5432", "DB_NAME": "orders", "DB_USER": "orders_ro", "DB_PASSWORD": credROPassword}, env)

		status, svc := f.api(t, http.MethodPatch, svcPath, f.admin, `{"values":{
			"development":{"HostName":"db.dev","Port":"5432","DatabaseName":"orders","Username":"orders_app","Password":"********",
				"credentials":{"readonly":{"Username":"orders_ro","Password":"`+credNewPassword+`"}}},
			"production":{"HostName":"db.prod","Port":"5432","DatabaseName":"orders","Username":"orders_app"}}}`)
		require.Equal(t, http.StatusOK, status, "%v", svc)
		requireNoCredentialPassword(t, svc)
		_, env = f.runtimeEnv(t, runtimeToken)
		require.Equal(t, credNewPassword, env["DB_PASSWORD"], "the runtime env follows at once")
		status, preview := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development&reveal=true", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, credNewPassword, preview["DB_PASSWORD"])
		status, preview = f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development", f.viewer, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, junction.Masked, preview["DB_PASSWORD"])
		code, _, out := f.raw(t, http.MethodGet, "/api/v1/runtime/env?format=dotenv", "Bearer "+runtimeToken)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, out, credNewPassword)
	})

	t.Run("PatchWithoutCredentialsKeepsThem", func(t *testing.T) {
		status, svc := f.api(t, http.MethodPatch, svcPath, f.admin, `{"description":"Orders.","values":{
			"development":{"HostName":"db.dev","Port":"5432","DatabaseName":"orders","Username":"orders_app"},
			"production":{"HostName":"db.prod","Port":"5432","DatabaseName":"orders","Username":"orders_app"}}}`)
		require.Equal(t, http.StatusOK, status, "%v", svc)
		require.Contains(t, credentialsOf(svc, "development"), "readonly")
		_, env := f.runtimeEnv(t, runtimeToken)
		require.Equal(t, credNewPassword, env["DB_PASSWORD"], "the password is kept")
	})

	t.Run("ErrRemoveUsedCredential", func(t *testing.T) {
		remove := `{"values":{"development":{"HostName":"db.dev","Port":"5432","DatabaseName":"orders","Username":"orders_app","credentials":{"readonly":null}},
			"production":{"HostName":"db.prod","Port":"5432","DatabaseName":"orders","Username":"orders_app"}}}`
		status, res := f.api(t, http.MethodPatch, svcPath, f.admin, remove)
		require.Equal(t, http.StatusConflict, status, "%v", res)
		code, fields := apiError(t, res)
		require.Equal(t, junction.ECONFLICT, code)
		msg := res["error"].(map[string]any)["message"].(string)
		require.Contains(t, msg, "reports")
		require.Contains(t, msg, reportsID)
		require.Contains(t, fields, "values.development.credentials.readonly")
		status, svc := f.api(t, http.MethodGet, svcPath, f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, credentialsOf(svc, "development"), "readonly", "nothing changed")
		status, _ = f.api(t, http.MethodPatch, svcPath+"?force=true", f.admin, remove)
		require.Equal(t, http.StatusConflict, status, "there is no force for this")

		// Move the connection first (PATCH of its choice), then the credential can go.
		status, conn := f.api(t, http.MethodPatch, "/api/v1/connections/"+reportsID, f.admin, `{"credentials":{"development":"default"}}`)
		require.Equal(t, http.StatusOK, status, "%v", conn)
		require.Equal(t, map[string]any{"development": "default", "production": "default"}, conn["credentials"])
		require.Equal(t, "reports", conn["name"])
		_, env := f.runtimeEnv(t, runtimeToken)
		require.Equal(t, "orders_app", env["DB_USER"], "the runtime env follows the new choice at once")
		require.Equal(t, credAppPassword, env["DB_PASSWORD"])
		status, svc = f.api(t, http.MethodPatch, svcPath, f.admin, remove)
		require.Equal(t, http.StatusOK, status, "%v", svc)
		require.Nil(t, credentialsOf(svc, "development"))
	})

	t.Run("ErrPatchConnection", func(t *testing.T) {
		status, res := f.api(t, http.MethodPatch, "/api/v1/connections/"+reportsID, f.admin, `{"credentials":{"development":"readonly"}}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", res)
		_, fields := apiError(t, res)
		require.Contains(t, fields, "credentials.development")
		status, _ = f.api(t, http.MethodPatch, "/api/v1/connections/"+reportsID, f.viewer, `{"credentials":{"development":"default"}}`)
		require.Equal(t, http.StatusForbidden, status)
	})

	t.Run("ChoreoImportUsesDefault", func(t *testing.T) {
		status, out := f.yaml(t, http.MethodPut, "/api/v1/projects/shop/components/web/component.yaml", `schemaVersion: 1.1
dependencies:
  connectionReferences:
    - name: orders-store
      resourceRef: database:orders-db/orders
`)
		require.Equal(t, http.StatusOK, status, out)
		status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/web/connections", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		found := false
		for _, item := range list["items"].([]any) {
			c := item.(map[string]any)
			if c["name"] == "orders-store" {
				found = true
				require.Equal(t, map[string]any{"development": "default", "production": "default"}, c["credentials"])
			}
		}
		require.True(t, found, "the import created the connection: %v", list)
	})
}

func TestDatabaseCredentialForms(t *testing.T) {
	f := newCredentialFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	base := url.Values{"name": {"billing-db"}, "engine": {"postgres"},
		"values.development.HostName": {"billing.dev"}, "values.development.Port": {"5432"},
		"values.development.DatabaseName": {"billing"}, "values.development.Username": {"billing_app"}, "values.development.Password": {"billing-pw"}}
	with := func(extra map[string]string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for k, s := range extra {
			v.Set(k, s)
		}
		return v
	}

	t.Run("AddAndRemoveRowsWithoutJavaScript", func(t *testing.T) {
		res, body := b.get("/services/new/database")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="credential-development-default"`)
		require.Contains(t, body, `data-testid="add-credential-development"`)
		require.NotContains(t, body, `name="credentials.development[0].name"`)

		res, body = b.post("/services/database", with(map[string]string{"op": "add-credential:development"}))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="credentials.development[0].name"`)
		require.Contains(t, body, `value="billing.dev"`, "what was typed is kept")
		require.NotContains(t, body, `name="credentials.production[0].name"`)

		res, body = b.post("/services/database", with(map[string]string{"op": "add-credential:development",
			"credentials.development[0].name": "readonly", "credentials.development[0].Username": "ro"}))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="credentials.development[1].name"`)
		require.Contains(t, body, `value="readonly"`)

		res, body = b.post("/services/database", with(map[string]string{"op": "remove-credential:development:0",
			"credentials.development[0].name": "readonly", "credentials.development[1].name": "batch"}))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `value="batch"`)
		require.NotContains(t, body, `value="readonly"`)
		require.NotContains(t, body, `name="credentials.development[1].name"`)

		for _, op := range []string{"add-credential:staging", "remove-credential:development:9", "remove-credential:development:x"} {
			res, _ = b.post("/services/database", with(map[string]string{"op": op}))
			require.Equal(t, http.StatusOK, res.StatusCode, op)
		}
		status, list := f.api(t, http.MethodGet, "/api/v1/services?q=billing", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 0.0, list["total"], "row buttons save nothing")
	})

	t.Run("ErrBadName", func(t *testing.T) {
		res, body := b.post("/services/database", with(map[string]string{"credentials.development[0].name": "Read Only",
			"credentials.development[0].Username": "ro"}))
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-credentials.development[0].name"`)
		require.Contains(t, body, "lower-case letters")
	})

	var billingID string
	t.Run("CreateWithCredential", func(t *testing.T) {
		res, _ := b.post("/services/database", with(map[string]string{"credentials.development[0].name": "readonly",
			"credentials.development[0].Username": "billing_ro", "credentials.development[0].Password": "billing-ro-pw",
			"credentials.development[1].name": "", "credentials.development[1].Username": "", "credentials.development[1].Password": ""}))
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		billingID = strings.TrimPrefix(res.Header.Get("Location"), "/services/")
		status, svc := f.api(t, http.MethodGet, "/api/v1/services/"+billingID, f.admin, "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"readonly": map[string]any{"Username": "billing_ro", "Password": junction.Masked}}, credentialsOf(svc, "development"),
			"an empty row is no credential")
	})

	t.Run("ConnectionForm", func(t *testing.T) {
		res, body := b.get("/projects/shop/components/orders/connections/new?service=" + billingID)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="credentials.development"`)
		require.Contains(t, body, `<option value="readonly">readonly — user billing_ro</option>`)
		require.NotContains(t, body, `name="credentials.production"`)
		require.Contains(t, body, "billing-db does not serve production")
		require.Contains(t, body, "suggested variable names: BILLING_DB_HOSTNAME, BILLING_DB_PORT, …", "the help is this service's real suggestion")
		require.NotContains(t, body, "TWILIO_SERVICEURL")

		res, body = b.post("/projects/shop/components/orders/connections", url.Values{"service_id": {billingID}, "name": {"billing-ro"},
			"credentials.development": {"admin"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-credentials.development"`)

		res, _ = b.post("/projects/shop/components/orders/connections", url.Values{"service_id": {billingID}, "name": {"billing-ro"},
			"credentials.development": {"readonly"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		page := res.Header.Get("Location")
		res, body = b.get(page)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `data-testid="credential-development">readonly<`)
		require.Contains(t, body, `data-testid="param-Username-development">billing_ro<`)
		require.NotContains(t, body, "billing-ro-pw")

		// The settings form moves it back to the default credential.
		require.Contains(t, body, `name="credentials.development"`)
		res, _ = b.post(page, url.Values{"name": {"billing-ro"}, "credentials.development": {"default"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		_, body = b.get(page)
		require.Contains(t, body, `data-testid="credential-development">default<`)
		res, body = b.post(page, url.Values{"name": {"billing-ro"}, "credentials.development": {"nope"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, body, `data-testid="error-credentials.development"`)
		res, _ = b.post(page, url.Values{"name": {"billing-ro"}, "credentials.development": {"readonly"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
	})

	t.Run("ServicePageBlastRadius", func(t *testing.T) {
		status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/connections", f.admin, "")
		require.Equal(t, http.StatusOK, status)
		var connID string
		for _, item := range list["items"].([]any) {
			if c := item.(map[string]any); c["name"] == "billing-ro" {
				connID = c["id"].(string)
			}
		}
		status, _ = f.api(t, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+connID, f.admin,
			`{"mappings":{"HostName":"B_HOST","Port":"B_PORT","DatabaseName":"B_NAME","Username":"B_USER","Password":"B_PASSWORD"}}`)
		require.Equal(t, http.StatusOK, status)
		res, body := b.get("/services/" + billingID)
		require.Equal(t, http.StatusOK, res.StatusCode)
		users := regexpFind(t, body, `(?s)data-testid="credential-users-development-readonly">(.*?)</td>`)
		require.Contains(t, users, "billing-ro")
		require.Contains(t, users, "/connections/"+connID)
		require.Contains(t, users, "shop/orders", "the component that maps it")
		require.Contains(t, regexpFind(t, body, `(?s)data-testid="credential-users-development-default">(.*?)</td>`), "no connection")
		require.Contains(t, body, `data-testid="value-development-readonly-Password">`+junction.Masked+`<`)
		require.NotContains(t, body, "billing-ro-pw")
	})

	t.Run("EditKeepsPasswordAndRefusesUsedRemoval", func(t *testing.T) {
		res, body := b.get("/services/" + billingID + "/edit")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `name="credentials.development[0].name"`)
		require.Contains(t, body, `value="readonly"`)
		require.NotContains(t, body, "billing-ro-pw")
		require.Contains(t, regexpFind(t, body, `(<input[^>]*name="credentials.development\[0\].Password"[^>]*>)`), `placeholder="unchanged"`)

		edit := with(map[string]string{"values.development.Password": "", "credentials.development[0].name": "readonly",
			"credentials.development[0].Username": "billing_ro2", "credentials.development[0].Password": ""})
		res, _ = b.post("/services/"+billingID, edit)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		reveal := func() string {
			status, list := f.api(t, http.MethodGet, "/api/v1/projects/shop/components/orders/env?environment=development&reveal=true", f.admin, "")
			require.Equal(t, http.StatusOK, status)
			return list["B_USER"].(string) + " " + list["B_PASSWORD"].(string)
		}
		require.Equal(t, "billing_ro2 billing-ro-pw", reveal(), "the user name changed, the password was kept")

		// Removing the row of a credential in use: 409, the form again with why, nothing saved.
		removed := with(map[string]string{"values.development.Password": ""})
		res, body = b.post("/services/"+billingID, removed)
		require.Equal(t, http.StatusConflict, res.StatusCode)
		require.Contains(t, body, `data-testid="database-form"`)
		require.Contains(t, body, "billing-ro")
		require.Contains(t, body, "move them to another credential first")
		require.Equal(t, "billing_ro2 billing-ro-pw", reveal())
	})
}
