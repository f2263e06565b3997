package db_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

const connTokenURL = "http://127.0.0.1:8080/oauth2/token"

var connIDPattern = regexp.MustCompile(`^conn_[a-z2-7]{26}$`)

// connFixture is a serviceFixture (project "shop" with components "inventory" and "orders",
// its developer, viewer and an outsider; project "billing" with component "payments" and its
// developer otherDev) plus a user, both, who is a developer of shop and of billing.
type connFixture struct {
	*serviceFixture
	conns *db.ConnectionService
	both  *junction.User
}

func newConnFixture(t *testing.T) *connFixture {
	t.Helper()
	f := &connFixture{serviceFixture: newServiceFixture(t)}
	f.conns = db.NewConnectionService(f.store, connTokenURL)
	f.both = MustCreateUser(t, f.store, "both@example.com", false)
	MustSetMember(t, f.store, f.admin, "shop", f.both.Email, junction.RoleDeveloper)
	MustSetMember(t, f.store, f.admin, "billing", f.both.Email, junction.RoleDeveloper)
	return f
}

// withSecurity sets the security scheme of an internal service.
func withSecurity(svc *junction.Service, sec junction.Security) *junction.Service {
	svc.Security = sec
	return svc
}

// connect creates a connection as user and fails the test on error.
func (f *connFixture) connect(t *testing.T, user *junction.User, project, component, serviceID, name string) *junction.Connection {
	t.Helper()
	c := &junction.Connection{Name: name, Project: project, Component: component, Service: junction.ServiceRef{ID: serviceID}}
	err := f.conns.CreateConnection(ContextAs(t, user), c)
	require.NoError(t, err, "create connection %q: %v", name, junction.ErrorFields(err))
	return c
}

// reveal returns the connection with its secrets in clear, as admin.
func (f *connFixture) reveal(t *testing.T, id string) *junction.Connection {
	t.Helper()
	c, err := f.conns.FindConnection(ContextAs(t, f.admin), id, true)
	require.NoError(t, err)
	require.True(t, c.Revealed)
	return c
}

// paramValues returns the values of the named parameter, or nil when there is none.
func paramValues(c *junction.Connection, name string) map[string]string {
	for _, p := range c.Parameters {
		if p.Name == name {
			return p.Values
		}
	}
	return nil
}

func paramNames(c *junction.Connection) []string {
	names := []string{}
	for _, p := range c.Parameters {
		names = append(names, p.Name)
	}
	return names
}

func connIDs(list []*junction.Connection) []string {
	ids := []string{}
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

// countRows runs a COUNT(*) query.
func countRows(t *testing.T, store *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, store.ReadPool().QueryRowContext(t.Context(), query, args...).Scan(&n))
	return n
}

// credentialRows counts the rows of every table that holds generated credentials.
func credentialRows(t *testing.T, store *db.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"connections", "oauth_apps", "oauth_credentials", "api_keys"} {
		out[table] = countRows(t, store, `SELECT COUNT(*) FROM `+table)
	}
	return out
}

func TestConnectionService_OAuthSharing(t *testing.T) {
	f := newConnFixture(t)
	stock := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	pricing := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Pricing API", junction.VisibilityOrganization))
	payments := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityPublic))

	type spec struct {
		user                     *junction.User
		project, component, name string
		service                  string
	}
	specs := map[string]spec{
		"shopStock":     {f.developer, "shop", "", "stock", stock.ID},
		"shopPricing":   {f.developer, "shop", "", "pricing", pricing.ID},
		"shopPayments":  {f.both, "shop", "", "payments", payments.ID},
		"ordersStock":   {f.developer, "shop", "orders", "stock", stock.ID},
		"ordersPricing": {f.developer, "shop", "orders", "pricing", pricing.ID},
		"invStock":      {f.developer, "shop", "inventory", "stock", stock.ID},
		"billingStock":  {f.otherDev, "billing", "", "stock", stock.ID},
		"paymentsStock": {f.otherDev, "billing", "payments", "stock", stock.ID},
	}
	order := []string{"shopStock", "shopPricing", "shopPayments", "ordersStock", "ordersPricing", "invStock", "billingStock", "paymentsStock"}
	conns := map[string]*junction.Connection{}
	for _, k := range order {
		s := specs[k]
		c := f.connect(t, s.user, s.project, s.component, s.service, s.name)
		require.Regexp(t, connIDPattern, c.ID)
		require.Equal(t, []string{"ServiceURL", "ConsumerKey", "ConsumerSecret", "TokenURL"}, paramNames(c))
		conns[k] = f.reveal(t, c.ID)
	}
	for k, c := range conns {
		keys, secrets := paramValues(c, "ConsumerKey"), paramValues(c, "ConsumerSecret")
		require.Len(t, keys, 2, k)
		require.Len(t, secrets, 2, k)
		for _, env := range []string{"development", "production"} {
			require.NotEmpty(t, keys[env], "%s %s", k, env)
			require.NotEmpty(t, secrets[env], "%s %s", k, env)
			require.NotEqual(t, junction.Masked, secrets[env])
			require.Equal(t, connTokenURL, paramValues(c, "TokenURL")[env])
		}
		require.NotEqual(t, keys["development"], keys["production"], "%s: one client per environment", k)
		require.NotEqual(t, secrets["development"], secrets["production"], k)
	}
	require.Equal(t, 5, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`), "shop, orders, inventory, billing, payments")
	require.Equal(t, 10, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`))

	tests := []struct {
		a, b  string
		share bool
	}{
		{"shopStock", "shopPricing", true},
		{"shopStock", "shopPayments", true},
		{"shopPricing", "shopPayments", true},
		{"ordersStock", "ordersPricing", true},
		{"shopStock", "ordersStock", false},
		{"shopPricing", "ordersPricing", false},
		{"ordersStock", "invStock", false},
		{"shopStock", "invStock", false},
		{"shopStock", "billingStock", false},
		{"billingStock", "paymentsStock", false},
		{"paymentsStock", "invStock", false},
		{"paymentsStock", "ordersStock", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			a, b := conns[tt.a], conns[tt.b]
			for _, env := range []string{"development", "production"} {
				for _, name := range []string{"ConsumerKey", "ConsumerSecret"} {
					if tt.share {
						require.Equal(t, paramValues(a, name)[env], paramValues(b, name)[env], "%s in %s", name, env)
					} else {
						require.NotEqual(t, paramValues(a, name)[env], paramValues(b, name)[env], "%s in %s", name, env)
					}
				}
			}
		})
	}

	t.Run("Delete", func(t *testing.T) {
		oldShopKey := paramValues(conns["shopStock"], "ConsumerKey")["development"]
		oldShopSecret := paramValues(conns["shopStock"], "ConsumerSecret")["development"]
		steps := []struct {
			del      string
			wantApps int
			// still lists connections that must keep their credentials.
			still []string
		}{
			{"shopPricing", 5, []string{"shopStock", "shopPayments"}},
			{"shopPayments", 5, []string{"shopStock"}},
			{"ordersStock", 5, []string{"ordersPricing", "shopStock"}},
			{"shopStock", 4, []string{"ordersPricing"}},
			{"ordersPricing", 3, []string{"invStock", "billingStock", "paymentsStock"}},
			{"invStock", 2, []string{"billingStock", "paymentsStock"}},
		}
		for _, st := range steps {
			require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.admin), conns[st.del].ID, false), st.del)
			require.Equal(t, st.wantApps, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`), "after deleting %s", st.del)
			require.Equal(t, 2*st.wantApps, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`), "after deleting %s", st.del)
			_, err := f.conns.FindConnection(ContextAs(t, f.admin), conns[st.del].ID, false)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
			for _, k := range st.still {
				got := f.reveal(t, conns[k].ID)
				require.Equal(t, paramValues(conns[k], "ConsumerKey"), paramValues(got, "ConsumerKey"), "%s after deleting %s", k, st.del)
				require.Equal(t, paramValues(conns[k], "ConsumerSecret"), paramValues(got, "ConsumerSecret"), "%s after deleting %s", k, st.del)
			}
		}
		// The deleted application's client no longer gets tokens.
		_, err := f.conns.IssueToken(t.Context(), oldShopKey, oldShopSecret, nil)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))

		// A new project connection gets a new application.
		again := f.reveal(t, f.connect(t, f.developer, "shop", "", stock.ID, "stock").ID)
		require.NotEqual(t, oldShopKey, paramValues(again, "ConsumerKey")["development"])
		require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))
	})
}

