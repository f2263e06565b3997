package junction

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Database credentials: a database service has, per environment, one or more named users.
// The Username and Password beside the server values are the credential DefaultCredential;
// Service.Credentials holds the others. A connection to the database chooses one credential
// per environment (DefaultCredential unless it says otherwise), so that a reporting job can
// get a read-only user and the API the read-write one.

// DefaultCredential is the credential whose Username and Password sit beside a database's
// server values. Every environment a database serves has it.
const DefaultCredential = "default"

// MaxCredentials bounds the credentials of a database in one environment, the default one
// included.
const MaxCredentials = 20

// credentialNamePattern: 3 to 50 lower-case letters, digits, hyphens and underscores,
// starting with a letter.
var credentialNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{2,49}$`)

// DatabaseCredential is a named user of a database in one environment.
type DatabaseCredential struct {
	Name     string `json:"-"`
	Username string `json:"Username"`
	Password string `json:"Password"`

	// unknown are the keys of a JSON body that are neither Username nor Password; Validate
	// reports them instead of dropping a misspelt password silently.
	unknown []string
}

// UnmarshalJSON reads {"Username": "…", "Password": "…"}.
func (c *DatabaseCredential) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = DatabaseCredential{Username: m[ParamUsername], Password: m[ParamPassword]}
	for key := range m {
		if key != ParamUsername && key != ParamPassword {
			c.unknown = append(c.unknown, key)
		}
	}
	slices.Sort(c.unknown)
	return nil
}

// CredentialNames lists the credentials of a database in env: DefaultCredential first, then
// the others in order. It is empty where the database does not serve env.
func (s *Service) CredentialNames(env string) []string {
	if s.Kind != KindDatabase || s.Values[env] == nil {
		return nil
	}
	names := []string{DefaultCredential}
	for _, c := range s.Credentials[env] {
		names = append(names, c.Name)
	}
	return names
}

// Credential returns the named credential of a database in env.
func (s *Service) Credential(env, name string) (DatabaseCredential, bool) {
	if s.Kind != KindDatabase || s.Values[env] == nil {
		return DatabaseCredential{}, false
	}
	if name == DefaultCredential {
		v := s.Values[env]
		return DatabaseCredential{Name: DefaultCredential, Username: v[ParamUsername], Password: v[ParamPassword]}, true
	}
	for _, c := range s.Credentials[env] {
		if c.Name == name {
			return c, true
		}
	}
	return DatabaseCredential{}, false
}

// validateCredentials checks the credentials of a served environment besides the default
// one: names are unique, follow credentialNamePattern and are not DefaultCredential; a user
// name is required except for Redis. It returns them sorted by name.
func (s *Service) validateCredentials(env string, creds []DatabaseCredential, fields FieldErrors) []DatabaseCredential {
	prefix := "values." + env + ".credentials"
	if len(creds)+1 > MaxCredentials {
		fields.Add(prefix, "Use at most "+strconv.Itoa(MaxCredentials)+" credentials per environment, the default one included.")
	}
	seen := map[string]bool{}
	out := make([]DatabaseCredential, 0, len(creds))
	for _, c := range creds {
		c.Name = strings.TrimSpace(c.Name)
		// User names and passwords are kept as typed, spaces included, like the default
		// credential's.
		key := prefix + "." + c.Name
		switch {
		case c.Name == "":
			fields.Add(key, "Enter a name for the credential, such as readonly.")
		case c.Name == DefaultCredential:
			fields.Add(key, "The default credential is the Username and Password beside the server values.")
		case !credentialNamePattern.MatchString(c.Name):
			fields.Add(key, "Use 3 to 50 lower-case letters, digits, hyphens and underscores, starting with a letter, such as readonly.")
		case seen[c.Name]:
			fields.Add(key, "Another credential of "+env+" has this name.")
		}
		seen[c.Name] = true
		for _, k := range c.unknown {
			fields.Add(key+"."+k, "A credential has a Username and a Password only.")
		}
		c.unknown = nil
		if strings.TrimSpace(c.Username) == "" && s.Engine != "redis" {
			fields.Add(key+"."+ParamUsername, "Enter the user name.")
		}
		if len(c.Username) > maxValueLen {
			fields.Add(key+"."+ParamUsername, "Use at most 2000 characters.")
		}
		if len(c.Password) > maxValueLen {
			fields.Add(key+"."+ParamPassword, "Use at most 2000 characters.")
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b DatabaseCredential) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// DatabaseValues are a database's values in one environment as the API reads and writes
// them: the server values and the default credential's Username and Password as strings, and
// the other credentials by name under "credentials". In an update, a credential set to null
// is removed.
type DatabaseValues struct {
	Values      map[string]string
	Credentials map[string]*DatabaseCredential
}

// MarshalJSON writes the values with the credentials, if any, under "credentials".
func (v DatabaseValues) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(v.Values)+1)
	for k, val := range v.Values {
		out[k] = val
	}
	if len(v.Credentials) > 0 {
		out["credentials"] = v.Credentials
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the values of one environment; null reads as no values.
func (v *DatabaseValues) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*v = DatabaseValues{}
	if raw == nil {
		return nil
	}
	v.Values = map[string]string{}
	for key, msg := range raw {
		// Errors are returned as they are: the decoder names the field of a type error.
		if key == "credentials" {
			if err := json.Unmarshal(msg, &v.Credentials); err != nil {
				return err
			}
			continue
		}
		var s string
		if err := json.Unmarshal(msg, &s); err != nil {
			return err
		}
		v.Values[key] = s
	}
	return nil
}

// databaseValues returns the service's values and credentials in their API form.
func (s *Service) databaseValues() map[string]DatabaseValues {
	if len(s.Values) == 0 {
		return nil
	}
	out := make(map[string]DatabaseValues, len(s.Values))
	for env, vals := range s.Values {
		dv := DatabaseValues{Values: vals}
		for _, c := range s.Credentials[env] {
			if dv.Credentials == nil {
				dv.Credentials = map[string]*DatabaseCredential{}
			}
			dv.Credentials[c.Name] = &c
		}
		out[env] = dv
	}
	return out
}

// SetDatabaseValues replaces the service's values with those of a create body: credentials
// set to null are left out.
func (s *Service) SetDatabaseValues(values map[string]DatabaseValues) {
	s.Values, s.Credentials = nil, nil
	s.PatchDatabaseValues(values)
}

// PatchDatabaseValues applies the values of an update body, as PATCH does: the environments
// given replace the current ones and the others are dropped, as before credentials existed;
// within an environment given, a credential given replaces the current one, a credential set
// to null is removed and the others are kept. An environment given as null (or without
// any value) is dropped with its credentials.
func (s *Service) PatchDatabaseValues(values map[string]DatabaseValues) {
	current := s.Credentials
	s.Values, s.Credentials = map[string]map[string]string{}, map[string][]DatabaseCredential{}
	for env, dv := range values {
		s.Values[env] = dv.Values
		if isBlank(dv.Values) && len(dv.Credentials) == 0 {
			continue
		}
		byName := map[string]DatabaseCredential{}
		for _, c := range current[env] {
			byName[c.Name] = c
		}
		for name, c := range dv.Credentials {
			if c == nil {
				delete(byName, name)
				continue
			}
			cred := *c
			cred.Name = name
			byName[name] = cred
		}
		for _, name := range slices.Sorted(maps.Keys(byName)) {
			s.Credentials[env] = append(s.Credentials[env], byName[name])
		}
	}
}

// MarshalJSON writes a service with each environment's credentials inside its values.
func (s Service) MarshalJSON() ([]byte, error) {
	type plain Service
	return json.Marshal(struct {
		plain
		Values map[string]DatabaseValues `json:"values,omitempty"`
	}{plain(s), s.databaseValues()})
}

// UnmarshalJSON reads a service body, with each environment's credentials inside its values.
func (s *Service) UnmarshalJSON(b []byte) error {
	type plain Service
	in := struct {
		*plain
		Values map[string]DatabaseValues `json:"values"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	s.SetDatabaseValues(in.Values)
	return nil
}

