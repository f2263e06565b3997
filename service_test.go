package junction_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// testEnvs are the environments that exist from the start.
var testEnvs = []string{"development", "production"}

func validInternal() *junction.Service {
	return &junction.Service{
		Kind: junction.KindInternal, Name: "Inventory API", Version: "v1",
		Visibility: junction.VisibilityOrganization, Security: junction.SecurityOAuth,
		URLs: map[string]string{"development": "http://inventory.dev:8080/api", "production": "https://inventory.example.com"},
	}
}

func validThirdParty() *junction.Service {
	return &junction.Service{
		Kind: junction.KindThirdParty, Name: "Twilio", Version: "v1", Description: "SMS and voice.", Tags: []string{"sms"},
		Parameters: []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}},
		Endpoints: []junction.Endpoint{
			{Name: "sandbox", URL: "https://sandbox.twilio.example", Environments: []string{"development"},
				Values: map[string]string{"AccountSID": "AC-sandbox", "AuthToken": "tok-sandbox"}},
			{Name: "live", URL: "https://api.twilio.example", Environments: []string{"production"},
				Values: map[string]string{"AccountSID": "AC-live", "AuthToken": "tok-live"}},
		},
	}
}

func validDatabase() *junction.Service {
	return &junction.Service{
		Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres",
		Values: map[string]map[string]string{
			"development": {"HostName": "localhost", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "dev-pw"},
		},
	}
}

// validationCase changes a valid service and says which field must be reported, or "" when
// the service must still be valid.
type validationCase struct {
	name   string
	mutate func(*junction.Service)
	field  string
}

func runValidationCases(t *testing.T, base func() *junction.Service, tests []validationCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.mutate(s)
			err := s.Validate(testEnvs)
			if tt.field == "" {
				require.NoError(t, err, "%v", junction.ErrorFields(err))
				return
			}
			require.Error(t, err)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
			fields := junction.ErrorFields(err)
			require.Contains(t, fields, tt.field, "fields: %v", fields)
			require.NotEmpty(t, fields[tt.field])
		})
	}
}

func TestService_Validate_Common(t *testing.T) {
	for _, base := range []func() *junction.Service{validInternal, validThirdParty, validDatabase} {
		kind := base().Kind
		t.Run(string(kind), func(t *testing.T) {
			versionField, dateField := "version", "version"
			if kind == junction.KindDatabase {
				versionField, dateField = "", "" // a database needs no version, and it is not in references
			}
			runValidationCases(t, base, []validationCase{
				{"OK", func(*junction.Service) {}, ""},
				{"ErrNoName", func(s *junction.Service) { s.Name = "" }, "name"},
				{"ErrBlankName", func(s *junction.Service) { s.Name = "   " }, "name"},
				{"OKName100Runes", func(s *junction.Service) { s.Name = strings.Repeat("é", 100) }, ""},
				{"ErrName101Runes", func(s *junction.Service) { s.Name = strings.Repeat("é", 101) }, "name"},
				{"NoVersion", func(s *junction.Service) { s.Version = "" }, versionField},
				{"VersionDate", func(s *junction.Service) { s.Version = "2010-04-01" }, dateField},
				{"OKVersion32", func(s *junction.Service) { s.Version = "v" + strings.Repeat("1", 31) }, ""},
				{"ErrVersion33", func(s *junction.Service) { s.Version = "v" + strings.Repeat("1", 32) }, "version"},
				{"OKVersionMinor", func(s *junction.Service) { s.Version = "V2.1" }, ""},
				{"ErrVersionSpace", func(s *junction.Service) { s.Version = "v 1" }, "version"},
				{"ErrVersionLeadingDot", func(s *junction.Service) { s.Version = ".v1" }, "version"},
				{"ErrVersionSlash", func(s *junction.Service) { s.Version = "v1/2" }, "version"},
				{"OKDescription1000Runes", func(s *junction.Service) { s.Description = strings.Repeat("ü", 1000) }, ""},
				{"ErrDescription1001Runes", func(s *junction.Service) { s.Description = strings.Repeat("ü", 1001) }, "description"},
				{"OKTenTags", func(s *junction.Service) { s.Tags = numberedTags(10) }, ""},
				{"ErrElevenTags", func(s *junction.Service) { s.Tags = numberedTags(11) }, "tags"},
				{"OKElevenTagsWithDuplicate", func(s *junction.Service) { s.Tags = append(numberedTags(10), "TAG0") }, ""},
				{"ErrTagWithSpace", func(s *junction.Service) { s.Tags = []string{"two words"} }, "tags"},
				{"ErrTagTooLong", func(s *junction.Service) { s.Tags = []string{strings.Repeat("t", 33)} }, "tags"},
				{"ErrTagLeadingPunctuation", func(s *junction.Service) { s.Tags = []string{"-sms"} }, "tags"},
				{"OKUnicodeTag", func(s *junction.Service) { s.Tags = []string{"zahlungsverkehr", "支付", "c++"} }, ""},
			})
		})
	}

	t.Run("ErrUnknownKind", func(t *testing.T) {
		for _, kind := range []junction.ServiceKind{"", "grpc", "Internal"} {
			s := validInternal()
			s.Kind = kind
			err := s.Validate(testEnvs)
			require.Equal(t, junction.EINVALID, junction.ErrorCode(err), "kind %q", kind)
			require.Contains(t, junction.ErrorFields(err), "kind")
		}
	})

	t.Run("Trims", func(t *testing.T) {
		s := validThirdParty()
		s.Name, s.Version, s.Description = "  Twilio \t", " v1 ", "\n SMS. \n"
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, "Twilio", s.Name)
		require.Equal(t, "v1", s.Version)
		require.Equal(t, "SMS.", s.Description)
	})

	t.Run("TagsNormalized", func(t *testing.T) {
		s := validThirdParty()
		s.Tags = []string{" SMS ", "sms", "Voice", "", "   ", "VOICE", "Messaging"}
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, []string{"sms", "voice", "messaging"}, s.Tags)

		s = validThirdParty()
		s.Tags = nil
		require.NoError(t, s.Validate(testEnvs))
		require.NotNil(t, s.Tags, "tags normalise to an empty list")
		require.Empty(t, s.Tags)
	})
}

func numberedTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%d", i)
	}
	return tags
}

func TestService_Validate_Internal(t *testing.T) {
	runValidationCases(t, validInternal, []validationCase{
		{"OK", func(*junction.Service) {}, ""},
		{"OKEveryVisibilityAndSecurity", func(s *junction.Service) { s.Visibility, s.Security = junction.VisibilityPublic, junction.SecurityNone }, ""},
		{"OKProjectAPIKey", func(s *junction.Service) {
			s.Visibility, s.Security = junction.VisibilityProject, junction.SecurityAPIKey
		}, ""},
		{"ErrNoVisibility", func(s *junction.Service) { s.Visibility = "" }, "visibility"},
		{"ErrUnknownVisibility", func(s *junction.Service) { s.Visibility = "private" }, "visibility"},
		{"ErrUpperCaseVisibility", func(s *junction.Service) { s.Visibility = "PUBLIC" }, "visibility"},
		{"ErrNoSecurity", func(s *junction.Service) { s.Security = "" }, "security"},
		{"ErrUnknownSecurity", func(s *junction.Service) { s.Security = "basic" }, "security"},
		{"ErrNoURLs", func(s *junction.Service) { s.URLs = nil }, "urls"},
		{"ErrOnlyBlankURLs", func(s *junction.Service) { s.URLs = map[string]string{"development": "  ", "production": ""} }, "urls"},
		{"OKOneURL", func(s *junction.Service) { s.URLs = map[string]string{"production": "https://x.example"} }, ""},
		{"ErrFTP", func(s *junction.Service) { s.URLs["development"] = "ftp://x" }, "urls.development"},
		{"ErrRelative", func(s *junction.Service) { s.URLs["production"] = "/relative" }, "urls.production"},
		{"ErrNoHost", func(s *junction.Service) { s.URLs["development"] = "http://" }, "urls.development"},
		{"ErrNoScheme", func(s *junction.Service) { s.URLs["development"] = "inventory.example.com" }, "urls.development"},
		{"ErrJavaScript", func(s *junction.Service) { s.URLs["development"] = "javascript:alert(1)" }, "urls.development"},
		{"ErrUnparsable", func(s *junction.Service) { s.URLs["development"] = "http://[::1" }, "urls.development"},
		{"ErrTooLong", func(s *junction.Service) { s.URLs["development"] = "https://x.example/" + strings.Repeat("a", 2000) }, "urls.development"},
		{"ErrUnknownEnvironment", func(s *junction.Service) { s.URLs["staging"] = "https://staging.example" }, "urls.staging"},
		{"OKBlankURLForUnknownEnvironment", func(s *junction.Service) { s.URLs["staging"] = " " }, ""},
	})

	t.Run("Normalises", func(t *testing.T) {
		s := validInternal()
		s.URLs = map[string]string{"development": "  http://a.example  ", "production": " "}
		s.Parameters = []junction.ServiceParameter{{Name: "X"}}
		s.Endpoints = []junction.Endpoint{{Name: "e"}}
		s.Engine = "postgres"
		s.Values = map[string]map[string]string{"development": {"HostName": "h"}}
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, map[string]string{"development": "http://a.example"}, s.URLs, "trimmed, blank dropped")
		require.Nil(t, s.Parameters)
		require.Nil(t, s.Endpoints)
		require.Empty(t, s.Engine)
		require.Nil(t, s.Values)
	})

	t.Run("ExtraEnvironment", func(t *testing.T) {
		s := validInternal()
		s.URLs["staging"] = "https://staging.example"
		require.NoError(t, s.Validate(append(testEnvs, "staging")))
		require.Len(t, s.URLs, 3)
	})
}