func TestConnectionService_OAuthAppGrowsWithEnvironments(t *testing.T) {
	f := newConnFixture(t)
	devOnly := internalService("shop", "inventory", "Dev API", junction.VisibilityOrganization)
	devOnly.URLs = map[string]string{"development": "http://dev-only:8080"}
	f.mustCreateService(t, f.developer, devOnly)
	both := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Both API", junction.VisibilityOrganization))

	a := f.reveal(t, f.connect(t, f.developer, "shop", "", devOnly.ID, "dev").ID)
	require.Equal(t, []string{"development"}, mapKeys(paramValues(a, "ConsumerKey")))
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`))

	b := f.reveal(t, f.connect(t, f.developer, "shop", "", both.ID, "both").ID)
	require.Equal(t, paramValues(a, "ConsumerKey")["development"], paramValues(b, "ConsumerKey")["development"])
	require.Equal(t, paramValues(a, "ConsumerSecret")["development"], paramValues(b, "ConsumerSecret")["development"])
	require.NotEmpty(t, paramValues(b, "ConsumerKey")["production"])
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))
	require.Equal(t, 2, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`))

	// The dev-only connection still has no production values.
	a = f.reveal(t, a.ID)
	for _, p := range a.Parameters {
		_, ok := p.Values["production"]
		require.False(t, ok, p.Name)
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestConnectionService_APIKeys(t *testing.T) {
	f := newConnFixture(t)
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))

	type owner struct {
		user               *junction.User
		project, component string
	}
	owners := []owner{{f.developer, "shop", ""}, {f.developer, "shop", "orders"}, {f.otherDev, "billing", ""}, {f.otherDev, "billing", "payments"}}
	var conns []*junction.Connection
	seen := map[string]bool{}
	for _, o := range owners {
		c := f.connect(t, o.user, o.project, o.component, keyed.ID, "keyed")
		require.Equal(t, []string{"ServiceURL", "ChoreoAPIKey"}, paramNames(c))
		require.Equal(t, map[string]string{"development": junction.Masked, "production": junction.Masked}, paramValues(c, "ChoreoAPIKey"))
		c = f.reveal(t, c.ID)
		for _, env := range []string{"development", "production"} {
			key := paramValues(c, "ChoreoAPIKey")[env]
			require.NotEmpty(t, key)
			require.False(t, seen[key], "API key shared: %s", key)
			seen[key] = true
		}
		conns = append(conns, c)
	}
	require.Equal(t, 8, countRows(t, f.store, `SELECT COUNT(*) FROM api_keys`))
	require.Equal(t, 0, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`), "api-key services get no OAuth application")

	t.Run("Verify", func(t *testing.T) {
		for i, c := range conns {
			for _, env := range []string{"development", "production"} {
				info, err := f.conns.VerifyAPIKey(t.Context(), paramValues(c, "ChoreoAPIKey")[env])
				require.NoError(t, err)
				require.Equal(t, &junction.APIKeyInfo{ConnectionID: c.ID, ServiceID: keyed.ID, Environment: env,
					Project: owners[i].project, Component: owners[i].component}, info)
			}
		}
		for _, bad := range []string{"", "jak_nope", paramValues(conns[0], "ChoreoAPIKey")["development"] + "x", junction.Masked} {
			_, err := f.conns.VerifyAPIKey(t.Context(), bad)
			require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "%q", bad)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		c := conns[0]
		shared, err := f.conns.SharedWith(ContextAs(t, f.developer), c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{c.ID}, connIDs(shared), "an API key belongs to one connection")

		shared, err = f.conns.Rotate(ContextAs(t, f.developer), c.ID, "development")
		require.NoError(t, err)
		require.Equal(t, []string{c.ID}, connIDs(shared))
		got := f.reveal(t, c.ID)
		oldDev, newDev := paramValues(c, "ChoreoAPIKey")["development"], paramValues(got, "ChoreoAPIKey")["development"]
		require.NotEqual(t, oldDev, newDev)
		require.Equal(t, paramValues(c, "ChoreoAPIKey")["production"], paramValues(got, "ChoreoAPIKey")["production"], "other environments keep their key")

		_, err = f.conns.VerifyAPIKey(t.Context(), oldDev)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "the old key stops working")
		info, err := f.conns.VerifyAPIKey(t.Context(), newDev)
		require.NoError(t, err)
		require.Equal(t, c.ID, info.ConnectionID)
		require.Equal(t, "development", info.Environment)
		_, err = f.conns.VerifyAPIKey(t.Context(), paramValues(c, "ChoreoAPIKey")["production"])
		require.NoError(t, err)
		for _, other := range conns[1:] {
			require.Equal(t, paramValues(other, "ChoreoAPIKey"), paramValues(f.reveal(t, other.ID), "ChoreoAPIKey"))
		}
		require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log WHERE action = 'connection.rotate' AND actor = ? AND target LIKE ?`,
			f.developer.Email, c.ID+"%"))
	})

	t.Run("Delete", func(t *testing.T) {
		c := conns[1]
		require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.developer), c.ID, false))
		for _, env := range []string{"development", "production"} {
			_, err := f.conns.VerifyAPIKey(t.Context(), paramValues(c, "ChoreoAPIKey")[env])
			require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		}
		require.Equal(t, 6, countRows(t, f.store, `SELECT COUNT(*) FROM api_keys`))
	})
}

func TestConnectionService_Names(t *testing.T) {
	f := newConnFixture(t)
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	other := f.mustCreateService(t, f.admin, databaseService("orders-db"))

	steps := []struct {
		name               string
		project, component string
		connName           string
		service            string
		wantCode           string
	}{
		{"OKProject", "shop", "", "Twilio", tp.ID, ""},
		{"ErrSameProject", "shop", "", "Twilio", tp.ID, junction.ECONFLICT},
		{"ErrSameProjectOtherService", "shop", "", "Twilio", other.ID, junction.ECONFLICT},
		{"ErrSameProjectOtherCase", "shop", "", "twilio", tp.ID, junction.ECONFLICT},
		{"ErrSameProjectPadded", "shop", "", "  Twilio ", tp.ID, junction.ECONFLICT},
		{"OKComponentOfSameProject", "shop", "orders", "Twilio", tp.ID, ""},
		{"OKOtherComponent", "shop", "inventory", "Twilio", tp.ID, ""},
		{"ErrSameComponent", "shop", "orders", "Twilio", other.ID, junction.ECONFLICT},
		{"OKOtherProject", "billing", "", "Twilio", tp.ID, ""},
		{"OKOtherProjectComponent", "billing", "payments", "Twilio", tp.ID, ""},
		{"ErrOtherProjectComponentAgain", "billing", "payments", "TWILIO", tp.ID, junction.ECONFLICT},
		{"OKOtherName", "shop", "", "Twilio 2", tp.ID, ""},
	}
	ids := map[string]bool{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := credentialRows(t, f.store)
			c := &junction.Connection{Name: st.connName, Project: st.project, Component: st.component, Service: junction.ServiceRef{ID: st.service}}
			err := f.conns.CreateConnection(ContextAs(t, f.both), c)
			require.Equal(t, st.wantCode, junction.ErrorCode(err), "%v", err)
			if st.wantCode != "" {
				require.Contains(t, junction.ErrorFields(err), "name")
				require.Equal(t, before, credentialRows(t, f.store))
				return
			}
			require.Regexp(t, connIDPattern, c.ID)
			require.False(t, ids[c.ID])
			ids[c.ID] = true
			require.Equal(t, strings.TrimSpace(st.connName), c.Name)
			require.Equal(t, st.project, c.Project)
			require.Equal(t, st.component, c.Component)
			wantScope := junction.ScopeProject
			if st.component != "" {
				wantScope = junction.ScopeComponent
			}
			require.Equal(t, wantScope, c.Scope)
			require.Equal(t, junction.ServiceRef{ID: tp.ID, Name: "Twilio", Kind: junction.KindThirdParty, Version: "v1"}, c.Service)
			require.False(t, c.CreatedAt.IsZero())

			got, err := f.conns.FindConnection(ContextAs(t, f.both), c.ID, false)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			require.Equal(t, c.Name, got.Name)
			require.Equal(t, c.Scope, got.Scope)
			require.True(t, c.CreatedAt.Equal(got.CreatedAt))
		})
	}

	t.Run("ErrUpdateToTakenName", func(t *testing.T) {
		list, err := f.conns.FindConnections(ContextAs(t, f.both), junction.ConnectionFilter{Project: "shop"})
		require.NoError(t, err)
		require.Len(t, list, 2)
		var second *junction.Connection
		for _, c := range list {
			if c.Name == "Twilio 2" {
				second = c
			}
		}
		require.NotNil(t, second)
		name := "TWILIO"
		_, err = f.conns.UpdateConnection(ContextAs(t, f.both), second.ID, junction.ConnectionUpdate{Name: &name})
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "name")
	})
}

func TestConnectionService_UpdateConnection(t *testing.T) {
	f := newConnFixture(t)
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	c := f.connect(t, f.developer, "shop", "orders", tp.ID, "sms")
	str := func(s string) *string { return &s }
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	f.store.Now = func() time.Time { return later }

	tests := []struct {
		name      string
		upd       junction.ConnectionUpdate
		wantName  string
		wantDescr string
		field     string
	}{
		{"Name", junction.ConnectionUpdate{Name: str("  Text messages ")}, "Text messages", "", ""},
		{"Description", junction.ConnectionUpdate{Description: str("For receipts.")}, "Text messages", "For receipts.", ""},
		{"Nothing", junction.ConnectionUpdate{}, "Text messages", "For receipts.", ""},
		{"ErrEmptyName", junction.ConnectionUpdate{Name: str(" ")}, "", "", "name"},
		{"ErrLongDescription", junction.ConnectionUpdate{Description: str(strings.Repeat("d", 1001))}, "", "", "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.conns.UpdateConnection(ContextAs(t, f.developer), c.ID, tt.upd)
			if tt.field != "" {
				require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
				require.Contains(t, junction.ErrorFields(err), tt.field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantName, got.Name)
			require.Equal(t, tt.wantDescr, got.Description)
			require.Equal(t, later, got.UpdatedAt)
			require.Equal(t, c.ID, got.ID)
			found, err := f.conns.FindConnection(ContextAs(t, f.viewer), c.ID, false)
			require.NoError(t, err)
			require.Equal(t, tt.wantName, found.Name)
			require.Equal(t, tt.wantDescr, found.Description)
			require.Equal(t, later, found.UpdatedAt.UTC())
		})
	}
}

