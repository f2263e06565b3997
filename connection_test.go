package junction_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

const testTokenURL = "http://127.0.0.1:8080/oauth2/token"

var connectionIDPattern = regexp.MustCompile(`^conn_[a-z2-7]{26}$`)

func TestNewConnectionID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := junction.NewConnectionID()
		require.Regexp(t, connectionIDPattern, id)
		require.True(t, strings.HasPrefix(id, junction.ConnectionIDPrefix))
		require.False(t, seen[id], "duplicate Connection ID %s after %d calls", id, i)
		seen[id] = true
	}
	require.Len(t, seen, 1000)
}

func TestConnection_Validate(t *testing.T) {
	tests := []struct {
		name        string
		conn        junction.Connection
		field       string // "" when valid
		wantName    string
		wantDescrip string
	}{
		{"OK", junction.Connection{Name: "Twilio", Description: "SMS"}, "", "Twilio", "SMS"},
		{"OKTrimmed", junction.Connection{Name: "  Twilio \t", Description: "\n SMS  "}, "", "Twilio", "SMS"},
		{"OKNoDescription", junction.Connection{Name: "sms"}, "", "sms", ""},
		{"OKName50", junction.Connection{Name: strings.Repeat("a", 50)}, "", strings.Repeat("a", 50), ""},
		{"OKDescription1000", junction.Connection{Name: "sms", Description: strings.Repeat("d", 1000)}, "", "sms", strings.Repeat("d", 1000)},
		{"OKDescription1000Runes", junction.Connection{Name: "sms", Description: strings.Repeat("ü", 1000)}, "", "sms", strings.Repeat("ü", 1000)},
		{"ErrNameEmpty", junction.Connection{Name: ""}, "name", "", ""},
		{"ErrNameBlank", junction.Connection{Name: "   "}, "name", "", ""},
		{"ErrName51", junction.Connection{Name: strings.Repeat("a", 51)}, "name", "", ""},
		{"ErrNameShort", junction.Connection{Name: "db"}, "name", "", ""},
		{"ErrNameUnicode", junction.Connection{Name: strings.Repeat("é", 5)}, "name", "", ""},
		{"ErrDescription1001", junction.Connection{Name: "sms", Description: strings.Repeat("d", 1001)}, "description", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.conn
			err := c.Validate()
			if tt.field == "" {
				require.NoError(t, err, "%v", junction.ErrorFields(err))
				require.Equal(t, tt.wantName, c.Name)
				require.Equal(t, tt.wantDescrip, c.Description)
				return
			}
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%v", err)
			fields := junction.ErrorFields(err)
			require.Contains(t, fields, tt.field, "fields: %v", fields)
			require.NotEmpty(t, fields[tt.field])
			require.Len(t, fields, 1, "only %s is wrong: %v", tt.field, fields)
		})
	}

	t.Run("ErrBoth", func(t *testing.T) {
		c := junction.Connection{Description: strings.Repeat("d", 1001)}
		fields := junction.ErrorFields(c.Validate())
		require.Contains(t, fields, "name")
		require.Contains(t, fields, "description")
	})
}

// TestValidateConnectionName is Choreo's validator rule for connection names: 3 to 50
// characters, letters and digits with single delimiters (_ - . or space) between them.
func TestValidateConnectionName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"abc", true}, {"Twilio", true}, {"orders-db", true}, {"valid_connection_name", true},
		{"valid connection name-v1.1", true}, {"Valid Connection Name", true}, {"a1.b2_c3-d4 e5", true},
		{"123", true}, {strings.Repeat("x", 50), true}, {"a" + strings.Repeat("-b", 24) + "c", true},
		{"", false}, {"ab", false}, {"a", false}, {strings.Repeat("x", 51), false},
		{"invalid__connection_name", false}, {"a--b", false}, {"a  b", false}, {"a_-b", false}, {"a. b", false},
		{"-abc", false}, {"abc-", false}, {"_abc", false}, {"abc.", false}, {" abc", false}, {"abc ", false},
		{"invalid connection name-v1.1.", false}, {"Invalid Connection Name_", false},
		{"twilio!", false}, {"a/b/c", false}, {"naïve", false}, {"tab\tname", false}, {"new\nline", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := junction.ValidateConnectionName(tt.name)
			if tt.ok {
				require.Empty(t, msg)
			} else {
				require.NotEmpty(t, msg)
			}
		})
	}
}

