package junction

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ServiceKind says where a catalog service comes from.
type ServiceKind string

// Service kinds.
const (
	KindInternal   ServiceKind = "internal"
	KindThirdParty ServiceKind = "third-party"
	KindDatabase   ServiceKind = "database"
)

// ServiceKinds lists every kind in display order.
var ServiceKinds = []ServiceKind{KindInternal, KindThirdParty, KindDatabase}

// Valid reports whether k is a known kind.
func (k ServiceKind) Valid() bool { return slices.Contains(ServiceKinds, k) }

// Visibility says which projects may connect to an internal service.
type Visibility string

// Visibilities.
const (
	VisibilityProject      Visibility = "project"
	VisibilityOrganization Visibility = "organization"
	VisibilityPublic       Visibility = "public"
)

// Visibilities lists every visibility from narrowest to widest.
var Visibilities = []Visibility{VisibilityProject, VisibilityOrganization, VisibilityPublic}

// Valid reports whether v is a known visibility.
func (v Visibility) Valid() bool { return slices.Contains(Visibilities, v) }

// Security is how callers authenticate to an internal service.
type Security string

// Security schemes.
const (
	SecurityOAuth  Security = "oauth"
	SecurityAPIKey Security = "api-key"
	SecurityNone   Security = "none"
)

// SecuritySchemes lists every scheme.
var SecuritySchemes = []Security{SecurityOAuth, SecurityAPIKey, SecurityNone}

// Valid reports whether s is a known scheme.
func (s Security) Valid() bool { return slices.Contains(SecuritySchemes, s) }

// DatabaseEngines lists the database engines a database service may use.
var DatabaseEngines = []string{"postgres", "mysql", "mssql", "oracle", "mongodb", "redis"}

// DefaultPorts are the usual ports of the database engines, suggested in forms.
var DefaultPorts = map[string]string{
	"postgres": "5432", "mysql": "3306", "mssql": "1433", "oracle": "1521", "mongodb": "27017", "redis": "6379",
}

// Parameter names of connections, by service kind and security scheme.
const (
	ParamServiceURL     = "ServiceURL"
	ParamConsumerKey    = "ConsumerKey"
	ParamConsumerSecret = "ConsumerSecret"
	ParamTokenURL       = "TokenURL"
	ParamAPIKey         = "ChoreoAPIKey"
	ParamHostName       = "HostName"
	ParamPort           = "Port"
	ParamDatabaseName   = "DatabaseName"
	ParamUsername       = "Username"
	ParamPassword       = "Password"
)

// DatabaseParameters are the parameters of a database service, in order.
var DatabaseParameters = []ServiceParameter{
	{Name: ParamHostName}, {Name: ParamPort}, {Name: ParamDatabaseName}, {Name: ParamUsername}, {Name: ParamPassword, Secret: true},
}

// Masked replaces every secret value shown to people and in API answers.
const Masked = "********"

