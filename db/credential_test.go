package db_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// databaseWithReadonly is databaseService with a readonly credential in both environments.
func databaseWithReadonly(name string) *junction.Service {
	svc := databaseService(name)
	svc.Credentials = map[string][]junction.DatabaseCredential{
		"development": {{Name: "readonly", Username: "reporter", Password: "dev-ro-pw"}},
		"production":  {{Name: "readonly", Username: "reporter", Password: "prod-ro-pw"}},
	}
	return svc
}

// credentialEdit is the database as its edit form sends it back: every value, passwords
// empty, so that they are kept.
func credentialEdit(svc *junction.Service) *junction.Service {
	upd := databaseWithReadonly(svc.Name)
	for env := range upd.Values {
		upd.Values[env]["Password"] = ""
		for i := range upd.Credentials[env] {
			upd.Credentials[env][i].Password = ""
		}
	}
	return upd
}

// connectWith creates a connection as user choosing credentials per environment.
func (f *connFixture) connectWith(t *testing.T, user *junction.User, project, component, serviceID, name string, credentials map[string]string) *junction.Connection {
	t.Helper()
	c := &junction.Connection{Name: name, Project: project, Component: component, Service: junction.ServiceRef{ID: serviceID}, Credentials: credentials}
	err := f.conns.CreateConnection(ContextAs(t, user), c)
	require.NoError(t, err, "create connection %q: %v", name, junction.ErrorFields(err))
	return c
}

// users returns the Username and Password the revealed connection has per environment.
func (f *connFixture) users(t *testing.T, id string) map[string][2]string {
	t.Helper()
	c := f.reveal(t, id)
	out := map[string][2]string{}
	for env, u := range paramValues(c, junction.ParamUsername) {
		out[env] = [2]string{u, paramValues(c, junction.ParamPassword)[env]}
	}
	return out
}

func TestCredentials_SealedAndMasked(t *testing.T) {
	const canary = "JUNCTION-CANARY-CREDENTIAL-4e2b9d17-do-not-store"
	store, path, key := MustOpenDBWithKey(t)
	admin := MustCreateUser(t, store, "admin@example.com", true)
	services := db.NewServiceService(store)
	ctx := ContextAs(t, admin)
	svc := databaseWithReadonly("orders-db")
	svc.Credentials["development"][0].Password = canary
	svc.Credentials["development"] = append(svc.Credentials["development"], junction.DatabaseCredential{Name: "trusted", Username: "t"})
	require.NoError(t, services.CreateService(ctx, svc))
	require.Equal(t, junction.Masked, svc.Credentials["development"][0].Password, "CreateService answers masked")

	got, err := services.FindService(ctx, svc.ID)
	require.NoError(t, err)
	require.Equal(t, []junction.DatabaseCredential{
		{Name: "readonly", Username: "reporter", Password: junction.Masked},
		{Name: "trusted", Username: "t"},
	}, got.Credentials["development"], "masked; an empty password reads back empty")
	raw, err := json.Marshal(got)
	require.NoError(t, err)
	require.NotContains(t, string(raw), canary)
	require.Contains(t, string(raw), `"credentials":{"readonly":{"Username":"reporter","Password":"********"}`)

	secrets := openServiceSecrets(t, store, svc.ID)
	require.Equal(t, canary, secrets["credential/development/readonly"])
	require.Equal(t, "prod-ro-pw", secrets["credential/production/readonly"])
	var spec string
	require.NoError(t, store.ReadPool().QueryRowContext(t.Context(), `SELECT spec FROM services WHERE id = ?`, svc.ID).Scan(&spec))
	require.Contains(t, spec, "reporter", "user names are in the spec")
	require.NotContains(t, spec, "ro-pw")

	require.False(t, bytes.Contains(storedBytes(t, store, path), []byte(canary)), "a credential's password is in the raw database")

	store = MustReopenDB(t, path, key)
	require.Equal(t, canary, openServiceSecrets(t, store, svc.ID)["credential/development/readonly"], "opens after reopening")
}