// ChooseCredentials settles which credential of a database each environment of a connection
// uses: the one chosen, which must exist there, or else DefaultCredential. Errors are keyed
// credentials.<environment>. Other kinds of services have no credentials to choose.
func ChooseCredentials(s *Service, envs []string, chosen map[string]string) (map[string]string, error) {
	fields := FieldErrors{}
	if s.Kind != KindDatabase {
		for env, name := range chosen {
			if name != "" {
				fields.Add("credentials."+env, "Only connections to databases choose credentials.")
			}
		}
		return nil, fields.Err()
	}
	for env, name := range chosen {
		names := s.CredentialNames(env)
		switch {
		case name == "":
		case !slices.Contains(envs, env):
			fields.Add("credentials."+env, fmt.Sprintf("There is no environment %q.", env))
		case len(names) == 0:
			fields.Add("credentials."+env, fmt.Sprintf("%s does not serve %s, so it has no credential there.", s.Name, env))
		case !slices.Contains(names, name):
			fields.Add("credentials."+env, fmt.Sprintf("%s has no credential %q in %s; choose one of: %s.", s.Name, name, env, strings.Join(names, ", ")))
		}
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	return EffectiveCredentials(s, envs, chosen), nil
}

// EffectiveCredentials is the credential a database connection uses in each environment the
// database serves: the one stored, or DefaultCredential.
func EffectiveCredentials(s *Service, envs []string, stored map[string]string) map[string]string {
	if s.Kind != KindDatabase {
		return nil
	}
	out := map[string]string{}
	for _, env := range ServedEnvironments(s, envs) {
		out[env] = DefaultCredential
		if name := stored[env]; name != "" {
			out[env] = name
		}
	}
	return out
}
