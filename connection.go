package junction

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Scope says who may use a connection.
type Scope string

// Connection scopes.
const (
	// ScopeProject connections may be used by every component of their project.
	ScopeProject Scope = "project"
	// ScopeComponent connections belong to one component.
	ScopeComponent Scope = "component"
)

// ConnectionIDPrefix starts every Connection ID.
const ConnectionIDPrefix = "conn_"

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewConnectionID returns an unguessable Connection ID: the prefix and 26 base32 characters
// of 128 random bits from crypto/rand.
func NewConnectionID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return ConnectionIDPrefix + idEncoding.EncodeToString(b)
}

// Connection links a project or a component to a catalog service and holds the parameters,
// per environment, that the component's code reads.
type Connection struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Scope       Scope      `json:"scope"`
	Project     string     `json:"project"`
	Component   string     `json:"component,omitempty"`
	Service     ServiceRef `json:"service"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// Endpoints are the third-party endpoint chosen per environment.
	Endpoints map[string]string `json:"endpoints,omitempty"`
	// Credentials are the database credential used per environment the database serves
	// (DefaultCredential unless another was chosen).
	Credentials map[string]string     `json:"credentials,omitempty"`
	Parameters  []ConnectionParameter `json:"parameters"`
	// PreviousValidUntil tells, per environment, until when the secret that a rotation with
	// grace replaced still works.
	PreviousValidUntil map[string]time.Time `json:"previous_valid_until,omitempty"`

	// Role is the caller's role in the connection's project.
	Role Role `json:"-"`
	// Revealed tells whether secret values are in clear.
	Revealed bool `json:"-"`
	// ProjectName and ComponentName are the display names of Project and Component.
	ProjectName   string `json:"-"`
	ComponentName string `json:"-"`
	// CanEdit says whether the caller may change or delete the connection and reveal its
	// secrets; Rotatable whether the caller may rotate its generated secret (an OAuth
	// application's or an API key). The store sets both.
	CanEdit   bool `json:"-"`
	Rotatable bool `json:"-"`
}

// ServiceRef names the service of a connection.
type ServiceRef struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Kind    ServiceKind `json:"kind"`
	Version string      `json:"version"`
}

// ConnectionParameter is one parameter of a connection with its value per environment. An
// environment the connection cannot serve has no value.
type ConnectionParameter struct {
	Name   string            `json:"name"`
	Secret bool              `json:"secret"`
	Values map[string]string `json:"values"`
}

// Owner describes where a connection lives, for pages: "project shop" or "component
// shop/orders".
func (c *Connection) Owner() string {
	if c.Scope == ScopeComponent {
		return c.Project + "/" + c.Component
	}
	return c.Project
}

// Validate checks the name and description of a new connection: its name follows
// ValidateConnectionName.
func (c *Connection) Validate() error { return c.validate(true) }

// ValidateUpdate checks a connection being changed. A name kept as it was (one given before
// the connection name rule existed) is accepted; a new name follows ValidateConnectionName.
func (c *Connection) ValidateUpdate(previousName string) error {
	return c.validate(strings.TrimSpace(c.Name) != previousName)
}

func (c *Connection) validate(newName bool) error {
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	fields := FieldErrors{}
	if newName {
		if msg := ValidateConnectionName(c.Name); msg != "" {
			fields.Add("name", msg)
		}
	} else if msg := validateName(c.Name); msg != "" {
		fields.Add("name", msg)
	}
	if utf8.RuneCountInString(c.Description) > MaxDescriptionLength {
		fields.Add("description", "Use at most 1000 characters.")
	}
	return fields.Err()
}

// Connection names follow Choreo's rule, so that every component.yaml Junction writes passes
// Choreo's validator: 3 to 50 characters, letters and digits with single spaces, dots,
// hyphens or underscores between them.
const (
	MinConnectionNameLength = 3
	MaxConnectionNameLength = 50
)

var connectionNamePattern = regexp.MustCompile(`^[A-Za-z0-9]+(?:[ ._-][A-Za-z0-9]+)*$`)

// ConnectionNameRule describes the rule for connection names, for help texts and messages.
const ConnectionNameRule = "3 to 50 letters and digits, with single spaces, dots, hyphens or underscores between them"

// ValidateConnectionName returns what is wrong with a new connection name, or "".
func ValidateConnectionName(name string) string {
	switch {
	case name == "":
		return "Enter a name."
	case !connectionNamePattern.MatchString(name):
		return "Use " + ConnectionNameRule + " (Choreo's rule for connection names)."
	case len(name) < MinConnectionNameLength || len(name) > MaxConnectionNameLength:
		return "Use 3 to 50 characters (Choreo's rule for connection names)."
	}
	return ""
}

// SuggestConnectionName turns a service name into a connection name that follows the rule:
// each run of other characters becomes one delimiter, and a short name gets "-connection".
func SuggestConnectionName(base string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if b.Len() > 0 && len(run) > 0 {
			if len(run) == 1 && strings.ContainsRune(" ._-", run[0]) {
				b.WriteRune(run[0])
			} else {
				b.WriteByte('-')
			}
		}
		run = run[:0]
	}
	for _, r := range base {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			flush()
			b.WriteRune(r)
		} else {
			run = append(run, r)
		}
	}
	name := b.String()
	if len(name) > MaxConnectionNameLength {
		name = strings.TrimRight(name[:MaxConnectionNameLength], " ._-")
	}
	switch {
	case name == "":
		return "connection"
	case len(name) < MinConnectionNameLength:
		return name + "-connection"
	}
	return name
}

// Mask replaces the secret values of the connection with Masked.
func (c *Connection) Mask() {
	for _, p := range c.Parameters {
		if !p.Secret {
			continue
		}
		for env, v := range p.Values {
			if v != "" {
				p.Values[env] = Masked
			}
		}
	}
	c.Revealed = false
}

// NeedsOAuthApp reports whether connections to the service get OAuth client credentials,
// shared per project (project scope) or per component (component scope).
func NeedsOAuthApp(s *Service) bool { return s.Kind == KindInternal && s.Security == SecurityOAuth }

// NeedsAPIKey reports whether each connection to the service gets API keys of its own.
func NeedsAPIKey(s *Service) bool { return s.Kind == KindInternal && s.Security == SecurityAPIKey }

// ServedEnvironments lists the environments (of envs, in order) where a connection to the
// service can have values.
func ServedEnvironments(s *Service, envs []string) []string {
	var out []string
	for _, env := range envs {
		switch {
		case s.Kind == KindInternal && s.URLs[env] != "",
			s.Kind == KindThirdParty && len(s.EndpointsFor(env)) > 0,
			s.Kind == KindDatabase && s.Values[env] != nil:
			out = append(out, env)
		}
	}
	return out
}

// ChooseEndpoints settles which endpoint of a third-party service serves each environment:
// the one chosen, which must be allowed there, or else the first endpoint allowed there.
// Other kinds have no endpoints to choose.
func ChooseEndpoints(s *Service, envs []string, chosen map[string]string) (map[string]string, error) {
	if s.Kind != KindThirdParty {
		return nil, nil
	}
	fields := FieldErrors{}
	out := map[string]string{}
	for env, name := range chosen {
		if name == "" {
			continue
		}
		ok := false
		for _, e := range s.EndpointsFor(env) {
			ok = ok || e.Name == name
		}
		if !ok {
			fields.Add("endpoints."+env, fmt.Sprintf("%s has no endpoint %q for %s.", s.Name, name, env))
		}
	}
	for _, env := range envs {
		allowed := s.EndpointsFor(env)
		if len(allowed) == 0 {
			continue
		}
		out[env] = allowed[0].Name
		if name := chosen[env]; name != "" {
			out[env] = name
		}
	}
	return out, fields.Err()
}

// Credentials are the generated secrets of a connection, by environment: the OAuth client
// of its shared application, or its own API keys.
type Credentials struct {
	ClientID     map[string]string
	ClientSecret map[string]string
	APIKey       map[string]string
}

// BuildParameters computes a connection's parameters, per kind and security scheme, with a
// value in every environment the connection can serve. chosen is what the connection chose
// per environment: the endpoint of a third-party service, the credential of a database.
func BuildParameters(s *Service, envs []string, chosen map[string]string, creds Credentials, tokenURL string) []ConnectionParameter {
	params := []ConnectionParameter{}
	add := func(name string, secret bool, value func(env string) string) {
		p := ConnectionParameter{Name: name, Secret: secret, Values: map[string]string{}}
		for _, env := range ServedEnvironments(s, envs) {
			p.Values[env] = value(env)
		}
		params = append(params, p)
	}
	switch s.Kind {
	case KindInternal:
		add(ParamServiceURL, false, func(env string) string { return s.URLs[env] })
		switch s.Security {
		case SecurityOAuth:
			add(ParamConsumerKey, false, func(env string) string { return creds.ClientID[env] })
			add(ParamConsumerSecret, true, func(env string) string { return creds.ClientSecret[env] })
			add(ParamTokenURL, false, func(string) string { return tokenURL })
		case SecurityAPIKey:
			add(ParamAPIKey, true, func(env string) string { return creds.APIKey[env] })
		}
	case KindThirdParty:
		endpoint := func(env string) Endpoint {
			for _, e := range s.Endpoints {
				if e.Name == chosen[env] {
					return e
				}
			}
			return Endpoint{}
		}
		add(ParamServiceURL, false, func(env string) string { return endpoint(env).URL })
		for _, sp := range s.Parameters {
			add(sp.Name, sp.Secret, func(env string) string { return endpoint(env).Values[sp.Name] })
		}
	case KindDatabase:
		// A credential that is gone gives no user rather than falling back to another one.
		credential := func(env string) DatabaseCredential {
			name := chosen[env]
			if name == "" {
				name = DefaultCredential
			}
			c, _ := s.Credential(env, name)
			return c
		}
		for _, dp := range DatabaseParameters {
			add(dp.Name, dp.Secret, func(env string) string {
				switch dp.Name {
				case ParamUsername:
					return credential(env).Username
				case ParamPassword:
					return credential(env).Password
				}
				return s.Values[env][dp.Name]
			})
		}
	}
	return params
}

// ConnectionUpdate holds the fields of a connection that may change. Nil means unchanged.
type ConnectionUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// Credentials change the database credential of the environments given; the others
	// keep theirs.
	Credentials map[string]string `json:"credentials"`
}

// ConnectionFilter selects connections.
type ConnectionFilter struct {
	Project   string
	Component string
	// WithProjectConnections adds, for a component, the project connections it may use.
	WithProjectConnections bool
}

// Consumer is a project or component that connects to a service.
type Consumer struct {
	ConnectionID string `json:"connection_id"`
	Connection   string `json:"connection"`
	Scope        Scope  `json:"scope"`
	Project      string `json:"project"`
	Component    string `json:"component,omitempty"`
	// Credentials are, for a database, the credential the connection uses per environment.
	Credentials map[string]string `json:"credentials,omitempty"`
	// MappedBy are the components ("project/component") that map the connection.
	MappedBy []string `json:"mapped_by,omitempty"`
}

// AccessToken is a signed token from the OAuth token endpoint.
type AccessToken struct {
	Token     string
	ExpiresIn int
}

// APIKeyInfo says what a verified API key belongs to.
type APIKeyInfo struct {
	ConnectionID string `json:"connection_id"`
	ServiceID    string `json:"service_id"`
	Environment  string `json:"environment"`
	Project      string `json:"project"`
	Component    string `json:"component,omitempty"`
}

// TokenInfo is what introspection tells a provider service about an access token
// (RFC 7662). An inactive token carries nothing else.
type TokenInfo struct {
	Active      bool     `json:"active"`
	ClientID    string   `json:"client_id,omitempty"`
	Subject     string   `json:"sub,omitempty"`
	Audience    []string `json:"aud,omitempty"`
	Issuer      string   `json:"iss,omitempty"`
	IssuedAt    int64    `json:"iat,omitempty"`
	ExpiresAt   int64    `json:"exp,omitempty"`
	TokenType   string   `json:"token_type,omitempty"`
	Environment string   `json:"environment,omitempty"`
}

// TokenService issues OAuth access tokens to connections' clients and checks API keys for
// the services they call.
type TokenService interface {
	// IssueToken checks client credentials and returns a signed token for every service the
	// client's application connects to, or only for targets when any are given (service IDs
	// or ServiceURLs: RFC 8707 resource and audience). EUNAUTHORIZED for wrong credentials,
	// EINVALID for a target the client has no connection to.
	IssueToken(ctx context.Context, clientID, clientSecret string, targets []string) (*AccessToken, error)
	// JWKS returns the public keys that verify issued tokens, as a JSON Web Key Set.
	JWKS(ctx context.Context) ([]byte, error)
	// Issuer is the URL tokens name as their issuer; the discovery documents live under it.
	Issuer() string
	// IntrospectToken tells the holder of credential (a personal access token, or a runtime
	// token or API key of a provider's component) about an access token. Tokens for services
	// the caller neither publishes nor may see are reported inactive. EUNAUTHORIZED for an
	// unknown credential.
	IntrospectToken(ctx context.Context, credential, token string) (*TokenInfo, error)
	// VerifyAPIKey tells what an API key belongs to; EUNAUTHORIZED for unknown keys.
	VerifyAPIKey(ctx context.Context, key string) (*APIKeyInfo, error)
}

// ConnectionService manages connections, acting as the user in ctx. A connection in a
// project the user may not see is ENOTFOUND; viewers never receive secret values.
type ConnectionService interface {
	// CreateConnection connects a project (c.Component empty) or a component to a service.
	// The service must be visible and connectable from the project. A third-party API's
	// endpoint and a database's credential are chosen per environment (EINVALID keyed
	// endpoints.<environment> or credentials.<environment> for one that is not there).
	CreateConnection(ctx context.Context, c *Connection) error
	FindConnections(ctx context.Context, filter ConnectionFilter) ([]*Connection, error)
	// FindConnection returns a connection; with reveal, secret values are in clear (developers
	// and admins only, and audited).
	FindConnection(ctx context.Context, id string, reveal bool) (*Connection, error)
	// UpdateConnection changes a connection's name, description or database credentials
	// (EINVALID keyed credentials.<environment> for a credential the database lacks there).
	UpdateConnection(ctx context.Context, id string, upd ConnectionUpdate) (*Connection, error)
	// DeleteConnection deletes a connection; while components map it, only with force, which
	// removes their mappings too (ECONFLICT otherwise, naming them).
	DeleteConnection(ctx context.Context, id string, force bool) error
	// MappedBy lists the components that map the connection ("project/component").
	MappedBy(ctx context.Context, id string) ([]string, error)
	// SharedWith lists the connections that share the connection's rotatable secret (its
	// OAuth application, or just itself for an API key): the blast radius of a rotation.
	SharedWith(ctx context.Context, id string) ([]*Connection, error)
	// Rotate replaces the OAuth client secret or the API key of the connection in one
	// environment and returns the connections that share it.
	Rotate(ctx context.Context, id, environment string) ([]*Connection, error)
	// RotateWithGrace is Rotate with a grace period (0 to MaxGrace; EINVALID keyed grace
	// otherwise) during which the previous secret keeps working.
	RotateWithGrace(ctx context.Context, id, environment string, grace time.Duration) (*Rotation, error)
	// FinishRotation ends a grace period at once: the previous secret stops working and is
	// erased (ECONFLICT when there is none).
	FinishRotation(ctx context.Context, id, environment string) error
	// FindConsumers lists the projects and components connected to a service, with the
	// components that map each connection and, for a database, its credentials.
	FindConsumers(ctx context.Context, serviceID string) ([]*Consumer, error)
	TokenService
}

// MaxGrace is the longest grace period of a rotation: seven days.
const MaxGrace = 168 * time.Hour

// Rotation is the result of a rotation: the connections that share the new secret and, with
// a grace period, until when the previous one still works.
type Rotation struct {
	Shared             []*Connection
	Environment        string
	PreviousValidUntil *time.Time
}

// ValidateGrace checks a rotation's grace period.
func ValidateGrace(grace time.Duration) error {
	if grace < 0 || grace > MaxGrace {
		msg := "Use a grace period from 0s to 168h (seven days)."
		return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"grace": msg}}
	}
	return nil
}

// ParseGrace reads a grace period such as "24h" or "90m"; "" is none.
func ParseGrace(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		msg := "Use a duration such as 24h (at most 168h)."
		return 0, &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"grace": msg}}
	}
	return d, ValidateGrace(d)
}