func TestCredentials_ConnectionChoosesPerEnvironment(t *testing.T) {
	f := newConnFixture(t)
	svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))

	t.Run("OKDefault", func(t *testing.T) {
		c := f.connect(t, f.developer, "shop", "", svc.ID, "orders")
		require.Equal(t, map[string]string{"development": "default", "production": "default"}, c.Credentials)
		require.Equal(t, map[string][2]string{"development": {"app", "dev-pw"}, "production": {"app", "prod-pw"}}, f.users(t, c.ID))
	})

	t.Run("OKChosen", func(t *testing.T) {
		c := f.connectWith(t, f.developer, "shop", "orders", svc.ID, "reports", map[string]string{"development": "readonly"})
		require.Equal(t, map[string]string{"development": "readonly", "production": "default"}, c.Credentials)
		require.Equal(t, map[string][2]string{"development": {"reporter", "dev-ro-pw"}, "production": {"app", "prod-pw"}}, f.users(t, c.ID))
		got, err := f.conns.FindConnection(ContextAs(t, f.viewer), c.ID, false)
		require.NoError(t, err)
		require.Equal(t, c.Credentials, got.Credentials, "the choice is stored")
		require.Equal(t, junction.Masked, paramValues(got, junction.ParamPassword)["development"])
	})

	t.Run("ErrUnknownCredential", func(t *testing.T) {
		c := &junction.Connection{Name: "bad", Project: "shop", Service: junction.ServiceRef{ID: svc.ID}, Credentials: map[string]string{"development": "admin"}}
		err := f.conns.CreateConnection(ContextAs(t, f.developer), c)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err)["credentials.development"], `no credential "admin" in development`)
		list, err := f.conns.FindConnections(ContextAs(t, f.admin), junction.ConnectionFilter{Project: "shop"})
		require.NoError(t, err)
		for _, c := range list {
			require.NotEqual(t, "bad", c.Name, "nothing is created")
		}
	})

	t.Run("ErrCredentialsForAnotherKind", func(t *testing.T) {
		tp := f.mustCreateService(t, f.admin, thirdPartyService("Twilio"))
		c := &junction.Connection{Name: "sms", Project: "shop", Service: junction.ServiceRef{ID: tp.ID}, Credentials: map[string]string{"development": "readonly"}}
		err := f.conns.CreateConnection(ContextAs(t, f.developer), c)
		require.Contains(t, junction.ErrorFields(err), "credentials.development")
	})

	t.Run("UpdateChoice", func(t *testing.T) {
		c := f.connect(t, f.developer, "shop", "inventory", svc.ID, "stock-db")
		got, err := f.conns.UpdateConnection(ContextAs(t, f.developer), c.ID, junction.ConnectionUpdate{Credentials: map[string]string{"production": "readonly"}})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"development": "default", "production": "readonly"}, got.Credentials)
		got, err = f.conns.UpdateConnection(ContextAs(t, f.developer), c.ID, junction.ConnectionUpdate{Credentials: map[string]string{"development": "readonly"}})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"development": "readonly", "production": "readonly"}, got.Credentials, "the other environment keeps its choice")
		require.Equal(t, "stock-db", got.Name, "name unchanged")
		require.Equal(t, map[string][2]string{"development": {"reporter", "dev-ro-pw"}, "production": {"reporter", "prod-ro-pw"}}, f.users(t, c.ID))

		_, err = f.conns.UpdateConnection(ContextAs(t, f.developer), c.ID, junction.ConnectionUpdate{Credentials: map[string]string{"production": "nope"}})
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "credentials.production")
		_, err = f.conns.UpdateConnection(ContextAs(t, f.viewer), c.ID, junction.ConnectionUpdate{Credentials: map[string]string{"production": "default"}})
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
		got, err = f.conns.FindConnection(ContextAs(t, f.developer), c.ID, false)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"development": "readonly", "production": "readonly"}, got.Credentials, "a failed update changes nothing")
	})
}

