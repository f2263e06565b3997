package junction_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// databaseWithCredentials is validDatabase serving development and production, with a
// readonly credential in development.
func databaseWithCredentials() *junction.Service {
	s := validDatabase()
	s.Values["production"] = map[string]string{"HostName": "db.example.com", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "prod-pw"}
	s.Credentials = map[string][]junction.DatabaseCredential{
		"development": {{Name: "readonly", Username: "reporter", Password: "ro-pw"}},
	}
	return s
}

func TestService_Validate_DatabaseCredentials(t *testing.T) {
	cred := func(name, user string) junction.DatabaseCredential {
		return junction.DatabaseCredential{Name: name, Username: user, Password: "pw"}
	}
	set := func(env string, creds ...junction.DatabaseCredential) func(*junction.Service) {
		return func(s *junction.Service) { s.Credentials[env] = creds }
	}
	runValidationCases(t, databaseWithCredentials, []validationCase{
		{"OK", func(*junction.Service) {}, ""},
		{"OKNone", func(s *junction.Service) { s.Credentials = nil }, ""},
		{"OKSeveral", set("development", cred("readonly", "r"), cred("migrations", "m"), cred("batch_jobs", "b")), ""},
		{"OKSameNameInAnotherEnvironment", set("production", cred("readonly", "r")), ""},
		{"OKThreeCharacters", set("development", cred("abc", "u")), ""},
		{"OKFiftyCharacters", set("development", cred("a"+strings.Repeat("b", 49), "u")), ""},
		{"OKDigitsHyphensUnderscores", set("development", cred("ro-2_eu", "u")), ""},
		{"OKNoPassword", set("development", junction.DatabaseCredential{Name: "trusted", Username: "u"}), ""},
		{"OKRedisWithoutUsername", func(s *junction.Service) {
			s.Engine = "redis"
			s.Credentials["development"] = []junction.DatabaseCredential{{Name: "cache-ro", Password: "pw"}}
		}, ""},
		{"ErrNameEmpty", set("development", cred("", "u")), "values.development.credentials."},
		{"ErrNameBlank", set("development", cred("  ", "u")), "values.development.credentials."},
		{"ErrNameTwoCharacters", set("development", cred("ro", "u")), "values.development.credentials.ro"},
		{"ErrNameFiftyOneCharacters", set("development", cred("a"+strings.Repeat("b", 50), "u")), "values.development.credentials.a" + strings.Repeat("b", 50)},
		{"ErrNameUpperCase", set("development", cred("ReadOnly", "u")), "values.development.credentials.ReadOnly"},
		{"ErrNameStartsWithDigit", set("development", cred("1readonly", "u")), "values.development.credentials.1readonly"},
		{"ErrNameStartsWithHyphen", set("development", cred("-readonly", "u")), "values.development.credentials.-readonly"},
		{"ErrNameSpace", set("development", cred("read only", "u")), "values.development.credentials.read only"},
		{"ErrNameDot", set("development", cred("read.only", "u")), "values.development.credentials.read.only"},
		{"ErrNameSlash", set("development", cred("read/only", "u")), "values.development.credentials.read/only"},
		{"ErrNameDefault", set("development", cred("default", "u")), "values.development.credentials.default"},
		{"ErrNameTaken", set("development", cred("readonly", "a"), cred("readonly", "b")), "values.development.credentials.readonly"},
		{"ErrNameTakenAfterTrim", set("development", cred("readonly", "a"), cred(" readonly ", "b")), "values.development.credentials.readonly"},
		{"ErrNoUsername", set("development", cred("readonly", " ")), "values.development.credentials.readonly.Username"},
		{"ErrUsernameTooLong", set("development", cred("readonly", strings.Repeat("u", 2001))), "values.development.credentials.readonly.Username"},
		{"ErrPasswordTooLong", set("development", junction.DatabaseCredential{Name: "readonly", Username: "u", Password: strings.Repeat("p", 2001)}), "values.development.credentials.readonly.Password"},
		{"ErrTooMany", func(s *junction.Service) {
			s.Credentials["development"] = nil
			for i := range junction.MaxCredentials {
				s.Credentials["development"] = append(s.Credentials["development"], cred("user"+string(rune('a'+i)), "u"))
			}
		}, "values.development.credentials"},
		{"ErrEnvironmentNotServed", func(s *junction.Service) {
			delete(s.Values, "production")
			s.Credentials["production"] = []junction.DatabaseCredential{cred("readonly", "u")}
		}, "values.production.credentials"},
		{"ErrEnvironmentBlank", func(s *junction.Service) {
			s.Values["production"] = map[string]string{"HostName": " "}
			s.Credentials["production"] = []junction.DatabaseCredential{cred("readonly", "u")}
		}, "values.production.credentials"},
		{"ErrUnknownEnvironment", set("staging", cred("readonly", "u")), "values.staging.credentials"},
		// Every served environment has the default credential: its user name is required.
		{"ErrDefaultCredentialMissing", func(s *junction.Service) { s.Values["development"]["Username"] = "" }, "values.development.Username"},
	})

	t.Run("ErrUnknownKeyInBody", func(t *testing.T) {
		var s junction.Service
		require.NoError(t, json.Unmarshal([]byte(`{"kind":"database","name":"orders-db","engine":"postgres","values":{"development":
			{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"u","credentials":{"readonly":{"Username":"r","password":"misspelt"}}}}}`), &s))
		fields := junction.ErrorFields(s.Validate(testEnvs))
		require.Contains(t, fields, "values.development.credentials.readonly.password", "a misspelt key is reported, not dropped: %v", fields)
	})

	t.Run("Normalises", func(t *testing.T) {
		s := databaseWithCredentials()
		s.Credentials["development"] = []junction.DatabaseCredential{
			{Name: " reporting ", Username: " rep ", Password: "  spaced  "},
			{Name: "analytics", Username: "an"},
		}
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, []junction.DatabaseCredential{
			{Name: "analytics", Username: "an"},
			{Name: "reporting", Username: " rep ", Password: "  spaced  "},
		}, s.Credentials["development"], "names trimmed, user names and passwords kept as typed, in name order")
		require.Equal(t, []string{"default", "analytics", "reporting"}, s.CredentialNames("development"))
		require.Equal(t, []string{"default"}, s.CredentialNames("production"), "every served environment has the default credential")
		require.Empty(t, s.CredentialNames("staging"))
	})

	t.Run("OtherKindsHaveNone", func(t *testing.T) {
		s := validThirdParty()
		s.Credentials = map[string][]junction.DatabaseCredential{"development": {cred("readonly", "u")}}
		require.NoError(t, s.Validate(testEnvs))
		require.Nil(t, s.Credentials)
	})
}