func TestConnection_ValidateUpdate(t *testing.T) {
	t.Run("OKOldNameKept", func(t *testing.T) {
		for _, old := range []string{"x", "db", "Twilio (SMS)", strings.Repeat("é", 100)} {
			c := junction.Connection{Name: old, Description: "now described"}
			require.NoError(t, c.ValidateUpdate(old), "a name given before the rule keeps working: %q", old)
		}
	})
	t.Run("OKRenamed", func(t *testing.T) {
		c := junction.Connection{Name: " sms-gateway "}
		require.NoError(t, c.ValidateUpdate("x"))
		require.Equal(t, "sms-gateway", c.Name)
	})
	t.Run("ErrRenamedInvalid", func(t *testing.T) {
		for _, name := range []string{"db", "Twilio (SMS)", "X"} {
			c := junction.Connection{Name: name}
			err := c.ValidateUpdate("x")
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), name)
			require.Contains(t, junction.ErrorFields(err)["name"], "Choreo", name)
		}
	})
	t.Run("ErrOldNameBlankOrLong", func(t *testing.T) {
		c := junction.Connection{Name: strings.Repeat("a", 101)}
		require.Contains(t, junction.ErrorFields(c.ValidateUpdate(strings.Repeat("a", 101))), "name")
	})
}

func TestSuggestConnectionName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Twilio", "Twilio"}, {"Google Maps", "Google Maps"}, {"orders-db", "orders-db"},
		{"Twilio (SMS)", "Twilio-SMS"}, {"  Orders  API  ", "Orders-API"}, {"a__b", "a-b"}, {"Ünïcode Søk", "n-code S-k"},
		{"db", "db-connection"}, {"", "connection"}, {"!!!", "connection"}, {"x", "x-connection"},
		{strings.Repeat("ab ", 30), strings.Repeat("ab ", 16) + "ab"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got := junction.SuggestConnectionName(tt.in)
			require.Equal(t, tt.want, got)
			require.Empty(t, junction.ValidateConnectionName(got), "a suggestion follows the rule")
		})
	}
}

// threeEndpoints is a third-party service whose "eu" endpoint may serve both environments.
func threeEndpoints() *junction.Service {
	s := validThirdParty()
	s.Endpoints = append(s.Endpoints, junction.Endpoint{
		Name: "eu", URL: "https://eu.twilio.example", Environments: []string{"production", "development"},
		Values: map[string]string{"AccountSID": "AC-eu", "AuthToken": "tok-eu"},
	})
	return s
}

