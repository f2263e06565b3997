package junction_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/junction-dev/junction"
)

func readChoreoFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "choreo", name))
	require.NoError(t, err)
	return data
}

// ref is a reference as the parser should read it.
type ref struct {
	name, resourceRef, config string
	line                      int
	env                       map[string]string
	envLines                  map[string]int
}

func requireRefs(t *testing.T, want []ref, got []junction.ChoreoReference) {
	t.Helper()
	require.Len(t, got, len(want), "%+v", got)
	for i, w := range want {
		g := got[i]
		require.Equal(t, w.name, g.Name, "reference %d", i)
		require.Equal(t, w.resourceRef, g.ResourceRef, w.name)
		require.Equal(t, w.config, g.ConnectionConfig, w.name)
		require.Equal(t, w.line, g.Line, w.name)
		if w.env == nil {
			w.env, w.envLines = map[string]string{}, map[string]int{}
		}
		require.Equal(t, w.env, g.Env, w.name)
		require.Equal(t, w.envLines, g.EnvLines, w.name)
		_, err := g.Service()
		require.NoError(t, err, "every accepted reference names a service")
	}
}

// TestParseComponentYAML_Files reads full files in the shapes real repositories hold:
// comments, endpoints, metadata, spec.build, spec.inbound and the references.
func TestParseComponentYAML_Files(t *testing.T) {
	for _, tt := range []struct {
		file, format string
		refs         []ref
	}{
		{"component-1.0.yaml", "component.yaml schema 1.0", []ref{
			{name: "choreo:///acme/blog/engine/4f2a1/v1.0/ORGANIZATION", config: "5a0c7a52-6f0e-4d8e-9a51-0d7f3c1e2b44", line: 26,
				env:      map[string]string{"ServiceURL": "POSTS_URL", "ConsumerKey": "POSTS_CLIENT_ID", "ConsumerSecret": "POSTS_CLIENT_SECRET", "TokenURL": "POSTS_TOKEN_URL"},
				envLines: map[string]int{"ServiceURL": 32, "ConsumerKey": 35, "ConsumerSecret": 37, "TokenURL": 39}},
			{name: "thirdparty:Twilio/v1.0", config: "0b9e3c1d-2f4a-4c6b-8d7e-9f0a1b2c3d4e", line: 41,
				env: map[string]string{"ServiceURL": "SMS_URL", "AuthToken": "SMS_TOKEN"}, envLines: map[string]int{"ServiceURL": 44, "AuthToken": 46}},
			{name: "database:orders-db/orders", config: "7c6d5e4f-3a2b-4c1d-9e8f-a0b1c2d3e4f5", line: 48,
				env: map[string]string{"HostName": "DB_HOST", "Password": "DB_PASSWORD"}, envLines: map[string]int{"HostName": 51, "Password": 53}},
		}},
		{"component-config-v1alpha1.yaml", "component-config.yaml (core.choreo.dev/v1alpha1)", []ref{
			{name: "choreo:///acme/blog/engine/4f2a1/v1.0/PUBLIC", config: "01ee9ff1-8efd-1da8-8df5-4675ccafa740", line: 31,
				env:      map[string]string{"ServiceURL": "LOYALTY_API_URL", "ConsumerKey": "CLIENT_ID", "ConsumerSecret": "CLIENT_SECRET", "TokenURL": "TOKEN_URL"},
				envLines: map[string]int{"ServiceURL": 34, "ConsumerKey": 36, "ConsumerSecret": 38, "TokenURL": 40}},
		}},
		{"component-config-v1beta1.yaml", "component-config.yaml (core.choreo.dev/v1beta1)", []ref{
			{name: "thirdparty:Twilio/v1", config: "19d2648b-d29c-4452-afdd-1b9311e81412", line: 26,
				env: map[string]string{"ServiceURL": "SMS_URL"}, envLines: map[string]int{"ServiceURL": 32}},
			{name: "database:orders", config: "2f6e1c3a-9b8d-4e7f-a6c5-b4d3e2f1a0b9", line: 35},
		}},
		{"component-1.1-mixed.yaml", "component.yaml schema 1.1", []ref{
			{name: "posts", resourceRef: "service:/blog/engine/v1/4f2a1/ORGANIZATION", line: 10,
				env: map[string]string{"ServiceURL": "POSTS_URL"}, envLines: map[string]int{"ServiceURL": 21}},
			{name: "thirdparty:Twilio/v1", config: "19d2648b-d29c-4452-afdd-1b9311e81412", line: 14,
				env: map[string]string{"ServiceURL": "SMS_URL"}, envLines: map[string]int{"ServiceURL": 17}},
		}},
		// Files without connection references: an empty import, not an error.
		{"component-1.2-endpoints-only.yaml", "component.yaml schema 1.2", nil},
		{"component-apiversion-empty.yaml", "component.yaml", nil},
		{"component-config-inbound-only.yaml", "component-config.yaml (core.choreo.dev/v1beta1)", nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			imp, err := junction.ParseComponentYAML(readChoreoFile(t, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.format, imp.Format)
			requireRefs(t, tt.refs, imp.References)
		})
	}
}