func TestConnectionService_Visibility(t *testing.T) {
	f := newConnFixture(t)
	shopProject := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Project API", junction.VisibilityProject))
	org := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Organization API", junction.VisibilityOrganization))
	public := f.mustCreateService(t, f.developer, internalService("shop", "orders", "Public API", junction.VisibilityPublic))
	unlisted := f.mustCreateService(t, f.developer, internalService("shop", "orders", "Old API", junction.VisibilityOrganization))
	require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.developer), unlisted.ID, false))
	billingProject := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Ledger API", junction.VisibilityProject))
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	unlistedTP := f.mustCreateService(t, f.admin, thirdPartyService("Old Twilio"))
	require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.admin), unlistedTP.ID, false))
	dbs := f.mustCreateService(t, f.admin, databaseService("orders-db"))

	tests := []struct {
		name               string
		user               func() *junction.User
		project, component string
		service            string
		wantCode           string
	}{
		{"OKOwnProjectVisibility", func() *junction.User { return f.developer }, "shop", "", shopProject.ID, ""},
		{"OKOwnProjectVisibilityComponent", func() *junction.User { return f.developer }, "shop", "orders", shopProject.ID, ""},
		{"OKOwnProjectVisibilityPublisher", func() *junction.User { return f.developer }, "shop", "inventory", shopProject.ID, ""},
		{"OKOrganizationFromOtherProject", func() *junction.User { return f.otherDev }, "billing", "", org.ID, ""},
		{"OKPublicFromOtherProjectComponent", func() *junction.User { return f.otherDev }, "billing", "payments", public.ID, ""},
		{"OKThirdPartyFromOtherProject", func() *junction.User { return f.otherDev }, "billing", "", tp.ID, ""},
		{"OKDatabaseFromComponent", func() *junction.User { return f.otherDev }, "billing", "payments", dbs.ID, ""},
		{"OKAdminNotMember", func() *junction.User { return f.admin }, "billing", "", org.ID, ""},
		{"ErrProjectVisibilityFromOtherProject", func() *junction.User { return f.both }, "billing", "", shopProject.ID, junction.EINVALID},
		{"ErrProjectVisibilityFromOtherProjectComponent", func() *junction.User { return f.both }, "billing", "payments", shopProject.ID, junction.EINVALID},
		{"ErrProjectVisibilityReverse", func() *junction.User { return f.both }, "shop", "orders", billingProject.ID, junction.EINVALID},
		{"ErrProjectVisibilityAdmin", func() *junction.User { return f.admin }, "billing", "", shopProject.ID, junction.EINVALID},
		{"ErrUnlisted", func() *junction.User { return f.developer }, "shop", "", unlisted.ID, junction.EINVALID},
		{"ErrUnlistedFromOtherProject", func() *junction.User { return f.otherDev }, "billing", "payments", unlisted.ID, junction.EINVALID},
		{"ErrUnlistedThirdParty", func() *junction.User { return f.developer }, "shop", "orders", unlistedTP.ID, junction.EINVALID},
		{"ErrHiddenService", func() *junction.User { return f.otherDev }, "billing", "", shopProject.ID, junction.ENOTFOUND},
		{"ErrHiddenServiceFromComponent", func() *junction.User { return f.developer }, "shop", "orders", billingProject.ID, junction.ENOTFOUND},
		{"ErrViewer", func() *junction.User { return f.viewer }, "shop", "", org.ID, junction.EFORBIDDEN},
		{"ErrViewerComponent", func() *junction.User { return f.viewer }, "shop", "orders", tp.ID, junction.EFORBIDDEN},
		{"ErrNonMember", func() *junction.User { return f.outsider }, "shop", "", org.ID, junction.ENOTFOUND},
		{"ErrNonMemberComponent", func() *junction.User { return f.outsider }, "shop", "orders", tp.ID, junction.ENOTFOUND},
		{"ErrOtherProjectDeveloper", func() *junction.User { return f.otherDev }, "shop", "", tp.ID, junction.ENOTFOUND},
		{"ErrUnknownProject", func() *junction.User { return f.admin }, "nope", "", tp.ID, junction.ENOTFOUND},
		{"ErrUnknownComponent", func() *junction.User { return f.developer }, "shop", "nope", tp.ID, junction.ENOTFOUND},
		{"ErrComponentOfOtherProject", func() *junction.User { return f.both }, "shop", "payments", tp.ID, junction.ENOTFOUND},
		{"ErrUnknownService", func() *junction.User { return f.developer }, "shop", "", "svc_nope", junction.ENOTFOUND},
		{"ErrAnonymous", func() *junction.User { return nil }, "shop", "", tp.ID, junction.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := credentialRows(t, f.store)
			c := &junction.Connection{Name: tt.name, Project: tt.project, Component: tt.component, Service: junction.ServiceRef{ID: tt.service}}
			err := f.conns.CreateConnection(ContextAs(t, tt.user()), c)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				require.NotEmpty(t, junction.ErrorMessage(err))
				require.Equal(t, before, credentialRows(t, f.store), "a refused create leaves nothing behind")
				return
			}
			require.Equal(t, before["connections"]+1, credentialRows(t, f.store)["connections"])
			require.Equal(t, tt.service, c.Service.ID)
		})
	}
}

func TestConnectionService_Access(t *testing.T) {
	f := newConnFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))

	ops := map[string]func(t *testing.T, user *junction.User, id string) error{
		"Find": func(t *testing.T, user *junction.User, id string) error {
			_, err := f.conns.FindConnection(ContextAs(t, user), id, false)
			return err
		},
		"Reveal": func(t *testing.T, user *junction.User, id string) error {
			_, err := f.conns.FindConnection(ContextAs(t, user), id, true)
			return err
		},
		"List": func(t *testing.T, user *junction.User, _ string) error {
			_, err := f.conns.FindConnections(ContextAs(t, user), junction.ConnectionFilter{Project: "shop"})
			return err
		},
		"ListComponent": func(t *testing.T, user *junction.User, _ string) error {
			_, err := f.conns.FindConnections(ContextAs(t, user), junction.ConnectionFilter{Project: "shop", Component: "orders", WithProjectConnections: true})
			return err
		},
		"Update": func(t *testing.T, user *junction.User, id string) error {
			d := "changed"
			_, err := f.conns.UpdateConnection(ContextAs(t, user), id, junction.ConnectionUpdate{Description: &d})
			return err
		},
		"Delete": func(t *testing.T, user *junction.User, id string) error {
			return f.conns.DeleteConnection(ContextAs(t, user), id, false)
		},
		"SharedWith": func(t *testing.T, user *junction.User, id string) error {
			_, err := f.conns.SharedWith(ContextAs(t, user), id)
			return err
		},
		"Rotate": func(t *testing.T, user *junction.User, id string) error {
			_, err := f.conns.Rotate(ContextAs(t, user), id, "development")
			return err
		},
	}
	// want gives the error code per operation; missing operations succeed.
	tests := []struct {
		name string
		user func() *junction.User
		want map[string]string
	}{
		{"Developer", func() *junction.User { return f.developer }, nil},
		{"Admin", func() *junction.User { return f.admin }, nil},
		{"Viewer", func() *junction.User { return f.viewer }, map[string]string{
			"Reveal": junction.EFORBIDDEN, "Update": junction.EFORBIDDEN, "Delete": junction.EFORBIDDEN, "Rotate": junction.EFORBIDDEN}},
		{"NonMember", func() *junction.User { return f.outsider }, allCodes(ops, junction.ENOTFOUND)},
		{"OtherProjectDeveloper", func() *junction.User { return f.otherDev }, allCodes(ops, junction.ENOTFOUND)},
		{"Anonymous", func() *junction.User { return nil }, allCodes(ops, junction.EUNAUTHORIZED)},
	}
	for _, tt := range tests {
		for _, opName := range slices.Sorted(maps.Keys(ops)) {
			t.Run(tt.name+"/"+opName, func(t *testing.T) {
				c := f.connect(t, f.developer, "shop", "orders", svc.ID, "c-"+tt.name+"-"+opName)
				before := countRows(t, f.store, `SELECT COUNT(*) FROM connections`)
				err := ops[opName](t, tt.user(), c.ID)
				require.Equal(t, tt.want[opName], junction.ErrorCode(err), "%v", err)
				if opName == "Delete" && err == nil {
					require.Equal(t, before-1, countRows(t, f.store, `SELECT COUNT(*) FROM connections`))
				} else {
					require.Equal(t, before, countRows(t, f.store, `SELECT COUNT(*) FROM connections`))
				}
				if opName == "Update" && err != nil {
					got, err := f.conns.FindConnection(ContextAs(t, f.developer), c.ID, false)
					require.NoError(t, err)
					require.Empty(t, got.Description)
				}
			})
		}
	}

	t.Run("UnknownID", func(t *testing.T) {
		for opName, op := range ops {
			if opName == "List" || opName == "ListComponent" {
				continue
			}
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(op(t, f.admin, "conn_aaaaaaaaaaaaaaaaaaaaaaaaaa")), opName)
		}
	})
}

func allCodes[V any](ops map[string]V, code string) map[string]string {
	out := map[string]string{}
	for k := range ops {
		out[k] = code
	}
	return out
}