func TestBuildParameters(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	creds := junction.Credentials{
		ClientID:     map[string]string{"development": "jci_dev", "production": "jci_prod"},
		ClientSecret: map[string]string{"development": "jcs_dev", "production": "jcs_prod"},
		APIKey:       map[string]string{"development": "jak_dev", "production": "jak_prod"},
	}
	type P = junction.ConnectionParameter
	type V = map[string]string
	tests := []struct {
		name      string
		service   func() *junction.Service
		endpoints map[string]string
		creds     junction.Credentials
		want      []P
	}{
		{"InternalOAuth", validInternal, nil, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "http://inventory.dev:8080/api", "production": "https://inventory.example.com"}},
			{Name: "ConsumerKey", Values: V{"development": "jci_dev", "production": "jci_prod"}},
			{Name: "ConsumerSecret", Secret: true, Values: V{"development": "jcs_dev", "production": "jcs_prod"}},
			{Name: "TokenURL", Values: V{"development": testTokenURL, "production": testTokenURL}},
		}},
		{"InternalOAuthOneEnvironment", func() *junction.Service {
			s := validInternal()
			s.URLs = map[string]string{"development": "http://dev"}
			return s
		}, nil, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "http://dev"}},
			{Name: "ConsumerKey", Values: V{"development": "jci_dev"}},
			{Name: "ConsumerSecret", Secret: true, Values: V{"development": "jcs_dev"}},
			{Name: "TokenURL", Values: V{"development": testTokenURL}},
		}},
		{"InternalAPIKey", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityAPIKey
			return s
		}, nil, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "http://inventory.dev:8080/api", "production": "https://inventory.example.com"}},
			{Name: "ChoreoAPIKey", Secret: true, Values: V{"development": "jak_dev", "production": "jak_prod"}},
		}},
		{"InternalNone", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityNone
			s.URLs = map[string]string{"production": "https://prod"}
			return s
		}, nil, creds, []P{
			{Name: "ServiceURL", Values: V{"production": "https://prod"}},
		}},
		{"InternalEmptyURLNotServed", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityNone
			s.URLs = map[string]string{"production": "https://prod", "development": ""}
			return s
		}, nil, creds, []P{
			{Name: "ServiceURL", Values: V{"production": "https://prod"}},
		}},
		{"ThirdPartyDefaults", validThirdParty, V{"development": "sandbox", "production": "live"}, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "https://sandbox.twilio.example", "production": "https://api.twilio.example"}},
			{Name: "AccountSID", Values: V{"development": "AC-sandbox", "production": "AC-live"}},
			{Name: "AuthToken", Secret: true, Values: V{"development": "tok-sandbox", "production": "tok-live"}},
		}},
		{"ThirdPartyChosen", threeEndpoints, V{"development": "eu", "production": "live"}, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "https://eu.twilio.example", "production": "https://api.twilio.example"}},
			{Name: "AccountSID", Values: V{"development": "AC-eu", "production": "AC-live"}},
			{Name: "AuthToken", Secret: true, Values: V{"development": "tok-eu", "production": "tok-live"}},
		}},
		{"ThirdPartyOneEnvironment", func() *junction.Service {
			s := validThirdParty()
			s.Endpoints = s.Endpoints[1:]
			return s
		}, V{"production": "live"}, creds, []P{
			{Name: "ServiceURL", Values: V{"production": "https://api.twilio.example"}},
			{Name: "AccountSID", Values: V{"production": "AC-live"}},
			{Name: "AuthToken", Secret: true, Values: V{"production": "tok-live"}},
		}},
		{"ThirdPartyNoParameters", func() *junction.Service {
			s := validThirdParty()
			s.Parameters = nil
			return s
		}, V{"development": "sandbox", "production": "live"}, creds, []P{
			{Name: "ServiceURL", Values: V{"development": "https://sandbox.twilio.example", "production": "https://api.twilio.example"}},
		}},
		{"Database", func() *junction.Service {
			s := validDatabase()
			s.Values["production"] = map[string]string{"HostName": "db.example.com", "Port": "5433", "DatabaseName": "orders", "Username": "prod", "Password": "prod-pw"}
			return s
		}, nil, creds, []P{
			{Name: "HostName", Values: V{"development": "localhost", "production": "db.example.com"}},
			{Name: "Port", Values: V{"development": "5432", "production": "5433"}},
			{Name: "DatabaseName", Values: V{"development": "orders", "production": "orders"}},
			{Name: "Username", Values: V{"development": "app", "production": "prod"}},
			{Name: "Password", Secret: true, Values: V{"development": "dev-pw", "production": "prod-pw"}},
		}},
		{"DatabaseOneEnvironment", validDatabase, nil, creds, []P{
			{Name: "HostName", Values: V{"development": "localhost"}},
			{Name: "Port", Values: V{"development": "5432"}},
			{Name: "DatabaseName", Values: V{"development": "orders"}},
			{Name: "Username", Values: V{"development": "app"}},
			{Name: "Password", Secret: true, Values: V{"development": "dev-pw"}},
		}},
		{"InternalOAuthNoCredentials", validInternal, nil, junction.Credentials{}, []P{
			{Name: "ServiceURL", Values: V{"development": "http://inventory.dev:8080/api", "production": "https://inventory.example.com"}},
			{Name: "ConsumerKey", Values: V{"development": "", "production": ""}},
			{Name: "ConsumerSecret", Secret: true, Values: V{"development": "", "production": ""}},
			{Name: "TokenURL", Values: V{"development": testTokenURL, "production": testTokenURL}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := junction.BuildParameters(tt.service(), envs, tt.endpoints, tt.creds, testTokenURL)
			require.Equal(t, tt.want, got)
			for _, p := range got {
				_, ok := p.Values["staging"]
				require.False(t, ok, "%s has a value in staging, which no service serves", p.Name)
			}
		})
	}

	t.Run("Unserved environments have no key", func(t *testing.T) {
		s := validInternal()
		s.URLs = map[string]string{"production": "https://prod"}
		for _, p := range junction.BuildParameters(s, envs, nil, creds, testTokenURL) {
			require.Equal(t, []string{"production"}, keys(p.Values), p.Name)
		}
	})

	t.Run("Parameters do not share maps", func(t *testing.T) {
		got := junction.BuildParameters(validInternal(), envs, nil, creds, testTokenURL)
		got[0].Values["development"] = "changed"
		require.Equal(t, "jci_dev", got[1].Values["development"])
		again := junction.BuildParameters(validInternal(), envs, nil, creds, testTokenURL)
		require.Equal(t, "http://inventory.dev:8080/api", again[0].Values["development"])
	})
}

