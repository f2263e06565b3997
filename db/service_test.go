package db_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// serviceFixture is a projectFixture (project "shop" with a developer, a viewer; an outsider)
// plus project "billing" whose only member, otherDev, is a developer there. shop has the
// components "inventory" and "orders", billing has "payments".
type serviceFixture struct {
	*projectFixture
	services   *db.ServiceService
	components *db.ComponentService
	otherDev   *junction.User
}

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()
	f := &serviceFixture{projectFixture: newProjectFixture(t)}
	f.services = db.NewServiceService(f.store)
	f.components = db.NewComponentService(f.store)
	f.otherDev = MustCreateUser(t, f.store, "other@example.com", false)
	MustCreateProject(t, f.store, f.admin, "billing", "Billing")
	MustSetMember(t, f.store, f.admin, "billing", f.otherDev.Email, junction.RoleDeveloper)
	MustCreateComponent(t, f.store, f.developer, "shop", "inventory")
	MustCreateComponent(t, f.store, f.developer, "shop", "orders")
	MustCreateComponent(t, f.store, f.otherDev, "billing", "payments")
	return f
}

func internalService(project, component, name string, vis junction.Visibility) *junction.Service {
	return &junction.Service{
		Kind: junction.KindInternal, Name: name, Version: "v1", Project: project, Component: component,
		Visibility: vis, Security: junction.SecurityOAuth,
		URLs: map[string]string{"development": "http://" + component + ".dev:8080", "production": "https://" + component + ".example.com"},
	}
}

func thirdPartyService(name string) *junction.Service {
	return &junction.Service{
		Kind: junction.KindThirdParty, Name: name, Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{
			{Name: "sandbox", URL: "https://sandbox.example.com", Environments: []string{"development"},
				Values: map[string]string{"AccountSID": "AC-sandbox", "AuthToken": "tok-sandbox"}},
			{Name: "live", URL: "https://api.example.com", Environments: []string{"production"},
				Values: map[string]string{"AccountSID": "AC-live", "AuthToken": "tok-live"}},
		},
	}
}

func databaseService(name string) *junction.Service {
	return &junction.Service{
		Kind: junction.KindDatabase, Name: name, Engine: "postgres",
		Values: map[string]map[string]string{
			"development": {"HostName": "localhost", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "dev-pw"},
			"production":  {"HostName": "db.example.com", "Port": "5433", "DatabaseName": "orders", "Username": "app", "Password": "prod-pw"},
		},
	}
}

// mustCreateService registers svc as user and returns it.
func (f *serviceFixture) mustCreateService(t *testing.T, user *junction.User, svc *junction.Service) *junction.Service {
	t.Helper()
	if err := f.services.CreateService(ContextAs(t, user), svc); err != nil {
		t.Fatalf("create service %s: %v (%v)", svc.Name, err, junction.ErrorFields(err))
	}
	return svc
}

// find runs FindServices as user and fails the test on error.
func (f *serviceFixture) find(t *testing.T, user *junction.User, filter junction.ServiceFilter) ([]*junction.Service, int, *junction.ServiceFacets) {
	t.Helper()
	if filter.Page == (junction.Page{}) {
		filter.Page = junction.NewPage(1, junction.MaxPerPage)
	}
	services, total, facets, err := f.services.FindServices(ContextAs(t, user), filter)
	require.NoError(t, err, "filter %+v", filter)
	require.NotNil(t, facets)
	return services, total, facets
}

// search returns the display names FindServices finds for q as user, sorted by name.
// search returns the display names of the matches in name order.
func (f *serviceFixture) search(t *testing.T, user *junction.User, q string) []string {
	t.Helper()
	services, total, _ := f.find(t, user, junction.ServiceFilter{Query: q, Sort: junction.SortName})
	require.Equal(t, len(services), total, "query %q", q)
	return displayNames(services)
}

func displayNames(services []*junction.Service) []string {
	names := []string{}
	for _, s := range services {
		names = append(names, s.DisplayName())
	}
	return names
}