func TestCredentials_UpdateDatabase(t *testing.T) {
	t.Run("OKPasswordKept", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
		c := f.connectWith(t, f.developer, "shop", "", svc.ID, "reports", map[string]string{"development": "readonly"})
		upd := credentialEdit(svc)
		upd.Credentials["production"][0].Password = junction.Masked // as the API answers it
		updated, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.NoError(t, err)
		require.Equal(t, junction.Masked, updated.Credentials["development"][0].Password, "the answer is masked")
		secrets := openServiceSecrets(t, f.store, svc.ID)
		require.Equal(t, "dev-ro-pw", secrets["credential/development/readonly"])
		require.Equal(t, "prod-ro-pw", secrets["credential/production/readonly"])
		require.Equal(t, [2]string{"reporter", "dev-ro-pw"}, f.users(t, c.ID)["development"])
	})

	t.Run("OKPasswordChangedReachesConnections", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
		reports := f.connectWith(t, f.developer, "shop", "", svc.ID, "reports", map[string]string{"development": "readonly"})
		app := f.connect(t, f.developer, "shop", "orders", svc.ID, "orders-db")
		upd := credentialEdit(svc)
		upd.Credentials["development"][0].Password = "rotated-ro-pw"
		upd.Credentials["development"][0].Username = "reporter2"
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.NoError(t, err)
		require.Equal(t, map[string][2]string{"development": {"reporter2", "rotated-ro-pw"}, "production": {"app", "prod-pw"}}, f.users(t, reports.ID))
		require.Equal(t, map[string][2]string{"development": {"app", "dev-pw"}, "production": {"app", "prod-pw"}}, f.users(t, app.ID), "other credentials unchanged")
	})

	t.Run("OKAddAndRemoveUnused", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
		f.connect(t, f.developer, "shop", "", svc.ID, "orders")
		upd := credentialEdit(svc)
		upd.Credentials["production"] = []junction.DatabaseCredential{{Name: "migrations", Username: "owner", Password: "m-pw"}}
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		require.NoError(t, err)
		got, err := f.services.FindService(ContextAs(t, f.developer), svc.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"default", "migrations"}, got.CredentialNames("production"))
		require.Equal(t, []string{"default", "readonly"}, got.CredentialNames("development"))
		secrets := openServiceSecrets(t, f.store, svc.ID)
		require.NotContains(t, secrets, "credential/production/readonly", "a removed credential's password does not linger")
		require.Equal(t, "m-pw", secrets["credential/production/migrations"])
	})

	t.Run("ErrRemoveUsedCredential", func(t *testing.T) {
		f := newConnFixture(t)
		svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
		reports := f.connectWith(t, f.developer, "shop", "", svc.ID, "reports", map[string]string{"development": "readonly"})
		nightly := f.connectWith(t, f.developer, "shop", "orders", svc.ID, "nightly", map[string]string{"development": "readonly", "production": "readonly"})
		// A connection in a project the service's owner cannot see is counted, not named.
		hidden := f.connectWith(t, f.otherDev, "billing", "", svc.ID, "billing-reports", map[string]string{"development": "readonly"})

		for name, mutate := range map[string]func(*junction.Service){
			"Credential":  func(u *junction.Service) { u.Credentials["development"] = nil },
			"Renamed":     func(u *junction.Service) { u.Credentials["development"][0].Name = "reporting" },
			"Environment": func(u *junction.Service) { delete(u.Values, "development"); delete(u.Credentials, "development") },
		} {
			t.Run(name, func(t *testing.T) {
				before := openServiceSecrets(t, f.store, svc.ID)
				upd := credentialEdit(svc)
				mutate(upd)
				_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
				require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
				msg := junction.ErrorMessage(err)
				for _, c := range []*junction.Connection{reports, nightly} {
					require.Contains(t, msg, c.Name)
					require.Contains(t, msg, c.ID)
				}
				require.Contains(t, msg, "1 connection(s) in projects you cannot see")
				require.NotContains(t, msg, hidden.ID)
				require.NotContains(t, msg, "billing")
				require.Contains(t, junction.ErrorFields(err), "values.development.credentials.readonly")
				require.Equal(t, before, openServiceSecrets(t, f.store, svc.ID), "nothing changes")
				require.Equal(t, [2]string{"reporter", "dev-ro-pw"}, f.users(t, reports.ID)["development"])
			})
		}

		t.Run("AdminSeesAll", func(t *testing.T) {
			upd := credentialEdit(svc)
			upd.Credentials["development"] = nil
			_, err := f.services.UpdateService(ContextAs(t, f.admin), svc.ID, upd)
			require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
			require.Contains(t, junction.ErrorMessage(err), hidden.ID)
		})

		t.Run("OKAfterMovingTheConnections", func(t *testing.T) {
			move := junction.ConnectionUpdate{Credentials: map[string]string{"development": junction.DefaultCredential}}
			for _, c := range []struct {
				user *junction.User
				id   string
			}{{f.developer, reports.ID}, {f.developer, nightly.ID}, {f.otherDev, hidden.ID}} {
				_, err := f.conns.UpdateConnection(ContextAs(t, c.user), c.id, move)
				require.NoError(t, err)
			}
			upd := credentialEdit(svc)
			upd.Credentials["development"] = nil
			_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
			require.NoError(t, err, "production's readonly, still used by nightly, stays")
			upd.Credentials["production"] = nil
			_, err = f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
			require.Equal(t, junction.ECONFLICT, junction.ErrorCode(err))
			require.Contains(t, junction.ErrorFields(err), "values.production.credentials.readonly")
		})
	})
}