func TestServedEnvironments(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	tests := []struct {
		name    string
		service func() *junction.Service
		want    []string
	}{
		{"Internal", validInternal, []string{"development", "production"}},
		{"InternalOne", func() *junction.Service {
			s := validInternal()
			s.URLs = map[string]string{"production": "https://p", "development": ""}
			return s
		}, []string{"production"}},
		{"ThirdParty", validThirdParty, []string{"development", "production"}},
		{"ThirdPartyStaging", func() *junction.Service {
			s := validThirdParty()
			s.Endpoints[0].Environments = []string{"staging"}
			return s
		}, []string{"production", "staging"}},
		{"Database", validDatabase, []string{"development"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, junction.ServedEnvironments(tt.service(), envs))
		})
	}
}

func TestNeedsCredentials(t *testing.T) {
	tests := []struct {
		name            string
		service         func() *junction.Service
		oauth, wantKeys bool
	}{
		{"InternalOAuth", validInternal, true, false},
		{"InternalAPIKey", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityAPIKey
			return s
		}, false, true},
		{"InternalNone", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityNone
			return s
		}, false, false},
		{"ThirdParty", validThirdParty, false, false},
		{"Database", validDatabase, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.oauth, junction.NeedsOAuthApp(tt.service()))
			require.Equal(t, tt.wantKeys, junction.NeedsAPIKey(tt.service()))
		})
	}
}

