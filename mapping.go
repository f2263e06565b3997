package junction

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Mapping maps one parameter of a connection to an environment variable of a component.
type Mapping struct {
	ConnectionID string `json:"connection_id"`
	Parameter    string `json:"parameter"`
	Env          string `json:"env"`
}

// MaxEnvNameLength is the longest environment variable name accepted.
const MaxEnvNameLength = 128

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reservedEnvNames are set by the system or by Junction itself.
var reservedEnvNames = []string{"PATH", "HOME", "HOSTNAME", "PORT"}

// ValidateEnvName returns what is wrong with an environment variable name, or "".
func ValidateEnvName(name string) string {
	switch {
	case name == "":
		return "Enter a variable name."
	case len(name) > MaxEnvNameLength:
		return "Use at most 128 characters."
	case !envNamePattern.MatchString(name):
		return "Use letters, digits and underscores, not starting with a digit."
	case strings.HasPrefix(strings.ToUpper(name), "JUNCTION_"):
		return "Names starting with JUNCTION_ are reserved for Junction."
	}
	for _, r := range reservedEnvNames {
		if strings.EqualFold(name, r) {
			return name + " is reserved: the system sets it."
		}
	}
	return ""
}

// SuggestEnvName is the variable name the editor suggests for a parameter: the connection
// name and the parameter, upper-cased, with any other character as an underscore
// (TWILIO_SERVICEURL).
func SuggestEnvName(connection, parameter string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(connection + "_" + parameter) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	return name
}

// MappingTaken names the connection that already uses a variable name, for messages.
type MappingTaken struct {
	Env            string
	ConnectionID   string
	ConnectionName string
	Parameter      string
}

// ValidateMapping checks the variable names proposed for every parameter of one connection
// (names, keyed by parameter) against the rules and against the component's other mappings
// (taken). Errors are keyed by parameter, so a form can show each next to its field.
func ValidateMapping(params []string, names map[string]string, taken []MappingTaken) error {
	fields := FieldErrors{}
	known := map[string]bool{}
	seen := map[string]string{}
	for _, p := range params {
		known[p] = true
		name := strings.TrimSpace(names[p])
		if msg := ValidateEnvName(name); msg != "" {
			fields.Add(p, msg)
			continue
		}
		if other, ok := seen[name]; ok {
			fields.Add(p, fmt.Sprintf("%s is also used for %s of this connection.", name, other))
			continue
		}
		seen[name] = p
		for _, t := range taken {
			if t.Env == name {
				fields.Add(p, fmt.Sprintf("%s is already used by connection %s (%s) for %s.", name, t.ConnectionName, t.ConnectionID, t.Parameter))
				break
			}
		}
	}
	for p := range names {
		if !known[p] {
			fields.Add(p, "The connection has no parameter "+p+".")
		}
	}
	return fields.Err()
}

// MappedConnection is what ValidateComponentMappings needs to know of a connection.
type MappedConnection struct {
	Name       string
	Parameters []string
}

// ValidateComponentMappings checks a component's whole set of mappings (names by connection
// ID, then parameter): each connection against the rules and against the names the others
// use. Errors are keyed "<connection ID>.<parameter>".
func ValidateComponentMappings(conns map[string]MappedConnection, names map[string]map[string]string) error {
	fields := FieldErrors{}
	for id, byParam := range names {
		var taken []MappingTaken
		for other, otherNames := range names {
			if other == id {
				continue
			}
			for prm, env := range otherNames {
				taken = append(taken, MappingTaken{Env: strings.TrimSpace(env), ConnectionID: other, ConnectionName: conns[other].Name, Parameter: prm})
			}
		}
		for field, msg := range ErrorFields(ValidateMapping(conns[id].Parameters, byParam, taken)) {
			fields.Add(id+"."+field, msg)
		}
	}
	return fields.Err()
}

// EnvVar is one variable of a component's effective environment and where it comes from.
type EnvVar struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret"`
	// HasValue is false when the connection has no value in the environment (a third-party
	// endpoint not allowed there, say): the variable is then not set.
	HasValue       bool   `json:"has_value"`
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection"`
	Parameter      string `json:"parameter"`
	Scope          Scope  `json:"scope"`
}

// ImportStep is what importing one connection reference does.
type ImportStep struct {
	Reference    string `json:"reference"`
	Line         int    `json:"line"`
	ConnectionID string `json:"connection_id"`
	// Connection is the name of the connection the reference maps.
	Connection string `json:"connection"`
	ServiceID  string `json:"service_id"`
	// Match says how the reference found its connection: one of the ImportMatch values.
	Match    string          `json:"match"`
	Created  bool            `json:"created"`
	Mappings []ImportMapping `json:"mappings"`
}

// How an imported reference finds its connection.
const (
	// ImportMatchConnectionID: a serviceReferences connectionConfig is the Connection ID of a
	// connection the component may use.
	ImportMatchConnectionID = "connection_id"
	// ImportMatchConnectionName: a connection reference names a connection the component may use.
	ImportMatchConnectionName = "connection_name"
	// ImportMatchService: the reference's service resolved in the catalog, and the component
	// may already use a connection to it (service references only).
	ImportMatchService = "service"
	// ImportMatchCreated: the service resolved in the catalog; applying creates a component
	// connection to it.
	ImportMatchCreated = "created"
)

// ImportMapping is one variable an import sets, with the name it had before ("" if none).
type ImportMapping struct {
	Parameter string `json:"parameter"`
	Env       string `json:"env"`
	Previous  string `json:"previous,omitempty"`
}