func serviceIDs(services []*junction.Service) []string {
	ids := []string{}
	for _, s := range services {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestServiceService_CreateService(t *testing.T) {
	t.Run("OKInternal", func(t *testing.T) {
		f := newServiceFixture(t)
		now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
		f.store.Now = func() time.Time { return now }

		svc := internalService("shop", "inventory", " Stock API ", junction.VisibilityOrganization)
		svc.Description, svc.Tags = "Stock levels.", []string{"Stock", "warehouse"}
		require.NoError(t, f.services.CreateService(ContextAs(t, f.developer), svc))
		require.True(t, strings.HasPrefix(svc.ID, "svc_"), svc.ID)
		require.Greater(t, len(svc.ID), len("svc_")+10)
		require.Equal(t, "Stock API", svc.Name)
		require.Equal(t, "inventory", svc.ComponentName)
		require.Equal(t, "inventory – Stock API", svc.DisplayName())
		require.True(t, svc.CanEdit)
		require.False(t, svc.Unlisted)
		require.True(t, svc.CreatedAt.Equal(now))

		got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		require.Equal(t, svc.ID, got.ID)
		require.Equal(t, junction.KindInternal, got.Kind)
		require.Equal(t, "Stock API", got.Name)
		require.Equal(t, "v1", got.Version)
		require.Equal(t, "Stock levels.", got.Description)
		require.Equal(t, []string{"stock", "warehouse"}, got.Tags)
		require.Equal(t, "shop", got.Project)
		require.Equal(t, "inventory", got.Component)
		require.Equal(t, "inventory", got.ComponentName)
		require.Equal(t, junction.VisibilityOrganization, got.Visibility)
		require.Equal(t, junction.SecurityOAuth, got.Security)
		require.Equal(t, map[string]string{"development": "http://inventory.dev:8080", "production": "https://inventory.example.com"}, got.URLs)
		require.Empty(t, got.Engine)
		require.Empty(t, got.Endpoints)
		require.Empty(t, got.Values)
		require.True(t, got.CanEdit)
		require.False(t, got.Unlisted)
		require.True(t, got.CreatedAt.Equal(now))
		require.True(t, got.UpdatedAt.Equal(now))
	})

	t.Run("OKThirdParty", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := thirdPartyService("Twilio")
		svc.Description, svc.Tags = "SMS.", []string{"SMS"}
		svc.Project, svc.Component = "shop", "inventory" // ignored for third-party services
		require.NoError(t, f.services.CreateService(ContextAs(t, f.developer), svc))
		require.True(t, strings.HasPrefix(svc.ID, "svc_"), svc.ID)
		require.Empty(t, svc.Project)
		require.Empty(t, svc.Component)
		require.Equal(t, junction.Masked, svc.Endpoints[0].Values["AuthToken"], "the created service is masked")

		got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		require.Equal(t, junction.KindThirdParty, got.Kind)
		require.Equal(t, "Twilio", got.DisplayName())
		require.Empty(t, got.Project)
		require.Equal(t, []string{"sms"}, got.Tags)
		require.Equal(t, []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}}, got.Parameters)
		require.Len(t, got.Endpoints, 2)
		require.Equal(t, junction.Endpoint{Name: "sandbox", URL: "https://sandbox.example.com", Environments: []string{"development"},
			Values: map[string]string{"AccountSID": "AC-sandbox", "AuthToken": "********"}}, got.Endpoints[0])
		require.Equal(t, junction.Endpoint{Name: "live", URL: "https://api.example.com", Environments: []string{"production"},
			Values: map[string]string{"AccountSID": "AC-live", "AuthToken": "********"}}, got.Endpoints[1])
		require.Empty(t, got.Visibility)
		require.Empty(t, got.URLs)
		require.True(t, got.CanEdit, "the creator may edit")
	})

	t.Run("OKDatabase", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := databaseService("orders-db")
		require.NoError(t, f.services.CreateService(ContextAs(t, f.admin), svc))
		require.True(t, strings.HasPrefix(svc.ID, "svc_"), svc.ID)
		require.Equal(t, junction.Masked, svc.Values["development"]["Password"])

		got, err := f.services.FindService(ContextAs(t, f.outsider), svc.ID)
		require.NoError(t, err)
		require.Equal(t, junction.KindDatabase, got.Kind)
		require.Equal(t, "postgres", got.Engine)
		require.Empty(t, got.Version)
		require.Equal(t, map[string]map[string]string{
			"development": {"HostName": "localhost", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "********"},
			"production":  {"HostName": "db.example.com", "Port": "5433", "DatabaseName": "orders", "Username": "app", "Password": "********"},
		}, got.Values)
		require.False(t, got.CanEdit, "someone else's service")
	})

	t.Run("IDsAreUnique", func(t *testing.T) {
		f := newServiceFixture(t)
		seen := map[string]bool{}
		for i := range 20 {
			svc := f.mustCreateService(t, f.admin, databaseService(fmt.Sprintf("db-%d", i)))
			require.False(t, seen[svc.ID], "duplicate ID %s", svc.ID)
			seen[svc.ID] = true
		}
	})

	type permCase struct {
		name     string
		user     func(*serviceFixture) *junction.User
		wantCode string
	}
	internalPerms := []permCase{
		{"OKAdmin", func(f *serviceFixture) *junction.User { return f.admin }, ""},
		{"OKDeveloper", func(f *serviceFixture) *junction.User { return f.developer }, ""},
		{"ErrViewer", func(f *serviceFixture) *junction.User { return f.viewer }, junction.EFORBIDDEN},
		{"ErrOutsider", func(f *serviceFixture) *junction.User { return f.outsider }, junction.ENOTFOUND},
		{"ErrDeveloperOfOtherProject", func(f *serviceFixture) *junction.User { return f.otherDev }, junction.ENOTFOUND},
		{"ErrAnonymous", func(*serviceFixture) *junction.User { return nil }, junction.EUNAUTHORIZED},
	}
	for _, tt := range internalPerms {
		t.Run("Internal"+tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			err := f.services.CreateService(ContextAs(t, tt.user(f)), internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			_, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
			if tt.wantCode != "" {
				require.Zero(t, total, "a refused registration must store nothing")
			} else {
				require.Equal(t, 1, total)
			}
		})
	}

	registerPerms := []permCase{
		{"OKAdmin", func(f *serviceFixture) *junction.User { return f.admin }, ""},
		{"OKDeveloper", func(f *serviceFixture) *junction.User { return f.developer }, ""},
		{"OKDeveloperOfOtherProject", func(f *serviceFixture) *junction.User { return f.otherDev }, ""},
		{"ErrOnlyViewer", func(f *serviceFixture) *junction.User { return f.viewer }, junction.EFORBIDDEN},
		{"ErrNoMembership", func(f *serviceFixture) *junction.User { return f.outsider }, junction.EFORBIDDEN},
		{"ErrAnonymous", func(*serviceFixture) *junction.User { return nil }, junction.EUNAUTHORIZED},
	}
	for _, base := range []func() *junction.Service{
		func() *junction.Service { return thirdPartyService("Twilio") },
		func() *junction.Service { return databaseService("orders-db") },
	} {
		for _, tt := range registerPerms {
			t.Run(string(base().Kind)+tt.name, func(t *testing.T) {
				f := newServiceFixture(t)
				err := f.services.CreateService(ContextAs(t, tt.user(f)), base())
				require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
				_, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
				require.Equal(t, tt.wantCode == "", total == 1)
			})
		}
	}

	t.Run("ErrViewerEverywhereButDeveloperSomewhere", func(t *testing.T) {
		f := newServiceFixture(t)
		// A viewer of shop who is a developer of billing may register third-party services.
		MustSetMember(t, f.store, f.admin, "billing", f.viewer.Email, junction.RoleDeveloper)
		require.NoError(t, f.services.CreateService(ContextAs(t, f.viewer), thirdPartyService("Twilio")))
		// ...but still not publish from shop, where they are a viewer.
		err := f.services.CreateService(ContextAs(t, f.viewer), internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
		// Demoted: no longer allowed.
		MustSetMember(t, f.store, f.admin, "billing", f.viewer.Email, junction.RoleViewer)
		err = f.services.CreateService(ContextAs(t, f.viewer), thirdPartyService("SendGrid"))
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
	})

	invalid := []struct {
		name  string
		svc   func() *junction.Service
		code  string
		field string
	}{
		{"ErrInternalNoProject", func() *junction.Service {
			return internalService("", "inventory", "Stock API", junction.VisibilityPublic)
		}, junction.EINVALID, "project"},
		{"ErrInternalNoComponent", func() *junction.Service { return internalService("shop", "", "Stock API", junction.VisibilityPublic) }, junction.EINVALID, "component"},
		{"ErrInternalUnknownProject", func() *junction.Service {
			return internalService("nope", "inventory", "Stock API", junction.VisibilityPublic)
		}, junction.ENOTFOUND, ""},
		{"ErrInternalUnknownComponent", func() *junction.Service {
			return internalService("shop", "nope", "Stock API", junction.VisibilityPublic)
		}, junction.ENOTFOUND, ""},
		{"ErrInternalComponentOfOtherProject", func() *junction.Service {
			return internalService("shop", "payments", "Stock API", junction.VisibilityPublic)
		}, junction.ENOTFOUND, ""},
		{"ErrInternalBadVisibility", func() *junction.Service { return internalService("shop", "inventory", "Stock API", "secret") }, junction.EINVALID, "visibility"},
		{"ErrInternalBadURL", func() *junction.Service {
			s := internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
			s.URLs["development"] = "ftp://x"
			return s
		}, junction.EINVALID, "urls.development"},
		{"ErrInternalUnknownEnvironment", func() *junction.Service {
			s := internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
			s.URLs["staging"] = "https://staging.example.com"
			return s
		}, junction.EINVALID, "urls.staging"},
		{"ErrUnknownKind", func() *junction.Service { s := thirdPartyService("Twilio"); s.Kind = "grpc"; return s }, junction.EINVALID, "kind"},
		{"ErrThirdPartyNoEndpoints", func() *junction.Service { s := thirdPartyService("Twilio"); s.Endpoints = nil; return s }, junction.EINVALID, "endpoints"},
		{"ErrThirdPartyMissingValue", func() *junction.Service {
			s := thirdPartyService("Twilio")
			delete(s.Endpoints[1].Values, "AuthToken")
			return s
		}, junction.EINVALID, "endpoints[1].values.AuthToken"},
		{"ErrDatabaseBadPort", func() *junction.Service {
			s := databaseService("orders-db")
			s.Values["development"]["Port"] = "70000"
			return s
		}, junction.EINVALID, "values.development.Port"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			err := f.services.CreateService(ContextAs(t, f.admin), tt.svc())
			require.Equal(t, tt.code, junction.ErrorCode(err), "%v", err)
			if tt.field != "" {
				require.Contains(t, junction.ErrorFields(err), tt.field, "%v", junction.ErrorFields(err))
			}
			_, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
			require.Zero(t, total)
		})
	}

	t.Run("EnvironmentAddedLater", func(t *testing.T) {
		f := newServiceFixture(t)
		s := internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		s.URLs["staging"] = "https://staging.example.com"
		require.Equal(t, junction.EINVALID, junction.ErrorCode(f.services.CreateService(ContextAs(t, f.admin), s)))
		require.NoError(t, db.NewEnvironmentService(f.store).CreateEnvironment(ContextAs(t, f.admin), &junction.Environment{Name: "staging"}))
		s = internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		s.URLs["staging"] = "https://staging.example.com"
		require.NoError(t, f.services.CreateService(ContextAs(t, f.admin), s))
		got, err := f.services.FindService(ContextAs(t, f.admin), s.ID)
		require.NoError(t, err)
		require.Equal(t, "https://staging.example.com", got.URLs["staging"])
	})
}