func TestService_Validate_ThirdParty(t *testing.T) {
	runValidationCases(t, validThirdParty, []validationCase{
		{"OK", func(*junction.Service) {}, ""},
		{"OKNoParameters", func(s *junction.Service) {
			s.Parameters = nil
			for i := range s.Endpoints {
				s.Endpoints[i].Values = nil
			}
		}, ""},
		{"ErrNoVersion", func(s *junction.Service) { s.Version = "" }, "version"},
		{"ErrParameterNameEmpty", func(s *junction.Service) { s.Parameters[0].Name = " " }, "parameters[0].name"},
		{"ErrParameterNameDigitFirst", func(s *junction.Service) { s.Parameters[1].Name = "1Token" }, "parameters[1].name"},
		{"ErrParameterNameHyphen", func(s *junction.Service) { s.Parameters[1].Name = "Auth-Token" }, "parameters[1].name"},
		{"ErrParameterNameSpace", func(s *junction.Service) { s.Parameters[1].Name = "Auth Token" }, "parameters[1].name"},
		{"ErrParameterNameUnicode", func(s *junction.Service) { s.Parameters[1].Name = "Tökén" }, "parameters[1].name"},
		{"ErrParameterNameTooLong", func(s *junction.Service) { s.Parameters[1].Name = "A" + strings.Repeat("b", 64) }, "parameters[1].name"},
		{"ErrParameterDuplicate", func(s *junction.Service) { s.Parameters[1].Name = "AccountSID" }, "parameters[1].name"},
		{"ErrParameterDuplicateCaseInsensitive", func(s *junction.Service) { s.Parameters[1].Name = "accountsid" }, "parameters[1].name"},
		{"ErrParameterServiceURL", func(s *junction.Service) { s.Parameters[0].Name = "ServiceURL" }, "parameters[0].name"},
		{"ErrParameterServiceURLLowerCase", func(s *junction.Service) { s.Parameters[1].Name = "serviceurl" }, "parameters[1].name"},
		{"ErrTooManyParameters", func(s *junction.Service) {
			s.Parameters = nil
			for i := range junction.MaxParameters + 1 {
				s.Parameters = append(s.Parameters, junction.ServiceParameter{Name: fmt.Sprintf("P%d", i)})
			}
		}, "parameters"},
		{"ErrNoEndpoints", func(s *junction.Service) { s.Endpoints = nil }, "endpoints"},
		{"ErrTooManyEndpoints", func(s *junction.Service) {
			s.Parameters, s.Endpoints = nil, nil
			for i := range junction.MaxEndpoints + 1 {
				s.Endpoints = append(s.Endpoints, junction.Endpoint{Name: fmt.Sprintf("e%d", i), URL: "https://x.example", Environments: []string{"development"}})
			}
		}, "endpoints"},
		{"ErrEndpointNameEmpty", func(s *junction.Service) { s.Endpoints[0].Name = "" }, "endpoints[0].name"},
		{"ErrEndpointNameUpperCase", func(s *junction.Service) { s.Endpoints[0].Name = "Sandbox" }, "endpoints[0].name"},
		{"ErrEndpointNameLeadingHyphen", func(s *junction.Service) { s.Endpoints[1].Name = "-live" }, "endpoints[1].name"},
		{"ErrEndpointNameUnderscore", func(s *junction.Service) { s.Endpoints[1].Name = "live_eu" }, "endpoints[1].name"},
		{"ErrEndpointName33", func(s *junction.Service) { s.Endpoints[1].Name = strings.Repeat("a", 33) }, "endpoints[1].name"},
		{"OKEndpointName32", func(s *junction.Service) { s.Endpoints[1].Name = "live-" + strings.Repeat("a", 27) }, ""},
		{"ErrEndpointNameDuplicate", func(s *junction.Service) { s.Endpoints[1].Name = "sandbox" }, "endpoints[1].name"},
		{"ErrEndpointNoURL", func(s *junction.Service) { s.Endpoints[0].URL = "" }, "endpoints[0].url"},
		{"ErrEndpointFTP", func(s *junction.Service) { s.Endpoints[0].URL = "ftp://x" }, "endpoints[0].url"},
		{"ErrEndpointRelative", func(s *junction.Service) { s.Endpoints[0].URL = "/relative" }, "endpoints[0].url"},
		{"ErrEndpointNoHost", func(s *junction.Service) { s.Endpoints[1].URL = "http://" }, "endpoints[1].url"},
		{"ErrEndpointNoEnvironments", func(s *junction.Service) { s.Endpoints[0].Environments = nil }, "endpoints[0].environments"},
		{"ErrEndpointUnknownEnvironment", func(s *junction.Service) { s.Endpoints[0].Environments = []string{"development", "staging"} }, "endpoints[0].environments"},
		{"ErrEndpointOnlyUnknownEnvironment", func(s *junction.Service) { s.Endpoints[1].Environments = []string{"qa"} }, "endpoints[1].environments"},
		{"OKEndpointManyEnvironments", func(s *junction.Service) { s.Endpoints[0].Environments = []string{"development", "production"} }, ""},
		{"ErrValueMissing", func(s *junction.Service) { delete(s.Endpoints[0].Values, "AuthToken") }, "endpoints[0].values.AuthToken"},
		{"ErrValueBlank", func(s *junction.Service) { s.Endpoints[1].Values["AccountSID"] = "  " }, "endpoints[1].values.AccountSID"},
		{"ErrValuesNil", func(s *junction.Service) { s.Endpoints[0].Values = nil }, "endpoints[0].values.AuthToken"},
		{"ErrValueTooLong", func(s *junction.Service) { s.Endpoints[0].Values["AuthToken"] = strings.Repeat("x", 2001) }, "endpoints[0].values.AuthToken"},
	})

	t.Run("ErrSeveralFieldsAtOnce", func(t *testing.T) {
		s := validThirdParty()
		s.Parameters[1].Name = "accountsid"
		s.Endpoints[0].URL = "/relative"
		s.Endpoints[0].Environments = nil
		delete(s.Endpoints[1].Values, "AccountSID")
		fields := junction.ErrorFields(s.Validate(testEnvs))
		for _, key := range []string{"parameters[1].name", "endpoints[0].url", "endpoints[0].environments", "endpoints[1].values.AccountSID"} {
			require.Contains(t, fields, key, "fields: %v", fields)
		}
	})

	t.Run("Normalises", func(t *testing.T) {
		s := validThirdParty()
		s.Parameters[0].Name = " AccountSID "
		s.Endpoints[0].Name, s.Endpoints[0].URL = " sandbox ", " https://sandbox.twilio.example "
		s.Endpoints[0].Environments = []string{"development", "development"}
		s.Endpoints[0].Values["AuthToken"] = "  tok  "
		s.Visibility, s.Security, s.Engine = junction.VisibilityPublic, junction.SecurityOAuth, "redis"
		s.URLs = map[string]string{"development": "https://x.example"}
		s.Values = map[string]map[string]string{"development": {"HostName": "h"}}
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, "AccountSID", s.Parameters[0].Name)
		e := s.Endpoints[0]
		require.Equal(t, "sandbox", e.Name)
		require.Equal(t, "https://sandbox.twilio.example", e.URL)
		require.Equal(t, []string{"development"}, e.Environments, "duplicates removed")
		require.Equal(t, map[string]string{"AccountSID": "AC-sandbox", "AuthToken": "  tok  "}, e.Values, "kept as typed, unknown parameters dropped")
		require.Empty(t, s.Visibility)
		require.Empty(t, s.Security)
		require.Empty(t, s.Engine)
		require.Nil(t, s.URLs)
		require.Nil(t, s.Values)
	})

	t.Run("ExtraEnvironment", func(t *testing.T) {
		s := validThirdParty()
		s.Endpoints[0].Environments = []string{"development", "staging"}
		require.NoError(t, s.Validate(append(testEnvs, "staging")))
	})
}