func TestParseComponentYAML_Inline(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		refs       []ref
	}{
		{"Schema11", "schemaVersion: 1.1\ndependencies:\n  connectionReferences:\n    - name: hr-connection\n      resourceRef: service:/HR/Users/v1/ad088/PUBLIC\n",
			[]ref{{name: "hr-connection", resourceRef: "service:/HR/Users/v1/ad088/PUBLIC", line: 4}}},
		{"Schema12Env", "schemaVersion: 1.2\ndependencies:\n  connectionReferences:\n    - name: db\n      resourceRef: database:orders/orders\nconfigurations:\n  env:\n    - name: DB_PORT\n      valueFrom:\n        connectionRef: {name: DB, key: Port}\n    - name: FORM\n      valueFrom:\n        configForm: {type: string}\n",
			[]ref{{name: "db", resourceRef: "database:orders/orders", line: 4, env: map[string]string{"Port": "DB_PORT"}, envLines: map[string]int{"Port": 8}}}},
		{"ShortResourceRefs", "dependencies:\n  connectionReferences:\n    - {name: a1, resourceRef: engine/v1}\n    - {name: a2, resourceRef: 'service:/blog/engine/1.2'}\n    - {name: a3, resourceRef: database:orders}\n",
			[]ref{{name: "a1", resourceRef: "engine/v1", line: 3}, {name: "a2", resourceRef: "service:/blog/engine/1.2", line: 4}, {name: "a3", resourceRef: "database:orders", line: 5}}},
		{"SchemaVersionNumberOne", "schemaVersion: 1\ndependencies:\n  serviceReferences:\n    - name: thirdparty:Slack API/v2\n      connectionConfig: conn_abc\n",
			[]ref{{name: "thirdparty:Slack API/v2", config: "conn_abc", line: 4}}},
		{"QuotedSchemaVersion", "schemaVersion: \"1.0\"\ndependencies:\n  serviceReferences: []\n", nil},
		{"EmptySections", "schemaVersion: 1.2\ndependencies:\nconfigurations:\n  env:\n", nil},
		{"ComponentConfigNoAPIVersion", "kind: ComponentConfig\napiVersion: ''\nspec:\n  outbound:\n", nil},
		{"Comments only around", "# a\nschemaVersion: 1.2 # inline\n# b\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			imp, err := junction.ParseComponentYAML([]byte(tt.yaml))
			require.NoError(t, err, "%v", err)
			requireRefs(t, tt.refs, imp.References)
		})
	}
}

