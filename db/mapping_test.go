package db_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// mapFixture is a connFixture with connections to map:
//   - twilio: shop's project connection to the third-party Twilio (sandbox in development,
//     live in production);
//   - stock: shop's project connection to an internal OAuth service;
//   - pg: shop/orders' own connection to a database;
//   - live: shop/orders' own connection to a third-party service that serves production only;
//   - invOwn: shop/inventory's own connection;
//   - billing: billing's project connection; payOwn: billing/payments' own connection.
type mapFixture struct {
	*connFixture
	maps                                             *db.MappingService
	twilio, stock, pg, live, invOwn, billing, payOwn *junction.Connection
}

func newMapFixture(t *testing.T) *mapFixture {
	t.Helper()
	f := &mapFixture{connFixture: newConnFixture(t)}
	f.maps = db.NewMappingService(f.store, f.conns)
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	liveOnly := thirdPartyService("Twilio Live")
	liveOnly.Endpoints = liveOnly.Endpoints[1:]
	f.mustCreateService(t, f.admin, liveOnly)
	pg := f.mustCreateService(t, f.admin, databaseService("orders-db"))
	stock := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))

	f.twilio = f.connect(t, f.developer, "shop", "", tp.ID, "twilio")
	f.stock = f.connect(t, f.developer, "shop", "", stock.ID, "stock")
	f.pg = f.connect(t, f.developer, "shop", "orders", pg.ID, "orders-db")
	f.live = f.connect(t, f.developer, "shop", "orders", liveOnly.ID, "twilio-live")
	f.invOwn = f.connect(t, f.developer, "shop", "inventory", tp.ID, "sms")
	f.billing = f.connect(t, f.otherDev, "billing", "", tp.ID, "twilio")
	f.payOwn = f.connect(t, f.otherDev, "billing", "payments", tp.ID, "sms")
	return f
}

// names maps every parameter of the connection to PREFIX_PARAMETER.
func names(c *junction.Connection, prefix string) map[string]string {
	out := map[string]string{}
	for _, p := range c.Parameters {
		out[p.Name] = prefix + "_" + strings.ToUpper(p.Name)
	}
	return out
}

func (f *mapFixture) set(t *testing.T, user *junction.User, project, component string, c *junction.Connection, names map[string]string) []junction.Mapping {
	t.Helper()
	list, err := f.maps.SetMappings(ContextAs(t, user), project, component, c.ID, names)
	require.NoError(t, err, "%v", junction.ErrorFields(err))
	return list
}

func (f *mapFixture) mappings(t *testing.T, project, component string) []junction.Mapping {
	t.Helper()
	list, err := f.maps.FindMappings(ContextAs(t, f.admin), project, component)
	require.NoError(t, err)
	return list
}

// mappingsOf returns the component's mappings of one connection as parameter -> name.
func (f *mapFixture) mappingsOf(t *testing.T, project, component, connectionID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range f.mappings(t, project, component) {
		if m.ConnectionID == connectionID {
			out[m.Parameter] = m.Env
		}
	}
	return out
}

func envByName(vars []junction.EnvVar) map[string]junction.EnvVar {
	out := map[string]junction.EnvVar{}
	for _, v := range vars {
		out[v.Name] = v
	}
	return out
}

func envNames(vars []junction.EnvVar) []string {
	out := []string{}
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}

func codeOf(err error) string { return junction.ErrorCode(err) }