func TestService_Validate_Database(t *testing.T) {
	runValidationCases(t, validDatabase, []validationCase{
		{"OK", func(*junction.Service) {}, ""},
		{"OKVersion", func(s *junction.Service) { s.Version = "v2" }, ""},
		{"ErrNoEngine", func(s *junction.Service) { s.Engine = "" }, "engine"},
		{"ErrUnknownEngine", func(s *junction.Service) { s.Engine = "sqlite" }, "engine"},
		{"ErrEngineUpperCase", func(s *junction.Service) { s.Engine = "Postgres" }, "engine"},
		{"ErrPortZero", func(s *junction.Service) { s.Values["development"]["Port"] = "0" }, "values.development.Port"},
		{"ErrPortNegative", func(s *junction.Service) { s.Values["development"]["Port"] = "-1" }, "values.development.Port"},
		{"ErrPort65536", func(s *junction.Service) { s.Values["development"]["Port"] = "65536" }, "values.development.Port"},
		{"ErrPortText", func(s *junction.Service) { s.Values["development"]["Port"] = "postgres" }, "values.development.Port"},
		{"ErrPortDecimal", func(s *junction.Service) { s.Values["development"]["Port"] = "54.32" }, "values.development.Port"},
		{"ErrPortHex", func(s *junction.Service) { s.Values["development"]["Port"] = "0x1538" }, "values.development.Port"},
		{"ErrPortMissing", func(s *junction.Service) { delete(s.Values["development"], "Port") }, "values.development.Port"},
		{"ErrPortHuge", func(s *junction.Service) { s.Values["development"]["Port"] = "99999999999999999999999" }, "values.development.Port"},
		{"OKPort1", func(s *junction.Service) { s.Values["development"]["Port"] = "1" }, ""},
		{"OKPort65535", func(s *junction.Service) { s.Values["development"]["Port"] = "65535" }, ""},
		{"ErrNoHost", func(s *junction.Service) { s.Values["development"]["HostName"] = " " }, "values.development.HostName"},
		{"ErrNoDatabaseName", func(s *junction.Service) { delete(s.Values["development"], "DatabaseName") }, "values.development.DatabaseName"},
		{"ErrNoUsername", func(s *junction.Service) { s.Values["development"]["Username"] = "" }, "values.development.Username"},
		{"OKRedisWithoutUsername", func(s *junction.Service) {
			s.Engine = "redis"
			s.Values["development"]["Username"] = ""
			s.Values["development"]["Port"] = "6379"
		}, ""},
		{"OKNoPassword", func(s *junction.Service) { delete(s.Values["development"], "Password") }, ""},
		{"ErrValueTooLong", func(s *junction.Service) { s.Values["development"]["HostName"] = strings.Repeat("h", 2001) }, "values.development.HostName"},
		{"ErrDatabaseNameBlank", func(s *junction.Service) { s.Values["development"]["DatabaseName"] = "  " }, "values.development.DatabaseName"},
		{"ErrUsernameBlank", func(s *junction.Service) { s.Values["development"]["Username"] = "\t" }, "values.development.Username"},
		{"OKSpacedUsername", func(s *junction.Service) { s.Values["development"]["Username"] = " app " }, ""},
		{"ErrNoValues", func(s *junction.Service) { s.Values = nil }, "values"},
		{"ErrOnlyBlankEnvironments", func(s *junction.Service) {
			s.Values = map[string]map[string]string{"development": {"HostName": " ", "Port": ""}, "production": {}}
		}, "values"},
		{"OKBlankEnvironmentIgnored", func(s *junction.Service) {
			s.Values["production"] = map[string]string{"HostName": "", "Port": " ", "Password": ""}
		}, ""},
		{"ErrUnknownEnvironment", func(s *junction.Service) {
			s.Values["staging"] = map[string]string{"HostName": "h", "Port": "5432", "DatabaseName": "d", "Username": "u"}
		}, "values.staging"},
		{"ErrSecondEnvironmentIncomplete", func(s *junction.Service) {
			s.Values["production"] = map[string]string{"HostName": "db.example", "Port": "5432", "DatabaseName": "orders"}
		}, "values.production.Username"},
	})

	t.Run("EveryEngine", func(t *testing.T) {
		for _, engine := range junction.DatabaseEngines {
			s := validDatabase()
			s.Engine = engine
			require.NoError(t, s.Validate(testEnvs), engine)
			require.NotEmpty(t, junction.DefaultPorts[engine], "default port of %s", engine)
		}
		require.ElementsMatch(t, []string{"postgres", "mysql", "mssql", "oracle", "mongodb", "redis"}, junction.DatabaseEngines)
	})

	t.Run("Normalises", func(t *testing.T) {
		s := validDatabase()
		s.Engine = " mysql "
		s.Values["development"] = map[string]string{"HostName": " db.local ", "Port": " 3306 ", "DatabaseName": " orders ", "Username": " app ", "Password": "  spaced pw  "}
		s.Values["production"] = map[string]string{"HostName": "  "}
		s.Visibility, s.Security = junction.VisibilityPublic, junction.SecurityOAuth
		s.URLs = map[string]string{"development": "https://x.example"}
		s.Parameters = []junction.ServiceParameter{{Name: "X"}}
		s.Endpoints = []junction.Endpoint{{Name: "e"}}
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, "mysql", s.Engine)
		require.Equal(t, map[string]map[string]string{"development": {
			"HostName": "db.local", "Port": "3306", "DatabaseName": " orders ", "Username": " app ", "Password": "  spaced pw  ",
		}}, s.Values, "host name and port trimmed, the other values kept as typed; blank environment and unknown keys dropped")
		require.Empty(t, s.Visibility)
		require.Empty(t, s.Security)
		require.Nil(t, s.URLs)
		require.Nil(t, s.Parameters)
		require.Nil(t, s.Endpoints)
	})
}

