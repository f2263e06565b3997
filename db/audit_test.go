package db_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// lastEntry is the newest audit entry with the given action.
func lastEntry(t *testing.T, store *db.DB, admin *junction.User, action string) *junction.AuditEntry {
	t.Helper()
	list, _, err := db.NewAuditService(store).FindAudit(ContextAs(t, admin), junction.AuditFilter{Action: action, Page: junction.NewPage(1, 1)})
	require.NoError(t, err)
	require.NotEmpty(t, list, "an entry %s", action)
	return list[0]
}

func TestAudit_FailedEntryRollsBackTheChange(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	failing := errors.New("audit insert failed")
	f.store.SetAuditHook(func(e *junction.AuditEntry) error {
		if e.Action == "connection.create" || e.Action == "mappings.replace" || e.Action == "project.update" {
			return failing
		}
		return nil
	})
	t.Cleanup(func() { f.store.SetAuditHook(nil) })

	connections := countRows(t, f.store, `SELECT COUNT(*) FROM connections`)
	entries := countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`)
	err := f.conns.CreateConnection(ctx, &junction.Connection{Name: "never", Project: "shop", Service: junction.ServiceRef{ID: f.twilio.Service.ID}})
	require.ErrorIs(t, err, failing)
	require.Equal(t, connections, countRows(t, f.store, `SELECT COUNT(*) FROM connections`), "no change without its entry")

	versions := countRows(t, f.store, `SELECT COUNT(*) FROM mapping_versions`)
	mappings := countRows(t, f.store, `SELECT COUNT(*) FROM mappings`)
	_, err = f.maps.SetMappings(ctx, "shop", "orders", f.stock.ID, map[string]string{"ServiceURL": "A", "ConsumerKey": "B", "ConsumerSecret": "C", "TokenURL": "D"})
	require.ErrorIs(t, err, failing)
	require.Equal(t, mappings, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
	require.Equal(t, versions, countRows(t, f.store, `SELECT COUNT(*) FROM mapping_versions`), "no version without its entry")

	name := "Renamed"
	_, err = db.NewProjectService(f.store).UpdateProject(ctx, "shop", junction.ProjectUpdate{Name: &name})
	require.ErrorIs(t, err, failing)
	p, err := db.NewProjectService(f.store).FindProject(ctx, "shop")
	require.NoError(t, err)
	require.NotEqual(t, name, p.Name)
	require.Equal(t, entries, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), "and no entry without its change")
}

func TestAudit_EntriesOfChanges(t *testing.T) {
	f := newMapFixture(t)
	ctx := junction.NewContextWithRequest(ContextAs(t, f.developer), junction.RequestInfo{ID: "req-1", ClientAddr: "192.0.2.7"})
	name := "twilio-renamed"
	_, err := f.conns.UpdateConnection(ctx, f.twilio.ID, junction.ConnectionUpdate{Name: &name})
	require.NoError(t, err)
	e := lastEntry(t, f.store, f.admin, "connection.update")
	require.Equal(t, "dev@example.com", e.Actor)
	require.Equal(t, "shop", e.Project)
	require.Equal(t, junction.AuditTarget{Type: "connection", ID: f.twilio.ID, Name: name}, e.Target)
	require.Equal(t, "req-1", e.RequestID)
	require.Equal(t, "192.0.2.7", e.ClientAddr)
	require.Equal(t, map[string]any{"before": map[string]any{"name": "twilio"}, "after": map[string]any{"name": name}}, e.Details)

	history, err := db.NewAuditService(f.store).History(ctx, "connection", f.twilio.ID)
	require.NoError(t, err)
	require.Equal(t, "connection.update", history[0].Action)
	require.Equal(t, []junction.FieldChange{{Field: "name", Before: "twilio", After: name}}, history[0].Changes)
	require.Equal(t, "connection.create", history[len(history)-1].Action)

	// Filters: by target ID, by project ID (not a prefix), by action or verb.
	audit := db.NewAuditService(f.store)
	admin := ContextAs(t, f.admin)
	list, _, err := audit.FindAudit(admin, junction.AuditFilter{Target: f.twilio.ID, Page: junction.NewPage(1, 50)})
	require.NoError(t, err)
	require.Len(t, list, 2)
	_, n, err := audit.FindAudit(admin, junction.AuditFilter{Project: "billing", Action: "connection.create", Page: junction.NewPage(1, 50)})
	require.NoError(t, err)
	require.Equal(t, 2, n, "billing's two connections")
	var streamed int
	require.NoError(t, audit.EachAudit(admin, junction.AuditFilter{}, func(*junction.AuditEntry) error { streamed++; return nil }))
	require.Equal(t, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), streamed, "the stream holds every entry")
	_, _, err = audit.FindAudit(ContextAs(t, f.developer), junction.AuditFilter{})
	require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
}

func TestAudit_Purge(t *testing.T) {
	f := newConnFixture(t)
	audit := db.NewAuditService(f.store)
	all := countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`)
	require.Positive(t, all)
	n, err := audit.PurgeAudit(t.Context(), time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "nothing is old yet")
	require.Equal(t, all, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), "a purge of nothing records nothing")
	n, err = audit.PurgeAudit(t.Context(), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, all, n)
	e := lastEntry(t, f.store, f.admin, "audit.purge")
	require.Equal(t, db.SystemActor, e.Actor)
	require.EqualValues(t, all, e.Details["deleted"])
	require.Equal(t, 1, countRows(t, f.store, `SELECT COUNT(*) FROM audit_log`), "only the purge's own entry is left")
}