func TestServiceService_CreateService_NameTaken(t *testing.T) {
	requireTaken := func(t *testing.T, err error) {
		t.Helper()
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err), "%v", err)
		require.Contains(t, junction.ErrorFields(err), "name")
		require.NotEmpty(t, junction.ErrorFields(err)["name"])
	}

	t.Run("Internal", func(t *testing.T) {
		f := newServiceFixture(t)
		f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))

		requireTaken(t, f.services.CreateService(ContextAs(t, f.admin), internalService("shop", "inventory", "Stock API", junction.VisibilityProject)))
		requireTaken(t, f.services.CreateService(ContextAs(t, f.developer), internalService("shop", "inventory", "stock api", junction.VisibilityPublic)))
		requireTaken(t, f.services.CreateService(ContextAs(t, f.developer), internalService("shop", "inventory", "  STOCK API ", junction.VisibilityPublic)))

		// The same name and version from another component, or another version, is fine.
		f.mustCreateService(t, f.developer, internalService("shop", "orders", "Stock API", junction.VisibilityPublic))
		f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Stock API", junction.VisibilityPublic))
		v2 := internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		v2.Version = "v2"
		f.mustCreateService(t, f.developer, v2)

		_, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
		require.Equal(t, 4, total)
	})

	t.Run("ThirdParty", func(t *testing.T) {
		f := newServiceFixture(t)
		f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))
		// Another user registering the same name and version conflicts: the scope is the kind.
		requireTaken(t, f.services.CreateService(ContextAs(t, f.otherDev), thirdPartyService("Twilio")))
		requireTaken(t, f.services.CreateService(ContextAs(t, f.admin), thirdPartyService("TWILIO")))

		v2 := thirdPartyService("Twilio")
		v2.Version = "v2"
		f.mustCreateService(t, f.developer, v2)

		// The same name and version is fine for another kind.
		db1 := databaseService("Twilio")
		db1.Version = "v1"
		f.mustCreateService(t, f.admin, db1)
		f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Twilio", junction.VisibilityPublic))
	})

	t.Run("Database", func(t *testing.T) {
		f := newServiceFixture(t)
		f.mustCreateService(t, f.developer, databaseService("orders-db"))
		requireTaken(t, f.services.CreateService(ContextAs(t, f.admin), databaseService("Orders-DB")))
		other := databaseService("orders-db")
		other.Version = "2"
		f.mustCreateService(t, f.admin, other)
	})

	t.Run("Concurrent", func(t *testing.T) {
		f := newServiceFixture(t)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = f.services.CreateService(ContextAs(t, f.developer), thirdPartyService("Twilio"))
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireTaken(t, err)
			}
		}
		require.Equal(t, 1, ok, "exactly one registration wins")
	})
}

// openServiceSecrets reads and opens the sealed secrets of a service straight from the
// table, to check what is stored.
func openServiceSecrets(t *testing.T, store *db.DB, id string) map[string]string {
	t.Helper()
	var sealed []byte
	require.NoError(t, store.ReadPool().QueryRowContext(t.Context(), `SELECT secrets FROM services WHERE id = ?`, id).Scan(&sealed))
	if sealed == nil {
		return nil
	}
	plain, err := store.Sealer().Open(sealed, "services.secrets:"+id)
	require.NoError(t, err)
	var secrets map[string]string
	require.NoError(t, json.Unmarshal(plain, &secrets))
	return secrets
}

func TestServiceService_SecretsSealed(t *testing.T) {
	const (
		tokenCanary    = "JUNCTION-CANARY-TOKEN-5b1f0c9e-do-not-store"
		passwordCanary = "JUNCTION-CANARY-PASSWORD-7d3a8e21-do-not-store"
		// controlCanary is a plain (non-secret) parameter value, stored in clear, which
		// proves the search of the raw files can succeed.
		controlCanary = "JUNCTION-CANARY-PLAIN-a0c4e6f2-stored-in-clear"
	)

	store, path, key := MustOpenDBWithKey(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	services := db.NewServiceService(store)
	ctx := ContextAs(t, admin)

	tp := thirdPartyService("Twilio")
	tp.Endpoints[0].Values["AuthToken"] = tokenCanary + "-sandbox"
	tp.Endpoints[1].Values["AuthToken"] = tokenCanary + "-live"
	tp.Endpoints[0].Values["AccountSID"] = controlCanary
	require.NoError(t, services.CreateService(ctx, tp))

	dbs := databaseService("orders-db")
	dbs.Values["development"]["Password"] = passwordCanary + "-dev"
	dbs.Values["production"]["Password"] = passwordCanary + "-prod"
	require.NoError(t, services.CreateService(ctx, dbs))

	// Reading never shows a secret.
	for _, id := range []string{tp.ID, dbs.ID} {
		got, err := services.FindService(ctx, id)
		require.NoError(t, err)
		raw, err := json.Marshal(got)
		require.NoError(t, err)
		require.NotContains(t, string(raw), tokenCanary)
		require.NotContains(t, string(raw), passwordCanary)
		require.Contains(t, string(raw), junction.Masked)
	}
	services2, _, _, err := services.FindServices(ctx, junction.ServiceFilter{Page: junction.NewPage(1, 50)})
	require.NoError(t, err)
	raw, err := json.Marshal(services2)
	require.NoError(t, err)
	require.NotContains(t, string(raw), tokenCanary)
	require.NotContains(t, string(raw), passwordCanary)
	require.Contains(t, string(raw), controlCanary)

	// The secrets are kept, sealed to the service.
	require.Equal(t, map[string]string{
		"endpoint/sandbox/AuthToken": tokenCanary + "-sandbox",
		"endpoint/live/AuthToken":    tokenCanary + "-live",
	}, openServiceSecrets(t, store, tp.ID))
	require.Equal(t, map[string]string{
		"env/development/Password": passwordCanary + "-dev",
		"env/production/Password":  passwordCanary + "-prod",
	}, openServiceSecrets(t, store, dbs.ID))
	var sealed []byte
	require.NoError(t, store.ReadPool().QueryRowContext(t.Context(), `SELECT secrets FROM services WHERE id = ?`, tp.ID).Scan(&sealed))
	_, err = store.Sealer().Open(sealed, "services.secrets:"+dbs.ID)
	require.Error(t, err, "secrets are bound to their service")

	all := storedBytes(t, store, path)
	require.True(t, bytes.Contains(all, []byte(controlCanary)), "control: a value stored in clear must be found")
	require.False(t, bytes.Contains(all, []byte(tokenCanary)), "a secret parameter value is in the raw database file")
	require.False(t, bytes.Contains(all, []byte(passwordCanary)), "a database password is in the raw database file")

	// After reopening with the key the service still reads, masked.
	store = MustReopenDB(t, path, key)
	got, err := db.NewServiceService(store).FindService(ContextAs(t, admin), dbs.ID)
	require.NoError(t, err)
	require.Equal(t, junction.Masked, got.Values["production"]["Password"])
	require.Equal(t, passwordCanary+"-prod", openServiceSecrets(t, store, dbs.ID)["env/production/Password"])
}

func TestServiceService_MaskEmptyPassword(t *testing.T) {
	f := newServiceFixture(t)
	svc := databaseService("cache")
	svc.Engine = "redis"
	svc.Values = map[string]map[string]string{"development": {"HostName": "localhost", "Port": "6379", "DatabaseName": "0"}}
	f.mustCreateService(t, f.developer, svc)
	require.Equal(t, "", svc.Values["development"]["Password"], "CreateService: no password, nothing to mask")

	got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
	require.NoError(t, err)
	require.Equal(t, "", got.Values["development"]["Password"],
		"FindService must not show a masked password when none is set (Service.Mask keeps empty values empty)")
}

// visibilityFixture registers one service of every visibility and kind.
type visibilityFixture struct {
	*serviceFixture
	project, organization, public, thirdParty, database *junction.Service
}

func newVisibilityFixture(t *testing.T) *visibilityFixture {
	t.Helper()
	f := &visibilityFixture{serviceFixture: newServiceFixture(t)}
	f.project = f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Project API", junction.VisibilityProject))
	f.organization = f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Organization API", junction.VisibilityOrganization))
	f.public = f.mustCreateService(t, f.developer, internalService("shop", "orders", "Public API", junction.VisibilityPublic))
	f.thirdParty = f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
	f.database = f.mustCreateService(t, f.developer, databaseService("orders-db"))
	return f
}

func TestServiceService_Visibility(t *testing.T) {
	f := newVisibilityFixture(t)
	all := []string{f.database.ID, f.organization.ID, f.project.ID, f.public.ID, f.thirdParty.ID}
	withoutProject := []string{f.database.ID, f.organization.ID, f.public.ID, f.thirdParty.ID}

	tests := []struct {
		name string
		user *junction.User
		want []string
		// canEdit lists the services the user may change.
		canEdit []string
	}{
		{"Admin", f.admin, all, all},
		{"Developer", f.developer, all, []string{f.project.ID, f.organization.ID, f.public.ID, f.database.ID}},
		{"Viewer", f.viewer, all, nil},
		{"Outsider", f.outsider, withoutProject, nil},
		{"DeveloperOfOtherProject", f.otherDev, withoutProject, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			services, total, facets := f.find(t, tt.user, junction.ServiceFilter{})
			require.ElementsMatch(t, tt.want, serviceIDs(services))
			require.Equal(t, len(tt.want), total)
			kinds := 0
			for _, n := range facets.Kinds {
				kinds += n
			}
			require.Equal(t, total, kinds, "kind facets count only what the user sees")
			if slices.Contains(tt.want, f.project.ID) {
				require.Equal(t, 1, facets.Visibilities[junction.VisibilityProject])
			} else {
				require.Zero(t, facets.Visibilities[junction.VisibilityProject], "facets must not reveal hidden services")
			}

			for _, id := range all {
				got, err := f.services.FindService(ContextAs(t, tt.user), id)
				if !slices.Contains(tt.want, id) {
					require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "FindService %s", id)
					require.Nil(t, got)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, id, got.ID)
				require.Equal(t, slices.Contains(tt.canEdit, id), got.CanEdit, "CanEdit of %s", got.Name)
			}

			// A hidden service stays hidden when searched for by name.
			require.Equal(t, slices.Contains(tt.want, f.project.ID), slices.Contains(f.search(t, tt.user, "project"), f.project.DisplayName()))
		})
	}

	t.Run("BecomingMemberReveals", func(t *testing.T) {
		MustSetMember(t, f.store, f.admin, "shop", f.outsider.Email, junction.RoleViewer)
		_, err := f.services.FindService(ContextAs(t, f.outsider), f.project.ID)
		require.NoError(t, err)
		require.NoError(t, f.projects.RemoveMember(ContextAs(t, f.admin), "shop", f.outsider.Email))
		_, err = f.services.FindService(ContextAs(t, f.outsider), f.project.ID)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})

	t.Run("ErrAnonymous", func(t *testing.T) {
		_, _, _, err := f.services.FindServices(ContextAs(t, nil), junction.ServiceFilter{Page: junction.NewPage(1, 10)})
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
		_, err = f.services.FindService(ContextAs(t, nil), f.public.ID)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range []string{"", "svc_nope", "nope", f.public.ID + "x", strings.ToUpper(f.public.ID), "' OR 1=1 --"} {
			_, err := f.services.FindService(ContextAs(t, f.admin), id)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "id %q", id)
		}
	})
}