func TestValidateURL(t *testing.T) {
	for _, ok := range []string{"http://a", "https://api.example.com/v1?x=1", "http://127.0.0.1:8080", "https://[::1]:443/"} {
		require.Empty(t, junction.ValidateURL(ok), ok)
	}
	for _, bad := range []string{"", "ftp://x", "/relative", "http://", "https://", "mailto:a@example.com", "example.com", "http//x", "file:///etc/passwd", "https://x/" + strings.Repeat("a", 2000)} {
		require.NotEmpty(t, junction.ValidateURL(bad), bad)
	}
}

// paramsByName returns the connection parameters of s as name -> parameter, and their order.
func paramsByName(s *junction.Service, envs []string) (map[string]junction.ParameterSpec, []string) {
	byName := map[string]junction.ParameterSpec{}
	var order []string
	for _, p := range s.ConnectionParameters(envs) {
		byName[p.Name] = p
		order = append(order, p.Name)
	}
	return byName, order
}

func TestService_ConnectionParameters(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	tests := []struct {
		name    string
		service func() *junction.Service
		want    []string
		secret  []string
		served  map[string]bool
	}{
		{"InternalOAuth", func() *junction.Service {
			s := validInternal()
			s.URLs = map[string]string{"development": "http://dev"}
			return s
		}, []string{"ServiceURL", "ConsumerKey", "ConsumerSecret", "TokenURL"}, []string{"ConsumerSecret"},
			map[string]bool{"development": true, "production": false, "staging": false}},
		{"InternalAPIKey", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityAPIKey
			return s
		}, []string{"ServiceURL", "ChoreoAPIKey"}, []string{"ChoreoAPIKey"},
			map[string]bool{"development": true, "production": true, "staging": false}},
		{"InternalNone", func() *junction.Service {
			s := validInternal()
			s.Security = junction.SecurityNone
			s.URLs = map[string]string{"production": "https://prod", "development": ""}
			return s
		}, []string{"ServiceURL"}, nil,
			map[string]bool{"development": false, "production": true, "staging": false}},
		{"ThirdParty", func() *junction.Service {
			s := validThirdParty()
			s.Endpoints[0].Environments = []string{"development", "staging"}
			s.Endpoints[1].Environments = []string{"staging"}
			return s
		}, []string{"ServiceURL", "AccountSID", "AuthToken"}, []string{"AuthToken"},
			map[string]bool{"development": true, "production": false, "staging": true}},
		{"ThirdPartyNoParameters", func() *junction.Service {
			s := validThirdParty()
			s.Parameters = nil
			return s
		}, []string{"ServiceURL"}, nil,
			map[string]bool{"development": true, "production": true, "staging": false}},
		{"Database", func() *junction.Service {
			s := validDatabase()
			s.Values["staging"] = map[string]string{"HostName": "h"}
			return s
		}, []string{"HostName", "Port", "DatabaseName", "Username", "Password"}, []string{"Password"},
			map[string]bool{"development": true, "production": false, "staging": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byName, order := paramsByName(tt.service(), envs)
			require.Equal(t, tt.want, order, "names in order")
			for _, name := range tt.want {
				p := byName[name]
				require.Equal(t, contains(tt.secret, name), p.Secret, "secret flag of %s", name)
				require.Equal(t, tt.served, p.Environments, "environments of %s", name)
			}
		})
	}

	t.Run("OnlyGivenEnvironments", func(t *testing.T) {
		for _, p := range validInternal().ConnectionParameters([]string{"production"}) {
			require.Equal(t, map[string]bool{"production": true}, p.Environments)
		}
		for _, p := range validInternal().ConnectionParameters(nil) {
			require.Empty(t, p.Environments)
		}
	})

	t.Run("DoesNotShareState", func(t *testing.T) {
		// Changing one service's parameters must not change another's (DatabaseParameters
		// is a package variable).
		a := validDatabase().ConnectionParameters(envs)
		a[0].Name, a[4].Secret = "Changed", false
		a[0].Environments["development"] = false
		b := validDatabase().ConnectionParameters(envs)
		require.Equal(t, "HostName", b[0].Name)
		require.True(t, b[4].Secret)
		require.True(t, b[0].Environments["development"])
		require.Equal(t, "HostName", junction.DatabaseParameters[0].Name)
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestService_IsSecret(t *testing.T) {
	tp := validThirdParty()
	require.True(t, tp.IsSecret("AuthToken"))
	require.False(t, tp.IsSecret("AccountSID"))
	require.False(t, tp.IsSecret("ServiceURL"))
	require.False(t, tp.IsSecret("Unknown"))
	db := validDatabase()
	require.True(t, db.IsSecret("Password"))
	for _, name := range []string{"HostName", "Port", "DatabaseName", "Username"} {
		require.False(t, db.IsSecret(name), name)
	}
	in := validInternal()
	require.False(t, in.IsSecret("ServiceURL"))
}

func TestService_Mask(t *testing.T) {
	t.Run("ThirdParty", func(t *testing.T) {
		s := validThirdParty()
		s.Endpoints[1].Values["AuthToken"] = "" // nothing to hide
		s.Mask()
		require.Equal(t, map[string]string{"AccountSID": "AC-sandbox", "AuthToken": junction.Masked}, s.Endpoints[0].Values)
		require.Equal(t, map[string]string{"AccountSID": "AC-live", "AuthToken": ""}, s.Endpoints[1].Values)
		require.Equal(t, "********", junction.Masked)
	})

	t.Run("Database", func(t *testing.T) {
		s := validDatabase()
		s.Values["production"] = map[string]string{"HostName": "db", "Password": ""}
		before := maps.Clone(s.Values["development"])
		s.Mask()
		dev := s.Values["development"]
		require.Equal(t, "********", dev["Password"])
		delete(dev, "Password")
		delete(before, "Password")
		require.Equal(t, before, dev, "other values unchanged")
		require.Equal(t, "", s.Values["production"]["Password"])
	})

	t.Run("Internal", func(t *testing.T) {
		s := validInternal()
		want := maps.Clone(s.URLs)
		s.Mask()
		require.Equal(t, want, s.URLs)
	})

	t.Run("Idempotent", func(t *testing.T) {
		s := validThirdParty()
		s.Mask()
		s.Mask()
		require.Equal(t, junction.Masked, s.Endpoints[0].Values["AuthToken"])
	})
}

func TestService_DisplayName(t *testing.T) {
	s := validInternal()
	require.Equal(t, "Inventory API", s.DisplayName())
	s.ComponentName = "Inventory"
	require.Equal(t, "Inventory – Inventory API", s.DisplayName())
	tp := validThirdParty()
	tp.ComponentName = "ignored"
	require.Equal(t, "Twilio", tp.DisplayName())
}

func TestService_EndpointsFor(t *testing.T) {
	s := validThirdParty()
	s.Endpoints[1].Environments = []string{"production", "development"}
	var names []string
	for _, e := range s.EndpointsFor("development") {
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"sandbox", "live"}, names, "in order")
	require.Len(t, s.EndpointsFor("production"), 1)
	require.Empty(t, s.EndpointsFor("staging"))
}

func TestServiceEnums(t *testing.T) {
	for _, k := range []junction.ServiceKind{"internal", "third-party", "database"} {
		require.True(t, k.Valid(), k)
	}
	require.False(t, junction.ServiceKind("thirdparty").Valid())
	for _, v := range []junction.Visibility{"project", "organization", "public"} {
		require.True(t, v.Valid(), v)
	}
	require.False(t, junction.Visibility("").Valid())
	for _, s := range []junction.Security{"oauth", "api-key", "none"} {
		require.True(t, s.Valid(), s)
	}
	require.False(t, junction.Security("apikey").Valid())
}

func TestServiceConnectableFrom(t *testing.T) {
	internal := func(vis junction.Visibility) *junction.Service {
		return &junction.Service{Kind: junction.KindInternal, Name: "Orders", Project: "shop", Visibility: vis}
	}
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, internal(junction.VisibilityProject).ConnectableFrom("shop"))
		require.NoError(t, internal(junction.VisibilityOrganization).ConnectableFrom("blog"))
		require.NoError(t, internal(junction.VisibilityPublic).ConnectableFrom("blog"))
		require.NoError(t, (&junction.Service{Kind: junction.KindThirdParty, Name: "Twilio"}).ConnectableFrom("blog"))
	})
	t.Run("ErrProjectVisibility", func(t *testing.T) {
		err := internal(junction.VisibilityProject).ConnectableFrom("blog")
		require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
	})
	t.Run("ErrUnlisted", func(t *testing.T) {
		s := internal(junction.VisibilityPublic)
		s.Unlisted = true
		require.Equal(t, junction.EINVALID, junction.ErrorCode(s.ConnectableFrom("shop")))
	})
}