func TestConnectionService_RotateWithGrace(t *testing.T) {
	f := newConnFixture(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.store.Now = func() time.Time { return now }
	stock := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	oauth := f.connect(t, f.developer, "shop", "", stock.ID, "stock")
	keyConn := f.connect(t, f.developer, "shop", "", keyed.ID, "keyed")
	ctx := ContextAs(t, f.developer)
	const env = "development"

	before := f.reveal(t, oauth.ID)
	clientID, oldSecret := paramValues(before, "ConsumerKey")[env], paramValues(before, "ConsumerSecret")[env]
	oldKey := paramValues(f.reveal(t, keyConn.ID), "ChoreoAPIKey")[env]

	t.Run("ErrGraceTooLong", func(t *testing.T) {
		_, err := f.conns.RotateWithGrace(ctx, oauth.ID, env, 169*time.Hour)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "grace")
		_, err = junction.ParseGrace("a day")
		require.Contains(t, junction.ErrorFields(err), "grace")
	})
	t.Run("OKPreviousWorksUntilTheGraceEnds", func(t *testing.T) {
		rot, err := f.conns.RotateWithGrace(ctx, oauth.ID, env, 24*time.Hour)
		require.NoError(t, err)
		require.Equal(t, now.Add(24*time.Hour), *rot.PreviousValidUntil)
		newSecret := paramValues(f.reveal(t, oauth.ID), "ConsumerSecret")[env]
		require.NotEqual(t, oldSecret, newSecret)
		_, err = f.conns.IssueToken(t.Context(), clientID, oldSecret, nil)
		require.NoError(t, err, "the previous secret works during the grace")
		_, err = f.conns.IssueToken(t.Context(), clientID, newSecret, nil)
		require.NoError(t, err)
		got, err := f.conns.FindConnection(ctx, oauth.ID, false)
		require.NoError(t, err)
		require.Equal(t, map[string]time.Time{env: now.Add(24 * time.Hour)}, got.PreviousValidUntil)
		require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials WHERE previous_secret_sealed IS NOT NULL AND previous_secret_hash IS NULL`))
		for _, raw := range []string{`SELECT previous_secret_sealed FROM oauth_credentials WHERE client_id = ?`} {
			var sealed []byte
			require.NoError(t, f.store.ReadPool().QueryRowContext(t.Context(), raw, clientID).Scan(&sealed))
			require.NotEmpty(t, sealed)
			require.NotContains(t, string(sealed), oldSecret, "the previous secret is sealed at rest")
		}
		e := lastEntry(t, f.store, f.admin, "connection.rotate")
		require.Equal(t, "changed", e.Details["secret"])
		require.Equal(t, "24h0m0s", e.Details["grace"])

		now = now.Add(24*time.Hour + time.Second)
		_, err = f.conns.IssueToken(t.Context(), clientID, oldSecret, nil)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "after the grace the previous secret fails, erased or not")
		n, err := f.conns.EndGraces(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_credentials WHERE previous_secret_sealed IS NOT NULL OR previous_secret_hash IS NOT NULL`), "erased")
		e = lastEntry(t, f.store, f.admin, "rotation.grace_end")
		require.Equal(t, db.SystemActor, e.Actor)
		require.Equal(t, oauth.ID, e.Target.ID)
		_, err = f.conns.IssueToken(t.Context(), clientID, newSecret, nil)
		require.NoError(t, err)
	})
	t.Run("OKFinishEndsTheGraceAtOnce", func(t *testing.T) {
		rot, err := f.conns.RotateWithGrace(ctx, keyConn.ID, env, time.Hour)
		require.NoError(t, err)
		require.NotNil(t, rot.PreviousValidUntil)
		_, err = f.conns.VerifyAPIKey(t.Context(), oldKey)
		require.NoError(t, err, "the previous API key verifies during the grace")
		require.NoError(t, f.conns.FinishRotation(ctx, keyConn.ID, env))
		_, err = f.conns.VerifyAPIKey(t.Context(), oldKey)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err), "finish: the previous key fails at once")
		require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM api_keys WHERE previous_key_sealed IS NOT NULL`))
		require.Equal(t, junction.ECONFLICT, junction.ErrorCode(f.conns.FinishRotation(ctx, keyConn.ID, env)), "nothing left to finish")
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(f.conns.FinishRotation(ContextAs(t, f.viewer), keyConn.ID, env)))
	})
	t.Run("OKNoGraceStopsAtOnce", func(t *testing.T) {
		current := paramValues(f.reveal(t, oauth.ID), "ConsumerSecret")[env]
		rot, err := f.conns.RotateWithGrace(ctx, oauth.ID, env, 0)
		require.NoError(t, err)
		require.Nil(t, rot.PreviousValidUntil)
		_, err = f.conns.IssueToken(t.Context(), clientID, current, nil)
		require.Equal(t, junction.EUNAUTHORIZED, junction.ErrorCode(err))
	})
}

func TestMappingService_HistoryAndRestore(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	names := func(prefix string) map[string]string {
		return map[string]string{"ServiceURL": prefix + "_URL", "AccountSID": prefix + "_SID", "AuthToken": prefix + "_TOKEN"}
	}
	_, err := f.maps.SetMappings(ctx, "shop", "orders", f.twilio.ID, names("ONE"))
	require.NoError(t, err)
	_, err = f.maps.SetMappings(ctx, "shop", "orders", f.twilio.ID, names("TWO"))
	require.NoError(t, err)
	history, err := f.maps.MappingHistory(ctx, "shop", "orders")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(history), 2)
	latest, first := history[0], history[1]
	require.Equal(t, first.Version+1, latest.Version, "newest first")
	require.Contains(t, latest.Mappings, junction.Mapping{ConnectionID: f.twilio.ID, Parameter: "ServiceURL", Env: "TWO_URL"})
	require.Contains(t, first.Mappings, junction.Mapping{ConnectionID: f.twilio.ID, Parameter: "ServiceURL", Env: "ONE_URL"})
	require.Equal(t, "dev@example.com", latest.Actor)

	t.Run("OK", func(t *testing.T) {
		list, err := f.maps.RestoreMappings(ctx, "shop", "orders", first.Version)
		require.NoError(t, err)
		require.ElementsMatch(t, first.Mappings, list)
		after, err := f.maps.MappingHistory(ctx, "shop", "orders")
		require.NoError(t, err)
		require.Equal(t, latest.Version+1, after[0].Version, "a restore is a new version")
		require.Equal(t, "mappings.restore", after[0].Action)
		e := lastEntry(t, f.store, f.admin, "mappings.restore")
		require.EqualValues(t, first.Version, e.Details["restored_version"])
		require.Equal(t, junction.AuditTarget{Type: "mappings", ID: "shop/orders", Name: "orders"}, e.Target)
	})
	t.Run("ErrUnknownVersion", func(t *testing.T) {
		_, err := f.maps.RestoreMappings(ctx, "shop", "orders", 999)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
	t.Run("ErrViewer", func(t *testing.T) {
		_, err := f.maps.RestoreMappings(ContextAs(t, f.viewer), "shop", "orders", first.Version)
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err))
	})
	t.Run("ErrConnectionGone", func(t *testing.T) {
		gone := f.connect(t, f.developer, "shop", "orders", f.twilio.Service.ID, "doomed")
		_, err := f.maps.SetMappings(ctx, "shop", "orders", gone.ID, names("DOOMED"))
		require.NoError(t, err)
		withGone, err := f.maps.MappingHistory(ctx, "shop", "orders")
		require.NoError(t, err)
		require.NoError(t, f.conns.DeleteConnection(ctx, gone.ID, true))
		current, err := f.maps.FindMappings(ctx, "shop", "orders")
		require.NoError(t, err)
		versions := countRows(t, f.store, `SELECT COUNT(*) FROM mapping_versions`)

		_, err = f.maps.RestoreMappings(ctx, "shop", "orders", withGone[0].Version)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), gone.ID)
		require.Contains(t, junction.ErrorMessage(err), `"doomed"`, "named")
		require.Contains(t, junction.ErrorFields(err), gone.ID)
		after, err := f.maps.FindMappings(ctx, "shop", "orders")
		require.NoError(t, err)
		require.ElementsMatch(t, current, after, "nothing restored")
		require.Equal(t, versions, countRows(t, f.store, `SELECT COUNT(*) FROM mapping_versions`))
	})
}

// TestAudit_NeverHoldsASecret does the changes that touch secrets and scans every stored
// entry for the secret values.
func TestAudit_NeverHoldsASecret(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	_, err := f.conns.RotateWithGrace(ctx, f.stock.ID, "development", time.Hour)
	require.NoError(t, err)
	_, err = f.maps.SetMappings(ctx, "shop", "orders", f.twilio.ID, map[string]string{"ServiceURL": "T_URL", "AccountSID": "T_SID", "AuthToken": "T_TOKEN"})
	require.NoError(t, err)
	_, err = f.maps.Env(ctx, "shop", "orders", "development", true)
	require.NoError(t, err)
	pgSvc, err := f.services.FindService(ContextAs(t, f.admin), f.pg.Service.ID)
	require.NoError(t, err)
	upd := *pgSvc
	upd.Values = map[string]map[string]string{}
	for env, vals := range pgSvc.Values {
		upd.Values[env] = map[string]string{}
		for k, v := range vals {
			upd.Values[env][k] = v
		}
		upd.Values[env][junction.ParamPassword] = "brand-new-db-password-" + env
	}
	_, err = f.services.UpdateService(ContextAs(t, f.admin), pgSvc.ID, &upd)
	require.NoError(t, err)

	var secrets []string
	for _, c := range []*junction.Connection{f.twilio, f.stock, f.pg, f.live, f.invOwn, f.billing, f.payOwn} {
		for _, p := range f.reveal(t, c.ID).Parameters {
			if p.Secret {
				for _, v := range p.Values {
					if len(v) >= 6 {
						secrets = append(secrets, v)
					}
				}
			}
		}
	}
	secrets = append(secrets, "brand-new-db-password-development", "brand-new-db-password-production")
	rows, err := f.store.ReadPool().QueryContext(t.Context(), `SELECT action, target, target_name, details FROM audit_log`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var action, target, name, details string
		require.NoError(t, rows.Scan(&action, &target, &name, &details))
		for _, s := range secrets {
			require.False(t, strings.Contains(target+name+details, s), "%s holds a secret", action)
		}
		n++
	}
	require.NoError(t, rows.Err())
	require.Greater(t, n, 10)
	e := lastEntry(t, f.store, f.admin, "service.update")
	require.Equal(t, "changed", e.Details["after"].(map[string]any)["secret env/development/Password"])
}

func TestAudit_ProjectHistoryIsEveryChangeInIt(t *testing.T) {
	f := newMapFixture(t)
	ctx := ContextAs(t, f.developer)
	history, err := db.NewAuditService(f.store).History(ctx, "project", "shop")
	require.NoError(t, err)
	var actions []string
	for _, e := range history {
		require.Equal(t, "shop", e.Project)
		actions = append(actions, e.Action)
	}
	require.Contains(t, actions, "project.create")
	require.Contains(t, actions, "component.create")
	require.Contains(t, actions, "connection.create")
	require.Contains(t, actions, "member.set")
	_, err = db.NewAuditService(f.store).History(ContextAs(t, f.otherDev), "project", "shop")
	require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err), "only for those who may see it")
}

// The retention and grace jobs, and finishing a rotation, change no variable: they must not
// wake the long polls (every waiting component would fetch again) nor empty the runtime cache.
func TestBackgroundJobs_KeepRuntimeEnvironments(t *testing.T) {
	f := newConnFixture(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.store.Now = func() time.Time { return now }
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	keyConn := f.connect(t, f.developer, "shop", "", keyed.ID, "keyed")
	ctx := ContextAs(t, f.developer)
	woken := func(wake <-chan struct{}) bool {
		select {
		case <-wake:
			return true
		default:
			return false
		}
	}

	wake := f.store.EnvChanged()
	_, err := f.conns.RotateWithGrace(ctx, keyConn.ID, "development", time.Hour)
	require.NoError(t, err)
	require.True(t, woken(wake), "a rotation changes a variable: the control")

	wake = f.store.EnvChanged()
	require.NoError(t, f.conns.FinishRotation(ctx, keyConn.ID, "development"))
	require.False(t, woken(wake), "finishing a rotation wakes no long poll")
	_, err = f.conns.RotateWithGrace(ctx, keyConn.ID, "development", time.Hour)
	require.NoError(t, err)
	wake = f.store.EnvChanged()
	now = now.Add(2 * time.Hour)
	n, err := f.conns.EndGraces(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	purged, err := db.NewAuditService(f.store).PurgeAudit(t.Context(), now.Add(time.Hour))
	require.NoError(t, err)
	require.Positive(t, purged)
	require.False(t, woken(wake), "the grace job and the retention job wake no long poll")
}
