package db_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// choreoFixture is a mapFixture with a fresh component shop/reports, which may use only
// shop's project connections (twilio, stock), and services that nothing connects to yet:
// the third-party "Twilio Live" v1 (from mapFixture), the database orders-db, and the
// internal Ledger API v1.3 of billing/payments (organization visibility).
type choreoFixture struct {
	*mapFixture
	ledger *junction.Service
}

func newChoreoFixture(t *testing.T) *choreoFixture {
	t.Helper()
	f := &choreoFixture{mapFixture: newMapFixture(t)}
	MustCreateComponent(t, f.store, f.developer, "shop", "reports")
	ledger := internalService("billing", "payments", "Ledger API", junction.VisibilityOrganization)
	ledger.Version, ledger.Security = "v1.3", junction.SecurityNone
	f.ledger = f.mustCreateService(t, f.otherDev, ledger)
	return f
}

// importYAML parses a file and imports it into shop/<component> as the developer.
func (f *choreoFixture) importYAML(t *testing.T, component, file string, dryRun bool) ([]junction.ImportStep, error) {
	t.Helper()
	imp, err := junction.ParseComponentYAML([]byte(file))
	require.NoError(t, err, "the file parses")
	return f.maps.ImportComponentYAML(ContextAs(t, f.developer), "shop", component, imp, dryRun)
}

func stepEnv(s junction.ImportStep) map[string]string {
	out := map[string]string{}
	for _, m := range s.Mappings {
		out[m.Parameter] = m.Env
	}
	return out
}

func (f *choreoFixture) connectionCount(t *testing.T) int {
	return countRows(t, f.store, `SELECT COUNT(*) FROM connections`)
}

func serviceRefs(entries ...string) string {
	return "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n" + strings.Join(entries, "")
}

func serviceRef(name, config string, env ...string) string {
	s := "    - name: " + name + "\n      connectionConfig: " + config + "\n"
	if len(env) > 0 {
		s += "      env:\n"
		for i := 0; i+1 < len(env); i += 2 {
			s += "        - from: " + env[i] + "\n          to: " + env[i+1] + "\n"
		}
	}
	return s
}

const choreoUUID = "19d2648b-d29c-4452-afdd-1b9311e81412"