// Service is an entry of the catalog: an internal endpoint published by a component, a
// third-party API, or a database.
type Service struct {
	ID          string      `json:"id"`
	Kind        ServiceKind `json:"kind"`
	Name        string      `json:"name"`
	Version     string      `json:"version"`
	Description string      `json:"description"`
	Tags        []string    `json:"tags"`
	// Unlisted services are removed from the catalog: they take no new connections, but
	// the connections that exist keep working.
	Unlisted  bool      `json:"unlisted"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Internal services: the publishing component, visibility, security and a URL per
	// environment.
	Project       string            `json:"project,omitempty"`
	Component     string            `json:"component,omitempty"`
	ComponentName string            `json:"component_name,omitempty"`
	Visibility    Visibility        `json:"visibility,omitempty"`
	Security      Security          `json:"security,omitempty"`
	URLs          map[string]string `json:"urls,omitempty"`

	// Third-party services: additional parameters and the endpoints that serve them.
	Parameters []ServiceParameter `json:"parameters,omitempty"`
	Endpoints  []Endpoint         `json:"endpoints,omitempty"`

	// Database services: the engine and, per environment, HostName, Port, DatabaseName,
	// and the Username and Password of the credential DefaultCredential; Credentials are the
	// other credentials per environment, in name order (in JSON, values.{env}.credentials).
	Engine      string                          `json:"engine,omitempty"`
	Values      map[string]map[string]string    `json:"values,omitempty"`
	Credentials map[string][]DatabaseCredential `json:"-"`

	// CanEdit tells whether the caller may change, unlist or unpublish the service.
	CanEdit bool `json:"-"`
}

// ServiceParameter is an additional parameter of a third-party service.
type ServiceParameter struct {
	Name   string `json:"name"`
	Secret bool   `json:"secret"`
}

// Endpoint is one way to reach a third-party service, such as its sandbox.
type Endpoint struct {
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Environments []string          `json:"environments"`
	Values       map[string]string `json:"values"`
}

// DisplayName is the catalog title: "component – endpoint" for internal services.
func (s *Service) DisplayName() string {
	if s.Kind == KindInternal && s.ComponentName != "" {
		return s.ComponentName + " – " + s.Name
	}
	return s.Name
}

// IsSecret reports whether the named parameter of the service holds a secret.
func (s *Service) IsSecret(param string) bool {
	switch s.Kind {
	case KindThirdParty:
		for _, p := range s.Parameters {
			if p.Name == param {
				return p.Secret
			}
		}
	case KindDatabase:
		return param == ParamPassword
	}
	return false
}

// Mask replaces every secret value of the service with Masked.
func (s *Service) Mask() {
	for i := range s.Endpoints {
		for name, v := range s.Endpoints[i].Values {
			if v != "" && s.IsSecret(name) {
				s.Endpoints[i].Values[name] = Masked
			}
		}
	}
	for _, values := range s.Values {
		if values[ParamPassword] != "" {
			values[ParamPassword] = Masked
		}
	}
	for _, creds := range s.Credentials {
		for i := range creds {
			if creds[i].Password != "" {
				creds[i].Password = Masked
			}
		}
	}
}

// ParameterSpec is a parameter that a connection to a service gets, with the
// environments in which it has a value.
type ParameterSpec struct {
	Name         string
	Secret       bool
	Environments map[string]bool
}

// ConnectionParameters lists the parameters a connection to the service will get, in order,
// and the environments (of envs) where they have values.
func (s *Service) ConnectionParameters(envs []string) []ParameterSpec {
	served := map[string]bool{}
	var names []ServiceParameter
	switch s.Kind {
	case KindInternal:
		for env, u := range s.URLs {
			served[env] = u != ""
		}
		names = []ServiceParameter{{Name: ParamServiceURL}}
		switch s.Security {
		case SecurityOAuth:
			names = append(names, ServiceParameter{Name: ParamConsumerKey}, ServiceParameter{Name: ParamConsumerSecret, Secret: true}, ServiceParameter{Name: ParamTokenURL})
		case SecurityAPIKey:
			names = append(names, ServiceParameter{Name: ParamAPIKey, Secret: true})
		}
	case KindThirdParty:
		for _, e := range s.Endpoints {
			for _, env := range e.Environments {
				served[env] = true
			}
		}
		names = append([]ServiceParameter{{Name: ParamServiceURL}}, s.Parameters...)
	case KindDatabase:
		for env := range s.Values {
			served[env] = true
		}
		names = DatabaseParameters
	}
	params := make([]ParameterSpec, len(names))
	for i, p := range names {
		params[i] = ParameterSpec{Name: p.Name, Secret: p.Secret, Environments: map[string]bool{}}
		for _, env := range envs {
			params[i].Environments[env] = served[env]
		}
	}
	return params
}

// EditableBy reports whether user may change, unlist or unpublish the service: admins
// always; for an internal service, whoever may write to its project (projectRole is the
// user's role there); for the others, the user who registered it.
func (s *Service) EditableBy(user *User, projectRole Role, registeredBy int64) bool {
	switch {
	case user.IsAdmin:
		return true
	case s.Kind == KindInternal:
		return projectRole.CanWrite()
	}
	return registeredBy != 0 && registeredBy == user.ID
}

// CanRegisterServices reports whether a user may register third-party and database
// services: admins, and developers of at least one project.
func CanRegisterServices(user *User, developerSomewhere bool) bool {
	return user.IsAdmin || developerSomewhere
}

// ConnectableFrom reports, as an error, why a new connection from project may not use the
// service: unlisted services take no new connections, and project-visibility internal
// services are only for their own project.
func (s *Service) ConnectableFrom(project string) error {
	if s.Unlisted {
		return Errorf(EINVALID, "%s is removed from the catalog and takes no new connections.", s.DisplayName())
	}
	if s.Kind == KindInternal && s.Visibility == VisibilityProject && s.Project != project {
		return Errorf(EINVALID, "%s has project visibility: only project %q and its components can connect to it.", s.DisplayName(), s.Project)
	}
	return nil
}

// EndpointsFor returns the endpoints of a third-party service that may serve env, in order.
func (s *Service) EndpointsFor(env string) []Endpoint {
	var out []Endpoint
	for _, e := range s.Endpoints {
		if slices.Contains(e.Environments, env) {
			out = append(out, e)
		}
	}
	return out
}

// Versions of internal and third-party services follow Choreo's rule, so that the
// references Junction writes pass Choreo's validator: v1, v1.2, V2.0.1…
var choreoVersionPattern = regexp.MustCompile(`^[vV][0-9]+(?:\.[0-9]+)*$`)

// ValidateVersion returns what is wrong with the version of an internal or third-party
// service, or "".
func ValidateVersion(v string) string {
	if len(v) > 32 {
		return "Use at most 32 characters."
	}
	if !choreoVersionPattern.MatchString(v) {
		return "Use v and a number, such as v1 or v1.2 (Choreo's rule for versions); an API date such as 2010-04-01 can go in the description."
	}
	return ""
}

// MajorVersion returns the major version of a version such as v1.2 or 1.0, lower-cased with
// its v ("v1"), or "" when v is not a version.
func MajorVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	major, _, _ := strings.Cut(v, ".")
	if major == "" || strings.Trim(major, "0123456789") != "" {
		return ""
	}
	return "v" + major
}

// ChooseVersion picks, among versions, the one a reference to want means: the same version
// (ignoring case and a missing v), else the highest version of the same major version, as
// Choreo routes a major version to its latest minor. It returns -1 when none matches.
func ChooseVersion(versions []string, want string) int {
	norm := func(v string) string { return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")) }
	for i, v := range versions {
		if norm(v) == norm(want) {
			return i
		}
	}
	major := MajorVersion(want)
	best := -1
	for i, v := range versions {
		if major == "" || MajorVersion(v) != major {
			continue
		}
		if best < 0 || compareVersions(norm(v), norm(versions[best])) > 0 {
			best = i
		}
	}
	return best
}

// compareVersions orders dotted numbers: 1.10 after 1.9; a part that is not a number sorts
// first.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int64 = -1, -1
		if i < len(pa) {
			if n, err := strconv.ParseInt(pa[i], 10, 64); err == nil {
				x = n
			}
		}
		if i < len(pb) {
			if n, err := strconv.ParseInt(pb[i], 10, 64); err == nil {
				y = n
			}
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

var (
	versionPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	identifierPattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	endpointNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	tagPattern          = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._+-]{0,31}$`)
)