func TestMappingService_SetMappings(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)

	list := f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	require.Equal(t, []junction.Mapping{
		{ConnectionID: f.twilio.ID, Parameter: "AccountSID", Env: "TWILIO_ACCOUNTSID"},
		{ConnectionID: f.twilio.ID, Parameter: "AuthToken", Env: "TWILIO_AUTHTOKEN"},
		{ConnectionID: f.twilio.ID, Parameter: "ServiceURL", Env: "TWILIO_SERVICEURL"},
	}, list, "the answer is the component's mappings, by name")
	require.Equal(t, list, f.mappings(t, "shop", "orders"))
	require.Empty(t, f.mappings(t, "shop", "inventory"), "mappings belong to one component")

	t.Run("Replace", func(t *testing.T) {
		want := map[string]string{"ServiceURL": "SMS_URL", "AccountSID": "SMS_SID", "AuthToken": "SMS_TOKEN"}
		f.set(t, f.developer, "shop", "orders", f.twilio, want)
		require.Equal(t, want, f.mappingsOf(t, "shop", "orders", f.twilio.ID))
		require.Len(t, f.mappings(t, "shop", "orders"), 3, "no stale rows")
		// Swapping names between parameters of the same connection is fine.
		swapped := map[string]string{"ServiceURL": "SMS_SID", "AccountSID": "SMS_URL", "AuthToken": "SMS_TOKEN"}
		f.set(t, f.developer, "shop", "orders", f.twilio, swapped)
		require.Equal(t, swapped, f.mappingsOf(t, "shop", "orders", f.twilio.ID))
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		before := f.mappings(t, "shop", "orders")
		rows := countRows(t, f.store, `SELECT COUNT(*) FROM mappings`)
		tests := []struct {
			name   string
			conn   *junction.Connection
			names  map[string]string
			fields []string
		}{
			{"OneReserved", f.twilio, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID", "AuthToken": "PATH"}, []string{"AuthToken"}},
			{"OnePattern", f.twilio, map[string]string{"ServiceURL": "NEW-URL", "AccountSID": "NEW_SID", "AuthToken": "NEW_TOKEN"}, []string{"ServiceURL"}},
			{"OneMissing", f.twilio, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID"}, []string{"AuthToken"}},
			{"OneUnknown", f.twilio, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_SID", "AuthToken": "NEW_TOKEN", "Region": "NEW_REGION"}, []string{"Region"}},
			{"Duplicate", f.twilio, map[string]string{"ServiceURL": "NEW_URL", "AccountSID": "NEW_URL", "AuthToken": "NEW_TOKEN"}, []string{"AccountSID"}},
			{"Nil", f.twilio, nil, []string{"ServiceURL", "AccountSID", "AuthToken"}},
			{"NewConnectionOneBad", f.pg, map[string]string{"HostName": "DB_HOST", "Port": "DB_PORT", "DatabaseName": "DB_NAME", "Username": "DB_USER", "Password": "JUNCTION_DB_PASSWORD"}, []string{"Password"}},
			{"NewConnectionTooLong", f.pg, map[string]string{"HostName": "DB_HOST", "Port": "DB_PORT", "DatabaseName": strings.Repeat("N", 129), "Username": "DB_USER", "Password": "DB_PASSWORD"}, []string{"DatabaseName"}},
			{"NewConnectionTakenName", f.pg, map[string]string{"HostName": "DB_HOST", "Port": "DB_PORT", "DatabaseName": "DB_NAME", "Username": "SMS_TOKEN", "Password": "DB_PASSWORD"}, []string{"Username"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.maps.SetMappings(ctx, "shop", "orders", tt.conn.ID, tt.names)
				require.Equal(t, junction.EINVALID, codeOf(err), "%v", err)
				fields := junction.ErrorFields(err)
				require.ElementsMatch(t, tt.fields, slices.Collect(mapsKeys(fields)), "%v", fields)
				require.Equal(t, before, f.mappings(t, "shop", "orders"), "nothing saved, the previous mappings are kept")
				require.Equal(t, rows, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
			})
		}
	})

	t.Run("NamesAreStoredTrimmed", func(t *testing.T) {
		f.set(t, f.developer, "shop", "inventory", f.invOwn, map[string]string{"ServiceURL": " INV_URL", "AccountSID": "INV_SID ", "AuthToken": "\tINV_TOKEN\n"})
		require.Equal(t, map[string]string{"ServiceURL": "INV_URL", "AccountSID": "INV_SID", "AuthToken": "INV_TOKEN"}, f.mappingsOf(t, "shop", "inventory", f.invOwn.ID))
		// A name that only differs by spaces from another connection's is the same name.
		_, err := f.maps.SetMappings(ctx, "shop", "inventory", f.twilio.ID, map[string]string{"ServiceURL": "INV_URL ", "AccountSID": "X_SID", "AuthToken": "X_TOKEN"})
		require.Equal(t, junction.EINVALID, codeOf(err), "%v", err)
		require.Contains(t, junction.ErrorFields(err), "ServiceURL")
		envPattern := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
		for _, m := range f.mappings(t, "shop", "inventory") {
			require.Regexp(t, envPattern, m.Env)
		}
	})
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestMappingService_Uniqueness(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))

	t.Run("TakenByOtherConnection", func(t *testing.T) {
		n := names(f.pg, "DB")
		n["HostName"] = "TWILIO_SERVICEURL"
		_, err := f.maps.SetMappings(ctx, "shop", "orders", f.pg.ID, n)
		require.Equal(t, junction.EINVALID, codeOf(err), "%v", err)
		fields := junction.ErrorFields(err)
		require.Len(t, fields, 1)
		msg := fields["HostName"]
		require.Contains(t, msg, "TWILIO_SERVICEURL")
		require.Contains(t, msg, "twilio", "the message names the other connection")
		require.Contains(t, msg, f.twilio.ID, "and its Connection ID")
		require.Contains(t, msg, "ServiceURL")
		require.Empty(t, f.mappingsOf(t, "shop", "orders", f.pg.ID))
	})
	t.Run("CaseMatters", func(t *testing.T) {
		n := names(f.pg, "DB")
		n["HostName"] = "twilio_serviceurl"
		f.set(t, f.developer, "shop", "orders", f.pg, n)
	})
	t.Run("OtherComponentsMayUseTheSameNames", func(t *testing.T) {
		f.set(t, f.developer, "shop", "inventory", f.twilio, names(f.twilio, "TWILIO"))
		f.set(t, f.developer, "shop", "inventory", f.stock, names(f.stock, "DB"))
		f.set(t, f.otherDev, "billing", "payments", f.billing, names(f.billing, "TWILIO"))
	})
	t.Run("FreedByDelete", func(t *testing.T) {
		n := names(f.stock, "STOCK")
		n["ServiceURL"] = "TWILIO_AUTHTOKEN"
		_, err := f.maps.SetMappings(ctx, "shop", "orders", f.stock.ID, n)
		require.Equal(t, junction.EINVALID, codeOf(err))
		require.NoError(t, f.maps.DeleteMappings(ctx, "shop", "orders", f.twilio.ID))
		f.set(t, f.developer, "shop", "orders", f.stock, n)
	})
}

func TestMappingService_Access(t *testing.T) {
	f := newMapFixture(t)

	t.Run("WhichConnections", func(t *testing.T) {
		tests := []struct {
			name               string
			user               func() *junction.User
			project, component string
			conn               func() *junction.Connection
			code               string
		}{
			{"OwnComponentConnection", func() *junction.User { return f.developer }, "shop", "orders", func() *junction.Connection { return f.pg }, ""},
			{"ProjectConnection", func() *junction.User { return f.developer }, "shop", "orders", func() *junction.Connection { return f.twilio }, ""},
			{"ProjectConnectionFromOtherComponent", func() *junction.User { return f.developer }, "shop", "inventory", func() *junction.Connection { return f.stock }, ""},
			{"AdminNotMember", func() *junction.User { return f.admin }, "shop", "inventory", func() *junction.Connection { return f.invOwn }, ""},
			{"ErrOtherComponentsConnection", func() *junction.User { return f.developer }, "shop", "orders", func() *junction.Connection { return f.invOwn }, junction.ENOTFOUND},
			{"ErrOtherComponentsConnectionAsAdmin", func() *junction.User { return f.admin }, "shop", "inventory", func() *junction.Connection { return f.pg }, junction.ENOTFOUND},
			{"ErrOtherProjectsConnection", func() *junction.User { return f.both }, "shop", "orders", func() *junction.Connection { return f.billing }, junction.ENOTFOUND},
			{"ErrOtherProjectsComponentConnection", func() *junction.User { return f.both }, "shop", "orders", func() *junction.Connection { return f.payOwn }, junction.ENOTFOUND},
			{"ErrFromOtherProject", func() *junction.User { return f.both }, "billing", "payments", func() *junction.Connection { return f.twilio }, junction.ENOTFOUND},
			{"ErrUnknownConnection", func() *junction.User { return f.developer }, "shop", "orders", func() *junction.Connection { return &junction.Connection{ID: "conn_nope"} }, junction.ENOTFOUND},
			{"ErrUnknownComponent", func() *junction.User { return f.developer }, "shop", "nope", func() *junction.Connection { return f.twilio }, junction.ENOTFOUND},
			{"ErrUnknownProject", func() *junction.User { return f.developer }, "nope", "orders", func() *junction.Connection { return f.twilio }, junction.ENOTFOUND},
			{"ErrViewer", func() *junction.User { return f.viewer }, "shop", "orders", func() *junction.Connection { return f.twilio }, junction.EFORBIDDEN},
			{"ErrOutsider", func() *junction.User { return f.outsider }, "shop", "orders", func() *junction.Connection { return f.twilio }, junction.ENOTFOUND},
			{"ErrOtherProjectsDeveloper", func() *junction.User { return f.otherDev }, "shop", "orders", func() *junction.Connection { return f.twilio }, junction.ENOTFOUND},
			{"ErrAnonymous", func() *junction.User { return nil }, "shop", "orders", func() *junction.Connection { return f.twilio }, junction.EUNAUTHORIZED},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := tt.conn()
				n := names(f.twilio, "X") // every connection here but stock/pg is a Twilio one
				switch c {
				case f.pg:
					n = names(f.pg, "X")
				case f.stock:
					n = names(f.stock, "X")
				}
				rows := countRows(t, f.store, `SELECT COUNT(*) FROM mappings`)
				_, err := f.maps.SetMappings(ContextAs(t, tt.user()), tt.project, tt.component, c.ID, n)
				require.Equal(t, tt.code, codeOf(err), "%v", err)
				if tt.code != "" {
					require.Equal(t, rows, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
					return
				}
				require.NoError(t, f.maps.DeleteMappings(ContextAs(t, tt.user()), tt.project, tt.component, c.ID))
			})
		}
	})

	t.Run("Roles", func(t *testing.T) {
		f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
		token, _, err := f.maps.CreateRuntimeToken(ContextAs(t, f.developer), "shop", "orders", "development")
		require.NoError(t, err)
		n := names(f.twilio, "OTHER")
		ops := map[string]func(*junction.User) error{
			"FindMappings": func(u *junction.User) error {
				_, err := f.maps.FindMappings(ContextAs(t, u), "shop", "orders")
				return err
			},
			"SetMappings": func(u *junction.User) error {
				_, err := f.maps.SetMappings(ContextAs(t, u), "shop", "orders", f.twilio.ID, n)
				return err
			},
			"DeleteMappings": func(u *junction.User) error {
				return f.maps.DeleteMappings(ContextAs(t, u), "shop", "orders", f.twilio.ID)
			},
			"Env": func(u *junction.User) error {
				_, err := f.maps.Env(ContextAs(t, u), "shop", "orders", "development", false)
				return err
			},
			"EnvReveal": func(u *junction.User) error {
				_, err := f.maps.Env(ContextAs(t, u), "shop", "orders", "development", true)
				return err
			},
			"CreateRuntimeToken": func(u *junction.User) error {
				_, _, err := f.maps.CreateRuntimeToken(ContextAs(t, u), "shop", "orders", "development")
				return err
			},
			"FindRuntimeTokens": func(u *junction.User) error {
				_, err := f.maps.FindRuntimeTokens(ContextAs(t, u), "shop", "orders")
				return err
			},
			"RevokeRuntimeToken": func(u *junction.User) error {
				return f.maps.RevokeRuntimeToken(ContextAs(t, u), "shop", "orders", token.ID)
			},
		}
		run := func(u *junction.User) map[string]string {
			got := map[string]string{}
			for name, op := range ops {
				got[name] = codeOf(op(u))
			}
			return got
		}
		require.Equal(t, map[string]string{
			"FindMappings": "", "SetMappings": junction.EFORBIDDEN, "DeleteMappings": junction.EFORBIDDEN,
			"Env": "", "EnvReveal": junction.EFORBIDDEN, "CreateRuntimeToken": junction.EFORBIDDEN,
			"FindRuntimeTokens": "", "RevokeRuntimeToken": junction.EFORBIDDEN,
		}, run(f.viewer), "viewers read but change nothing and see no secrets")
		require.Equal(t, allCodes(ops, junction.ENOTFOUND), run(f.outsider), "non-members do not see the component")
		require.Equal(t, allCodes(ops, junction.ENOTFOUND), run(f.otherDev), "nor do members of other projects")
		require.Equal(t, allCodes(ops, junction.EUNAUTHORIZED), run(nil))
		require.Equal(t, map[string]string{"TWILIO_ACCOUNTSID": "AccountSID", "TWILIO_AUTHTOKEN": "AuthToken", "TWILIO_SERVICEURL": "ServiceURL"},
			func() map[string]string {
				out := map[string]string{}
				for _, m := range f.mappings(t, "shop", "orders") {
					out[m.Env] = m.Parameter
				}
				return out
			}(), "nothing changed")
		tokens, err := f.maps.FindRuntimeTokens(ContextAs(t, f.admin), "shop", "orders")
		require.NoError(t, err)
		require.Len(t, tokens, 1)
	})
}

func TestMappingService_DeleteMappings(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "DB"))
	f.set(t, f.developer, "shop", "inventory", f.twilio, names(f.twilio, "TWILIO"))

	require.Equal(t, junction.EFORBIDDEN, codeOf(f.maps.DeleteMappings(ContextAs(t, f.viewer), "shop", "orders", f.twilio.ID)))
	require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.DeleteMappings(ContextAs(t, f.outsider), "shop", "orders", f.twilio.ID)))
	require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.DeleteMappings(ctx, "shop", "orders", f.stock.ID)), "not mapped")
	require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.DeleteMappings(ctx, "shop", "orders", "conn_nope")))

	require.NoError(t, f.maps.DeleteMappings(ctx, "shop", "orders", f.twilio.ID))
	require.Empty(t, f.mappingsOf(t, "shop", "orders", f.twilio.ID))
	require.Len(t, f.mappingsOf(t, "shop", "orders", f.pg.ID), 5, "other connections keep their mappings")
	require.Len(t, f.mappingsOf(t, "shop", "inventory", f.twilio.ID), 3, "other components keep theirs")
	require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.DeleteMappings(ctx, "shop", "orders", f.twilio.ID)), "already gone")
	_, err := f.conns.FindConnection(ctx, f.twilio.ID, false)
	require.NoError(t, err, "the connection stays")
}