func TestCredentials_RuntimeEnvFollows(t *testing.T) {
	f := newConnFixture(t)
	maps := db.NewMappingService(f.store, f.conns)
	svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
	c := f.connectWith(t, f.developer, "shop", "orders", svc.ID, "reports", map[string]string{"development": "readonly"})
	ctx := ContextAs(t, f.developer)
	_, err := maps.SetMappings(ctx, "shop", "orders", c.ID, map[string]string{
		"HostName": "DB_HOST", "Port": "DB_PORT", "DatabaseName": "DB_NAME", "Username": "DB_USER", "Password": "DB_PASSWORD"})
	require.NoError(t, err)
	_, token, err := maps.CreateRuntimeToken(ctx, "shop", "orders", "development")
	require.NoError(t, err)
	runtimeEnv := func() map[string]string {
		t.Helper()
		vars, err := maps.RuntimeEnv(t.Context(), token)
		require.NoError(t, err)
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	preview := func(reveal bool) map[string]string {
		t.Helper()
		vars, err := maps.Env(ctx, "shop", "orders", "development", reveal)
		require.NoError(t, err)
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	got := runtimeEnv()
	require.Equal(t, "reporter", got["DB_USER"])
	require.Equal(t, "dev-ro-pw", got["DB_PASSWORD"])
	require.Equal(t, junction.Masked, preview(false)["DB_PASSWORD"])

	// A new password of the credential reaches the cached runtime env at once.
	upd := credentialEdit(svc)
	upd.Credentials["development"][0].Password = "rotated-ro-pw"
	_, err = f.services.UpdateService(ctx, svc.ID, upd)
	require.NoError(t, err)
	require.Equal(t, "rotated-ro-pw", runtimeEnv()["DB_PASSWORD"])
	require.Equal(t, "rotated-ro-pw", preview(true)["DB_PASSWORD"])

	// So does moving the connection to another credential.
	_, err = f.conns.UpdateConnection(ctx, c.ID, junction.ConnectionUpdate{Credentials: map[string]string{"development": "default"}})
	require.NoError(t, err)
	got = runtimeEnv()
	require.Equal(t, "app", got["DB_USER"])
	require.Equal(t, "dev-pw", got["DB_PASSWORD"])
}

func TestCredentials_FindConsumers(t *testing.T) {
	f := newConnFixture(t)
	maps := db.NewMappingService(f.store, f.conns)
	svc := f.mustCreateService(t, f.developer, databaseWithReadonly("orders-db"))
	reports := f.connectWith(t, f.developer, "shop", "", svc.ID, "reports", map[string]string{"development": "readonly"})
	f.connect(t, f.otherDev, "billing", "payments", svc.ID, "payments-db")
	for _, comp := range []string{"orders", "inventory"} {
		_, err := maps.SetMappings(ContextAs(t, f.developer), "shop", comp, reports.ID, map[string]string{
			"HostName": "H", "Port": "P", "DatabaseName": "D", "Username": "U", "Password": "PW"})
		require.NoError(t, err)
	}

	list, err := f.conns.FindConsumers(ContextAs(t, f.admin), svc.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "payments-db", list[0].Connection)
	require.Equal(t, map[string]string{"development": "default", "production": "default"}, list[0].Credentials)
	require.Empty(t, list[0].MappedBy)
	require.Equal(t, "reports", list[1].Connection)
	require.Equal(t, map[string]string{"development": "readonly", "production": "default"}, list[1].Credentials)
	require.Equal(t, []string{"shop/inventory", "shop/orders"}, list[1].MappedBy)

	list, err = f.conns.FindConsumers(ContextAs(t, f.developer), svc.ID)
	require.NoError(t, err)
	require.Len(t, list, 1, "only consumers in projects the caller sees")
	require.Equal(t, "reports", list[0].Connection)
}