func TestConnectionService_Secrets(t *testing.T) {
	f := newConnFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	created := f.connect(t, f.developer, "shop", "orders", svc.ID, "stock")
	require.False(t, created.Revealed)
	require.Equal(t, map[string]string{"development": junction.Masked, "production": junction.Masked}, paramValues(created, "ConsumerSecret"),
		"CreateConnection answers masked")
	require.Regexp(t, `^\S+$`, paramValues(created, "ConsumerKey")["development"])
	require.NotEqual(t, junction.Masked, paramValues(created, "ConsumerKey")["development"], "the client ID is not secret")

	reveals := func(user *junction.User) int {
		return countRows(t, f.store, `SELECT COUNT(*) FROM audit_log WHERE action = 'secret.reveal' AND target_id = ? AND actor = ?`, created.ID, user.Email)
	}
	tests := []struct {
		name     string
		user     func() *junction.User
		reveal   bool
		wantCode string
		clear    bool
	}{
		{"DeveloperMasked", func() *junction.User { return f.developer }, false, "", false},
		{"DeveloperReveal", func() *junction.User { return f.developer }, true, "", true},
		{"AdminMasked", func() *junction.User { return f.admin }, false, "", false},
		{"AdminReveal", func() *junction.User { return f.admin }, true, "", true},
		{"ViewerMasked", func() *junction.User { return f.viewer }, false, "", false},
		{"ViewerReveal", func() *junction.User { return f.viewer }, true, junction.EFORBIDDEN, false},
		{"OutsiderReveal", func() *junction.User { return f.outsider }, true, junction.ENOTFOUND, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := tt.user()
			before := reveals(user)
			allBefore := countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`)
			got, err := f.conns.FindConnection(ContextAs(t, user), created.ID, tt.reveal)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				require.Nil(t, got, "no connection with an error")
				require.Equal(t, allBefore, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), "a refused reveal is not a reveal")
				return
			}
			require.Equal(t, tt.clear, got.Revealed)
			require.Equal(t, paramValues(created, "ConsumerKey"), paramValues(got, "ConsumerKey"))
			require.Equal(t, paramValues(created, "ServiceURL"), paramValues(got, "ServiceURL"))
			for env, v := range paramValues(got, "ConsumerSecret") {
				if tt.clear {
					require.True(t, strings.HasPrefix(v, "jcs_"), "%s: %q", env, v)
				} else {
					require.Equal(t, "********", v, env)
				}
			}
			raw, err := json.Marshal(got)
			require.NoError(t, err)
			if !tt.clear {
				require.NotContains(t, string(raw), "jcs_")
				require.Equal(t, before, reveals(user), "reading without reveal is not audited")
			} else {
				require.Equal(t, before+1, reveals(user), "every reveal is audited")
			}
		})
	}

	t.Run("ListsAreMasked", func(t *testing.T) {
		for _, filter := range []junction.ConnectionFilter{
			{Project: "shop", Component: "orders"},
			{Project: "shop", Component: "orders", WithProjectConnections: true},
		} {
			list, err := f.conns.FindConnections(ContextAs(t, f.developer), filter)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.False(t, list[0].Revealed)
			require.Equal(t, map[string]string{"development": junction.Masked, "production": junction.Masked}, paramValues(list[0], "ConsumerSecret"))
		}
	})
}

func TestConnectionService_SecretsNotStoredInClear(t *testing.T) {
	const (
		tokenCanary    = "JUNCTION-CANARY-CONN-TOKEN-3f9d1b27"
		passwordCanary = "JUNCTION-CANARY-CONN-PASSWORD-c81e55a0"
	)
	store, path, _ := MustOpenDBWithKey(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	dev := MustCreateUser(t, store, "dev@example.com", false)
	MustCreateProject(t, store, admin, "shop", "Shop")
	MustSetMember(t, store, admin, "shop", dev.Email, junction.RoleDeveloper)
	MustCreateComponent(t, store, dev, "shop", "inventory")
	MustCreateComponent(t, store, dev, "shop", "orders")
	services := db.NewServiceService(store)
	conns := db.NewConnectionService(store, connTokenURL)
	ctx := ContextAs(t, dev)

	oauth := internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization)
	keyed := withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey)
	tp := thirdPartyService("Twilio")
	tp.Endpoints[0].Values["AuthToken"] = tokenCanary + "-sandbox"
	tp.Endpoints[1].Values["AuthToken"] = tokenCanary + "-live"
	dbs := databaseService("orders-db")
	dbs.Values["development"]["Password"] = passwordCanary + "-dev"
	dbs.Values["production"]["Password"] = passwordCanary + "-prod"
	for _, svc := range []*junction.Service{oauth, keyed, tp, dbs} {
		require.NoError(t, services.CreateService(ctx, svc))
	}

	var secrets, control []string
	for i, svc := range []*junction.Service{oauth, keyed, tp, dbs, oauth, keyed} {
		component := ""
		if i >= 4 {
			component = "orders"
		}
		c := &junction.Connection{Name: svc.Name, Project: "shop", Component: component, Service: junction.ServiceRef{ID: svc.ID}}
		require.NoError(t, conns.CreateConnection(ctx, c))
		got, err := conns.FindConnection(ctx, c.ID, true)
		require.NoError(t, err)
		for _, p := range got.Parameters {
			for _, v := range p.Values {
				require.NotEqual(t, junction.Masked, v)
				if p.Secret {
					secrets = append(secrets, v)
				} else if p.Name == "ConsumerKey" {
					control = append(control, v)
				}
			}
		}
	}
	require.Len(t, secrets, 12, "ConsumerSecret, ChoreoAPIKey, AuthToken, Password in two environments, twice for OAuth and API keys")
	require.Contains(t, secrets, tokenCanary+"-live")
	require.Contains(t, secrets, passwordCanary+"-dev")
	require.Len(t, control, 4)

	all := storedBytes(t, store, path)
	for _, v := range control {
		require.True(t, bytes.Contains(all, []byte(v)), "control: the client ID %s is stored in clear and must be found", v)
	}
	for _, v := range secrets {
		require.False(t, bytes.Contains(all, []byte(v)), "secret %q is in the raw database file", v)
	}
	require.False(t, bytes.Contains(all, []byte("JUNCTION-CANARY-CONN")))
}

func TestConnectionService_ThirdPartyAndDatabase(t *testing.T) {
	f := newConnFixture(t)
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	eu := thirdPartyService("Twilio EU")
	eu.Endpoints = append(eu.Endpoints, junction.Endpoint{Name: "eu", URL: "https://eu.example.com",
		Environments: []string{"development", "production"}, Values: map[string]string{"AccountSID": "AC-eu", "AuthToken": "tok-eu"}})
	f.mustCreateService(t, f.admin, eu)
	liveOnly := thirdPartyService("Twilio Live")
	liveOnly.Endpoints = liveOnly.Endpoints[1:]
	f.mustCreateService(t, f.admin, liveOnly)
	dbs := f.mustCreateService(t, f.admin, databaseService("orders-db"))
	devDB := databaseService("dev-db")
	delete(devDB.Values, "production")
	f.mustCreateService(t, f.admin, devDB)
	none := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Open API", junction.VisibilityOrganization), junction.SecurityNone))

	type V = map[string]string
	tests := []struct {
		name      string
		service   string
		endpoints map[string]string
		component string
		wantEnds  map[string]string
		want      map[string]V // revealed values by parameter
		wantField string
	}{
		{"ThirdPartyDefaults", tp.ID, nil, "", V{"development": "sandbox", "production": "live"}, map[string]V{
			"ServiceURL": {"development": "https://sandbox.example.com", "production": "https://api.example.com"},
			"AccountSID": {"development": "AC-sandbox", "production": "AC-live"},
			"AuthToken":  {"development": "tok-sandbox", "production": "tok-live"},
		}, ""},
		{"ThirdPartyDefaultsComponent", tp.ID, V{}, "orders", V{"development": "sandbox", "production": "live"}, map[string]V{
			"ServiceURL": {"development": "https://sandbox.example.com", "production": "https://api.example.com"},
			"AccountSID": {"development": "AC-sandbox", "production": "AC-live"},
			"AuthToken":  {"development": "tok-sandbox", "production": "tok-live"},
		}, ""},
		{"ThirdPartyChosen", eu.ID, V{"production": "eu"}, "", V{"development": "sandbox", "production": "eu"}, map[string]V{
			"ServiceURL": {"development": "https://sandbox.example.com", "production": "https://eu.example.com"},
			"AccountSID": {"development": "AC-sandbox", "production": "AC-eu"},
			"AuthToken":  {"development": "tok-sandbox", "production": "tok-eu"},
		}, ""},
		{"ThirdPartyChosenBoth", eu.ID, V{"development": "eu", "production": "eu"}, "orders", V{"development": "eu", "production": "eu"}, map[string]V{
			"ServiceURL": {"development": "https://eu.example.com", "production": "https://eu.example.com"},
			"AccountSID": {"development": "AC-eu", "production": "AC-eu"},
			"AuthToken":  {"development": "tok-eu", "production": "tok-eu"},
		}, ""},
		{"ThirdPartyUnservedEnvironment", liveOnly.ID, nil, "", V{"production": "live"}, map[string]V{
			"ServiceURL": {"production": "https://api.example.com"},
			"AccountSID": {"production": "AC-live"},
			"AuthToken":  {"production": "tok-live"},
		}, ""},
		{"ErrEndpointNotAllowed", eu.ID, V{"development": "live"}, "", nil, nil, "endpoints.development"},
		{"ErrEndpointUnknown", tp.ID, V{"production": "nope"}, "", nil, nil, "endpoints.production"},
		{"ErrEndpointForUnservedEnvironment", liveOnly.ID, V{"development": "live"}, "", nil, nil, "endpoints.development"},
		{"Database", dbs.ID, nil, "", nil, map[string]V{
			"HostName":     {"development": "localhost", "production": "db.example.com"},
			"Port":         {"development": "5432", "production": "5433"},
			"DatabaseName": {"development": "orders", "production": "orders"},
			"Username":     {"development": "app", "production": "app"},
			"Password":     {"development": "dev-pw", "production": "prod-pw"},
		}, ""},
		{"DatabaseUnservedEnvironment", devDB.ID, nil, "orders", nil, map[string]V{
			"HostName":     {"development": "localhost"},
			"Port":         {"development": "5432"},
			"DatabaseName": {"development": "orders"},
			"Username":     {"development": "app"},
			"Password":     {"development": "dev-pw"},
		}, ""},
		{"InternalNone", none.ID, nil, "", nil, map[string]V{
			"ServiceURL": {"development": "http://inventory.dev:8080", "production": "https://inventory.example.com"},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := credentialRows(t, f.store)
			c := &junction.Connection{Name: tt.name, Project: "shop", Component: tt.component, Service: junction.ServiceRef{ID: tt.service}, Endpoints: tt.endpoints}
			err := f.conns.CreateConnection(ContextAs(t, f.developer), c)
			if tt.wantField != "" {
				require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%v", err)
				require.Contains(t, junction.ErrorFields(err), tt.wantField)
				require.Equal(t, before, credentialRows(t, f.store))
				return
			}
			require.NoError(t, err, "%v", junction.ErrorFields(err))
			if tt.wantEnds == nil {
				require.Empty(t, c.Endpoints)
			} else {
				require.Equal(t, tt.wantEnds, c.Endpoints)
			}
			got := f.reveal(t, c.ID)
			require.Len(t, got.Parameters, len(tt.want))
			for name, want := range tt.want {
				require.Equal(t, want, paramValues(got, name), name)
			}
			if tt.wantEnds != nil {
				require.Equal(t, tt.wantEnds, got.Endpoints, "the choice is stored")
			}
			masked, err := f.conns.FindConnection(ContextAs(t, f.viewer), c.ID, false)
			require.NoError(t, err)
			for _, p := range masked.Parameters {
				for env, v := range p.Values {
					if p.Secret {
						require.Equal(t, junction.Masked, v, "%s %s", p.Name, env)
					} else {
						require.Equal(t, tt.want[p.Name][env], v, "%s %s", p.Name, env)
					}
				}
			}
			require.Equal(t, before["oauth_apps"], credentialRows(t, f.store)["oauth_apps"])
			require.Equal(t, before["api_keys"], credentialRows(t, f.store)["api_keys"])
		})
	}
}

func TestConnectionService_Rotate(t *testing.T) {
	f := newConnFixture(t)
	stock := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	pricing := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Pricing API", junction.VisibilityOrganization))
	devOnly := internalService("shop", "inventory", "Dev API", junction.VisibilityOrganization)
	devOnly.URLs = map[string]string{"development": "http://dev-only:8080"}
	f.mustCreateService(t, f.developer, devOnly)
	none := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Open API", junction.VisibilityOrganization), junction.SecurityNone))
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))

	a := f.connect(t, f.developer, "shop", "", stock.ID, "conn-a")
	b := f.connect(t, f.developer, "shop", "", pricing.ID, "conn-b")
	comp := f.connect(t, f.developer, "shop", "orders", stock.ID, "comp")
	billing := f.connect(t, f.otherDev, "billing", "", stock.ID, "billing")
	dev := f.connect(t, f.developer, "shop", "inventory", devOnly.ID, "dev")
	noneConn := f.connect(t, f.developer, "shop", "", none.ID, "none")
	tpConn := f.connect(t, f.developer, "shop", "", tp.ID, "tp-conn")

	beforeA, beforeB, beforeComp, beforeBilling := f.reveal(t, a.ID), f.reveal(t, b.ID), f.reveal(t, comp.ID), f.reveal(t, billing.ID)

	shared, err := f.conns.SharedWith(ContextAs(t, f.viewer), b.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{a.ID, b.ID}, connIDs(shared), "the blast radius is the project's OAuth connections")
	shared, err = f.conns.SharedWith(ContextAs(t, f.developer), comp.ID)
	require.NoError(t, err)
	require.Equal(t, []string{comp.ID}, connIDs(shared))

	shared, err = f.conns.Rotate(ContextAs(t, f.developer), a.ID, "development")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{a.ID, b.ID}, connIDs(shared))

	afterA, afterB := f.reveal(t, a.ID), f.reveal(t, b.ID)
	oldSecret := paramValues(beforeA, "ConsumerSecret")["development"]
	newSecret := paramValues(afterA, "ConsumerSecret")["development"]
	require.NotEqual(t, oldSecret, newSecret)
	require.Equal(t, newSecret, paramValues(afterB, "ConsumerSecret")["development"], "every connection of the app sees the new secret")
	require.Equal(t, paramValues(beforeA, "ConsumerSecret")["production"], paramValues(afterA, "ConsumerSecret")["production"], "other environment unchanged")
	require.Equal(t, paramValues(beforeB, "ConsumerSecret")["production"], paramValues(afterB, "ConsumerSecret")["production"])
	require.Equal(t, paramValues(beforeA, "ConsumerKey"), paramValues(afterA, "ConsumerKey"), "the client ID stays")
	require.Equal(t, paramValues(beforeComp, "ConsumerSecret"), paramValues(f.reveal(t, comp.ID), "ConsumerSecret"), "the component's app is another app")
	require.Equal(t, paramValues(beforeBilling, "ConsumerSecret"), paramValues(f.reveal(t, billing.ID), "ConsumerSecret"))

	clientID := paramValues(afterA, "ConsumerKey")["development"]
	_, err = f.conns.IssueToken(t.Context(), clientID, oldSecret, []string{stock.ID})
	require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "the old secret stops working")
	tok, err := f.conns.IssueToken(t.Context(), clientID, newSecret, []string{stock.ID})
	require.NoError(t, err)
	require.NotEmpty(t, tok.Token)
	_, err = f.conns.IssueToken(t.Context(), paramValues(afterA, "ConsumerKey")["production"], paramValues(afterA, "ConsumerSecret")["production"], []string{stock.ID})
	require.NoError(t, err, "production's secret still works")
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log WHERE action = 'connection.rotate' AND actor = ?`, f.developer.Email))

	tests := []struct {
		name     string
		user     *junction.User
		id, env  string
		wantCode string
	}{
		{"OKAdmin", f.admin, b.ID, "production", ""},
		{"OKComponent", f.developer, comp.ID, "production", ""},
		{"ErrEnvironmentWithoutSecret", f.developer, dev.ID, "production", junction.EINVALID},
		{"ErrUnknownEnvironment", f.developer, a.ID, "staging", junction.EINVALID},
		{"ErrEmptyEnvironment", f.developer, a.ID, "", junction.EINVALID},
		{"ErrSecurityNone", f.developer, noneConn.ID, "development", junction.EINVALID},
		{"ErrThirdParty", f.developer, tpConn.ID, "development", junction.EINVALID},
		{"ErrViewer", f.viewer, a.ID, "development", junction.EFORBIDDEN},
		{"ErrOutsider", f.outsider, a.ID, "development", junction.ENOTFOUND},
		{"ErrOtherProject", f.otherDev, a.ID, "development", junction.ENOTFOUND},
		{"ErrUnknown", f.admin, "conn_nope", "development", junction.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *junction.Connection
			if tt.id != "conn_nope" {
				before = f.reveal(t, tt.id)
			}
			_, err := f.conns.Rotate(ContextAs(t, tt.user), tt.id, tt.env)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if before == nil {
				return
			}
			after := f.reveal(t, tt.id)
			if tt.wantCode != "" {
				require.Equal(t, before.Parameters, after.Parameters, "a refused rotation changes nothing")
				return
			}
			require.NotEqual(t, paramValues(before, "ConsumerSecret")[tt.env], paramValues(after, "ConsumerSecret")[tt.env])
		})
	}

	t.Run("SharedWithNothingToRotate", func(t *testing.T) {
		for _, id := range []string{noneConn.ID, tpConn.ID} {
			_, err := f.conns.SharedWith(ContextAs(t, f.developer), id)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		}
	})
}