// Limits of service fields.
const (
	MaxTags       = 10
	MaxParameters = 30
	MaxEndpoints  = 10
	maxValueLen   = 2000
)

// Validate normalises the service and checks it against the rules of its kind. envs are the
// environments that exist; every environment a service names must be one of them.
func (s *Service) Validate(envs []string) error { return s.validate(envs, true) }

// ValidateUpdate checks a service being changed. A version kept as it was (one given before
// the version rule existed) is accepted; a new one follows ValidateVersion.
func (s *Service) ValidateUpdate(envs []string, previousVersion string) error {
	return s.validate(envs, strings.TrimSpace(s.Version) != previousVersion)
}

func (s *Service) validate(envs []string, newVersion bool) error {
	s.Name = strings.TrimSpace(s.Name)
	s.Version = strings.TrimSpace(s.Version)
	s.Description = strings.TrimSpace(s.Description)
	fields := FieldErrors{}
	if !s.Kind.Valid() {
		fields.Add("kind", "Choose internal, third-party or database.")
		return fields.Err()
	}
	if msg := validateName(s.Name); msg != "" {
		fields.Add("name", msg)
	}
	switch {
	case s.Version == "" && s.Kind != KindDatabase:
		fields.Add("version", "Enter a version, such as v1.")
	case s.Version != "" && s.Kind != KindDatabase && newVersion:
		if msg := ValidateVersion(s.Version); msg != "" {
			fields.Add("version", msg)
		}
	case s.Version != "" && !versionPattern.MatchString(s.Version):
		fields.Add("version", "Use up to 32 letters, digits, dots, hyphens and underscores, such as v1.")
	}
	if utf8.RuneCountInString(s.Description) > MaxDescriptionLength {
		fields.Add("description", "Use at most 1000 characters.")
	}
	s.Tags = normalizeTags(s.Tags, fields)

	switch s.Kind {
	case KindInternal:
		s.validateInternal(envs, fields)
	case KindThirdParty:
		s.validateThirdParty(envs, fields)
	case KindDatabase:
		s.validateDatabase(envs, fields)
	}
	return fields.Err()
}