func TestServiceEditableBy(t *testing.T) {
	admin := &junction.User{ID: 1, IsAdmin: true}
	ada := &junction.User{ID: 2}
	internal := &junction.Service{Kind: junction.KindInternal}
	third := &junction.Service{Kind: junction.KindThirdParty}
	for _, tt := range []struct {
		name         string
		svc          *junction.Service
		user         *junction.User
		role         junction.Role
		registeredBy int64
		want         bool
	}{
		{"AdminAlways", third, admin, "", 99, true},
		{"InternalDeveloper", internal, ada, junction.RoleDeveloper, 99, true},
		{"InternalViewer", internal, ada, junction.RoleViewer, 2, false},
		{"InternalOutsider", internal, ada, "", 2, false},
		{"ThirdPartyRegistrant", third, ada, "", 2, true},
		{"ThirdPartyOther", third, ada, junction.RoleDeveloper, 3, false},
		{"ThirdPartyRegistrantGone", third, ada, "", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.svc.EditableBy(tt.user, tt.role, tt.registeredBy))
		})
	}
	require.True(t, junction.CanRegisterServices(admin, false))
	require.True(t, junction.CanRegisterServices(ada, true))
	require.False(t, junction.CanRegisterServices(ada, false))
}

func TestServiceFilterEffectiveSort(t *testing.T) {
	require.Equal(t, junction.SortName, junction.ServiceFilter{}.EffectiveSort())
	require.Equal(t, junction.SortRelevance, junction.ServiceFilter{Query: "twil"}.EffectiveSort())
	require.Equal(t, junction.SortName, junction.ServiceFilter{Query: "  "}.EffectiveSort())
	require.Equal(t, junction.SortNewest, junction.ServiceFilter{Query: "twil", Sort: junction.SortNewest}.EffectiveSort())
}