// TestParseComponentYAML_Errors: every mistake is a yaml field error that names its line.
func TestParseComponentYAML_Errors(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"Empty", "", "The file is empty"},
		{"CommentsOnly", "# nothing here\n", "The file is empty"},
		{"NotAMapping", "- a\n- b\n", "Line 1: A Choreo file is a mapping"},
		{"UnknownSchema", "endpoints: []\nschemaVersion: 2.0\n", "Line 2: schemaVersion \"2.0\""},
		{"UnknownAPIVersion", "apiVersion: 0.0.1\nkind: ComponentConfig\n", "Line 1: apiVersion \"0.0.1\""},
		{"WrongKind", "apiVersion: apps/v1\nkind: Deployment\n", "Line 2: kind \"Deployment\""},
		{"APIVersionNoKind", "apiVersion: core.choreo.dev/v1beta1\nspec: {}\n", "Line 1: A file with an apiVersion"},
		{"SpecNotMapping", "apiVersion: core.choreo.dev/v1beta1\nkind: ComponentConfig\nspec: [a]\n", "Line 3: spec must be a mapping"},
		{"OutboundRefsNotList", "apiVersion: core.choreo.dev/v1beta1\nkind: ComponentConfig\nspec:\n  outbound:\n    serviceReferences: x\n", "Line 5: spec.outbound.serviceReferences must be a list"},
		{"DependenciesNotMapping", "dependencies: [1]\n", "Line 1: dependencies must be a mapping"},
		{"ConnectionRefsNotList", "dependencies:\n  connectionReferences: 3\n", "Line 2: dependencies.connectionReferences must be a list"},
		{"ConnectionRefNoResourceRef", "dependencies:\n  connectionReferences:\n    - name: a\n    - name: b\n", "Line 3: Each connection reference needs"},
		{"ConnectionRefScalar", "dependencies:\n  connectionReferences:\n    - just-a-name\n", "Line 3: Each connection reference needs"},
		{"ConnectionRefTwice", "dependencies:\n  connectionReferences:\n    - {name: Posts, resourceRef: engine/v1}\n    - {name: posts, resourceRef: engine/v2}\n", "Line 4: Connection reference \"posts\" appears twice (also on line 3)"},
		{"BadResourceRef", "dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: ftp:/x\n", "Line 4: resourceRef \"ftp:/x\""},
		{"BadResourceRefVisibility", "dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: service:/p/c/v1/abcde/PRIVATE\n", "Line 4:"},
		{"BadThirdParty", "dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: thirdparty:Twilio/2010-04-01\n", "Line 4: \"thirdparty:Twilio/2010-04-01\" is not a third-party reference"},
		{"BadDatabase", "dependencies:\n  connectionReferences:\n    - name: x\n      resourceRef: database:a/b/c\n", "Line 4: \"database:a/b/c\" is not a database reference"},
		{"ServiceRefNoConfig", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:Twilio/v1\n", "Line 4: Each service reference needs"},
		{"ServiceRefScalar", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - thirdparty:Twilio/v1\n", "Line 4: Each service reference is a mapping"},
		{"ServiceRefBadName", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - connectionConfig: 19d2648b-d29c-4452-afdd-1b9311e81412\n      name: choreo://org/p/c/e/v1/PUBLIC\n", "Line 5: service reference \"choreo://org/p/c/e/v1/PUBLIC\""},
		{"ServiceRefChoreoMinorTooDeep", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: choreo:///o/p/c/e/v1.2.3/PUBLIC\n      connectionConfig: x\n", "Line 4: service reference"},
		{"ServiceRefTwice", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - {name: 'thirdparty:A/v1', connectionConfig: u1}\n    - {name: 'thirdparty:B/v1', connectionConfig: u1}\n", "Line 5: connectionConfig u1 appears twice (also on line 4)"},
		{"ServiceRefEnvNotList", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:A/v1\n      connectionConfig: u1\n      env: {from: ServiceURL}\n", "Line 6: env of a service reference must be a list"},
		{"ServiceRefEnvNoTo", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:A/v1\n      connectionConfig: u1\n      env:\n        - from: ServiceURL\n          to: URL\n        - from: AuthToken\n", "Line 9: Each env entry of a service reference needs from"},
		{"ServiceRefEnvParamTwice", "schemaVersion: 1.0\ndependencies:\n  serviceReferences:\n    - name: thirdparty:A/v1\n      connectionConfig: u1\n      env:\n        - {from: ServiceURL, to: A_URL}\n        - {from: ServiceURL, to: B_URL}\n", "Line 8: ServiceURL of thirdparty:A/v1 is already mapped to A_URL on line 7"},
		{"EnvNotList", "configurations:\n  env: {a: b}\n", "Line 2: configurations.env must be a list"},
		{"EnvIncomplete", "dependencies:\n  connectionReferences:\n    - {name: db, resourceRef: database:x}\nconfigurations:\n  env:\n    - name: X\n      valueFrom:\n        connectionRef: {name: db}\n", "Line 6: An env entry from a connection needs"},
		{"EnvUnknownConnection", "dependencies:\n  connectionReferences:\n    - {name: db, resourceRef: database:x}\nconfiguration:\n  env:\n    - name: X\n      valueFrom:\n        connectionRef: {name: cache, key: Port}\n", "Line 6: env X refers to connection \"cache\""},
		{"EnvParamTwice", "dependencies:\n  connectionReferences:\n    - {name: db, resourceRef: database:x}\nconfigurations:\n  env:\n    - {name: A, valueFrom: {connectionRef: {name: db, key: Port}}}\n    - {name: B, valueFrom: {connectionRef: {name: db, key: Port}}}\n", "Line 7: Port of db is already mapped to A on line 6"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := junction.ParseComponentYAML([]byte(tt.yaml))
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%v", err)
			require.Contains(t, junction.ErrorMessage(err), tt.want)
			require.Equal(t, junction.ErrorMessage(err), junction.ErrorFields(err)["yaml"])
		})
	}
}

// TestParseComponentYAML_SyntaxLines: a syntax error names the line where the problem is,
// not the line before as go.yaml.in/yaml/v3 reports it.
func TestParseComponentYAML_SyntaxLines(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		library    string // what the library says, to show the difference
		want       string
	}{
		{"UnclosedFlowSequence", "schemaVersion: 1.2\ndependencies:\n  connectionReferences:\n    - {name: a, resourceRef: [engine/v1\nconfigurations: {}\n",
			"line 3:", "Line 4: The file is not valid YAML: did not find expected ',' or ']'"},
		{"UnclosedFlowSequenceLastLine", "a: 1\nb: 2\nc: [1, 2\n", "line 2:", "Line 3:"},
		{"UnclosedFlowSequenceFirstLine", "dependencies: [unclosed", "line 1:", "Line 1:"},
		{"UnclosedFlowSequenceSecondLine", "x: 1\ndependencies: [unclosed", "line 1:", "Line 2:"},
		{"UnclosedFlowMapping", "a: 1\nb: 2\nc: 3\nd: {x: 1, y\n", "line 3:", "Line 4: The file is not valid YAML: did not find expected ',' or '}'"},
		{"MultiLineFlowSequenceUnclosed", "a: 1\nb: 2\nc: [1,\n  2,\n  3\n", "line 2:", "Line 3:"},
		{"ListThenKey", "dependencies:\n  connectionReferences:\n    - name: a\n      resourceRef: engine/v1\n    resourceRef: engine/v2\n", "line 2:", "Line 5: The file is not valid YAML: did not find expected '-' indicator"},
		{"BadIndentInList", "dependencies:\n  connectionReferences:\n    - name: a\n      resourceRef: thirdparty:T/v1\n     - name: b\n", "line 2:", "Line 5:"},
		{"DedentedKey", "a: 1\nb: |\n  text\n c: 2\n", "line 3:", "Line 4: The file is not valid YAML: did not find expected key"},
		{"ClosedListThenOpen", "a: [1,\n 2]\nb: [\n", "line 3:", "Line 3:"},
		{"StrayBracketAfterMultiLineList", "a: [1,\n 2] ]\n", "line 1:", "Line 2: The file is not valid YAML: did not find expected key"},
		{"UnterminatedQuote", "a: 'x\n\nb: 1\n", "line 4:", "Line 1: The file is not valid YAML: found unexpected end of stream"},
		{"UnterminatedDoubleQuote", "a: 1\nb: 2\nc: \"unterminated\n", "line 3:", "Line 3:"},
		{"MappingInScalar", "a: 1\n b: 2\n", "line 2:", "Line 2: The file is not valid YAML: mapping values are not allowed in this context"},
		{"Tab", "a: 1\n\tb: 2\n", "line 2:", "Line 2: The file is not valid YAML: found a tab character that violates indentation"},
		{"BadToken", "a: 1\nb: @x\n", "line 2:", "Line 2:"},
		{"UnknownAnchor", "a: 1\nb: *nowhere\n", "unknown anchor", "Line 2: The file is not valid YAML: unknown anchor 'nowhere' referenced"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			libErr := yaml.Unmarshal([]byte(tt.yaml), &n)
			require.Error(t, libErr)
			require.Contains(t, libErr.Error(), tt.library, "the library's own report")
			_, err := junction.ParseComponentYAML([]byte(tt.yaml))
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			require.True(t, strings.HasPrefix(junction.ErrorMessage(err), tt.want), "got %q, want %q", junction.ErrorMessage(err), tt.want)
			require.Equal(t, junction.ErrorMessage(err), junction.ErrorFields(err)["yaml"])
		})
	}

	t.Run("NearWhenTheSearchIsTooLong", func(t *testing.T) {
		// A string opened on line 1 of a long file: the library reports the end, and the
		// search back stops within its budget.
		doc := "a: 'x\n" + strings.Repeat("b: 1\n", 500)
		_, err := junction.ParseComponentYAML([]byte(doc))
		require.Regexp(t, `^Near line [0-9]+ \(the problem may start earlier\): The file is not valid YAML: found unexpected end of stream\.$`, junction.ErrorMessage(err))
		require.Equal(t, junction.ErrorMessage(err), junction.ErrorFields(err)["yaml"])
	})
}

func TestParseServiceIdentifiers(t *testing.T) {
	t.Run("ResourceRef", func(t *testing.T) {
		for _, tt := range []struct {
			ref  string
			want junction.ParsedRef
		}{
			{"service:/HRProject/UserComponent/v1/ad088/PUBLIC", junction.ParsedRef{Kind: junction.KindInternal, Project: "HRProject", Component: "UserComponent", Version: "v1", EndpointID: "ad088", Visibility: "PUBLIC"}},
			{"service:/shop/orders/v1.2", junction.ParsedRef{Kind: junction.KindInternal, Project: "shop", Component: "orders", Version: "v1.2"}},
			{"orders/1", junction.ParsedRef{Kind: junction.KindInternal, Component: "orders", Version: "1"}},
			{"/shop/orders/v2/ep/PROJECT", junction.ParsedRef{Kind: junction.KindInternal, Project: "shop", Component: "orders", Version: "v2", EndpointID: "ep", Visibility: "PROJECT"}},
			{"thirdparty:Google Maps/v1", junction.ParsedRef{Kind: junction.KindThirdParty, Name: "Google Maps", Version: "v1"}},
			{"database:orders-db/orders", junction.ParsedRef{Kind: junction.KindDatabase, Name: "orders-db", Database: "orders"}},
			{"database:orders", junction.ParsedRef{Kind: junction.KindDatabase, Database: "orders"}},
		} {
			got, err := junction.ParseResourceRef(tt.ref)
			require.NoError(t, err, tt.ref)
			require.Equal(t, tt.want, got, tt.ref)
		}
		for _, bad := range []string{"", "service:", "service:/p/c", "service:/p/c/x1/e/PUBLIC", "service:/p/c/v1/e/PRIVATE", "thirdparty:v1.1",
			"thirdparty:mttm/v1.1/invalid", "thirdparty:mmtm/", "database:/db", "database:a/b/c", "THIRDPARTY:x/v1", "choreo:///o/p/c/e/v1/PUBLIC"} {
			_, err := junction.ParseResourceRef(bad)
			require.Error(t, err, bad)
		}
	})
	t.Run("ServiceReferenceName", func(t *testing.T) {
		got, err := junction.ParseServiceReferenceName("choreo:///apifirst/mttm/mmvhxd/ad088/v1.0/PUBLIC")
		require.NoError(t, err)
		require.Equal(t, junction.ParsedRef{Kind: junction.KindInternal, Org: "apifirst", Project: "mttm", Component: "mmvhxd", EndpointID: "ad088", Version: "v1.0", Visibility: "PUBLIC"}, got)
		got, err = junction.ParseServiceReferenceName("database:my_database-1/service-123")
		require.NoError(t, err)
		require.Equal(t, junction.ParsedRef{Kind: junction.KindDatabase, Name: "my_database-1", Database: "service-123"}, got)
		for _, bad := range []string{"choreo://o/p/c/e/v1/PUBLIC", "choreo:///o/p/c/e/v1/PRIVATE", "choreo:///o/p/c/e/1/PUBLIC",
			"choreo:///o/p/c/v1/PUBLIC", "thirdparty:service*name", "database:service*name", "database:my_database.com/service-123/instance_1",
			"service:/p/c/v1/e/PUBLIC"} {
			_, err := junction.ParseServiceReferenceName(bad)
			require.Error(t, err, bad)
		}
	})
}

func exportConns() []junction.ChoreoConnection {
	posts := &junction.Service{ID: "svc_posts", Kind: junction.KindInternal, Name: "Posts API", Version: "v1.2", Project: "blog", Component: "engine",
		Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth}
	twilio := &junction.Service{ID: "svc_twilio", Kind: junction.KindThirdParty, Name: "Twilio", Version: "v1"}
	db := &junction.Service{ID: "svc_db", Kind: junction.KindDatabase, Name: "orders-db",
		Values: map[string]map[string]string{"production": {junction.ParamDatabaseName: "orders"}}}
	return []junction.ChoreoConnection{
		{ID: "conn_posts", Name: "posts", Service: posts, Env: map[string]string{"ServiceURL": "POSTS_URL", "ConsumerKey": "CHOREO_POSTS_CONSUMERKEY"}},
		{ID: "conn_sms", Name: "sms gateway", Service: twilio, Env: map[string]string{"ServiceURL": "CHOREO_SMS_GATEWAY_SERVICEURL", "AuthToken": "CHOREO_SMS_GATEWAY_AUTHTOKEN"}},
		{ID: "conn_db", Name: "orders-db", Service: db, Env: map[string]string{"HostName": "DB_HOST"}},
	}
}

func TestMarshalComponentYAML(t *testing.T) {
	conns := exportConns()

	t.Run("Schema10", func(t *testing.T) {
		out, err := junction.MarshalComponentYAML(conns, "1.0")
		require.NoError(t, err)
		require.Empty(t, out.Warning)
		text := string(out.YAML)
		require.Contains(t, text, `schemaVersion: "1.0"`)
		require.Contains(t, text, "name: choreo:///junction/blog/engine/"+junction.EndpointRefID("svc_posts")+"/v1/ORGANIZATION", "the major version, as Choreo's validator wants")
		require.Contains(t, text, "connectionConfig: conn_posts")
		require.Contains(t, text, "# Connection sms gateway")
		require.Contains(t, text, "name: thirdparty:Twilio/v1")
		require.Contains(t, text, "name: database:orders-db/orders")
		require.NotContains(t, text, "connectionReferences")
		imp, err := junction.ParseComponentYAML(out.YAML)
		require.NoError(t, err)
		require.Len(t, imp.References, 3)
		for i, c := range conns {
			r := imp.References[i]
			require.Equal(t, c.ID, r.ConnectionConfig, "by Connection ID")
			require.Equal(t, c.Env, r.Env, "every mapping, by name")
			require.Equal(t, junction.ServiceReferenceName(c.Service), r.Name)
		}
	})

	t.Run("Schema11WarnsOfCustomNames", func(t *testing.T) {
		out, err := junction.MarshalComponentYAML(conns, "1.1")
		require.NoError(t, err)
		require.Contains(t, out.Warning, "posts: ServiceURL -> POSTS_URL")
		require.Contains(t, out.Warning, "orders-db: HostName -> DB_HOST")
		require.NotContains(t, out.Warning, "CONSUMERKEY", "a default name is kept by 1.1")
		require.Contains(t, out.Warning, "1.2")
		require.Contains(t, out.Warning, "1.0")
		require.Contains(t, string(out.YAML), "# Warning: Schema 1.1 cannot carry custom variable names")
		require.NotContains(t, string(out.YAML), "configurations")
		require.Contains(t, string(out.YAML), "resourceRef: service:/blog/engine/v1.2/"+junction.EndpointRefID("svc_posts")+"/ORGANIZATION")

		out, err = junction.MarshalComponentYAML(conns[1:2], "1.1")
		require.NoError(t, err)
		require.Empty(t, out.Warning, "Choreo's default names lose nothing")
		require.NotContains(t, string(out.YAML), "Warning")
	})

	t.Run("Schema12", func(t *testing.T) {
		out, err := junction.MarshalComponentYAML(conns, "1.2")
		require.NoError(t, err)
		require.Empty(t, out.Warning)
		imp, err := junction.ParseComponentYAML(out.YAML)
		require.NoError(t, err)
		require.Len(t, imp.References, 3)
		for i, c := range conns {
			require.Equal(t, c.Name, imp.References[i].Name)
			require.Equal(t, c.Env, imp.References[i].Env)
		}
	})

	t.Run("PassesChoreoValidatorRules", func(t *testing.T) {
		for _, schema := range junction.ChoreoSchemas {
			out, err := junction.MarshalComponentYAML(conns, schema)
			require.NoError(t, err)
			imp, err := junction.ParseComponentYAML(out.YAML)
			require.NoError(t, err)
			for _, r := range imp.References {
				_, err := r.Service()
				require.NoError(t, err, "%s: %s", schema, r.Ref())
				if !r.ServiceReference() {
					require.Empty(t, junction.ValidateConnectionName(r.Name), "%s: %s", schema, r.Name)
				}
				for _, env := range r.Env {
					require.Empty(t, junction.ValidateEnvName(env))
				}
			}
		}
	})

	t.Run("ErrOldConnectionName", func(t *testing.T) {
		old := append(slices.Clone(conns), junction.ChoreoConnection{ID: "conn_x", Name: "x", Service: conns[1].Service, Env: map[string]string{"ServiceURL": "X_URL"}})
		for _, schema := range []string{"1.1", "1.2"} {
			_, err := junction.MarshalComponentYAML(old, schema)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), schema)
			require.Contains(t, junction.ErrorMessage(err), `the connection name "x" is not one Choreo accepts`)
			require.Contains(t, junction.ErrorMessage(err), "rename the connection, or export schema 1.0")
			require.NotEmpty(t, junction.ErrorFields(err)["schema"])
		}
		out, err := junction.MarshalComponentYAML(old, "1.0")
		require.NoError(t, err, "1.0 refers to connections by ID, not by name")
		require.Contains(t, string(out.YAML), "connectionConfig: conn_x")
	})

	t.Run("ErrOldVersion", func(t *testing.T) {
		legacy := &junction.Service{ID: "svc_old", Kind: junction.KindThirdParty, Name: "GitHub", Version: "2022-11-28"}
		for _, schema := range junction.ChoreoSchemas {
			_, err := junction.MarshalComponentYAML([]junction.ChoreoConnection{{ID: "conn_gh", Name: "github", Service: legacy, Env: map[string]string{}}}, schema)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), schema)
			require.Contains(t, junction.ErrorMessage(err), `the version "2022-11-28" of GitHub is not one Choreo accepts`)
		}
	})

	t.Run("ErrServiceNameChoreoRejects", func(t *testing.T) {
		odd := &junction.Service{ID: "svc_odd", Kind: junction.KindDatabase, Name: "Orders DB (EU)"}
		_, err := junction.MarshalComponentYAML([]junction.ChoreoConnection{{ID: "conn_odd", Name: "orders", Service: odd, Env: map[string]string{}}}, "1.2")
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorMessage(err), "connection orders:")
		require.Contains(t, junction.ErrorMessage(err), "database:Orders DB (EU)")
	})

	t.Run("ErrSchema", func(t *testing.T) {
		_, err := junction.MarshalComponentYAML(conns, "2.0")
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
		require.Contains(t, junction.ErrorFields(err), "schema")
	})
}

func TestImportSummary(t *testing.T) {
	require.Equal(t, junction.ChoreoNothingToImport, junction.ImportSummary(nil, true))
	steps := []junction.ImportStep{
		{Created: true, Mappings: make([]junction.ImportMapping, 4)},
		{Mappings: make([]junction.ImportMapping, 1)},
	}
	require.Equal(t, "Applying maps 5 variables of 2 connections, connecting 1 new component connection.", junction.ImportSummary(steps, true))
	require.Equal(t, "Mapped 5 variables of 2 connections, with 1 new component connection.", junction.ImportSummary(steps, false))
	require.Equal(t, "Mapped 1 variable of 1 connection.", junction.ImportSummary(steps[1:], false))
}