func normalizeTags(tags []string, fields FieldErrors) []string {
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if !tagPattern.MatchString(t) {
			fields.Add("tags", "Tags are words of up to 32 letters, digits, dots, hyphens or plus signs: "+strconv.Quote(t)+" is not.")
		}
		out = append(out, t)
	}
	if len(out) > MaxTags {
		fields.Add("tags", "Use at most 10 tags.")
	}
	return out
}

// ValidateURL returns a message when raw is not an absolute http(s) URL.
func ValidateURL(raw string) string {
	if raw == "" {
		return "Enter a URL."
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || len(raw) > maxValueLen {
		return "Enter an absolute http:// or https:// URL."
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "Use a port from 1 to 65535."
		}
	}
	return ""
}

func (s *Service) validateInternal(envs []string, fields FieldErrors) {
	if !s.Visibility.Valid() {
		fields.Add("visibility", "Choose project, organization or public.")
	}
	if !s.Security.Valid() {
		fields.Add("security", "Choose oauth, api-key or none.")
	}
	urls := map[string]string{}
	for env, u := range s.URLs {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		if !slices.Contains(envs, env) {
			fields.Add("urls."+env, "There is no environment "+strconv.Quote(env)+".")
		} else if msg := ValidateURL(u); msg != "" {
			fields.Add("urls."+env, msg)
		}
		urls[env] = u
	}
	if len(urls) == 0 {
		fields.Add("urls", "Enter a URL for at least one environment.")
	}
	s.URLs = urls
	s.Parameters, s.Endpoints, s.Engine, s.Values, s.Credentials = nil, nil, "", nil, nil
}