func TestMappingService_Env(t *testing.T) {
	f := newMapFixture(t)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "DB"))
	f.set(t, f.developer, "shop", "orders", f.live, names(f.live, "LIVE"))
	f.set(t, f.developer, "shop", "orders", f.stock, names(f.stock, "STOCK"))
	stock := f.reveal(t, f.stock.ID)

	type src struct {
		conn  *junction.Connection
		param string
		scope junction.Scope
	}
	sources := map[string]src{
		"TWILIO_SERVICEURL":    {f.twilio, "ServiceURL", junction.ScopeProject},
		"TWILIO_ACCOUNTSID":    {f.twilio, "AccountSID", junction.ScopeProject},
		"TWILIO_AUTHTOKEN":     {f.twilio, "AuthToken", junction.ScopeProject},
		"DB_HOSTNAME":          {f.pg, "HostName", junction.ScopeComponent},
		"DB_PORT":              {f.pg, "Port", junction.ScopeComponent},
		"DB_DATABASENAME":      {f.pg, "DatabaseName", junction.ScopeComponent},
		"DB_USERNAME":          {f.pg, "Username", junction.ScopeComponent},
		"DB_PASSWORD":          {f.pg, "Password", junction.ScopeComponent},
		"LIVE_SERVICEURL":      {f.live, "ServiceURL", junction.ScopeComponent},
		"LIVE_ACCOUNTSID":      {f.live, "AccountSID", junction.ScopeComponent},
		"LIVE_AUTHTOKEN":       {f.live, "AuthToken", junction.ScopeComponent},
		"STOCK_SERVICEURL":     {f.stock, "ServiceURL", junction.ScopeProject},
		"STOCK_CONSUMERKEY":    {f.stock, "ConsumerKey", junction.ScopeProject},
		"STOCK_CONSUMERSECRET": {f.stock, "ConsumerSecret", junction.ScopeProject},
		"STOCK_TOKENURL":       {f.stock, "TokenURL", junction.ScopeProject},
	}
	secret := map[string]bool{"TWILIO_AUTHTOKEN": true, "DB_PASSWORD": true, "LIVE_AUTHTOKEN": true, "STOCK_CONSUMERSECRET": true}
	clear := map[string]map[string]string{
		"development": {
			"TWILIO_SERVICEURL": "https://sandbox.example.com", "TWILIO_ACCOUNTSID": "AC-sandbox", "TWILIO_AUTHTOKEN": "tok-sandbox",
			"DB_HOSTNAME": "localhost", "DB_PORT": "5432", "DB_DATABASENAME": "orders", "DB_USERNAME": "app", "DB_PASSWORD": "dev-pw",
			"STOCK_SERVICEURL": "http://inventory.dev:8080", "STOCK_CONSUMERKEY": paramValues(stock, "ConsumerKey")["development"],
			"STOCK_CONSUMERSECRET": paramValues(stock, "ConsumerSecret")["development"], "STOCK_TOKENURL": connTokenURL,
		},
		"production": {
			"TWILIO_SERVICEURL": "https://api.example.com", "TWILIO_ACCOUNTSID": "AC-live", "TWILIO_AUTHTOKEN": "tok-live",
			"DB_HOSTNAME": "db.example.com", "DB_PORT": "5433", "DB_DATABASENAME": "orders", "DB_USERNAME": "app", "DB_PASSWORD": "prod-pw",
			"LIVE_SERVICEURL": "https://api.example.com", "LIVE_ACCOUNTSID": "AC-live", "LIVE_AUTHTOKEN": "tok-live",
			"STOCK_SERVICEURL": "https://inventory.example.com", "STOCK_CONSUMERKEY": paramValues(stock, "ConsumerKey")["production"],
			"STOCK_CONSUMERSECRET": paramValues(stock, "ConsumerSecret")["production"], "STOCK_TOKENURL": connTokenURL,
		},
	}
	audits := func(user *junction.User) int {
		return countRows(t, f.store, `SELECT COUNT(*) FROM audit_log WHERE action = 'secret.reveal' AND target_type = 'component' AND actor = ?`, user.Email)
	}

	for _, environment := range []string{"development", "production"} {
		for _, reveal := range []bool{false, true} {
			for _, user := range []*junction.User{f.developer, f.viewer, f.admin} {
				if reveal && user == f.viewer {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/reveal=%v", environment, user.Email, reveal), func(t *testing.T) {
					before := audits(user)
					vars, err := f.maps.Env(ContextAs(t, user), "shop", "orders", environment, reveal)
					require.NoError(t, err)
					require.Len(t, vars, len(sources))
					require.True(t, slices.IsSorted(envNames(vars)), "variables are sorted by name: %v", envNames(vars))
					for _, v := range vars {
						s, ok := sources[v.Name]
						require.True(t, ok, v.Name)
						require.Equal(t, s.conn.ID, v.ConnectionID, v.Name)
						require.Equal(t, s.conn.Name, v.ConnectionName, v.Name)
						require.Equal(t, s.param, v.Parameter, v.Name)
						require.Equal(t, s.scope, v.Scope, v.Name)
						require.Equal(t, secret[v.Name], v.Secret, v.Name)
						want, has := clear[environment][v.Name]
						require.Equal(t, has, v.HasValue, "%s: a variable without a value in %s is flagged", v.Name, environment)
						switch {
						case !has:
							require.Empty(t, v.Value, v.Name)
						case v.Secret && !reveal:
							require.Equal(t, junction.Masked, v.Value, v.Name)
						default:
							require.Equal(t, want, v.Value, v.Name)
						}
					}
					if reveal {
						require.Equal(t, before+1, audits(user), "a reveal is audited")
						require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log WHERE action = 'secret.reveal' AND actor = ? AND target_id = 'shop/orders' AND details LIKE ?`,
							user.Email, "%"+environment+"%"))
					} else {
						require.Equal(t, before, audits(user), "no reveal, no audit")
					}
				})
			}
		}
	}

	t.Run("LiveOnlyInDevelopment", func(t *testing.T) {
		vars, err := f.maps.Env(ContextAs(t, f.developer), "shop", "orders", "development", true)
		require.NoError(t, err)
		byName := envByName(vars)
		for _, name := range []string{"LIVE_SERVICEURL", "LIVE_ACCOUNTSID", "LIVE_AUTHTOKEN"} {
			require.False(t, byName[name].HasValue, name)
			require.Empty(t, byName[name].Value)
		}
		require.True(t, byName["TWILIO_AUTHTOKEN"].HasValue)
	})
	t.Run("ErrViewerReveal", func(t *testing.T) {
		all := countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`)
		_, err := f.maps.Env(ContextAs(t, f.viewer), "shop", "orders", "development", true)
		require.Equal(t, junction.EFORBIDDEN, codeOf(err), "%v", err)
		require.Equal(t, all, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), "a refused reveal is not audited")
	})
	t.Run("ErrUnknownEnvironment", func(t *testing.T) {
		for _, env := range []string{"staging", "", "Development"} {
			_, err := f.maps.Env(ContextAs(t, f.developer), "shop", "orders", env, false)
			require.Equal(t, junction.EINVALID, codeOf(err), "%q: %v", env, err)
			require.Contains(t, junction.ErrorFields(err), "environment")
		}
		all := countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`)
		_, err := f.maps.Env(ContextAs(t, f.developer), "shop", "orders", "staging", true)
		require.Equal(t, junction.EINVALID, codeOf(err))
		require.Equal(t, all, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`))
	})
	t.Run("NewEnvironment", func(t *testing.T) {
		require.NoError(t, db.NewEnvironmentService(f.store).CreateEnvironment(ContextAs(t, f.admin), &junction.Environment{Name: "staging"}))
		vars, err := f.maps.Env(ContextAs(t, f.developer), "shop", "orders", "staging", false)
		require.NoError(t, err)
		require.Len(t, vars, len(sources))
		byName := envByName(vars)
		require.False(t, byName["TWILIO_SERVICEURL"].HasValue, "no Twilio endpoint serves staging")
		require.False(t, byName["DB_HOSTNAME"].HasValue, "the database has no staging values")
	})
	t.Run("Empty", func(t *testing.T) {
		vars, err := f.maps.Env(ContextAs(t, f.developer), "shop", "inventory", "development", false)
		require.NoError(t, err)
		require.Empty(t, vars)
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tableValuesContaining counts the cells of every table that contain s.
func tableValuesContaining(t *testing.T, store *db.DB, s string) []string {
	t.Helper()
	ctx := t.Context()
	tables, err := store.TableNames(ctx)
	require.NoError(t, err)
	var found []string
	for _, table := range tables {
		rows, err := store.ReadPool().QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		require.NoError(t, err, table)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, v := range vals {
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case []byte:
					text = string(v)
				}
				if text != "" && strings.Contains(text, s) {
					found = append(found, table+"."+cols[i])
				}
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return found
}

func TestMappingService_RuntimeTokens(t *testing.T) {
	f := newMapFixture(t)
	dev := ContextAs(t, f.developer)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "DB"))
	f.set(t, f.developer, "shop", "orders", f.live, names(f.live, "LIVE"))

	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	f.store.Now = func() time.Time { return now }

	token, secret, err := f.maps.CreateRuntimeToken(dev, "shop", "orders", "development")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, junction.RuntimeTokenPrefix), secret)
	require.True(t, strings.HasPrefix(secret, "jrt_"), secret)
	require.Greater(t, len(secret), len("jrt_")+20, "long enough to be unguessable")
	require.NotZero(t, token.ID)
	require.Equal(t, "development", token.Environment)
	require.True(t, now.Equal(token.CreatedAt), "%v", token.CreatedAt)
	require.Nil(t, token.LastUsedAt)
	prod, prodSecret, err := f.maps.CreateRuntimeToken(ContextAs(t, f.admin), "shop", "orders", "production")
	require.NoError(t, err)
	require.NotEqual(t, secret, prodSecret)
	_, invSecret, err := f.maps.CreateRuntimeToken(dev, "shop", "inventory", "development")
	require.NoError(t, err)

	t.Run("OnlyTheHashIsStored", func(t *testing.T) {
		for _, s := range []string{secret, prodSecret, invSecret} {
			require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens WHERE token_hash = ?`, sha256Hex(s)))
			require.Empty(t, tableValuesContaining(t, f.store, s), "the token is stored nowhere in clear")
			require.Empty(t, tableValuesContaining(t, f.store, strings.TrimPrefix(s, "jrt_")))
		}
		require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens`))
	})

	t.Run("List", func(t *testing.T) {
		list, err := f.maps.FindRuntimeTokens(ContextAs(t, f.viewer), "shop", "orders")
		require.NoError(t, err)
		require.Len(t, list, 2, "only the component's tokens")
		ids := []int64{list[0].ID, list[1].ID}
		require.ElementsMatch(t, []int64{token.ID, prod.ID}, ids)
		for _, tok := range list {
			require.True(t, now.Equal(tok.CreatedAt))
			require.Nil(t, tok.LastUsedAt)
		}
	})

	t.Run("RuntimeEnv", func(t *testing.T) {
		vars, err := f.maps.RuntimeEnv(t.Context(), secret) // no user: the token is the credential
		require.NoError(t, err)
		byName := envByName(vars)
		require.Equal(t, "tok-sandbox", byName["TWILIO_AUTHTOKEN"].Value, "secrets in clear")
		require.Equal(t, "dev-pw", byName["DB_PASSWORD"].Value)
		require.Equal(t, "https://sandbox.example.com", byName["TWILIO_SERVICEURL"].Value)
		require.True(t, byName["DB_PASSWORD"].HasValue)
		require.False(t, byName["LIVE_AUTHTOKEN"].HasValue, "the live-only endpoint has no development value")
		require.Len(t, vars, 11)

		vars, err = f.maps.RuntimeEnv(t.Context(), prodSecret)
		require.NoError(t, err)
		byName = envByName(vars)
		require.Equal(t, "tok-live", byName["TWILIO_AUTHTOKEN"].Value)
		require.Equal(t, "prod-pw", byName["DB_PASSWORD"].Value)
		require.Equal(t, "tok-live", byName["LIVE_AUTHTOKEN"].Value)
		require.True(t, byName["LIVE_AUTHTOKEN"].HasValue)

		vars, err = f.maps.RuntimeEnv(t.Context(), invSecret)
		require.NoError(t, err)
		require.Empty(t, vars, "inventory maps nothing")
	})

	t.Run("FollowsMappingChanges", func(t *testing.T) {
		f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "SMS"))
		vars, err := f.maps.RuntimeEnv(t.Context(), secret)
		require.NoError(t, err)
		byName := envByName(vars)
		require.Contains(t, byName, "SMS_AUTHTOKEN")
		require.NotContains(t, byName, "TWILIO_AUTHTOKEN")
	})

	t.Run("LastUsedAt", func(t *testing.T) {
		lastUsed := func(id int64) *time.Time {
			list, err := f.maps.FindRuntimeTokens(dev, "shop", "orders")
			require.NoError(t, err)
			for _, tok := range list {
				if tok.ID == id {
					return tok.LastUsedAt
				}
			}
			t.Fatalf("no token %d", id)
			return nil
		}
		got := lastUsed(token.ID)
		require.NotNil(t, got, "set by use")
		require.True(t, now.Equal(*got), "%v", got)
		first := now
		now = now.Add(30 * time.Second)
		_, err := f.maps.RuntimeEnv(t.Context(), secret)
		require.NoError(t, err)
		require.True(t, first.Equal(*lastUsed(token.ID)), "not rewritten on every request")
		now = now.Add(2 * time.Minute)
		_, err = f.maps.RuntimeEnv(t.Context(), secret)
		require.NoError(t, err)
		require.True(t, now.Equal(*lastUsed(token.ID)), "refreshed after a while")
	})

	t.Run("ErrUnknownToken", func(t *testing.T) {
		for _, bad := range []string{"", "jrt_", "jrt_nope", secret + "x", strings.TrimPrefix(secret, "jrt_"), strings.ToUpper(secret), sha256Hex(secret)} {
			_, err := f.maps.RuntimeEnv(t.Context(), bad)
			require.Equal(t, junction.EUNAUTHORIZED, codeOf(err), "%q: %v", bad, err)
		}
	})

	t.Run("ErrCreate", func(t *testing.T) {
		before := countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens`)
		for _, env := range []string{"staging", "", "Production"} {
			_, _, err := f.maps.CreateRuntimeToken(dev, "shop", "orders", env)
			require.Equal(t, junction.EINVALID, codeOf(err), "%q", env)
			require.Contains(t, junction.ErrorFields(err), "environment")
		}
		_, _, err := f.maps.CreateRuntimeToken(ContextAs(t, f.viewer), "shop", "orders", "development")
		require.Equal(t, junction.EFORBIDDEN, codeOf(err))
		_, _, err = f.maps.CreateRuntimeToken(ContextAs(t, f.outsider), "shop", "orders", "development")
		require.Equal(t, junction.ENOTFOUND, codeOf(err))
		_, _, err = f.maps.CreateRuntimeToken(t.Context(), "shop", "orders", "development")
		require.Equal(t, junction.EUNAUTHORIZED, codeOf(err))
		require.Equal(t, before, countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens`))
	})

	t.Run("Revoke", func(t *testing.T) {
		require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.RevokeRuntimeToken(dev, "shop", "inventory", token.ID)), "another component's token")
		require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.RevokeRuntimeToken(dev, "shop", "orders", 999999)))
		require.Equal(t, junction.EFORBIDDEN, codeOf(f.maps.RevokeRuntimeToken(ContextAs(t, f.viewer), "shop", "orders", token.ID)))
		require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.RevokeRuntimeToken(ContextAs(t, f.outsider), "shop", "orders", token.ID)))
		_, err := f.maps.RuntimeEnv(t.Context(), secret)
		require.NoError(t, err, "refused revokes leave the token working")

		require.NoError(t, f.maps.RevokeRuntimeToken(dev, "shop", "orders", token.ID))
		_, err = f.maps.RuntimeEnv(t.Context(), secret)
		require.Equal(t, junction.EUNAUTHORIZED, codeOf(err), "a revoked token stops working at once")
		require.Equal(t, junction.ENOTFOUND, codeOf(f.maps.RevokeRuntimeToken(dev, "shop", "orders", token.ID)))
		list, err := f.maps.FindRuntimeTokens(dev, "shop", "orders")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, prod.ID, list[0].ID)
		_, err = f.maps.RuntimeEnv(t.Context(), prodSecret)
		require.NoError(t, err, "other tokens keep working")
	})
}