func TestServiceValidateRejectsUnknownValues(t *testing.T) {
	third := &junction.Service{Kind: junction.KindThirdParty, Name: "Acme", Version: "v1",
		Parameters: []junction.ServiceParameter{{Name: "Token", Secret: true}},
		Endpoints: []junction.Endpoint{{Name: "live", URL: "https://acme.example:8443", Environments: []string{"production"},
			Values: map[string]string{"Token": "t", "Extra": "x"}}}}
	err := third.Validate([]string{"development", "production"})
	require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
	require.Contains(t, junction.ErrorFields(err), "endpoints[0].values.Extra")

	database := &junction.Service{Kind: junction.KindDatabase, Name: "db", Engine: "postgres",
		Values: map[string]map[string]string{"production": {"HostName": "h", "Port": "5432", "DatabaseName": "d", "Username": "u", "Extra": "x"}}}
	err = database.Validate([]string{"production"})
	require.Contains(t, junction.ErrorFields(err), "values.production.Extra")
}

func TestValidateURLPort(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://h": true, "https://h:1": true, "https://h:65535": true, "http://[::1]:8080/x": true,
		"https://h:0": false, "https://h:65536": false, "https://h:99999": false, "https://:80": false,
	} {
		require.Equal(t, ok, junction.ValidateURL(raw) == "", raw)
	}
}