func (s *Service) validateThirdParty(envs []string, fields FieldErrors) {
	if len(s.Parameters) > MaxParameters {
		fields.Add("parameters", "Use at most 30 parameters.")
	}
	seen := map[string]bool{}
	for i := range s.Parameters {
		p := &s.Parameters[i]
		p.Name = strings.TrimSpace(p.Name)
		key := "parameters[" + strconv.Itoa(i) + "].name"
		switch {
		case p.Name == "":
			fields.Add(key, "Enter a name.")
		case !identifierPattern.MatchString(p.Name) || len(p.Name) > 64:
			fields.Add(key, "Use letters, digits and underscores, starting with a letter, such as AuthToken.")
		case strings.EqualFold(p.Name, ParamServiceURL):
			fields.Add(key, "ServiceURL is added to every connection already.")
		case seen[strings.ToLower(p.Name)]:
			fields.Add(key, "Another parameter has this name.")
		}
		seen[strings.ToLower(p.Name)] = true
	}
	if len(s.Endpoints) == 0 {
		fields.Add("endpoints", "Add at least one endpoint.")
	} else if len(s.Endpoints) > MaxEndpoints {
		fields.Add("endpoints", "Use at most 10 endpoints.")
	}
	names := map[string]bool{}
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		prefix := "endpoints[" + strconv.Itoa(i) + "]."
		e.Name, e.URL = strings.TrimSpace(e.Name), strings.TrimSpace(e.URL)
		switch {
		case e.Name == "":
			fields.Add(prefix+"name", "Enter a name, such as sandbox or live.")
		case !endpointNamePattern.MatchString(e.Name):
			fields.Add(prefix+"name", "Use up to 32 lower-case letters, digits and hyphens.")
		case names[e.Name]:
			fields.Add(prefix+"name", "Another endpoint has this name.")
		}
		names[e.Name] = true
		if msg := ValidateURL(e.URL); msg != "" {
			fields.Add(prefix+"url", msg)
		}
		var environments []string
		for _, env := range e.Environments {
			if slices.Contains(environments, env) {
				continue
			}
			if !slices.Contains(envs, env) {
				fields.Add(prefix+"environments", "There is no environment "+strconv.Quote(env)+".")
			}
			environments = append(environments, env)
		}
		if len(environments) == 0 {
			fields.Add(prefix+"environments", "Choose at least one environment this endpoint serves.")
		}
		e.Environments = environments
		for name := range e.Values {
			if !slices.ContainsFunc(s.Parameters, func(p ServiceParameter) bool { return p.Name == name }) {
				fields.Add(prefix+"values."+name, "There is no parameter "+strconv.Quote(name)+"; add it under parameters first.")
			}
		}
		values := map[string]string{}
		for _, p := range s.Parameters {
			v := e.Values[p.Name] // kept as typed: spaces at either end may be part of a value
			if strings.TrimSpace(v) == "" && p.Name != "" {
				fields.Add(prefix+"values."+p.Name, "Enter a value for "+p.Name+".")
			} else if len(v) > maxValueLen {
				fields.Add(prefix+"values."+p.Name, "Use at most 2000 characters.")
			}
			values[p.Name] = v
		}
		e.Values = values
	}
	s.Visibility, s.Security, s.URLs, s.Engine, s.Values, s.Credentials = "", "", nil, "", nil, nil
}

func (s *Service) validateDatabase(envs []string, fields FieldErrors) {
	s.Engine = strings.TrimSpace(s.Engine)
	if !slices.Contains(DatabaseEngines, s.Engine) {
		fields.Add("engine", "Choose one of: "+strings.Join(DatabaseEngines, ", ")+".")
	}
	values := map[string]map[string]string{}
	credentials := map[string][]DatabaseCredential{}
	for env, v := range s.Values {
		if isBlank(v) {
			continue
		}
		prefix := "values." + env + "."
		if !slices.Contains(envs, env) {
			fields.Add("values."+env, "There is no environment "+strconv.Quote(env)+".")
			continue
		}
		for name := range v {
			if !slices.ContainsFunc(DatabaseParameters, func(p ServiceParameter) bool { return p.Name == name }) {
				fields.Add(prefix+name, "Database values are HostName, Port, DatabaseName, Username and Password.")
			}
		}
		clean := map[string]string{}
		for _, p := range DatabaseParameters {
			val := v[p.Name]
			if DatabaseValueTrimmed(p.Name) {
				val = strings.TrimSpace(val)
			}
			clean[p.Name] = val
			if len(val) > maxValueLen {
				fields.Add(prefix+p.Name, "Use at most 2000 characters.")
			}
		}
		if clean[ParamHostName] == "" {
			fields.Add(prefix+ParamHostName, "Enter the host name.")
		}
		if port, err := strconv.Atoi(clean[ParamPort]); err != nil || port < 1 || port > 65535 {
			fields.Add(prefix+ParamPort, "Enter a port from 1 to 65535.")
		}
		if strings.TrimSpace(clean[ParamDatabaseName]) == "" {
			fields.Add(prefix+ParamDatabaseName, "Enter the database name.")
		}
		if strings.TrimSpace(clean[ParamUsername]) == "" && s.Engine != "redis" {
			fields.Add(prefix+ParamUsername, "Enter the user name.")
		}
		values[env] = clean
		if creds := s.validateCredentials(env, s.Credentials[env], fields); len(creds) > 0 {
			credentials[env] = creds
		}
	}
	for env, creds := range s.Credentials {
		if _, served := values[env]; !served && len(creds) > 0 {
			msg := "Enter the server values of " + env + " first: its credentials need them."
			if !slices.Contains(envs, env) {
				msg = "There is no environment " + strconv.Quote(env) + "."
			}
			fields.Add("values."+env+".credentials", msg)
		}
	}
	if len(values) == 0 {
		fields.Add("values", "Enter the connection details for at least one environment.")
	}
	s.Values, s.Credentials = values, credentials
	s.Visibility, s.Security, s.URLs, s.Parameters, s.Endpoints = "", "", nil, nil, nil
}