func TestServiceService_SetServiceListed(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newVisibilityFixture(t)
		for _, svc := range []*junction.Service{f.organization, f.thirdParty, f.database} {
			require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.admin), svc.ID, false), svc.Name)
		}
		for _, user := range []*junction.User{f.admin, f.developer, f.outsider} {
			services, total, facets := f.find(t, user, junction.ServiceFilter{})
			ids := serviceIDs(services)
			for _, svc := range []*junction.Service{f.organization, f.thirdParty, f.database} {
				require.NotContains(t, ids, svc.ID, "unlisted %s shown to %s", svc.Name, user.Email)
			}
			require.Equal(t, len(services), total)
			require.Zero(t, facets.Kinds[junction.KindThirdParty])
			require.Zero(t, facets.Kinds[junction.KindDatabase])
			require.Zero(t, facets.Visibilities[junction.VisibilityOrganization])
			require.Empty(t, f.search(t, user, "twilio"), "search must not find unlisted services")

			// Still reachable by ID, marked unlisted.
			for _, svc := range []*junction.Service{f.organization, f.thirdParty, f.database} {
				got, err := f.services.FindService(ContextAs(t, user), svc.ID)
				require.NoError(t, err)
				require.True(t, got.Unlisted, svc.Name)
			}
		}

		// Unlisting twice is fine.
		require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.admin), f.thirdParty.ID, false))

		// Listing again brings them back.
		for _, svc := range []*junction.Service{f.organization, f.thirdParty, f.database} {
			require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.admin), svc.ID, true))
		}
		services, total, _ := f.find(t, f.outsider, junction.ServiceFilter{})
		require.Equal(t, 4, total)
		require.Contains(t, serviceIDs(services), f.thirdParty.ID)
		require.Equal(t, []string{"Twilio"}, f.search(t, f.outsider, "twilio"))
		got, err := f.services.FindService(ContextAs(t, f.outsider), f.thirdParty.ID)
		require.NoError(t, err)
		require.False(t, got.Unlisted)
	})

	t.Run("UpdatedAt", func(t *testing.T) {
		f := newVisibilityFixture(t)
		later := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
		f.store.Now = func() time.Time { return later }
		require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.developer), f.public.ID, false))
		got, err := f.services.FindService(ContextAs(t, f.developer), f.public.ID)
		require.NoError(t, err)
		require.True(t, got.UpdatedAt.Equal(later))
		require.True(t, got.CreatedAt.Before(later))
	})

	tests := []struct {
		name     string
		user     func(*visibilityFixture) *junction.User
		svc      func(*visibilityFixture) *junction.Service
		wantCode string
	}{
		{"InternalAdmin", func(f *visibilityFixture) *junction.User { return f.admin }, func(f *visibilityFixture) *junction.Service { return f.organization }, ""},
		{"InternalDeveloper", func(f *visibilityFixture) *junction.User { return f.developer }, func(f *visibilityFixture) *junction.Service { return f.project }, ""},
		{"InternalViewer", func(f *visibilityFixture) *junction.User { return f.viewer }, func(f *visibilityFixture) *junction.Service { return f.project }, junction.EFORBIDDEN},
		{"InternalOutsiderVisible", func(f *visibilityFixture) *junction.User { return f.outsider }, func(f *visibilityFixture) *junction.Service { return f.public }, junction.EFORBIDDEN},
		{"InternalOtherProjectDeveloper", func(f *visibilityFixture) *junction.User { return f.otherDev }, func(f *visibilityFixture) *junction.Service { return f.organization }, junction.EFORBIDDEN},
		{"InternalOutsiderHidden", func(f *visibilityFixture) *junction.User { return f.outsider }, func(f *visibilityFixture) *junction.Service { return f.project }, junction.ENOTFOUND},
		{"InternalAnonymous", func(*visibilityFixture) *junction.User { return nil }, func(f *visibilityFixture) *junction.Service { return f.public }, junction.EUNAUTHORIZED},
		{"ThirdPartyCreatorAdmin", func(f *visibilityFixture) *junction.User { return f.admin }, func(f *visibilityFixture) *junction.Service { return f.thirdParty }, ""},
		{"ThirdPartyOtherDeveloper", func(f *visibilityFixture) *junction.User { return f.developer }, func(f *visibilityFixture) *junction.Service { return f.thirdParty }, junction.EFORBIDDEN},
		{"DatabaseCreator", func(f *visibilityFixture) *junction.User { return f.developer }, func(f *visibilityFixture) *junction.Service { return f.database }, ""},
		{"DatabaseAdmin", func(f *visibilityFixture) *junction.User { return f.admin }, func(f *visibilityFixture) *junction.Service { return f.database }, ""},
		{"DatabaseOtherDeveloper", func(f *visibilityFixture) *junction.User { return f.otherDev }, func(f *visibilityFixture) *junction.Service { return f.database }, junction.EFORBIDDEN},
		{"DatabaseViewer", func(f *visibilityFixture) *junction.User { return f.viewer }, func(f *visibilityFixture) *junction.Service { return f.database }, junction.EFORBIDDEN},
		{"DatabaseOutsider", func(f *visibilityFixture) *junction.User { return f.outsider }, func(f *visibilityFixture) *junction.Service { return f.database }, junction.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newVisibilityFixture(t)
			svc := tt.svc(f)
			err := f.services.SetServiceListed(ContextAs(t, tt.user(f)), svc.ID, false)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			got, findErr := f.services.FindService(ContextAs(t, f.admin), svc.ID)
			require.NoError(t, findErr)
			require.Equal(t, tt.wantCode == "", got.Unlisted, "a refused change must change nothing")
		})
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		f := newServiceFixture(t)
		err := f.services.SetServiceListed(ContextAs(t, f.admin), "svc_nope", false)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

// searchFixture is a catalog to search in.
func newSearchFixture(t *testing.T) *serviceFixture {
	t.Helper()
	f := newServiceFixture(t)
	add := func(svc *junction.Service, description string, tags ...string) {
		svc.Description, svc.Tags = description, tags
		f.mustCreateService(t, f.admin, svc)
	}
	add(thirdPartyService("Twilio"), "SMS and voice calls.", "sms", "voice")
	add(thirdPartyService("SendGrid"), "E-mail delivery.", "email")
	add(thirdPartyService("Stripe"), "Card payments.", "payments", "billing")
	add(thirdPartyService("Zürich Weather"), "Météo forecasts for Switzerland.", "wetter")
	add(internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization), "Warehouse stock levels.")
	add(databaseService("orders-db"), "Orders of the shop.", "postgres")
	return f
}