// jwtClaims are the claims of an access token.
type jwtClaims struct {
	Iss         string   `json:"iss"`
	Sub         string   `json:"sub"`
	ClientID    string   `json:"client_id"`
	Aud         []string `json:"aud"`
	Iat         int64    `json:"iat"`
	Nbf         int64    `json:"nbf"`
	Exp         int64    `json:"exp"`
	Jti         string   `json:"jti"`
	Environment string   `json:"environment"`
}

// verifyJWT checks an ES256 token against a JWKS document like a provider would, and
// returns the key ID and the claims.
func verifyJWT(t *testing.T, jwks []byte, token string) (string, *jwtClaims, error) {
	t.Helper()
	var set struct {
		Keys []struct {
			Kty, Crv, Use, Alg, Kid, X, Y string
		} `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(jwks, &set))
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	b64 := base64.RawURLEncoding
	rawHeader, err := b64.DecodeString(parts[0])
	require.NoError(t, err)
	var header struct{ Alg, Typ, Kid string }
	require.NoError(t, json.Unmarshal(rawHeader, &header))
	require.Equal(t, "ES256", header.Alg)
	require.Equal(t, "JWT", header.Typ)

	var pub *ecdsa.PublicKey
	for _, k := range set.Keys {
		if k.Kid != header.Kid {
			continue
		}
		require.Equal(t, "EC", k.Kty)
		require.Equal(t, "P-256", k.Crv)
		require.Equal(t, "ES256", k.Alg)
		require.Equal(t, "sig", k.Use)
		x, err := b64.DecodeString(k.X)
		require.NoError(t, err)
		y, err := b64.DecodeString(k.Y)
		require.NoError(t, err)
		require.Len(t, x, 32)
		require.Len(t, y, 32)
		pub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		require.NoError(t, err)
	}
	require.NotNil(t, pub, "no key %q in the JWKS", header.Kid)

	sig, err := b64.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, sig, 64, "ES256 signatures are r||s")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return header.Kid, nil, errBadSignature
	}
	payload, err := b64.DecodeString(parts[1])
	require.NoError(t, err)
	var claims jwtClaims
	require.NoError(t, json.Unmarshal(payload, &claims))
	return header.Kid, &claims, nil
}

var errBadSignature = junction.Errorf(junction.EUNAUTHORIZED, "bad signature")

func TestConnectionService_IssueToken(t *testing.T) {
	store, path, key := MustOpenDBWithKey(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	MustCreateProject(t, store, admin, "shop", "Shop")
	MustCreateComponent(t, store, admin, "shop", "inventory")
	MustCreateComponent(t, store, admin, "shop", "orders")
	services := db.NewServiceService(store)
	conns := db.NewConnectionService(store, connTokenURL)
	ctx := ContextAs(t, admin)
	now := time.Now().UTC().Truncate(time.Second)
	store.Now = func() time.Time { return now }

	stock := internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization)
	pricing := internalService("shop", "inventory", "Pricing API", junction.VisibilityOrganization)
	pricing.URLs["development"] = "http://pricing.dev:8080"
	other := internalService("shop", "orders", "Other API", junction.VisibilityOrganization)
	for _, svc := range []*junction.Service{stock, pricing, other} {
		require.NoError(t, services.CreateService(ctx, svc))
	}
	var projectConn, compConn *junction.Connection
	for _, c := range []struct {
		component, svc string
		out            **junction.Connection
	}{{"", stock.ID, &projectConn}, {"", pricing.ID, nil}, {"orders", other.ID, &compConn}} {
		conn := &junction.Connection{Name: c.svc, Project: "shop", Component: c.component, Service: junction.ServiceRef{ID: c.svc}}
		require.NoError(t, conns.CreateConnection(ctx, conn))
		if c.out != nil {
			*c.out = conn
		}
	}
	projectConn, err := conns.FindConnection(ctx, projectConn.ID, true)
	require.NoError(t, err)
	compConn, err = conns.FindConnection(ctx, compConn.ID, true)
	require.NoError(t, err)
	clientID, secret := paramValues(projectConn, "ConsumerKey")["development"], paramValues(projectConn, "ConsumerSecret")["development"]
	prodID, prodSecret := paramValues(projectConn, "ConsumerKey")["production"], paramValues(projectConn, "ConsumerSecret")["production"]
	compID, compSecret := paramValues(compConn, "ConsumerKey")["development"], paramValues(compConn, "ConsumerSecret")["development"]
	require.Equal(t, connTokenURL, paramValues(projectConn, "TokenURL")["development"])

	jwks, err := conns.JWKS(t.Context())
	require.NoError(t, err)
	projectAud := []string{stock.ID, pricing.ID}
	slices.Sort(projectAud)

	tests := []struct {
		name             string
		clientID, secret string
		targets          []string
		wantCode         string
		wantAud          []string
		wantEnv          string
	}{
		// The project's application connects to two services: without a target the token
		// is valid for both, as in Choreo; a target narrows it to one.
		{"ProjectAppEveryService", clientID, secret, nil, "", projectAud, "development"},
		{"ProjectApp", clientID, secret, []string{stock.ID}, "", []string{stock.ID}, "development"},
		{"ProjectAppProduction", prodID, prodSecret, []string{stock.ID}, "", []string{stock.ID}, "production"},
		{"Audience", clientID, secret, []string{pricing.ID}, "", []string{pricing.ID}, "development"},
		{"ResourceByServiceURL", clientID, secret, []string{"http://pricing.dev:8080"}, "", []string{pricing.ID}, "development"},
		{"ResourceByServiceURLTrailingSlash", clientID, secret, []string{"http://pricing.dev:8080/"}, "", []string{pricing.ID}, "development"},
		// Both services are published at one URL in production: the URL names both.
		{"ResourceURLOfTwoServices", prodID, prodSecret, []string{"https://inventory.example.com"}, "", projectAud, "production"},
		{"TwoTargets", clientID, secret, []string{pricing.ID, stock.ID}, "", projectAud, "development"},
		{"ComponentApp", compID, compSecret, nil, "", []string{other.ID}, "development"},
		{"ErrOtherEnvironmentURL", clientID, secret, []string{"https://inventory.example.com"}, junction.EINVALID, nil, ""},
		{"ErrUnknownAudience", clientID, secret, []string{other.ID}, junction.EINVALID, nil, ""},
		{"ErrOneTargetUnknown", clientID, secret, []string{stock.ID, other.ID}, junction.EINVALID, nil, ""},
		{"ErrAudienceNotAService", clientID, secret, []string{"svc_nope"}, junction.EINVALID, nil, ""},
		{"ErrWrongSecret", clientID, secret + "x", nil, junction.EUNAUTHORIZED, nil, ""},
		{"ErrOtherEnvironmentSecret", clientID, prodSecret, nil, junction.EUNAUTHORIZED, nil, ""},
		{"ErrOtherAppSecret", clientID, compSecret, nil, junction.EUNAUTHORIZED, nil, ""},
		{"ErrEmptySecret", clientID, "", nil, junction.EUNAUTHORIZED, nil, ""},
		{"ErrUnknownClient", "jci_nope", secret, nil, junction.EUNAUTHORIZED, nil, ""},
		{"ErrEmptyClient", "", "", nil, junction.EUNAUTHORIZED, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := conns.IssueToken(t.Context(), tt.clientID, tt.secret, tt.targets)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				require.Nil(t, tok)
				return
			}
			require.Equal(t, int(db.AccessTokenLifetime.Seconds()), tok.ExpiresIn)
			_, claims, err := verifyJWT(t, jwks, tok.Token)
			require.NoError(t, err)
			require.Equal(t, tt.wantAud, claims.Aud)
			require.Equal(t, tt.clientID, claims.Sub)
			require.Equal(t, tt.clientID, claims.ClientID)
			require.Equal(t, tt.wantEnv, claims.Environment)
			require.Equal(t, "http://127.0.0.1:8080", claims.Iss)
			require.Equal(t, now.Unix(), claims.Iat)
			require.Equal(t, now.Unix(), claims.Nbf)
			require.Equal(t, now.Add(15*time.Minute).Unix(), claims.Exp)
			require.NotEmpty(t, claims.Jti)
		})
	}

	t.Run("TamperedTokenFails", func(t *testing.T) {
		tok, err := conns.IssueToken(t.Context(), clientID, secret, []string{stock.ID})
		require.NoError(t, err)
		parts := strings.Split(tok.Token, ".")
		claims := []byte(`{"sub":"` + clientID + `","aud":["` + other.ID + `"]}`)
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
		_, _, err = verifyJWT(t, jwks, forged)
		require.ErrorIs(t, err, errBadSignature)
	})

	t.Run("DistinctTokens", func(t *testing.T) {
		a, err := conns.IssueToken(t.Context(), clientID, secret, []string{stock.ID})
		require.NoError(t, err)
		b, err := conns.IssueToken(t.Context(), clientID, secret, []string{stock.ID})
		require.NoError(t, err)
		require.NotEqual(t, a.Token, b.Token)
	})

	t.Run("KeySurvivesReopen", func(t *testing.T) {
		tok, err := conns.IssueToken(t.Context(), clientID, secret, []string{stock.ID})
		require.NoError(t, err)
		kid, _, err := verifyJWT(t, jwks, tok.Token)
		require.NoError(t, err)
		require.NoError(t, store.Close())

		reopened := MustReopenDB(t, path, key)
		conns2 := db.NewConnectionService(reopened, connTokenURL)
		jwks2, err := conns2.JWKS(t.Context())
		require.NoError(t, err)
		require.JSONEq(t, string(jwks), string(jwks2), "same public key set after reopening")
		kid2, _, err := verifyJWT(t, jwks2, tok.Token)
		require.NoError(t, err, "a token issued before reopening still verifies")
		require.Equal(t, kid, kid2)
		tok2, err := conns2.IssueToken(t.Context(), clientID, secret, []string{pricing.ID})
		require.NoError(t, err)
		kid3, claims, err := verifyJWT(t, jwks, tok2.Token)
		require.NoError(t, err)
		require.Equal(t, kid, kid3)
		require.Equal(t, []string{pricing.ID}, claims.Aud)
		require.Len(t, projectAud, 2)
	})
}

func TestConnectionService_FindConnections(t *testing.T) {
	f := newConnFixture(t)
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	p1 := f.connect(t, f.developer, "shop", "", tp.ID, "Beta")
	p2 := f.connect(t, f.developer, "shop", "", tp.ID, "alpha")
	o1 := f.connect(t, f.developer, "shop", "orders", tp.ID, "orders-sms")
	o2 := f.connect(t, f.developer, "shop", "orders", tp.ID, "Alpha")
	i1 := f.connect(t, f.developer, "shop", "inventory", tp.ID, "inv-sms")
	b1 := f.connect(t, f.otherDev, "billing", "", tp.ID, "billing-sms")
	b2 := f.connect(t, f.otherDev, "billing", "payments", tp.ID, "payments-sms")

	tests := []struct {
		name     string
		user     *junction.User
		filter   junction.ConnectionFilter
		want     []string
		wantCode string
	}{
		{"Project", f.developer, junction.ConnectionFilter{Project: "shop"}, []string{p2.ID, p1.ID}, ""},
		{"ProjectViewer", f.viewer, junction.ConnectionFilter{Project: "shop"}, []string{p2.ID, p1.ID}, ""},
		{"ProjectIgnoresWithProjectConnections", f.developer, junction.ConnectionFilter{Project: "shop", WithProjectConnections: true}, []string{p2.ID, p1.ID}, ""},
		{"Component", f.developer, junction.ConnectionFilter{Project: "shop", Component: "orders"}, []string{o2.ID, o1.ID}, ""},
		{"ComponentWithProject", f.developer, junction.ConnectionFilter{Project: "shop", Component: "orders", WithProjectConnections: true},
			[]string{p2.ID, p1.ID, o2.ID, o1.ID}, ""},
		{"OtherComponentWithProject", f.admin, junction.ConnectionFilter{Project: "shop", Component: "inventory", WithProjectConnections: true},
			[]string{p2.ID, p1.ID, i1.ID}, ""},
		{"OtherProject", f.otherDev, junction.ConnectionFilter{Project: "billing"}, []string{b1.ID}, ""},
		{"ComponentOnly", f.otherDev, junction.ConnectionFilter{Project: "billing", Component: "payments"}, []string{b2.ID}, ""},
		{"ComponentWithProjectOtherProject", f.otherDev, junction.ConnectionFilter{Project: "billing", Component: "payments", WithProjectConnections: true}, []string{b1.ID, b2.ID}, ""},
		{"ErrNonMember", f.outsider, junction.ConnectionFilter{Project: "shop"}, nil, junction.ENOTFOUND},
		{"ErrOtherProjectDeveloper", f.otherDev, junction.ConnectionFilter{Project: "shop", Component: "orders"}, nil, junction.ENOTFOUND},
		{"ErrUnknownComponent", f.developer, junction.ConnectionFilter{Project: "shop", Component: "nope"}, nil, junction.ENOTFOUND},
		{"ErrComponentOfOtherProject", f.both, junction.ConnectionFilter{Project: "shop", Component: "payments"}, nil, junction.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := f.conns.FindConnections(ContextAs(t, tt.user), tt.filter)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				return
			}
			require.ElementsMatch(t, tt.want, connIDs(list))
			for _, c := range list {
				wantScope := junction.ScopeProject
				if c.Component != "" {
					wantScope = junction.ScopeComponent
					require.Equal(t, tt.filter.Component, c.Component)
				}
				require.Equal(t, wantScope, c.Scope)
				require.Equal(t, tt.filter.Project, c.Project)
				require.False(t, c.Revealed)
				require.Equal(t, junction.Masked, paramValues(c, "AuthToken")["development"])
			}
		})
	}
}

func TestConnectionService_FindConsumers(t *testing.T) {
	f := newConnFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	hidden := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Hidden API", junction.VisibilityProject))
	unused := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	shopP := f.connect(t, f.developer, "shop", "", svc.ID, "stock")
	shopC := f.connect(t, f.developer, "shop", "orders", svc.ID, "orders-stock")
	billP := f.connect(t, f.otherDev, "billing", "", svc.ID, "stock")
	billC := f.connect(t, f.otherDev, "billing", "payments", svc.ID, "payments-stock")
	f.connect(t, f.developer, "shop", "", hidden.ID, "hidden")

	consumer := func(c *junction.Connection) junction.Consumer {
		return junction.Consumer{ConnectionID: c.ID, Connection: c.Name, Scope: c.Scope, Project: c.Project, Component: c.Component}
	}
	tests := []struct {
		name     string
		user     *junction.User
		service  string
		want     []*junction.Connection
		wantCode string
	}{
		{"Admin", f.admin, svc.ID, []*junction.Connection{billP, billC, shopP, shopC}, ""},
		{"Both", f.both, svc.ID, []*junction.Connection{billP, billC, shopP, shopC}, ""},
		{"ShopDeveloper", f.developer, svc.ID, []*junction.Connection{shopP, shopC}, ""},
		{"ShopViewer", f.viewer, svc.ID, []*junction.Connection{shopP, shopC}, ""},
		{"BillingDeveloper", f.otherDev, svc.ID, []*junction.Connection{billP, billC}, ""},
		{"Outsider", f.outsider, svc.ID, nil, ""},
		{"Unused", f.admin, unused.ID, nil, ""},
		{"ErrHiddenService", f.otherDev, hidden.ID, nil, junction.ENOTFOUND},
		{"ErrUnknownService", f.admin, "svc_nope", nil, junction.ENOTFOUND},
		{"ErrAnonymous", nil, svc.ID, nil, junction.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := f.conns.FindConsumers(ContextAs(t, tt.user), tt.service)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			want := []junction.Consumer{}
			for _, c := range tt.want {
				want = append(want, consumer(c))
			}
			got := []junction.Consumer{}
			for _, c := range list {
				got = append(got, *c)
			}
			require.ElementsMatch(t, want, got)
		})
	}

	t.Run("MappedBy", func(t *testing.T) {
		maps := db.NewMappingService(f.store, f.conns)
		for _, m := range []struct {
			component string
			conn      *junction.Connection
			prefix    string
		}{{"orders", shopP, "A"}, {"inventory", shopP, "B"}, {"orders", shopC, "C"}} {
			names := map[string]string{}
			for _, p := range m.conn.Parameters {
				names[p.Name] = m.prefix + "_" + strings.ToUpper(p.Name)
			}
			_, err := maps.SetMappings(ContextAs(t, f.developer), "shop", m.component, m.conn.ID, names)
			require.NoError(t, err)
		}
		list, err := f.conns.FindConsumers(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		got := map[string][]string{}
		for _, c := range list {
			got[c.ConnectionID] = c.MappedBy
		}
		require.Equal(t, map[string][]string{shopP.ID: {"shop/inventory", "shop/orders"}, shopC.ID: {"shop/orders"}}, got)
	})
}

func TestConnectionService_Deletes(t *testing.T) {
	t.Run("UnpublishServiceWithConnections", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
		c := f.connect(t, f.otherDev, "billing", "payments", svc.ID, "stock")
		own := f.connect(t, f.developer, "shop", "", svc.ID, "stock")
		for _, user := range []*junction.User{f.developer, f.admin} {
			err := f.services.DeleteService(ContextAs(t, user), svc.ID)
			require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "%v", err)
		}
		require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.otherDev), c.ID, false))
		err := f.services.DeleteService(ContextAs(t, f.developer), svc.ID)
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "the project's own connection still uses it")
		require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.developer), own.ID, false))
		require.NoError(t, f.services.DeleteService(ContextAs(t, f.developer), svc.ID))
		require.Equal(t, 0, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))
	})

	t.Run("DeleteProjectUsedByOthers", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		outside := f.connect(t, f.otherDev, "billing", "", svc.ID, "stock")
		err := f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true)
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "%v", err)
		_, err = f.projects.FindProject(ContextAs(t, f.admin), "shop")
		require.NoError(t, err, "the project stays")
		require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.otherDev), outside.ID, false))
		require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))
	})

	t.Run("DeleteProjectCascades", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityPublic), junction.SecurityAPIKey))
		payments := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityPublic))
		tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
		// shop's own connections, project and component scope, to its own and others' services.
		gone := []*junction.Connection{
			f.connect(t, f.developer, "shop", "", svc.ID, "stock"),
			f.connect(t, f.developer, "shop", "orders", svc.ID, "stock"),
			f.connect(t, f.developer, "shop", "orders", keyed.ID, "keyed"),
			f.connect(t, f.both, "shop", "", payments.ID, "payments"),
			f.connect(t, f.developer, "shop", "inventory", tp.ID, "sms"),
		}
		keep := []*junction.Connection{
			f.connect(t, f.otherDev, "billing", "", payments.ID, "payments"),
			f.connect(t, f.otherDev, "billing", "payments", tp.ID, "sms"),
		}
		keepCreds := f.reveal(t, keep[0].ID)
		require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))

		require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))
		for _, c := range gone {
			_, err := f.conns.FindConnection(ContextAs(t, f.admin), c.ID, false)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		}
		require.Equal(t, map[string]int{"connections": 2, "oauth_apps": 1, "oauth_credentials": 2, "api_keys": 0}, credentialRows(t, f.store))
		for _, c := range keep {
			_, err := f.conns.FindConnection(ContextAs(t, f.admin), c.ID, false)
			require.NoError(t, err)
		}
		require.Equal(t, paramValues(keepCreds, "ConsumerSecret"), paramValues(f.reveal(t, keep[0].ID), "ConsumerSecret"))
		consumers, err := f.conns.FindConsumers(ContextAs(t, f.admin), payments.ID)
		require.NoError(t, err)
		require.Len(t, consumers, 1)
	})

	t.Run("DeleteComponentCascades", func(t *testing.T) {
		f := newConnFixture(t)
		payments := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityPublic))
		keyed := f.mustCreateService(t, f.otherDev, withSecurity(internalService("billing", "payments", "Keyed API", junction.VisibilityPublic), junction.SecurityAPIKey))
		project := f.connect(t, f.developer, "shop", "", payments.ID, "payments")
		gone := []*junction.Connection{
			f.connect(t, f.developer, "shop", "orders", payments.ID, "payments"),
			f.connect(t, f.developer, "shop", "orders", keyed.ID, "keyed"),
		}
		other := f.connect(t, f.developer, "shop", "inventory", payments.ID, "payments")
		require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))

		require.NoError(t, f.components.DeleteComponent(ContextAs(t, f.developer), "shop", "orders"))
		for _, c := range gone {
			_, err := f.conns.FindConnection(ContextAs(t, f.admin), c.ID, false)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		}
		for _, c := range []*junction.Connection{project, other} {
			_, err := f.conns.FindConnection(ContextAs(t, f.admin), c.ID, false)
			require.NoError(t, err)
		}
		require.Equal(t, map[string]int{"connections": 2, "oauth_apps": 2, "oauth_credentials": 4, "api_keys": 0}, credentialRows(t, f.store))
	})

	t.Run("DeleteComponentPublishingToProject", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityProject))
		c := f.connect(t, f.developer, "shop", "", svc.ID, "stock")
		err := f.components.DeleteComponent(ContextAs(t, f.developer), "shop", "inventory")
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "a project connection uses the component's endpoint")
		require.NoError(t, f.conns.DeleteConnection(ContextAs(t, f.developer), c.ID, false))
		require.NoError(t, f.components.DeleteComponent(ContextAs(t, f.developer), "shop", "inventory"))
	})
}

func TestConnectionService_CreateIsAtomic(t *testing.T) {
	f := newConnFixture(t)
	oauth := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	// Each scope has a connection named "taken" to a service without credentials, so that a
	// failing create first makes an OAuth application (none exists yet) or keys.
	f.connect(t, f.developer, "shop", "", tp.ID, "taken")
	f.connect(t, f.developer, "shop", "orders", tp.ID, "taken")
	require.Equal(t, 0, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`))

	tests := []struct {
		name               string
		project, component string
		connName           string
		service            string
		endpoints          map[string]string
		wantCode           string
	}{
		{"OAuthProjectDuplicateName", "shop", "", "taken", oauth.ID, nil, junction.ECONFLICT},
		{"OAuthComponentDuplicateName", "shop", "orders", "TAKEN", oauth.ID, nil, junction.ECONFLICT},
		{"APIKeyProjectDuplicateName", "shop", "", "taken", keyed.ID, nil, junction.ECONFLICT},
		{"APIKeyComponentDuplicateName", "shop", "orders", "taken", keyed.ID, nil, junction.ECONFLICT},
		{"OAuthEmptyName", "shop", "", "", oauth.ID, nil, junction.EINVALID},
		{"ThirdPartyBadEndpoint", "shop", "", "sms", tp.ID, map[string]string{"development": "live"}, junction.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := credentialRows(t, f.store)
			c := &junction.Connection{Name: tt.connName, Project: tt.project, Component: tt.component,
				Service: junction.ServiceRef{ID: tt.service}, Endpoints: tt.endpoints}
			err := f.conns.CreateConnection(ContextAs(t, f.developer), c)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			require.Equal(t, before, credentialRows(t, f.store), "no half-made connection, application or key")
		})
	}

	t.Run("ExistingAppGainsNoCredentials", func(t *testing.T) {
		// With an application in place, a failing create must not add credentials to it.
		devOnly := internalService("shop", "inventory", "Dev API", junction.VisibilityOrganization)
		devOnly.URLs = map[string]string{"development": "http://dev-only:8080"}
		f.mustCreateService(t, f.developer, devOnly)
		f.connect(t, f.developer, "shop", "inventory", devOnly.ID, "dev")
		require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`))
		before := credentialRows(t, f.store)
		c := &junction.Connection{Name: "DEV", Project: "shop", Component: "inventory", Service: junction.ServiceRef{ID: oauth.ID}}
		err := f.conns.CreateConnection(ContextAs(t, f.developer), c)
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
		require.Equal(t, before, credentialRows(t, f.store))
	})

	t.Run("NoOrphans", func(t *testing.T) {
		require.Equal(t, 0, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps a WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.oauth_app_id = a.id)`))
	})
}