func TestMappingService_ImportComponentYAML_ServiceReferences(t *testing.T) {
	t.Run("ByConnectionID", func(t *testing.T) {
		f := newChoreoFixture(t)
		steps, err := f.importYAML(t, "orders", serviceRefs(serviceRef("thirdparty:Twilio/v1", f.twilio.ID, "ServiceURL", "SMS_URL")), false)
		require.NoError(t, err)
		require.Len(t, steps, 1)
		s := steps[0]
		require.Equal(t, junction.ImportMatchConnectionID, s.Match)
		require.Equal(t, f.twilio.ID, s.ConnectionID)
		require.Equal(t, "twilio", s.Connection)
		require.False(t, s.Created)
		require.Equal(t, 4, s.Line)
		want := map[string]string{"ServiceURL": "SMS_URL", "AccountSID": "CHOREO_TWILIO_ACCOUNTSID", "AuthToken": "CHOREO_TWILIO_AUTHTOKEN"}
		require.Equal(t, want, stepEnv(s), "env maps exactly its names; the others get Choreo's default names")
		require.Equal(t, want, f.mappingsOf(t, "shop", "orders", f.twilio.ID))
	})

	t.Run("ConnectionIDOfAConnectionTheComponentMayNotUse", func(t *testing.T) {
		f := newChoreoFixture(t)
		before := f.connectionCount(t)
		// inventory's own connection: not one orders may use, so the name decides, and orders
		// may use the project connection to the same service.
		steps, err := f.importYAML(t, "orders", serviceRefs(serviceRef("thirdparty:Twilio/v1", f.invOwn.ID)), false)
		require.NoError(t, err)
		require.Equal(t, junction.ImportMatchService, steps[0].Match)
		require.Equal(t, f.twilio.ID, steps[0].ConnectionID)
		require.Equal(t, before, f.connectionCount(t))
		require.Empty(t, f.mappingsOf(t, "shop", "inventory", f.invOwn.ID), "the other component's connection is untouched")
	})

	t.Run("ByNameEachKind", func(t *testing.T) {
		for _, tt := range []struct {
			name, ref, wantService, wantConnection string
			match                                  string
		}{
			{"InternalMajorVersion", "choreo:///acme/billing/payments/zzzzz/v1.0/ORGANIZATION", "Ledger API", "Ledger API", junction.ImportMatchCreated},
			{"InternalExistingConnection", "choreo:///acme/shop/inventory/abcde/v1/ORGANIZATION", "Stock API", "stock", junction.ImportMatchService},
			{"ThirdPartyMajorVersion", "thirdparty:twilio live/v1.0", "Twilio Live", "Twilio Live", junction.ImportMatchCreated},
			{"ThirdPartyExistingConnection", "thirdparty:Twilio/v1", "Twilio", "twilio", junction.ImportMatchService},
			{"DatabaseServerAndName", "database:orders-db/orders", "orders-db", "orders-db", junction.ImportMatchCreated},
			{"DatabaseNameOnly", "database:orders", "orders-db", "orders-db", junction.ImportMatchCreated},
			{"DatabaseServerOnly", "database:orders-db", "orders-db", "orders-db", junction.ImportMatchCreated},
			{"DatabaseOtherDatabaseName", "database:orders-db/ordersdb", "orders-db", "orders-db", junction.ImportMatchCreated},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := newChoreoFixture(t)
				before := f.connectionCount(t)
				steps, err := f.importYAML(t, "reports", serviceRefs(serviceRef(tt.ref, choreoUUID, "ServiceURL", "THE_URL")), false)
				if tt.wantService == "orders-db" {
					// A database has no ServiceURL.
					require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
					require.Contains(t, junction.ErrorMessage(err), `Line 7: Connection orders-db has no parameter "ServiceURL"`)
					steps, err = f.importYAML(t, "reports", serviceRefs(serviceRef(tt.ref, choreoUUID, "HostName", "THE_HOST")), false)
				}
				require.NoError(t, err)
				require.Len(t, steps, 1)
				s := steps[0]
				require.Equal(t, tt.match, s.Match)
				require.Equal(t, tt.wantConnection, s.Connection)
				require.Equal(t, tt.match == junction.ImportMatchCreated, s.Created)
				svc, err := f.services.FindService(ContextAs(t, f.developer), s.ServiceID)
				require.NoError(t, err)
				require.Equal(t, tt.wantService, svc.Name)
				if s.Created {
					require.Equal(t, before+1, f.connectionCount(t))
					conn, err := f.conns.FindConnection(ContextAs(t, f.developer), s.ConnectionID, false)
					require.NoError(t, err)
					require.Equal(t, junction.ScopeComponent, conn.Scope)
					require.Equal(t, "reports", conn.Component)
					require.Empty(t, junction.ValidateConnectionName(conn.Name), "a created connection's name follows the rule")
				} else {
					require.Equal(t, before, f.connectionCount(t))
				}
			})
		}
	})

	t.Run("ImportingAgainReusesWhatTheFirstImportMade", func(t *testing.T) {
		f := newChoreoFixture(t)
		file := serviceRefs(serviceRef("thirdparty:Twilio Live/v1", choreoUUID, "ServiceURL", "LIVE_URL"))
		first, err := f.importYAML(t, "reports", file, false)
		require.NoError(t, err)
		require.True(t, first[0].Created)
		count := f.connectionCount(t)
		again, err := f.importYAML(t, "reports", file, false)
		require.NoError(t, err)
		require.Equal(t, junction.ImportMatchService, again[0].Match)
		require.Equal(t, first[0].ConnectionID, again[0].ConnectionID)
		require.Equal(t, count, f.connectionCount(t))
		for _, m := range again[0].Mappings {
			require.Equal(t, m.Env, m.Previous, "nothing changes")
		}
	})

	t.Run("CreatedNamesDoNotClash", func(t *testing.T) {
		f := newChoreoFixture(t)
		// reports may use shop's project connection "twilio"; a new component connection to a
		// service named Twilio-ish must not take a name it already sees.
		other := thirdPartyService("twilio")
		other.Version = "v7"
		f.mustCreateService(t, f.admin, other)
		steps, err := f.importYAML(t, "reports", serviceRefs(serviceRef("thirdparty:twilio/v7", choreoUUID)), false)
		require.NoError(t, err)
		require.True(t, steps[0].Created)
		require.Equal(t, "twilio-2", steps[0].Connection)
	})

	t.Run("ErrTwoEntriesForOneConnection", func(t *testing.T) {
		f := newChoreoFixture(t)
		before := f.connectionCount(t)
		_, err := f.importYAML(t, "reports", serviceRefs(
			serviceRef("thirdparty:Twilio Live/v1", choreoUUID),
			serviceRef("thirdparty:Twilio Live/v1.0", "0b9e3c1d-2f4a-4c6b-8d7e-9f0a1b2c3d4e")), false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "Line 6: thirdparty:Twilio Live/v1.0 resolves to connection Twilio Live")
		require.Contains(t, junction.ErrorMessage(err), "which line 4 already maps")
		require.Equal(t, before, f.connectionCount(t), "one transaction: the first entry's new connection is gone too")
	})

	t.Run("ErrNothingMatches", func(t *testing.T) {
		f := newChoreoFixture(t)
		for _, ref := range []string{
			"thirdparty:Twilio/v2", "thirdparty:Nope/v1", "choreo:///acme/shop/inventory/abcde/v2/PUBLIC",
			"choreo:///acme/shop/nothing/abcde/v1/PUBLIC", "database:nowhere/orders", "database:nothing",
		} {
			_, err := f.importYAML(t, "reports", serviceRefs(serviceRef(ref, choreoUUID)), false)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), ref)
			require.Equal(t, "Line 4: connectionConfig "+choreoUUID+" is not the Connection ID of a connection this component may use, and "+ref+" matches no service in the catalog.", junction.ErrorMessage(err))
			require.Equal(t, junction.ErrorMessage(err), junction.ErrorFields(err)["yaml"])
		}
	})

	t.Run("ErrProjectServiceOfAnotherProject", func(t *testing.T) {
		f := newChoreoFixture(t)
		hidden := internalService("billing", "payments", "Billing Internal", junction.VisibilityProject)
		hidden.Version = "v4"
		f.mustCreateService(t, f.otherDev, hidden)
		_, err := f.importYAML(t, "reports", serviceRefs(serviceRef("choreo:///acme/billing/payments/abcde/v4/PROJECT", choreoUUID)), false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "matches no service in the catalog", "a service the caller may not see resolves to nothing")
	})

	t.Run("SeveralEndpointsOfOneComponent", func(t *testing.T) {
		f := newChoreoFixture(t)
		admin := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock Admin", junction.VisibilityOrganization))
		stockID := f.stock.Service.ID
		// The endpoint id decides…
		steps, err := f.importYAML(t, "reports", serviceRefs(serviceRef("choreo:///acme/shop/inventory/"+junction.EndpointRefID(admin.ID)+"/v1/ORGANIZATION", choreoUUID)), true)
		require.NoError(t, err)
		require.Equal(t, admin.ID, steps[0].ServiceID)
		require.True(t, steps[0].Created)
		// …else the one the component already uses…
		steps, err = f.importYAML(t, "reports", serviceRefs(serviceRef("choreo:///acme/shop/inventory/zzzzz/v1/ORGANIZATION", choreoUUID)), true)
		require.NoError(t, err)
		require.Equal(t, stockID, steps[0].ServiceID)
		require.Equal(t, junction.ImportMatchService, steps[0].Match)
		// …else it is ambiguous.
		_, err = f.importYAML(t, "reports", "dependencies:\n  connectionReferences:\n    - {name: inventory, resourceRef: 'service:/shop/inventory/v1/zzzzz/ORGANIZATION'}\n", true)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "Line 3: service:/shop/inventory/v1/zzzzz/ORGANIZATION: shop/inventory v1 publishes several endpoints, Stock API (")
		require.Contains(t, junction.ErrorMessage(err), `none has the endpoint id "zzzzz"`)
	})

	t.Run("ErrAmbiguousDatabase", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.mustCreateService(t, f.admin, databaseService("orders-replica"))
		_, err := f.importYAML(t, "reports", serviceRefs(serviceRef("database:orders", choreoUUID)), false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Equal(t, "Line 4: database:orders is a database of orders-db and orders-replica: name the server, as database:<server>/orders.", junction.ErrorMessage(err))
		steps, err := f.importYAML(t, "reports", serviceRefs(serviceRef("database:orders-replica/orders", choreoUUID)), true)
		require.NoError(t, err, "naming the server settles it")
		require.Equal(t, "orders-replica", steps[0].Connection)
	})

	t.Run("ErrUnknownParameter", func(t *testing.T) {
		f := newChoreoFixture(t)
		_, err := f.importYAML(t, "orders", serviceRefs(serviceRef("thirdparty:Twilio/v1", f.twilio.ID, "ServiceURL", "SMS_URL", "ApiKey", "SMS_KEY")), false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Equal(t, `Line 9: Connection twilio has no parameter "ApiKey"; it has ServiceURL, AccountSID, AuthToken.`, junction.ErrorMessage(err))
	})

	t.Run("ErrVariableTaken", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "PG"))
		_, err := f.importYAML(t, "orders", serviceRefs(serviceRef("thirdparty:Twilio/v1", f.twilio.ID, "ServiceURL", "SMS_URL", "AuthToken", "PG_HOSTNAME")), false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "Line 9: twilio AuthToken: PG_HOSTNAME is already used by connection orders-db", "the line of the env entry")
	})
}