// TestValidateVersion is Choreo's rule for third-party and endpoint versions: [vV]\d+(\.\d+)*.
func TestValidateVersion(t *testing.T) {
	for _, tt := range []struct {
		version string
		ok      bool
	}{
		{"v1", true}, {"V1", true}, {"v0", true}, {"v1.2", true}, {"v1.2.3", true}, {"v10.0.1.7", true}, {"v2022", true},
		{"", false}, {"1", false}, {"1.0", false}, {"v", false}, {"v1.", false}, {"v1..2", false}, {"v1.a", false},
		{"2010-04-01", false}, {"v1-beta", false}, {"v 1", false}, {".v1", false}, {"vv1", false}, {"v1/2", false},
		{"v" + strings.Repeat("1", 32), false},
	} {
		t.Run(tt.version, func(t *testing.T) {
			msg := junction.ValidateVersion(tt.version)
			if tt.ok {
				require.Empty(t, msg)
			} else {
				require.NotEmpty(t, msg)
			}
		})
	}
}

func TestMajorAndChooseVersion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"v1", "v1"}, {"V1.2", "v1"}, {"1.0", "v1"}, {"v10.3", "v10"}, {"", ""}, {"2010-04-01", ""}, {"vx", ""},
	} {
		require.Equal(t, tt.want, junction.MajorVersion(tt.in), tt.in)
	}
	versions := []string{"v1", "v1.2", "v1.10", "v2", "2010-04-01"}
	for _, tt := range []struct {
		want  string
		index int
	}{
		{"v1", 0}, {"V1", 0}, {"1", 0}, {"v1.2", 1}, {"v1.0", 2}, {"v1.5", 2}, {"v2.0", 3}, {"v2", 3},
		{"2010-04-01", 4}, {"v3", -1}, {"", -1},
	} {
		require.Equal(t, tt.index, junction.ChooseVersion(versions, tt.want), "version %q", tt.want)
	}
}