func TestConnectionService_Concurrent(t *testing.T) {
	f := newConnFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	jwks := make([][]byte, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			component := []string{"", "orders", "inventory"}[i%3]
			c := &junction.Connection{Name: fmt.Sprintf("conn%d", i), Project: "shop", Component: component, Service: junction.ServiceRef{ID: svc.ID}}
			errs[i] = f.conns.CreateConnection(ContextAs(t, f.developer), c)
			jwks[i], _ = f.conns.JWKS(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "connection %d", i)
		require.JSONEq(t, string(jwks[0]), string(jwks[i]), "one signing key")
	}
	require.Equal(t, 3, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps`), "one app for the project and one per component")
	require.Equal(t, 6, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials`))
}

// TestConnectionService_ServiceChangedAfterConnecting checks that a connection keeps a
// complete set of parameters when the internal service it connects to starts serving another
// environment or changes its security scheme: every environment with a ServiceURL must have
// credentials (or the change must be refused while connections exist).
func TestConnectionService_ServiceChangedAfterConnecting(t *testing.T) {
	devOnly := func(name string, sec junction.Security) *junction.Service {
		s := withSecurity(internalService("shop", "inventory", name, junction.VisibilityOrganization), sec)
		s.URLs = map[string]string{"development": "http://dev:8080"}
		return s
	}
	tests := []struct {
		name   string
		before *junction.Service
		after  *junction.Service
		// want lists the credential parameters that need a value wherever ServiceURL has one.
		want []string
	}{
		{"OAuthGainsProduction", devOnly("Stock API", junction.SecurityOAuth),
			internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization),
			[]string{"ConsumerKey", "ConsumerSecret"}},
		{"APIKeyGainsProduction", devOnly("Keyed API", junction.SecurityAPIKey),
			withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey),
			[]string{"ChoreoAPIKey"}},
		{"NoneBecomesOAuth", withSecurity(internalService("shop", "inventory", "Open API", junction.VisibilityOrganization), junction.SecurityNone),
			internalService("shop", "inventory", "Open API", junction.VisibilityOrganization),
			[]string{"ConsumerKey", "ConsumerSecret"}},
		{"OAuthBecomesAPIKey", internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization),
			withSecurity(internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization), junction.SecurityAPIKey),
			[]string{"ChoreoAPIKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newConnFixture(t)
			svc := f.mustCreateService(t, f.developer, tt.before)
			c := f.connect(t, f.developer, "shop", "", svc.ID, "conn")
			if _, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, tt.after); err != nil {
				require.Contains(t, []string{junction.ECONFLICT, junction.EINVALID}, junction.ErrorCode(err), "%v", err)
				return // refusing the change while connections exist is fine too
			}
			got := f.reveal(t, c.ID)
			for env, url := range paramValues(got, "ServiceURL") {
				require.NotEmpty(t, url)
				for _, name := range tt.want {
					require.NotEmpty(t, paramValues(got, name)[env], "%s in %s", name, env)
				}
				_, err := f.conns.Rotate(ContextAs(t, f.developer), c.ID, env)
				require.NoError(t, err, "rotate %s", env)
			}
		})
	}
}