func TestMappingService_ImportComponentYAML_ConnectionReferences(t *testing.T) {
	t.Run("ByNameAndCreated", func(t *testing.T) {
		f := newChoreoFixture(t)
		file := "schemaVersion: 1.2\ndependencies:\n  connectionReferences:\n" +
			"    - name: Stock\n      resourceRef: service:/shop/inventory/v1/abcde/ORGANIZATION\n" +
			"    - name: ledger\n      resourceRef: service:/billing/payments/v1/abcde/ORGANIZATION\n" +
			"configurations:\n  env:\n    - name: LEDGER\n      valueFrom:\n        connectionRef: {name: ledger, key: ServiceURL}\n"
		steps, err := f.importYAML(t, "reports", file, false)
		require.NoError(t, err)
		require.Len(t, steps, 2)
		require.Equal(t, junction.ImportMatchConnectionName, steps[0].Match, "matched by name, whatever the case")
		require.Equal(t, f.stock.ID, steps[0].ConnectionID)
		require.Equal(t, "CHOREO_STOCK_SERVICEURL", stepEnv(steps[0])["ServiceURL"], "Choreo's default names use the connection's name")
		require.Equal(t, junction.ImportMatchCreated, steps[1].Match, "v1 resolves the Ledger API v1.3")
		require.Equal(t, "ledger", steps[1].Connection)
		require.Equal(t, map[string]string{"ServiceURL": "LEDGER"}, stepEnv(steps[1]))
	})

	t.Run("ShortResourceRefUsesTheImportingProject", func(t *testing.T) {
		f := newChoreoFixture(t)
		steps, err := f.importYAML(t, "reports", "dependencies:\n  connectionReferences:\n    - {name: inventory, resourceRef: inventory/v1}\n", true)
		require.NoError(t, err)
		require.Equal(t, junction.ImportMatchCreated, steps[0].Match)
		conn, err := f.conns.FindConnection(ContextAs(t, f.developer), f.stock.ID, false)
		require.NoError(t, err)
		require.Equal(t, conn.Service.ID, steps[0].ServiceID, "shop/inventory's Stock API")
	})

	t.Run("ErrNewNameBreaksTheRule", func(t *testing.T) {
		f := newChoreoFixture(t)
		before := f.connectionCount(t)
		_, err := f.importYAML(t, "reports", "dependencies:\n  connectionReferences:\n"+
			"    - name: ledger\n      resourceRef: service:/billing/payments/v1/abcde/ORGANIZATION\n"+
			"    - name: db\n      resourceRef: database:orders-db/orders\n", false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Equal(t, `Line 5: A new connection named "db": Use 3 to 50 characters (Choreo's rule for connection names).`, junction.ErrorMessage(err))
		require.Equal(t, before, f.connectionCount(t), "one transaction: the connection the first reference made is gone")
	})

	t.Run("OldNameStillMatches", func(t *testing.T) {
		f := newChoreoFixture(t)
		// A connection named before the rule existed keeps working: a file naming it maps it.
		_, err := f.store.WritePool().ExecContext(t.Context(), `UPDATE connections SET name = 'db' WHERE id = ?`, f.pg.ID)
		require.NoError(t, err)
		steps, err := f.importYAML(t, "orders", "dependencies:\n  connectionReferences:\n    - {name: db, resourceRef: 'database:orders-db/orders'}\n", false)
		require.NoError(t, err)
		require.Equal(t, f.pg.ID, steps[0].ConnectionID)
		require.Equal(t, "CHOREO_DB_HOSTNAME", stepEnv(steps[0])["HostName"])
	})
}

func TestMappingService_ImportComponentYAML_Transaction(t *testing.T) {
	file := serviceRefs(serviceRef("thirdparty:Twilio Live/v1", choreoUUID, "ServiceURL", "LIVE_URL"),
		serviceRef("database:orders-db/orders", "0b9e3c1d-2f4a-4c6b-8d7e-9f0a1b2c3d4e", "HostName", "DB_HOST"))

	t.Run("DryRunChangesNothing", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "reports", f.twilio, names(f.twilio, "SMS"))
		before, mappings := f.connectionCount(t), countRows(t, f.store, `SELECT COUNT(*) FROM mappings`)
		steps, err := f.importYAML(t, "reports", file, true)
		require.NoError(t, err)
		require.Len(t, steps, 2)
		require.True(t, steps[0].Created)
		require.True(t, steps[1].Created)
		require.NotEmpty(t, steps[0].ConnectionID, "the plan names the connection it would create")
		require.Equal(t, before, f.connectionCount(t))
		require.Equal(t, mappings, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
		require.Equal(t, names(f.twilio, "SMS"), f.mappingsOf(t, "shop", "reports", f.twilio.ID))
		require.Zero(t, countRows(t, f.store, `SELECT COUNT(*) FROM oauth_apps WHERE component_id IS NOT NULL AND component_id = (SELECT id FROM components WHERE handle = 'reports')`))

		applied, err := f.importYAML(t, "reports", file, false)
		require.NoError(t, err)
		require.Equal(t, before+2, f.connectionCount(t))
		for i := range steps {
			require.Equal(t, stepEnv(steps[i]), stepEnv(applied[i]), "applying does what the plan said")
		}
		require.Equal(t, names(f.twilio, "SMS"), f.mappingsOf(t, "shop", "reports", f.twilio.ID), "connections the file does not name keep their mappings")
	})

	t.Run("FailureInTheMiddleLeavesNothing", func(t *testing.T) {
		f := newChoreoFixture(t)
		before, mappings := f.connectionCount(t), countRows(t, f.store, `SELECT COUNT(*) FROM mappings`)
		bad := serviceRefs(serviceRef("thirdparty:Twilio Live/v1", choreoUUID, "ServiceURL", "LIVE_URL"),
			serviceRef("database:orders-db/orders", "0b9e3c1d-2f4a-4c6b-8d7e-9f0a1b2c3d4e", "HostName", "DB_HOST"),
			serviceRef("thirdparty:Nope/v1", "7c6d5e4f-3a2b-4c1d-9e8f-a0b1c2d3e4f5"))
		_, err := f.importYAML(t, "reports", bad, false)
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "Line 14:")
		require.Equal(t, before, f.connectionCount(t), "the two connections made before the failure are gone")
		require.Equal(t, mappings, countRows(t, f.store, `SELECT COUNT(*) FROM mappings`))
		require.Empty(t, tableValuesContaining(t, f.store, "LIVE_URL"))
	})

	t.Run("NoReferencesIsANoOp", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "PG"))
		for _, file := range []string{"schemaVersion: 1.2\nendpoints:\n  - name: api\n    service: {port: 8080}\n    type: REST\n",
			"apiVersion: ''\nendpoints: []\n", "apiVersion: core.choreo.dev/v1beta1\nkind: ComponentConfig\nspec:\n  inbound: []\n"} {
			for _, dryRun := range []bool{true, false} {
				steps, err := f.importYAML(t, "orders", file, dryRun)
				require.NoError(t, err)
				require.NotNil(t, steps)
				require.Empty(t, steps)
				require.Equal(t, names(f.pg, "PG"), f.mappingsOf(t, "shop", "orders", f.pg.ID), "nothing changes")
			}
		}
	})

	t.Run("ErrViewer", func(t *testing.T) {
		f := newChoreoFixture(t)
		imp, err := junction.ParseComponentYAML([]byte("apiVersion: ''\n"))
		require.NoError(t, err)
		_, err = f.maps.ImportComponentYAML(ContextAs(t, f.viewer), "shop", "orders", imp, true)
		require.Equal(t, junction.EFORBIDDEN, junction.ErrorCode(err), "even a file with nothing to import")
		_, err = f.maps.ImportComponentYAML(ContextAs(t, f.outsider), "shop", "orders", imp, true)
		require.Equal(t, junction.ENOTFOUND, junction.ErrorCode(err))
	})
}