func TestService_Credential(t *testing.T) {
	s := databaseWithCredentials()
	tests := []struct {
		env, name string
		want      junction.DatabaseCredential
		ok        bool
	}{
		{"development", "default", junction.DatabaseCredential{Name: "default", Username: "app", Password: "dev-pw"}, true},
		{"development", "readonly", junction.DatabaseCredential{Name: "readonly", Username: "reporter", Password: "ro-pw"}, true},
		{"production", "default", junction.DatabaseCredential{Name: "default", Username: "app", Password: "prod-pw"}, true},
		{"production", "readonly", junction.DatabaseCredential{}, false},
		{"staging", "default", junction.DatabaseCredential{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.name, func(t *testing.T) {
			got, ok := s.Credential(tt.env, tt.name)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("NotADatabase", func(t *testing.T) {
		_, ok := validThirdParty().Credential("development", "default")
		require.False(t, ok)
		require.Empty(t, validThirdParty().CredentialNames("development"))
	})
}

func TestService_JSONCredentials(t *testing.T) {
	t.Run("CreateBody", func(t *testing.T) {
		var s junction.Service
		require.NoError(t, json.Unmarshal([]byte(`{"kind":"database","name":"orders-db","engine":"postgres","values":{
			"development":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"app","Password":"pw",
				"credentials":{"readonly":{"Username":"ro","Password":"ro-pw"},"batch":{"Username":"b"},"gone":null}},
			"production":{"HostName":"p","Port":"5432","DatabaseName":"d","Username":"app"}}}`), &s))
		require.Equal(t, map[string]map[string]string{
			"development": {"HostName": "h", "Port": "5432", "DatabaseName": "d", "Username": "app", "Password": "pw"},
			"production":  {"HostName": "p", "Port": "5432", "DatabaseName": "d", "Username": "app"},
		}, s.Values)
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, map[string][]junction.DatabaseCredential{"development": {
			{Name: "batch", Username: "b"}, {Name: "readonly", Username: "ro", Password: "ro-pw"},
		}}, s.Credentials, "by name; a null credential is no credential")
	})

	t.Run("TodaysBodyUnchanged", func(t *testing.T) {
		body := `{"kind":"database","name":"orders-db","engine":"postgres","values":{"development":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"app","Password":"pw"}}}`
		var s junction.Service
		require.NoError(t, json.Unmarshal([]byte(body), &s))
		require.NoError(t, s.Validate(testEnvs))
		require.Empty(t, s.Credentials["development"])
		out, err := json.Marshal(&s)
		require.NoError(t, err)
		require.NotContains(t, string(out), "credentials", "a database without other credentials answers as before")
		var back map[string]any
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, map[string]any{"development": map[string]any{"HostName": "h", "Port": "5432", "DatabaseName": "d", "Username": "app", "Password": "pw"}}, back["values"])
	})

	t.Run("AnswerMasked", func(t *testing.T) {
		s := databaseWithCredentials()
		s.Mask()
		out, err := json.Marshal(s)
		require.NoError(t, err)
		require.NotContains(t, string(out), "ro-pw")
		require.NotContains(t, string(out), "dev-pw")
		var back map[string]any
		require.NoError(t, json.Unmarshal(out, &back))
		dev := back["values"].(map[string]any)["development"].(map[string]any)
		require.Equal(t, map[string]any{"readonly": map[string]any{"Username": "reporter", "Password": junction.Masked}}, dev["credentials"])
		require.Equal(t, junction.Masked, dev["Password"])
		require.Equal(t, "orders-db", back["name"], "the other fields are still there")

		var again junction.Service
		require.NoError(t, json.Unmarshal(out, &again), "an answer reads back as a body")
		require.Equal(t, s.Credentials, again.Credentials)
		require.Equal(t, s.Values, again.Values)
	})

	t.Run("ValueOfWrongType", func(t *testing.T) {
		for _, body := range []string{
			`{"values":{"development":{"Port":5432}}}`,
			`{"values":{"development":{"credentials":{"readonly":{"Password":1}}}}}`,
			`{"values":{"development":{"credentials":["readonly"]}}}`,
			`{"values":{"development":"db"}}`,
		} {
			var s junction.Service
			require.Error(t, json.Unmarshal([]byte(body), &s), body)
		}
	})

	t.Run("NullEnvironment", func(t *testing.T) {
		var s junction.Service
		require.NoError(t, json.Unmarshal([]byte(`{"kind":"database","name":"x-db","engine":"mysql","values":{"production":null,"development":{"HostName":"h","Port":"3306","DatabaseName":"d","Username":"u"}}}`), &s))
		require.NoError(t, s.Validate(testEnvs))
		require.Equal(t, []string{"development"}, junction.ServedEnvironments(&s, testEnvs))
	})
}

func TestService_PatchDatabaseValues(t *testing.T) {
	server := func(user string) map[string]string {
		return map[string]string{"HostName": "h", "Port": "5432", "DatabaseName": "d", "Username": user, "Password": junction.Masked}
	}
	current := func() *junction.Service {
		s := databaseWithCredentials()
		s.Credentials["development"] = append(s.Credentials["development"], junction.DatabaseCredential{Name: "batch", Username: "b", Password: "b-pw"})
		s.Credentials["production"] = []junction.DatabaseCredential{{Name: "readonly", Username: "prod-ro", Password: "p-pw"}}
		return s
	}
	type C = junction.DatabaseCredential
	tests := []struct {
		name  string
		patch map[string]junction.DatabaseValues
		want  map[string][]C
	}{
		{"ValuesOnlyKeepCredentials", map[string]junction.DatabaseValues{
			"development": {Values: server("app")}, "production": {Values: server("app")},
		}, map[string][]C{
			"development": {{Name: "batch", Username: "b", Password: "b-pw"}, {Name: "readonly", Username: "reporter", Password: "ro-pw"}},
			"production":  {{Name: "readonly", Username: "prod-ro", Password: "p-pw"}},
		}},
		{"AddReplaceRemove", map[string]junction.DatabaseValues{
			"development": {Values: server("app"), Credentials: map[string]*C{
				"readonly": {Username: "reporter2", Password: junction.Masked}, "batch": nil, "audit": {Username: "aud"},
			}},
			"production": {Values: server("app")},
		}, map[string][]C{
			"development": {{Name: "audit", Username: "aud"}, {Name: "readonly", Username: "reporter2", Password: junction.Masked}},
			"production":  {{Name: "readonly", Username: "prod-ro", Password: "p-pw"}},
		}},
		{"EnvironmentLeftOutIsDropped", map[string]junction.DatabaseValues{
			"development": {Values: server("app")},
		}, map[string][]C{
			"development": {{Name: "batch", Username: "b", Password: "b-pw"}, {Name: "readonly", Username: "reporter", Password: "ro-pw"}},
		}},
		{"EnvironmentNullIsDropped", map[string]junction.DatabaseValues{
			"development": {Values: server("app")}, "production": {},
		}, map[string][]C{
			"development": {{Name: "batch", Username: "b", Password: "b-pw"}, {Name: "readonly", Username: "reporter", Password: "ro-pw"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := current()
			s.PatchDatabaseValues(tt.patch)
			for env := range s.Credentials {
				if len(s.Credentials[env]) == 0 {
					delete(s.Credentials, env)
				}
			}
			require.Equal(t, tt.want, s.Credentials)
		})
	}
	t.Run("FromJSON", func(t *testing.T) {
		var body map[string]junction.DatabaseValues
		require.NoError(t, json.Unmarshal([]byte(`{"development":{"HostName":"h","Port":"5432","DatabaseName":"d","Username":"app",
			"credentials":{"readonly":null,"batch":{"Username":"b2","Password":"new"}}}}`), &body))
		s := current()
		s.PatchDatabaseValues(body)
		require.Equal(t, []C{{Name: "batch", Username: "b2", Password: "new"}}, s.Credentials["development"])
		require.NoError(t, s.Validate(testEnvs))
	})
}

func TestChooseCredentials(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	s := databaseWithCredentials()
	tests := []struct {
		name   string
		chosen map[string]string
		want   map[string]string
		field  string
	}{
		{"Default", nil, map[string]string{"development": "default", "production": "default"}, ""},
		{"Chosen", map[string]string{"development": "readonly"}, map[string]string{"development": "readonly", "production": "default"}, ""},
		{"DefaultByName", map[string]string{"production": "default", "development": ""}, map[string]string{"development": "default", "production": "default"}, ""},
		{"ErrUnknownName", map[string]string{"development": "admin"}, nil, "credentials.development"},
		{"ErrOnlyInAnotherEnvironment", map[string]string{"production": "readonly"}, nil, "credentials.production"},
		{"ErrNotServed", map[string]string{"staging": "default"}, nil, "credentials.staging"},
		{"ErrNoSuchEnvironment", map[string]string{"qa": "default"}, nil, "credentials.qa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := junction.ChooseCredentials(s, envs, tt.chosen)
			if tt.field != "" {
				require.Equal(t, junction.EINVALID, junction.ErrorCode(err))
				require.Contains(t, junction.ErrorFields(err), tt.field)
				require.Contains(t, junction.ErrorFields(err)[tt.field], strings.TrimPrefix(tt.field, "credentials."), "the message names the environment")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("UnknownNameListsChoices", func(t *testing.T) {
		_, err := junction.ChooseCredentials(s, envs, map[string]string{"development": "admin"})
		require.Contains(t, junction.ErrorFields(err)["credentials.development"], "default, readonly")
	})
	t.Run("OtherKinds", func(t *testing.T) {
		got, err := junction.ChooseCredentials(validThirdParty(), envs, nil)
		require.NoError(t, err)
		require.Nil(t, got)
		_, err = junction.ChooseCredentials(validInternal(), envs, map[string]string{"development": "readonly"})
		require.Contains(t, junction.ErrorFields(err), "credentials.development")
	})
}

func TestBuildParameters_DatabaseCredential(t *testing.T) {
	envs := []string{"development", "production", "staging"}
	s := databaseWithCredentials()
	values := func(chosen map[string]string) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, p := range junction.BuildParameters(s, envs, chosen, junction.Credentials{}, testTokenURL) {
			out[p.Name] = p.Values
		}
		return out
	}
	tests := []struct {
		name               string
		chosen             map[string]string
		username, password map[string]string
	}{
		{"Default", nil, map[string]string{"development": "app", "production": "app"}, map[string]string{"development": "dev-pw", "production": "prod-pw"}},
		{"Readonly", map[string]string{"development": "readonly", "production": "default"},
			map[string]string{"development": "reporter", "production": "app"}, map[string]string{"development": "ro-pw", "production": "prod-pw"}},
		// A credential that is gone gives no user: never a silent fallback to another one.
		{"Gone", map[string]string{"development": "removed"},
			map[string]string{"development": "", "production": "app"}, map[string]string{"development": "", "production": "prod-pw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := values(tt.chosen)
			require.Equal(t, tt.username, got["Username"])
			require.Equal(t, tt.password, got["Password"])
			require.Equal(t, map[string]string{"development": "localhost", "production": "db.example.com"}, got["HostName"], "server values do not depend on the credential")
		})
	}
}

func TestService_MaskCredentials(t *testing.T) {
	s := databaseWithCredentials()
	s.Credentials["development"] = append(s.Credentials["development"], junction.DatabaseCredential{Name: "trusted", Username: "t"})
	s.Mask()
	require.Equal(t, []junction.DatabaseCredential{
		{Name: "readonly", Username: "reporter", Password: junction.Masked},
		{Name: "trusted", Username: "t"},
	}, s.Credentials["development"], "an empty password stays empty")
}