func TestConnectionService_IntrospectToken(t *testing.T) {
	store := MustOpenDB(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	dev := MustCreateUser(t, store, "dev@example.com", false)
	outsider := MustCreateUser(t, store, "outsider@example.com", false)
	MustCreateProject(t, store, admin, "shop", "Shop")
	MustCreateProject(t, store, admin, "blog", "Blog")
	MustSetMember(t, store, admin, "shop", dev.Email, junction.RoleViewer)
	MustCreateComponent(t, store, admin, "shop", "inventory")
	MustCreateComponent(t, store, admin, "shop", "orders")
	MustCreateComponent(t, store, admin, "blog", "engine")
	services := db.NewServiceService(store)
	conns := db.NewConnectionService(store, connTokenURL)
	maps := db.NewMappingService(store, conns)
	users := NewUserService(store)
	ctx := ContextAs(t, admin)
	now := time.Now().UTC().Truncate(time.Second)
	store.Now = func() time.Time { return now }

	stock := internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization)
	posts := internalService("blog", "engine", "Posts API", junction.VisibilityOrganization)
	keyed := internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization)
	keyed.Security = junction.SecurityAPIKey
	for _, svc := range []*junction.Service{stock, posts, keyed} {
		require.NoError(t, services.CreateService(ctx, svc))
	}
	// The orders component calls both OAuth services through one application.
	var ordersConns []*junction.Connection
	for _, svc := range []*junction.Service{stock, posts} {
		conn := &junction.Connection{Name: svc.Name, Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: svc.ID}}
		require.NoError(t, conns.CreateConnection(ctx, conn))
		ordersConns = append(ordersConns, conn)
	}
	revealed, err := conns.FindConnection(ctx, ordersConns[0].ID, true)
	require.NoError(t, err)
	clientID, secret := paramValues(revealed, "ConsumerKey")["development"], paramValues(revealed, "ConsumerSecret")["development"]
	both, err := conns.IssueToken(t.Context(), clientID, secret, nil)
	require.NoError(t, err)
	onlyPosts, err := conns.IssueToken(t.Context(), clientID, secret, []string{posts.ID})
	require.NoError(t, err)

	// The inventory component (the publisher of Stock API) asks with a runtime token or an
	// API key of one of its own connections.
	_, inventoryRuntime, err := maps.CreateRuntimeToken(ctx, "shop", "inventory", "production")
	require.NoError(t, err)
	keyConn := &junction.Connection{Name: "keyed", Project: "shop", Component: "inventory", Service: junction.ServiceRef{ID: keyed.ID}}
	require.NoError(t, conns.CreateConnection(ctx, keyConn))
	keyRevealed, err := conns.FindConnection(ctx, keyConn.ID, true)
	require.NoError(t, err)
	inventoryKey := paramValues(keyRevealed, "ChoreoAPIKey")["development"]
	_, engineRuntime, err := maps.CreateRuntimeToken(ctx, "blog", "engine", "development")
	require.NoError(t, err)
	pat := func(u *junction.User) string {
		_, secret, err := users.CreateToken(ContextAs(t, u), u.ID, "introspect")
		require.NoError(t, err)
		return secret
	}
	adminPAT, devPAT, outsiderPAT := pat(admin), pat(dev), pat(outsider)

	tests := []struct {
		name       string
		credential string
		token      string
		wantCode   string
		wantAud    []string // nil: inactive
	}{
		{"Admin", adminPAT, both.Token, "", []string{stock.ID, posts.ID}},
		{"MemberSeesOwnProjectsServices", devPAT, both.Token, "", []string{stock.ID}},
		{"OutsiderInactive", outsiderPAT, both.Token, "", nil},
		{"PublisherRuntimeToken", inventoryRuntime, both.Token, "", []string{stock.ID}},
		{"PublisherAPIKey", inventoryKey, both.Token, "", []string{stock.ID}},
		{"OtherPublisher", engineRuntime, both.Token, "", []string{posts.ID}},
		{"NarrowedTokenNotForPublisher", inventoryRuntime, onlyPosts.Token, "", nil},
		{"Garbage", adminPAT, "not-a-token", "", nil},
		{"Tampered", adminPAT, both.Token[:len(both.Token)-4] + "AAAA", "", nil},
		{"ErrUnknownCredential", "jct_nope", both.Token, junction.EUNAUTHORIZED, nil},
		{"ErrUnknownCredentialGarbageToken", "jrt_nope", "x", junction.EUNAUTHORIZED, nil},
		{"ErrEmptyCredential", "", both.Token, junction.EUNAUTHORIZED, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := conns.IntrospectToken(t.Context(), tt.credential, tt.token)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				require.Nil(t, info)
				return
			}
			if tt.wantAud == nil {
				require.Equal(t, &junction.TokenInfo{}, info, "an inactive token tells nothing")
				return
			}
			slices.Sort(tt.wantAud)
			require.Equal(t, &junction.TokenInfo{Active: true, ClientID: clientID, Subject: clientID, Audience: tt.wantAud,
				Issuer: "http://127.0.0.1:8080", IssuedAt: now.Unix(), ExpiresAt: now.Add(db.AccessTokenLifetime).Unix(),
				TokenType: "Bearer", Environment: "development"}, info)
		})
	}

	t.Run("ExpiredInactive", func(t *testing.T) {
		store.Now = func() time.Time { return now.Add(db.AccessTokenLifetime) }
		defer func() { store.Now = func() time.Time { return now } }()
		info, err := conns.IntrospectToken(t.Context(), adminPAT, both.Token)
		require.NoError(t, err)
		require.False(t, info.Active)
	})
	t.Run("DeletedApplicationInactive", func(t *testing.T) {
		for _, c := range ordersConns {
			require.NoError(t, conns.DeleteConnection(ctx, c.ID, true))
		}
		info, err := conns.IntrospectToken(t.Context(), adminPAT, both.Token)
		require.NoError(t, err)
		require.False(t, info.Active, "the client is gone with its last connection")
	})
}