// DatabaseValueTrimmed reports whether a database value loses the spaces at its ends: only
// the host name and the port do, where a space can only be a slip (as in a URL). The others,
// like every third-party value, are kept as typed.
func DatabaseValueTrimmed(name string) bool { return name == ParamHostName || name == ParamPort }

func isBlank(values map[string]string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// DefaultCatalogPerPage is the catalog page size.
const DefaultCatalogPerPage = 20

// ServiceFilter selects catalog entries.
type ServiceFilter struct {
	Query      string
	Kind       ServiceKind
	Visibility Visibility
	Project    string // internal services published by this project's components
	// Sort is SortRelevance, SortName or SortNewest; empty means relevance for a search and
	// name when browsing.
	Sort string
	// Unlisted selects the services removed from the catalog instead of the listed ones.
	Unlisted bool
	Page     Page
}

// Catalog orders.
const (
	SortRelevance = "relevance"
	SortName      = "name"
	SortNewest    = "newest"
)

// EffectiveSort is the order the catalog uses: the chosen one, or by default the best
// matches first for a search and alphabetical when browsing.
func (f ServiceFilter) EffectiveSort() string {
	switch {
	case f.Sort != "":
		return f.Sort
	case strings.TrimSpace(f.Query) != "":
		return SortRelevance
	}
	return SortName
}

// ServiceFacets counts the matches of a search per kind and per visibility; each facet's
// counts apply every other filter but its own.
type ServiceFacets struct {
	Kinds        map[ServiceKind]int
	Visibilities map[Visibility]int
}

// ServiceService manages the catalog, acting as the user in ctx. Services the user may not
// see are ENOTFOUND.
type ServiceService interface {
	FindServices(ctx context.Context, filter ServiceFilter) ([]*Service, int, *ServiceFacets, error)
	// FindService returns a service with secret values masked.
	FindService(ctx context.Context, id string) (*Service, error)
	// CreateService registers a service. Internal services need Project and Component and a
	// developer role there; ECONFLICT for a taken name and version in the same scope.
	CreateService(ctx context.Context, s *Service) error
	// UpdateService replaces the details of an internal or database service; an empty (or
	// masked) database password keeps the stored one of that credential. Removing a
	// credential that connections use, or its environment, is ECONFLICT naming them.
	UpdateService(ctx context.Context, id string, s *Service) (*Service, error)
	// SetServiceListed lists or unlists a service.
	SetServiceListed(ctx context.Context, id string, listed bool) error
	// DeleteService removes an internal service (unpublish).
	DeleteService(ctx context.Context, id string) error
	// CanRegisterServices reports whether the caller may register third-party and database
	// services: admins and developers of at least one project.
	CanRegisterServices(ctx context.Context) (bool, error)
	// FindComponentServices lists the endpoints a component publishes.
	FindComponentServices(ctx context.Context, project, component string) ([]*Service, error)
}