func TestServiceService_Search(t *testing.T) {
	f := newSearchFixture(t)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"Empty", "", []string{"inventory – Stock API", "orders-db", "SendGrid", "Stripe", "Twilio", "Zürich Weather"}},
		{"Blank", "  \t\n ", []string{"inventory – Stock API", "orders-db", "SendGrid", "Stripe", "Twilio", "Zürich Weather"}},
		{"FullName", "Twilio", []string{"Twilio"}},
		{"Prefix", "twil", []string{"Twilio"}},
		{"PrefixOneLetter", "t", []string{"orders-db", "Twilio"}}, // "the" in the description of orders-db
		{"PrefixUpperCase", "TWIL", []string{"Twilio"}},
		{"Description", "delivery", []string{"SendGrid"}},
		{"DescriptionPrefix", "deliv", []string{"SendGrid"}},
		{"Tag", "sms", []string{"Twilio"}},
		{"TagOnly", "wetter", []string{"Zürich Weather"}},
		{"TagShared", "payments", []string{"Stripe"}},
		{"ComponentName", "inventory", []string{"inventory – Stock API"}},
		{"DiacriticsInsensitiveQuery", "zurich", []string{"Zürich Weather"}},
		{"DiacriticsInQuery", "ZÜRICH", []string{"Zürich Weather"}},
		{"DiacriticsPrefix", "zür", []string{"Zürich Weather"}},
		{"DiacriticsDescription", "meteo", []string{"Zürich Weather"}},
		{"MultiWordAnd", "sms voice", []string{"Twilio"}},
		{"MultiWordAndAcrossFields", "twilio calls sms", []string{"Twilio"}},
		{"MultiWordAndNoMatch", "sms email", []string{}},
		{"MultiWordPrefixes", "ware stock", []string{"inventory – Stock API"}},
		{"Punctuation", "e-mail", []string{"SendGrid"}},
		{"OrIsText", "twilio OR stripe", []string{}},
		{"NotIsText", "twilio NOT kafka", []string{}},
		{"ColumnFilterIsText", "tags:sms", []string{}},
		{"QuotesAreText", `"twilio"`, []string{"Twilio"}},
		{"StarIsText", "twi*", []string{"Twilio"}},
		{"NoMatch", "kafka", []string{}},
		{"VersionNotSearched", "v1", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, f.search(t, f.developer, tt.query))
		})
	}

	t.Run("HostileQueries", func(t *testing.T) {
		hostile := []string{
			`"`, `""`, `"""`, `'`, `*`, `**`, `^`, `-`, `-x`, `+`, `:`, `::`, `(`, `)`, `()`, `{`, `}`, `[`, `]`,
			`NEAR(`, `NEAR(a b`, `NEAR(a b, 2)`, `a OR`, `OR`, `AND`, `NOT`, `a NOT`, `a AND NOT b`, `OR OR OR`,
			`twil*`, `^twil`, `"twil`, `twil"`, `tw"il`, `display_name:twilio`, `{display_name tags}: sms`, `- sms`,
			`sms -voice`, `a + b`, `%`, `_`, `\`, `%twil%`, `' OR 1=1 --`, `'; DROP TABLE services; --`, `?`, `$1`,
			"\x00", "twil\x00io", "\xff\xfe\xfd", "\u202etwil", "🙂", "🙂twil", "twil🙂io", "日本語", "日", "Ω", "ǅ", "ß", "İstanbul",
			"a\u0301", "\u0301", "\u200b", "\ufeff", "\U0001E030", "\uA7C0", "\U00010570", "\U0001F1E9\U0001F1EA", "١٢٣", "x\ty\nz",
			strings.Repeat("a", 10*1024), strings.Repeat("a ", 5*1024), strings.Repeat(`"`, 10*1024), strings.Repeat("NEAR(", 2*1024),
			strings.Repeat("日本", 5*1024/2), strings.Repeat("twil OR ", 1280), strings.Repeat("é", 10*1024), strings.Repeat("🙂", 2560),
		}
		for _, q := range hostile {
			for _, filter := range []junction.ServiceFilter{
				{Query: q},
				{Query: q, Kind: junction.KindThirdParty, Sort: "newest"},
				{Query: q, Visibility: junction.VisibilityOrganization, Project: "shop"},
			} {
				filter.Page = junction.NewPage(1, 10)
				services, total, facets, err := f.services.FindServices(ContextAs(t, f.outsider), filter)
				require.NoError(t, err, "query %.40q", q)
				require.NotNil(t, facets)
				require.GreaterOrEqual(t, total, len(services))
			}
		}
	})

	t.Run("StillFindsAfterHostile", func(t *testing.T) {
		require.Equal(t, []string{"Twilio"}, f.search(t, f.outsider, "twil"))
	})
}

func TestServiceService_Facets(t *testing.T) {
	f := newServiceFixture(t)
	f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Project API", junction.VisibilityProject))
	f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Organization API", junction.VisibilityOrganization))
	f.mustCreateService(t, f.developer, internalService("shop", "orders", "Public API", junction.VisibilityPublic))
	f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityPublic))
	f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))
	f.mustCreateService(t, f.developer, thirdPartyService("SendGrid"))
	f.mustCreateService(t, f.developer, databaseService("orders-db"))

	allKinds := map[junction.ServiceKind]int{junction.KindInternal: 4, junction.KindThirdParty: 2, junction.KindDatabase: 1}
	allVis := map[junction.Visibility]int{junction.VisibilityProject: 1, junction.VisibilityOrganization: 1, junction.VisibilityPublic: 2}

	tests := []struct {
		name      string
		filter    junction.ServiceFilter
		total     int
		kinds     map[junction.ServiceKind]int
		vis       map[junction.Visibility]int
		wantKinds []junction.ServiceKind
	}{
		{"NoFilter", junction.ServiceFilter{}, 7, allKinds, allVis, nil},
		// A kind filter: the kind counts ignore it, the total and visibilities apply it.
		{"KindThirdParty", junction.ServiceFilter{Kind: junction.KindThirdParty}, 2, allKinds, map[junction.Visibility]int{}, []junction.ServiceKind{junction.KindThirdParty}},
		{"KindDatabase", junction.ServiceFilter{Kind: junction.KindDatabase}, 1, allKinds, map[junction.Visibility]int{}, []junction.ServiceKind{junction.KindDatabase}},
		{"KindInternal", junction.ServiceFilter{Kind: junction.KindInternal}, 4, allKinds, allVis, []junction.ServiceKind{junction.KindInternal}},
		// A visibility filter: the visibility counts ignore it, the total and kinds apply it.
		{"VisibilityPublic", junction.ServiceFilter{Visibility: junction.VisibilityPublic}, 2,
			map[junction.ServiceKind]int{junction.KindInternal: 2}, allVis, []junction.ServiceKind{junction.KindInternal}},
		{"VisibilityProject", junction.ServiceFilter{Visibility: junction.VisibilityProject}, 1,
			map[junction.ServiceKind]int{junction.KindInternal: 1}, allVis, []junction.ServiceKind{junction.KindInternal}},
		{"KindAndVisibility", junction.ServiceFilter{Kind: junction.KindInternal, Visibility: junction.VisibilityOrganization}, 1,
			map[junction.ServiceKind]int{junction.KindInternal: 1}, allVis, []junction.ServiceKind{junction.KindInternal}},
		{"KindThirdPartyAndVisibility", junction.ServiceFilter{Kind: junction.KindThirdParty, Visibility: junction.VisibilityPublic}, 0,
			map[junction.ServiceKind]int{junction.KindInternal: 2}, map[junction.Visibility]int{}, nil},
		// A query applies to every facet.
		{"Query", junction.ServiceFilter{Query: "api"}, 4,
			map[junction.ServiceKind]int{junction.KindInternal: 4}, allVis, []junction.ServiceKind{junction.KindInternal}},
		{"QueryAndKind", junction.ServiceFilter{Query: "twilio", Kind: junction.KindDatabase}, 0,
			map[junction.ServiceKind]int{junction.KindThirdParty: 1}, map[junction.Visibility]int{}, nil},
		// A project filter applies to every facet.
		{"Project", junction.ServiceFilter{Project: "shop"}, 3,
			map[junction.ServiceKind]int{junction.KindInternal: 3}, map[junction.Visibility]int{junction.VisibilityProject: 1, junction.VisibilityOrganization: 1, junction.VisibilityPublic: 1},
			[]junction.ServiceKind{junction.KindInternal}},
		{"ProjectAndVisibility", junction.ServiceFilter{Project: "billing", Visibility: junction.VisibilityPublic}, 1,
			map[junction.ServiceKind]int{junction.KindInternal: 1}, map[junction.Visibility]int{junction.VisibilityPublic: 1}, []junction.ServiceKind{junction.KindInternal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			services, total, facets := f.find(t, f.admin, tt.filter)
			require.Equal(t, tt.total, total)
			require.Len(t, services, tt.total)
			require.Equal(t, tt.kinds, nonZero(facets.Kinds))
			require.Equal(t, tt.vis, nonZero(facets.Visibilities))
			for _, s := range services {
				if tt.filter.Kind != "" {
					require.Equal(t, tt.filter.Kind, s.Kind)
				}
				if tt.filter.Visibility != "" {
					require.Equal(t, tt.filter.Visibility, s.Visibility)
				}
				if tt.filter.Project != "" {
					require.Equal(t, tt.filter.Project, s.Project)
				}
				if tt.wantKinds != nil {
					require.Contains(t, tt.wantKinds, s.Kind)
				}
			}
		})
	}

	t.Run("OutsiderDoesNotCountHidden", func(t *testing.T) {
		_, total, facets := f.find(t, f.outsider, junction.ServiceFilter{Kind: junction.KindInternal})
		require.Equal(t, 3, total)
		require.Equal(t, map[junction.ServiceKind]int{junction.KindInternal: 3, junction.KindThirdParty: 2, junction.KindDatabase: 1}, nonZero(facets.Kinds))
		require.Equal(t, map[junction.Visibility]int{junction.VisibilityOrganization: 1, junction.VisibilityPublic: 2}, nonZero(facets.Visibilities))
	})
}