func TestMappingService_DeleteMappedConnection(t *testing.T) {
	f := newMapFixture(t)
	dev := ContextAs(t, f.developer)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "DB"))
	f.set(t, f.developer, "shop", "inventory", f.twilio, names(f.twilio, "TWILIO"))
	_, secret, err := f.maps.CreateRuntimeToken(dev, "shop", "orders", "development")
	require.NoError(t, err)

	t.Run("Conflict", func(t *testing.T) {
		err := f.conns.DeleteConnection(dev, f.twilio.ID, false)
		require.Equal(t, junction.ECONFLICT, codeOf(err), "%v", err)
		msg := junction.ErrorMessage(err)
		require.Contains(t, msg, "shop/orders")
		require.Contains(t, msg, "shop/inventory")
		mappedBy, err := f.conns.MappedBy(dev, f.twilio.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"shop/inventory", "shop/orders"}, mappedBy)
		_, err = f.conns.FindConnection(dev, f.twilio.ID, false)
		require.NoError(t, err, "the connection stays")
		require.Len(t, f.mappingsOf(t, "shop", "orders", f.twilio.ID), 3)

		err = f.conns.DeleteConnection(dev, f.pg.ID, false)
		require.Equal(t, junction.ECONFLICT, codeOf(err))
		require.Contains(t, junction.ErrorMessage(err), "shop/orders")
		require.NotContains(t, junction.ErrorMessage(err), "shop/inventory")
	})
	t.Run("ViewerForbiddenEvenWithForce", func(t *testing.T) {
		require.Equal(t, junction.EFORBIDDEN, codeOf(f.conns.DeleteConnection(ContextAs(t, f.viewer), f.twilio.ID, true)))
		require.Len(t, f.mappingsOf(t, "shop", "orders", f.twilio.ID), 3)
	})
	t.Run("Force", func(t *testing.T) {
		require.NoError(t, f.conns.DeleteConnection(dev, f.twilio.ID, true))
		_, err := f.conns.FindConnection(dev, f.twilio.ID, false)
		require.Equal(t, junction.ENOTFOUND, codeOf(err))
		require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM mappings WHERE connection_id = ?`, f.twilio.ID), "its mappings go too")
		require.Empty(t, f.mappingsOf(t, "shop", "inventory", f.twilio.ID))
		require.Len(t, f.mappings(t, "shop", "orders"), 5, "the other connection's mappings stay")
		vars, err := f.maps.RuntimeEnv(t.Context(), secret)
		require.NoError(t, err)
		require.Len(t, vars, 5)
		require.NotContains(t, envByName(vars), "TWILIO_AUTHTOKEN")
		// The names are free again.
		n := names(f.stock, "TWILIO")
		f.set(t, f.developer, "shop", "orders", f.stock, n)
	})
	t.Run("UnmappedNeedsNoForce", func(t *testing.T) {
		require.NoError(t, f.maps.DeleteMappings(dev, "shop", "orders", f.pg.ID))
		require.NoError(t, f.conns.DeleteConnection(dev, f.pg.ID, false))
	})
}

func TestMappingService_DeleteComponent(t *testing.T) {
	f := newMapFixture(t)
	dev := ContextAs(t, f.developer)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "DB"))
	f.set(t, f.developer, "shop", "inventory", f.twilio, names(f.twilio, "TWILIO"))
	_, ordersSecret, err := f.maps.CreateRuntimeToken(dev, "shop", "orders", "development")
	require.NoError(t, err)
	_, invSecret, err := f.maps.CreateRuntimeToken(dev, "shop", "inventory", "development")
	require.NoError(t, err)

	require.NoError(t, f.components.DeleteComponent(dev, "shop", "orders"))
	require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`), "only inventory's mappings are left")
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens`), "only inventory's token is left")
	_, err = f.maps.RuntimeEnv(t.Context(), ordersSecret)
	require.Equal(t, junction.EUNAUTHORIZED, codeOf(err))
	vars, err := f.maps.RuntimeEnv(t.Context(), invSecret)
	require.NoError(t, err)
	require.Len(t, vars, 3)
	_, err = f.maps.FindMappings(dev, "shop", "orders")
	require.Equal(t, junction.ENOTFOUND, codeOf(err))

	// The project connection is now mapped by inventory only.
	err = f.conns.DeleteConnection(dev, f.twilio.ID, false)
	require.Equal(t, junction.ECONFLICT, codeOf(err))
	require.NotContains(t, junction.ErrorMessage(err), "shop/orders")
	// inventory publishes the service of the project connection stock; that must go first.
	require.NoError(t, f.conns.DeleteConnection(dev, f.stock.ID, false))
	require.NoError(t, f.components.DeleteComponent(dev, "shop", "inventory"))
	require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
	require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM runtime_tokens`))
	require.NoError(t, f.conns.DeleteConnection(dev, f.twilio.ID, false), "nobody maps it any more")
}

func TestMappingService_DeleteProject(t *testing.T) {
	f := newMapFixture(t)
	f.set(t, f.developer, "shop", "orders", f.twilio, names(f.twilio, "TWILIO"))
	_, secret, err := f.maps.CreateRuntimeToken(ContextAs(t, f.developer), "shop", "orders", "development")
	require.NoError(t, err)
	f.set(t, f.otherDev, "billing", "payments", f.billing, names(f.billing, "TWILIO"))
	_, billingSecret, err := f.maps.CreateRuntimeToken(ContextAs(t, f.otherDev), "billing", "payments", "production")
	require.NoError(t, err)

	require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))
	require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
	_, err = f.maps.RuntimeEnv(t.Context(), secret)
	require.Equal(t, junction.EUNAUTHORIZED, codeOf(err))
	vars, err := f.maps.RuntimeEnv(t.Context(), billingSecret)
	require.NoError(t, err)
	require.Equal(t, "tok-live", envByName(vars)["TWILIO_AUTHTOKEN"].Value)
}