// RuntimeToken lets a component fetch its variables for one environment at run time. Only
// its hash is stored; the secret is shown once.
type RuntimeToken struct {
	ID          int64  `json:"id"`
	Environment string `json:"environment"`
	// Name tells tokens apart; it defaults to "<component>-<environment>".
	Name string `json:"name"`
	// Prefix is the start of the secret (e.g. "jrt_ab12"), to recognise a token without
	// being able to use it; empty for tokens made before prefixes were kept.
	Prefix string `json:"prefix"`
	// CreatedBy is the e-mail of the user who created the token, "" if unknown.
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	FirstUsedAt *time.Time `json:"first_used_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	// CanRevoke says whether the caller may revoke the token.
	CanRevoke bool `json:"-"`
	// Activity is the number of fetches with the token per hour over the last 7 days,
	// oldest first (the component page's sparkline).
	Activity []int64 `json:"-"`
}

// RuntimeTokenRequest is what creating a runtime token takes.
type RuntimeTokenRequest struct {
	Environment string `json:"environment"`
	// Name is optional; empty gives the default name.
	Name string `json:"name"`
}

// MaxTokenName is the longest name a token may have.
const MaxTokenName = 100

// TokenPrefixLength is how many characters of a secret after its kind prefix are kept to
// recognise it: too few to guess the rest.
const TokenPrefixLength = 4

// SecretPrefix is the part of a token secret that is kept and shown: its kind prefix and
// TokenPrefixLength more characters.
func SecretPrefix(kind, secret string) string {
	n := len(kind) + TokenPrefixLength
	if len(secret) < n {
		return ""
	}
	return secret[:n]
}

// RuntimeTokenPrefix starts every runtime token.
const RuntimeTokenPrefix = "jrt_"

// MappingService manages a component's mappings, effective environment and runtime tokens,
// acting as the user in ctx with the project's visibility rules.
type MappingService interface {
	FindMappings(ctx context.Context, project, component string) ([]Mapping, error)
	// SetMappings replaces the mappings of one connection the component may use, all or
	// nothing: every parameter must be mapped to a valid, unique name.
	SetMappings(ctx context.Context, project, component, connectionID string, names map[string]string) ([]Mapping, error)
	DeleteMappings(ctx context.Context, project, component, connectionID string) error
	// ReplaceMappings sets all of a component's mappings at once (names by connection ID,
	// then parameter), all or nothing; errors are keyed "<connection ID>.<parameter>".
	ReplaceMappings(ctx context.Context, project, component string, names map[string]map[string]string) ([]Mapping, error)
	// MappingHistory lists the versions of the component's mappings, newest first: every
	// write stores the whole set as a new version.
	MappingHistory(ctx context.Context, project, component string) ([]*MappingVersion, error)
	// RestoreMappings makes an earlier version current, as a new version, with the
	// validation of a save; a connection of that version that is gone is EINVALID naming it,
	// and nothing is restored. ENOTFOUND for an unknown version.
	RestoreMappings(ctx context.Context, project, component string, version int) ([]Mapping, error)
	// Env returns the component's effective environment; secrets masked unless reveal.
	Env(ctx context.Context, project, component, environment string, reveal bool) ([]EnvVar, error)

	// ExportComponentYAML writes the component's mapped connections as a Choreo
	// component.yaml of schema "1.0", "1.1" or "1.2" (see MarshalComponentYAML).
	ExportComponentYAML(ctx context.Context, project, component, schema string) (*ChoreoExport, error)
	// ImportComponentYAML applies a parsed Choreo file in one transaction, or with dryRun
	// only says what it would do. A connection reference is matched by connection name, a
	// service reference by Connection ID (connectionConfig), among the connections the
	// component may use; else its service is resolved in the catalog, and a service reference
	// reuses a connection the component may use to it. What remains is connected as a new
	// component connection. A file without references changes nothing (no steps).
	ImportComponentYAML(ctx context.Context, project, component string, imp *ChoreoImport, dryRun bool) ([]ImportStep, error)

	CreateRuntimeToken(ctx context.Context, project, component, environment string) (*RuntimeToken, string, error)
	// IssueRuntimeToken is CreateRuntimeToken with a name (and whatever else a request
	// may carry later).
	IssueRuntimeToken(ctx context.Context, project, component string, req RuntimeTokenRequest) (*RuntimeToken, string, error)
	FindRuntimeTokens(ctx context.Context, project, component string) ([]*RuntimeToken, error)
	RevokeRuntimeToken(ctx context.Context, project, component string, id int64) error
	// RuntimeEnv returns the variables of the token's component and environment with
	// secrets in clear; EUNAUTHORIZED for unknown or revoked tokens. It needs no user.
	RuntimeEnv(ctx context.Context, token string) ([]EnvVar, error)
	// RuntimeDocument is RuntimeEnv encoded in one of RuntimeFormats, with its ETag: the
	// runtime API's answer, kept ready for the hot path. A format that cannot carry the
	// values is EINVALID (dotenv's unrepresentable values, js's secrets).
	RuntimeDocument(ctx context.Context, token, format string) (*RuntimeDocument, error)
	// RuntimeChanged returns a channel closed at the next change that may alter some
	// component's variables, made by this process or another replica. Take it before
	// RuntimeDocument, so that a change between the two is not missed.
	RuntimeChanged() <-chan struct{}
}

// RuntimeFormats are the encodings of the runtime API: json (the default), dotenv, shell
// (what `junction env --format shell` prints) and js (config.js for a web application).
var RuntimeFormats = []string{"json", "dotenv", "shell", "js"}

// RuntimeDocument is a component's variables in one format, as the runtime API answers them.
type RuntimeDocument struct {
	Body        []byte
	ContentType string
	// ETag is a strong entity tag (quotes included) of the format and the body: equal for the
	// same variables, different after any change of them.
	ETag string
}

// MappingVersion is one version of a component's mappings.
type MappingVersion struct {
	Version  int       `json:"version"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Mappings []Mapping `json:"mappings"`
}