func nonZero[K comparable](m map[K]int) map[K]int {
	out := map[K]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestServiceService_FindServices_SortAndPages(t *testing.T) {
	f := newServiceFixture(t)
	// Registered out of name order.
	for _, name := range []string{"charlie", "Alpha", "echo", "bravo", "Delta"} {
		f.mustCreateService(t, f.developer, databaseService(name))
	}

	t.Run("ByName", func(t *testing.T) {
		services, _, _ := f.find(t, f.developer, junction.ServiceFilter{})
		require.Equal(t, []string{"Alpha", "bravo", "charlie", "Delta", "echo"}, displayNames(services), "case-insensitive")
		services, _, _ = f.find(t, f.developer, junction.ServiceFilter{Sort: "name"})
		require.Equal(t, []string{"Alpha", "bravo", "charlie", "Delta", "echo"}, displayNames(services))
	})

	t.Run("Newest", func(t *testing.T) {
		services, _, _ := f.find(t, f.developer, junction.ServiceFilter{Sort: "newest"})
		require.Equal(t, []string{"Delta", "bravo", "echo", "Alpha", "charlie"}, displayNames(services))
	})

	t.Run("Pages", func(t *testing.T) {
		var seen []string
		for page := 1; page <= 3; page++ {
			services, total, facets := f.find(t, f.developer, junction.ServiceFilter{Page: junction.NewPage(page, 2)})
			require.Equal(t, 5, total, "the total counts every page")
			require.Equal(t, 5, facets.Kinds[junction.KindDatabase])
			require.Len(t, services, min(2, 5-2*(page-1)))
			seen = append(seen, displayNames(services)...)
		}
		require.Equal(t, []string{"Alpha", "bravo", "charlie", "Delta", "echo"}, seen)

		services, total, _ := f.find(t, f.developer, junction.ServiceFilter{Page: junction.NewPage(4, 2)})
		require.Empty(t, services, "past the end")
		require.Equal(t, 5, total)

		services, total, _ = f.find(t, f.developer, junction.ServiceFilter{Sort: "newest", Page: junction.NewPage(2, 2)})
		require.Equal(t, []string{"echo", "Alpha"}, displayNames(services))
		require.Equal(t, 5, total)
	})
}

func TestServiceService_FindServices_Project(t *testing.T) {
	f := newVisibilityFixture(t)
	billing := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityProject))

	services, total, _ := f.find(t, f.admin, junction.ServiceFilter{Project: "shop"})
	require.ElementsMatch(t, []string{f.project.ID, f.organization.ID, f.public.ID}, serviceIDs(services))
	require.Equal(t, 3, total)

	services, _, _ = f.find(t, f.admin, junction.ServiceFilter{Project: "billing"})
	require.Equal(t, []string{billing.ID}, serviceIDs(services))

	// A non-member sees only what the project shares.
	services, _, _ = f.find(t, f.outsider, junction.ServiceFilter{Project: "shop"})
	require.ElementsMatch(t, []string{f.organization.ID, f.public.ID}, serviceIDs(services))
	services, total, _ = f.find(t, f.developer, junction.ServiceFilter{Project: "billing"})
	require.Empty(t, services)
	require.Zero(t, total)

	services, total, _ = f.find(t, f.admin, junction.ServiceFilter{Project: "nope"})
	require.Empty(t, services)
	require.Zero(t, total)
}

func TestServiceService_ComponentRenamed(t *testing.T) {
	f := newServiceFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	f.mustCreateService(t, f.developer, databaseService("Middle"))
	require.Equal(t, []string{"inventory – Stock API"}, f.search(t, f.outsider, "inventory"))

	name := "Warehouse"
	_, err := f.components.UpdateComponent(ContextAs(t, f.developer), "shop", "inventory", junction.ComponentUpdate{Name: &name})
	require.NoError(t, err)

	got, err := f.services.FindService(ContextAs(t, f.outsider), svc.ID)
	require.NoError(t, err)
	require.Equal(t, "Warehouse", got.ComponentName)
	require.Equal(t, "inventory", got.Component, "the handle stays")
	require.Equal(t, "Warehouse – Stock API", got.DisplayName())

	require.Equal(t, []string{"Warehouse – Stock API"}, f.search(t, f.outsider, "warehouse"))
	require.Equal(t, []string{"Warehouse – Stock API"}, f.search(t, f.outsider, "wareh stock"))
	require.Empty(t, f.search(t, f.outsider, "inventory"), "the old name is gone from the index")

	// The catalog sorts by the new display name.
	services, _, _ := f.find(t, f.outsider, junction.ServiceFilter{})
	require.Equal(t, []string{"Middle", "Warehouse – Stock API"}, displayNames(services))

	// The stored display name is exactly what the domain computes.
	var stored string
	require.NoError(t, f.store.ReadPool().QueryRowContext(t.Context(), `SELECT display_name FROM services WHERE id = ?`, svc.ID).Scan(&stored))
	require.Equal(t, got.DisplayName(), stored)
}