func TestMappingService_ExportComponentYAML(t *testing.T) {
	t.Run("RoundTripSchema10", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "PG"))
		f.set(t, f.developer, "shop", "orders", f.twilio, map[string]string{"ServiceURL": "SMS_URL", "AccountSID": "SMS_SID", "AuthToken": "SMS_TOKEN"})
		want := f.mappings(t, "shop", "orders")
		out, err := f.maps.ExportComponentYAML(ContextAs(t, f.viewer), "shop", "orders", "1.0")
		require.NoError(t, err, "viewers may export: the file holds no values")
		require.Empty(t, out.Warning)
		require.Contains(t, string(out.YAML), "connectionConfig: "+f.pg.ID)
		require.Contains(t, string(out.YAML), "connectionConfig: "+f.twilio.ID)
		require.NotContains(t, string(out.YAML), "dev-pw", "no values")

		// Clear the mappings, then import the export: the same mappings, by Connection ID.
		require.NoError(t, f.maps.DeleteMappings(ContextAs(t, f.developer), "shop", "orders", f.pg.ID))
		require.NoError(t, f.maps.DeleteMappings(ContextAs(t, f.developer), "shop", "orders", f.twilio.ID))
		steps, err := f.importYAML(t, "orders", string(out.YAML), false)
		require.NoError(t, err)
		for _, s := range steps {
			require.Equal(t, junction.ImportMatchConnectionID, s.Match)
		}
		require.ElementsMatch(t, want, f.mappings(t, "shop", "orders"))
	})

	t.Run("Schema11Warning", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "orders", f.twilio, map[string]string{"ServiceURL": "SMS_URL", "AccountSID": "CHOREO_TWILIO_ACCOUNTSID", "AuthToken": "CHOREO_TWILIO_AUTHTOKEN"})
		out, err := f.maps.ExportComponentYAML(ContextAs(t, f.developer), "shop", "orders", "1.1")
		require.NoError(t, err)
		require.Contains(t, out.Warning, "twilio: ServiceURL -> SMS_URL")
		for _, schema := range []string{"1.0", "1.2"} {
			out, err := f.maps.ExportComponentYAML(ContextAs(t, f.developer), "shop", "orders", schema)
			require.NoError(t, err)
			require.Empty(t, out.Warning, schema)
		}
	})

	t.Run("ErrOldConnectionName", func(t *testing.T) {
		f := newChoreoFixture(t)
		f.set(t, f.developer, "shop", "orders", f.pg, names(f.pg, "PG"))
		_, err := f.store.WritePool().ExecContext(t.Context(), `UPDATE connections SET name = 'pg' WHERE id = ?`, f.pg.ID)
		require.NoError(t, err)
		for _, schema := range []string{"1.1", "1.2"} {
			_, err := f.maps.ExportComponentYAML(ContextAs(t, f.developer), "shop", "orders", schema)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), schema)
			require.Contains(t, junction.ErrorMessage(err), `the connection name "pg" is not one Choreo accepts`)
		}
		out, err := f.maps.ExportComponentYAML(ContextAs(t, f.developer), "shop", "orders", "1.0")
		require.NoError(t, err)
		require.Contains(t, string(out.YAML), "# Connection pg")
	})

	t.Run("ErrSchema", func(t *testing.T) {
		f := newChoreoFixture(t)
		for _, schema := range []string{"", "1.3", "1"} {
			_, err := f.maps.ExportComponentYAML(ContextAs(t, f.developer), "shop", "orders", schema)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), fmt.Sprintf("schema %q", schema))
		}
	})
}

// TestServiceService_UpdateServiceVersionRule: an endpoint's new version follows Choreo's
// rule; a version stored before the rule is kept on edits that leave it as it is.
func TestServiceService_UpdateServiceVersionRule(t *testing.T) {
	f := newServiceFixture(t)
	svc := f.mustCreateService(t, f.developer, internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization))
	_, err := f.store.WritePool().ExecContext(t.Context(), `UPDATE services SET version = '2024-01' WHERE id = ?`, svc.ID)
	require.NoError(t, err)
	edit := func(version string) error {
		upd := internalService("shop", "inventory", "Stock API", junction.VisibilityOrganization)
		upd.Version, upd.Description = version, "edited"
		_, err := f.services.UpdateService(ContextAs(t, f.developer), svc.ID, upd)
		return err
	}
	require.NoError(t, edit("2024-01"), "the old version, untouched, keeps working")
	err = edit("2024-02")
	require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
	require.Contains(t, junction.ErrorFields(err)["version"], "Choreo's rule for versions")
	require.NoError(t, edit("v2"))
	err = edit("2024-01")
	require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "once changed, the old form is a new version like any other")
}