func TestChooseEndpoints(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	tests := []struct {
		name    string
		service func() *junction.Service
		chosen  map[string]string
		want    map[string]string
		fields  []string // EINVALID fields, nil when valid
	}{
		{"Defaults", validThirdParty, nil, map[string]string{"development": "sandbox", "production": "live"}, nil},
		{"DefaultsFromEmpty", validThirdParty, map[string]string{"development": "", "production": ""},
			map[string]string{"development": "sandbox", "production": "live"}, nil},
		{"DefaultIsFirstAllowed", threeEndpoints, nil, map[string]string{"development": "sandbox", "production": "live"}, nil},
		{"DefaultIsFirstAllowedInOrder", func() *junction.Service {
			s := threeEndpoints()
			s.Endpoints[0], s.Endpoints[2] = s.Endpoints[2], s.Endpoints[0]
			return s
		}, nil, map[string]string{"development": "eu", "production": "eu"}, nil},
		{"ChoiceHonoured", threeEndpoints, map[string]string{"development": "eu"},
			map[string]string{"development": "eu", "production": "live"}, nil},
		{"ChoicesHonoured", threeEndpoints, map[string]string{"development": "eu", "production": "eu"},
			map[string]string{"development": "eu", "production": "eu"}, nil},
		{"ErrNotAllowedInEnvironment", threeEndpoints, map[string]string{"development": "live"}, nil, []string{"endpoints.development"}},
		{"ErrUnknownEndpoint", validThirdParty, map[string]string{"production": "nope"}, nil, []string{"endpoints.production"}},
		{"ErrEnvironmentWithoutEndpoints", validThirdParty, map[string]string{"staging": "sandbox"}, nil, []string{"endpoints.staging"}},
		{"ErrTwo", validThirdParty, map[string]string{"development": "live", "production": "sandbox"}, nil,
			[]string{"endpoints.development", "endpoints.production"}},
		{"NotThirdParty", validInternal, map[string]string{"development": "whatever"}, nil, nil},
		{"NotThirdPartyDatabase", validDatabase, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := junction.ChooseEndpoints(tt.service(), envs, tt.chosen)
			if tt.fields == nil {
				require.NoError(t, err)
				if tt.want == nil {
					require.Empty(t, got)
				} else {
					require.Equal(t, tt.want, got)
				}
				return
			}
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "%v", err)
			fields := junction.ErrorFields(err)
			require.Len(t, fields, len(tt.fields), "fields: %v", fields)
			for _, f := range tt.fields {
				require.NotEmpty(t, fields[f], "fields: %v", fields)
			}
		})
	}
}

func TestConnection_Mask(t *testing.T) {
	type V = map[string]string
	c := &junction.Connection{
		Revealed: true,
		Parameters: []junction.ConnectionParameter{
			{Name: "ServiceURL", Values: V{"development": "http://dev", "production": "https://prod"}},
			{Name: "ConsumerKey", Values: V{"development": "jci_dev", "production": ""}},
			{Name: "ConsumerSecret", Secret: true, Values: V{"development": "jcs_dev", "production": ""}},
			{Name: "Password", Secret: true, Values: V{"development": "pw", "production": "pw2"}},
			{Name: "Empty", Secret: true, Values: V{}},
		},
	}
	c.Mask()
	require.False(t, c.Revealed)
	require.Equal(t, []junction.ConnectionParameter{
		{Name: "ServiceURL", Values: V{"development": "http://dev", "production": "https://prod"}},
		{Name: "ConsumerKey", Values: V{"development": "jci_dev", "production": ""}},
		{Name: "ConsumerSecret", Secret: true, Values: V{"development": junction.Masked, "production": ""}},
		{Name: "Password", Secret: true, Values: V{"development": junction.Masked, "production": junction.Masked}},
		{Name: "Empty", Secret: true, Values: V{}},
	}, c.Parameters)
	require.Equal(t, "********", junction.Masked)

	c.Mask() // masking twice changes nothing
	require.Equal(t, junction.Masked, c.Parameters[2].Values["development"])
}

func TestConnection_Owner(t *testing.T) {
	tests := []struct {
		conn junction.Connection
		want string
	}{
		{junction.Connection{Scope: junction.ScopeProject, Project: "shop"}, "shop"},
		{junction.Connection{Scope: junction.ScopeComponent, Project: "shop", Component: "orders"}, "shop/orders"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.conn.Owner())
	}
}