func TestServiceService_UpdateService(t *testing.T) {
	update := func() *junction.Service {
		return &junction.Service{
			Name: " Stock API 2 ", Version: "v2", Description: "New.", Tags: []string{"Stock"},
			Visibility: junction.VisibilityPublic, Security: junction.SecurityAPIKey,
			URLs: map[string]string{"production": "https://stock.example.com/v2"},
			// Ignored: an update cannot move the service or change its kind.
			Kind: junction.KindDatabase, Project: "billing", Component: "payments", Engine: "redis",
		}
	}

	t.Run("OK", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityProject))
		later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		f.store.Now = func() time.Time { return later }

		updated, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, update())
		require.NoError(t, err)
		require.Equal(t, "Stock API 2", updated.Name)

		got, err := f.services.FindService(ContextAs(t, f.outsider), svc.ID)
		require.NoError(t, err, "now public")
		require.Equal(t, svc.ID, got.ID)
		require.Equal(t, junction.KindInternal, got.Kind)
		require.Equal(t, "Stock API 2", got.Name)
		require.Equal(t, "v2", got.Version)
		require.Equal(t, "New.", got.Description)
		require.Equal(t, []string{"stock"}, got.Tags)
		require.Equal(t, junction.VisibilityPublic, got.Visibility)
		require.Equal(t, junction.SecurityAPIKey, got.Security)
		require.Equal(t, map[string]string{"production": "https://stock.example.com/v2"}, got.URLs)
		require.Equal(t, "shop", got.Project)
		require.Equal(t, "inventory", got.Component)
		require.Empty(t, got.Engine)
		require.True(t, got.UpdatedAt.Equal(later))
		require.True(t, got.CreatedAt.Equal(svc.CreatedAt))

		require.Equal(t, []string{"inventory – Stock API 2"}, f.search(t, f.outsider, "new"))
		require.Equal(t, []string{"inventory – Stock API 2"}, f.search(t, f.outsider, "stock 2"))
	})

	t.Run("KeepsUnlisted", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.developer), svc.ID, false))
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, update())
		require.NoError(t, err)
		got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		require.True(t, got.Unlisted)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		upd := update()
		upd.URLs = map[string]string{"development": "/relative"}
		upd.Security = "basic"
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "urls.development")
		require.Contains(t, junction.ErrorFields(err), "security")
		got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		require.Equal(t, "Stock API", got.Name, "a refused update changes nothing")
		require.Equal(t, junction.SecurityOAuth, got.Security)
	})

	t.Run("ErrNameTaken", func(t *testing.T) {
		f := newServiceFixture(t)
		f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API 2", junction.VisibilityPublic))
		other := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		upd := update()
		upd.Name, upd.Version = "stock api 2", "v1"
		_, err := f.services.UpdateService(ContextAs(t, f.developer), other.ID, upd)
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "name")
	})

	tests := []struct {
		name     string
		user     func(*serviceFixture) *junction.User
		svc      func(*serviceFixture) *junction.Service
		wantCode string
	}{
		{"OKAdmin", func(f *serviceFixture) *junction.User { return f.admin }, func(f *serviceFixture) *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, ""},
		{"ErrViewer", func(f *serviceFixture) *junction.User { return f.viewer }, func(f *serviceFixture) *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, junction.EFORBIDDEN},
		{"ErrOutsiderVisible", func(f *serviceFixture) *junction.User { return f.outsider }, func(f *serviceFixture) *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization)
		}, junction.EFORBIDDEN},
		{"ErrOutsiderHidden", func(f *serviceFixture) *junction.User { return f.outsider }, func(f *serviceFixture) *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, junction.ENOTFOUND},
		{"ErrAnonymous", func(*serviceFixture) *junction.User { return nil }, func(f *serviceFixture) *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		}, junction.EUNAUTHORIZED},
		{"ErrThirdPartyByAdmin", func(f *serviceFixture) *junction.User { return f.admin }, func(*serviceFixture) *junction.Service {
			return thirdPartyService("Twilio")
		}, junction.EINVALID},
		{"ErrThirdPartyByCreator", func(f *serviceFixture) *junction.User { return f.developer }, func(*serviceFixture) *junction.Service {
			return thirdPartyService("Twilio")
		}, junction.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			svc := f.mustCreateService(t, f.developer, tt.svc(f))
			before, err := f.services.FindService(ContextAs(t, f.admin), svc.ID)
			require.NoError(t, err)

			upd := update()
			if svc.Kind != junction.KindInternal {
				// A valid change for its own kind.
				upd = tt.svc(f)
				upd.Description = "Changed."
			}
			_, err = f.services.UpdateService(ContextAs(t, tt.user(f)), svc.ID, upd)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			after, err := f.services.FindService(ContextAs(t, f.admin), svc.ID)
			require.NoError(t, err)
			if tt.wantCode != "" {
				require.Equal(t, before, after, "a refused update changes nothing")
			} else {
				require.Equal(t, "Stock API 2", after.Name)
			}
		})
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		f := newServiceFixture(t)
		_, err := f.services.UpdateService(ContextAs(t, f.admin), "svc_nope", update())
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestServiceService_UpdateDatabase(t *testing.T) {
	// edit is the database as its edit form sends it back: every value, passwords empty.
	edit := func() *junction.Service {
		svc := databaseService("orders-db")
		svc.Description = "Orders, moved."
		svc.Values["production"]["HostName"] = "db2.example.com"
		svc.Values["development"]["Password"] = ""
		svc.Values["production"]["Password"] = ""
		return svc
	}
	reveal := func(t *testing.T, f *connFixture, id string) map[string]string {
		t.Helper()
		c := f.reveal(t, id)
		out := map[string]string{}
		for env, v := range paramValues(c, junction.ParamPassword) {
			out["Password/"+env] = v
		}
		for env, v := range paramValues(c, junction.ParamHostName) {
			out["HostName/"+env] = v
		}
		return out
	}

	t.Run("OKPasswordsKept", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseService("orders-db"))
		conn := f.connect(t, f.developer, "shop", "", svc.ID, "orders")

		updated, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, edit())
		require.NoError(t, err)
		require.Equal(t, junction.Masked, updated.Values["production"]["Password"], "the answer is masked")
		require.Equal(t, map[string]string{
			"Password/development": "dev-pw", "Password/production": "prod-pw",
			"HostName/development": "localhost", "HostName/production": "db2.example.com",
		}, reveal(t, f, conn.ID), "the connection follows the service at once")
		got, err := f.services.FindService(ContextAs(t, f.admin), svc.ID)
		require.NoError(t, err)
		require.Equal(t, "Orders, moved.", got.Description)
	})

	t.Run("OKPasswordChanged", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseService("orders-db"))
		conn := f.connect(t, f.developer, "shop", "", svc.ID, "orders")
		upd := edit()
		upd.Values["production"]["Password"] = "rotated-pw"
		_, err := f.services.UpdateService(ContextAs(t, f.admin), svc.ID, upd)
		require.NoError(t, err)
		got := reveal(t, f, conn.ID)
		require.Equal(t, "rotated-pw", got["Password/production"])
		require.Equal(t, "dev-pw", got["Password/development"])
	})

	t.Run("OKEnvironmentDropped", func(t *testing.T) {
		// Emptying an environment (its password left empty too) stops serving it; the old
		// password does not linger.
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseService("orders-db"))
		conn := f.connect(t, f.developer, "shop", "", svc.ID, "orders")
		upd := edit()
		upd.Values["development"] = map[string]string{"HostName": "", "Port": "", "DatabaseName": "", "Username": "", "Password": ""}
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.NoError(t, err)
		got := reveal(t, f, conn.ID)
		require.Empty(t, got["Password/development"])
		require.Equal(t, "prod-pw", got["Password/production"])
	})

	t.Run("ErrInvalidSavesNothing", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseService("orders-db"))
		conn := f.connect(t, f.developer, "shop", "", svc.ID, "orders")
		before := reveal(t, f, conn.ID)
		upd := edit()
		upd.Values["production"]["Port"] = "99999"
		upd.Values["production"]["Password"] = "never-saved"
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "values.production.Port")
		require.Equal(t, before, reveal(t, f, conn.ID))
	})

	t.Run("ErrForbidden", func(t *testing.T) {
		// Only the creator and admins change a database (as for any registered service).
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.admin, databaseService("orders-db"))
		_, err := f.services.UpdateService(ContextAs(t, f.otherDev), svc.ID, edit())
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
	})
}

func TestServiceService_DeleteService(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newServiceFixture(t)
		svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		keep := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Other API", junction.VisibilityPublic))
		require.NoError(t, f.services.DeleteService(ContextAs(t, f.developer), svc.ID))

		_, err := f.services.FindService(ContextAs(t, f.admin), svc.ID)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		require.Empty(t, f.search(t, f.admin, "stock"))
		services, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
		require.Equal(t, []string{keep.ID}, serviceIDs(services))
		require.Equal(t, 1, total)

		err = f.services.DeleteService(ContextAs(t, f.developer), svc.ID)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "deleting twice")

		// The name and version are free again.
		again := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityPublic))
		require.NotEqual(t, svc.ID, again.ID)
		require.Equal(t, []string{"inventory – Stock API"}, f.search(t, f.admin, "stock"))
		requireFTSIntegrity(t, f.store)
	})

	tests := []struct {
		name     string
		user     func(*serviceFixture) *junction.User
		svc      func() *junction.Service
		wantCode string
	}{
		{"OKAdmin", func(f *serviceFixture) *junction.User { return f.admin }, func() *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, ""},
		{"ErrViewer", func(f *serviceFixture) *junction.User { return f.viewer }, func() *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, junction.EFORBIDDEN},
		{"ErrOtherProjectDeveloper", func(f *serviceFixture) *junction.User { return f.otherDev }, func() *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		}, junction.EFORBIDDEN},
		{"ErrOutsiderHidden", func(f *serviceFixture) *junction.User { return f.outsider }, func() *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityProject)
		}, junction.ENOTFOUND},
		{"ErrAnonymous", func(*serviceFixture) *junction.User { return nil }, func() *junction.Service {
			return internalService("shop", "inventory", "Stock API", junction.VisibilityPublic)
		}, junction.EUNAUTHORIZED},
		{"ErrThirdParty", func(f *serviceFixture) *junction.User { return f.admin }, func() *junction.Service { return thirdPartyService("Twilio") }, junction.EINVALID},
		{"ErrThirdPartyCreator", func(f *serviceFixture) *junction.User { return f.developer }, func() *junction.Service { return thirdPartyService("Twilio") }, junction.EINVALID},
		{"ErrDatabase", func(f *serviceFixture) *junction.User { return f.admin }, func() *junction.Service { return databaseService("orders-db") }, junction.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			svc := f.mustCreateService(t, f.developer, tt.svc())
			err := f.services.DeleteService(ContextAs(t, tt.user(f)), svc.ID)
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			_, findErr := f.services.FindService(ContextAs(t, f.admin), svc.ID)
			if tt.wantCode != "" {
				require.NoError(t, findErr, "a refused delete keeps the service")
			} else {
				require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(findErr))
			}
		})
	}
}

// requireFTSIntegrity checks that the full-text index matches the services table.
func requireFTSIntegrity(t *testing.T, store *db.DB) {
	t.Helper()
	require.NoError(t, store.CheckSearchIndex(t.Context()), "the search index is out of step with services")
}

func TestServiceService_Cascades(t *testing.T) {
	t.Run("DeleteComponent", func(t *testing.T) {
		f := newServiceFixture(t)
		gone := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Zebra API", junction.VisibilityPublic))
		keep := f.mustCreateService(t, f.developer, internalService("shop", "orders", "Orders API", junction.VisibilityPublic))
		tp := f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))
		last := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Yak API", junction.VisibilityPublic))

		require.NoError(t, f.components.DeleteComponent(ContextAs(t, f.developer), "shop", "inventory"))
		for _, svc := range []*junction.Service{gone, last} {
			_, err := f.services.FindService(ContextAs(t, f.admin), svc.ID)
			require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), svc.Name)
		}
		services, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
		require.ElementsMatch(t, []string{keep.ID, tp.ID}, serviceIDs(services))
		require.Equal(t, 2, total)
		requireFTSIntegrity(t, f.store)

		// A new service must not inherit the search terms of deleted ones (rowids are reused).
		f.mustCreateService(t, f.admin, databaseService("fresh-db"))
		require.Empty(t, f.search(t, f.admin, "zebra"))
		require.Empty(t, f.search(t, f.admin, "yak"))
		require.Equal(t, []string{"fresh-db"}, f.search(t, f.admin, "fresh"))

		// The component handle can be used again, without the old services.
		MustCreateComponent(t, f.store, f.developer, "shop", "inventory")
		list, err := f.services.FindComponentServices(ContextAs(t, f.developer), "shop", "inventory")
		require.NoError(t, err)
		require.Empty(t, list)
	})

	t.Run("DeleteProject", func(t *testing.T) {
		f := newServiceFixture(t)
		f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Zebra API", junction.VisibilityPublic))
		f.mustCreateService(t, f.developer, internalService("shop", "orders", "Yak API", junction.VisibilityProject))
		keep := f.mustCreateService(t, f.otherDev, internalService("billing", "payments", "Payments API", junction.VisibilityPublic))
		tp := f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))

		require.NoError(t, f.projects.DeleteProject(ContextAs(t, f.admin), "shop", true))
		services, total, _ := f.find(t, f.admin, junction.ServiceFilter{})
		require.ElementsMatch(t, []string{keep.ID, tp.ID}, serviceIDs(services))
		require.Equal(t, 2, total)
		var n int
		require.NoError(t, f.store.ReadPool().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM services`).Scan(&n))
		require.Equal(t, 2, n)
		requireFTSIntegrity(t, f.store)
		f.mustCreateService(t, f.admin, databaseService("fresh-db"))
		require.Empty(t, f.search(t, f.admin, "zebra"))
		require.Empty(t, f.search(t, f.admin, "yak"))
	})

	t.Run("DeleteCreatorKeepsService", func(t *testing.T) {
		f := newServiceFixture(t)
		tp := f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))
		_, err := f.store.WritePool().ExecContext(t.Context(), `DELETE FROM users WHERE id = ?`, f.developer.ID)
		require.NoError(t, err)
		got, err := f.services.FindService(ContextAs(t, f.admin), tp.ID)
		require.NoError(t, err)
		require.True(t, got.CanEdit, "admins still may")
	})
}

func TestServiceService_FindComponentServices(t *testing.T) {
	f := newServiceFixture(t)
	b := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "beta API", junction.VisibilityProject))
	a := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Alpha API", junction.VisibilityPublic))
	a2 := internalService("shop", "inventory", "Alpha API", junction.VisibilityPublic)
	a2.Version = "v2"
	f.mustCreateService(t, f.developer, a2)
	f.mustCreateService(t, f.developer, internalService("shop", "orders", "Orders API", junction.VisibilityPublic))
	f.mustCreateService(t, f.developer, thirdPartyService("Twilio"))
	require.NoError(t, f.services.SetServiceListed(ContextAs(t, f.developer), b.ID, false))

	tests := []struct {
		name     string
		user     *junction.User
		canEdit  bool
		wantCode string
	}{
		{"Admin", f.admin, true, ""},
		{"Developer", f.developer, true, ""},
		{"Viewer", f.viewer, false, ""},
		{"ErrOutsider", f.outsider, false, junction.ENOTFOUND},
		{"ErrOtherProjectDeveloper", f.otherDev, false, junction.ENOTFOUND},
		{"ErrAnonymous", nil, false, junction.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			services, err := f.services.FindComponentServices(ContextAs(t, tt.user), "shop", "inventory")
			require.Equal(t, tt.wantCode, junction.ErrorCode(err), "%v", err)
			if tt.wantCode != "" {
				require.Empty(t, services)
				return
			}
			var got []string
			for _, s := range services {
				got = append(got, s.Name+"@"+s.Version)
				require.Equal(t, "inventory", s.Component)
				require.Equal(t, "shop", s.Project)
				require.Equal(t, tt.canEdit, s.CanEdit, s.Name)
				require.NotEmpty(t, s.URLs)
			}
			require.Equal(t, []string{"Alpha API@v1", "Alpha API@v2", "beta API@v1"}, got, "ordered by name and version, unlisted included")
			require.Equal(t, a.ID, services[0].ID)
			require.True(t, services[2].Unlisted)
		})
	}

	t.Run("Empty", func(t *testing.T) {
		MustCreateComponent(t, f.store, f.developer, "shop", "quiet")
		services, err := f.services.FindComponentServices(ContextAs(t, f.developer), "shop", "quiet")
		require.NoError(t, err)
		require.Empty(t, services)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := f.services.FindComponentServices(ContextAs(t, f.admin), "shop", "nope")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, err = f.services.FindComponentServices(ContextAs(t, f.admin), "nope", "inventory")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
		_, err = f.services.FindComponentServices(ContextAs(t, f.admin), "billing", "inventory")
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "a component of another project")
	})
}

func TestServiceService_SearchDecomposedDiacritics(t *testing.T) {
	f := newSearchFixture(t)
	// "Météo" typed in NFD (e + U+0301 COMBINING ACUTE ACCENT), as some systems send it.
	require.Equal(t, []string{"Zürich Weather"}, f.search(t, f.developer, "Me\u0301te\u0301o"))
	require.Equal(t, []string{"Zürich Weather"}, f.search(t, f.developer, "Zu\u0308rich"))
}

func TestServiceSearchRelevance(t *testing.T) {
	store := MustOpenDB(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	services := db.NewServiceService(store)
	ctx := ContextAs(t, admin)
	for _, s := range []struct{ name, description string }{
		{"Aardvark Mailer", "Sends invoices by e-mail."},
		{"Invoices", "Billing documents."},
		{"Zebra Ledger", "Keeps accounts; exports invoices monthly."},
	} {
		svc := &junction.Service{Kind: junction.KindThirdParty, Name: s.name, Version: "v1", Description: s.description,
			Endpoints: []junction.Endpoint{{Name: "live", URL: "https://x.example", Environments: []string{"production"}}}}
		require.NoError(t, services.CreateService(ctx, svc))
	}
	find := func(sort string) []string {
		found, _, _, err := services.FindServices(ctx, junction.ServiceFilter{Query: "invoices", Sort: sort, Page: junction.NewPage(1, 20)})
		require.NoError(t, err)
		return displayNames(found)
	}
	require.Equal(t, "Invoices", find("")[0], "a search ranks a match in the name first by default")
	require.Equal(t, []string{"Aardvark Mailer", "Invoices", "Zebra Ledger"}, find(junction.SortName))
	require.Equal(t, []string{"Zebra Ledger", "Invoices", "Aardvark Mailer"}, find(junction.SortNewest))
}
