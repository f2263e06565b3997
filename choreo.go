package junction

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Choreo compatibility: a component's connections export to, and import from, Choreo's
// source configuration files.
//   - component.yaml schema 1.0 lists dependencies.serviceReferences: {name, connectionConfig,
//     env: [{from, to}]}, where name identifies the service (choreo:///…, thirdparty:…,
//     database:…) and connectionConfig the connection.
//   - schema 1.1 lists dependencies.connectionReferences: {name, resourceRef}; Choreo names
//     the variables itself (CHOREO_<CONNECTION>_<PARAMETER>).
//   - schema 1.2 adds configurations.env entries whose valueFrom.connectionRef {name, key}
//     maps one parameter to one variable.
//   - the legacy component-config.yaml (apiVersion core.choreo.dev/v1alpha1 or v1beta1,
//     kind ComponentConfig) lists spec.outbound.serviceReferences, the entries of 1.0.

// Schemas of component.yaml that Junction writes.
const (
	ChoreoSchema10 = "1.0"
	ChoreoSchema11 = "1.1"
	ChoreoSchema12 = "1.2"
)

// ChoreoSchemas lists the schemas Junction writes, newest first.
var ChoreoSchemas = []string{ChoreoSchema12, ChoreoSchema11, ChoreoSchema10}

// ChoreoOrgHandle is the organization segment of the choreo:/// service names Junction
// writes. An installation is one organization, so an import ignores that segment.
const ChoreoOrgHandle = "junction"

// componentConfigAPIVersions are the apiVersions of component-config.yaml Junction reads.
var componentConfigAPIVersions = []string{"core.choreo.dev/v1alpha1", "core.choreo.dev/v1beta1"}

// ChoreoDefaultEnvName is the variable Choreo gives a parameter of a schema 1.1 reference.
func ChoreoDefaultEnvName(connection, parameter string) string {
	return "CHOREO_" + SuggestEnvName(connection, parameter)
}

// EndpointRefID is the 5-hex endpoint id of an internal service in a resourceRef.
func EndpointRefID(serviceID string) string {
	sum := sha256.Sum256([]byte(serviceID))
	return hex.EncodeToString(sum[:])[:5]
}

// ResourceRef is the Choreo resourceRef of a service (schemas 1.1 and 1.2):
// service:/<project>/<component>/<version>/<endpoint id>/<VISIBILITY>,
// thirdparty:<name>/<version> or database:[<server>/]<database>.
func ResourceRef(s *Service) string {
	switch s.Kind {
	case KindInternal:
		return fmt.Sprintf("service:/%s/%s/%s/%s/%s", s.Project, s.Component, s.Version, EndpointRefID(s.ID), strings.ToUpper(string(s.Visibility)))
	case KindThirdParty:
		return "thirdparty:" + s.Name + "/" + s.Version
	}
	return databaseRef(s)
}

// ServiceReferenceName is the name of a schema 1.0 serviceReferences entry for a service:
// choreo:///<org>/<project>/<component>/<endpoint id>/<major version>/<VISIBILITY>, or the
// thirdparty: and database: forms of ResourceRef.
func ServiceReferenceName(s *Service) string {
	if s.Kind == KindInternal {
		major := MajorVersion(s.Version)
		if major == "" {
			major = s.Version // not a version: the export check refuses it
		}
		return fmt.Sprintf("choreo:///%s/%s/%s/%s/%s/%s", ChoreoOrgHandle, s.Project, s.Component, EndpointRefID(s.ID), major, strings.ToUpper(string(s.Visibility)))
	}
	return ResourceRef(s)
}

// databaseRef names a database service by its server (the service name) and database; a
// service without a database name is database:<server>.
func databaseRef(s *Service) string {
	database := ""
	for _, env := range slices.Sorted(maps.Keys(s.Values)) {
		if database = s.Values[env][ParamDatabaseName]; database != "" {
			break
		}
	}
	if database == "" {
		return "database:" + s.Name
	}
	return "database:" + s.Name + "/" + database
}

// ParsedRef is a service identifier taken apart.
type ParsedRef struct {
	Kind       ServiceKind
	Org        string // internal, choreo:/// form; ignored
	Project    string // internal; "" in a short resourceRef: the importing project
	Component  string // internal
	Version    string // internal and third-party; a major version matches its latest minor
	EndpointID string // internal; may differ from ours
	Visibility string // internal; "" when not given
	Name       string // third-party name, database server ("" when not given)
	Database   string // database
}

// The forms Choreo's validator accepts.
var (
	resourceRefPattern = regexp.MustCompile(`^(?:service:)?(?:/([A-Za-z0-9_-]+)/)?([A-Za-z0-9_-]+)/([vV]?[0-9]+(?:\.[0-9]+)*)(?:/([A-Za-z0-9_-]+))?(?:/(PUBLIC|PROJECT|ORGANIZATION))?$`)
	choreoNamePattern  = regexp.MustCompile(`^choreo:///([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)/(v[0-9]+(?:\.[0-9]+)?)/(PUBLIC|PROJECT|ORGANIZATION)$`)
	thirdPartyPattern  = regexp.MustCompile(`^thirdparty:([A-Za-z0-9\s_.-]+)/([vV][0-9]+(?:\.[0-9]+)*)$`)
	databasePattern    = regexp.MustCompile(`^database:(?:([A-Za-z0-9_-]+)/)?([A-Za-z0-9_-]+)$`)
)

// ParseResourceRef reads the resourceRef of a connection reference (schemas 1.1 and 1.2):
// [service:][/<project>/]<component>/<version>[/<endpoint id>][/<VISIBILITY>],
// thirdparty:<name>/<version> or database:[<server>/]<database>.
func ParseResourceRef(ref string) (ParsedRef, error) {
	switch {
	case strings.HasPrefix(ref, "thirdparty:"), strings.HasPrefix(ref, "database:"):
		return parseNamedRef(ref)
	}
	m := resourceRefPattern.FindStringSubmatch(ref)
	if m == nil {
		return ParsedRef{}, fmt.Errorf("resourceRef %q is not one Choreo accepts: use service:/<project>/<component>/<version>/<endpoint id>/<PUBLIC|ORGANIZATION|PROJECT>, thirdparty:<name>/<version> or database:[<server>/]<database>", ref)
	}
	return ParsedRef{Kind: KindInternal, Project: m[1], Component: m[2], Version: m[3], EndpointID: m[4], Visibility: m[5]}, nil
}

// ParseServiceReferenceName reads the name of a serviceReferences entry (schema 1.0 and
// component-config.yaml): choreo:///<org>/<project>/<component>/<endpoint id>/<major
// version>/<VISIBILITY>, thirdparty:<name>/<version> or database:[<server>/]<database>.
func ParseServiceReferenceName(name string) (ParsedRef, error) {
	if strings.HasPrefix(name, "thirdparty:") || strings.HasPrefix(name, "database:") {
		return parseNamedRef(name)
	}
	m := choreoNamePattern.FindStringSubmatch(name)
	if m == nil {
		return ParsedRef{}, fmt.Errorf("service reference %q is not one Choreo accepts: use choreo:///<org>/<project>/<component>/<endpoint id>/<major version>/<PUBLIC|ORGANIZATION|PROJECT>, thirdparty:<name>/<version> or database:[<server>/]<database>", name)
	}
	return ParsedRef{Kind: KindInternal, Org: m[1], Project: m[2], Component: m[3], EndpointID: m[4], Version: m[5], Visibility: m[6]}, nil
}

func parseNamedRef(ref string) (ParsedRef, error) {
	if m := thirdPartyPattern.FindStringSubmatch(ref); m != nil {
		return ParsedRef{Kind: KindThirdParty, Name: m[1], Version: m[2]}, nil
	}
	if m := databasePattern.FindStringSubmatch(ref); m != nil {
		return ParsedRef{Kind: KindDatabase, Name: m[1], Database: m[2]}, nil
	}
	if strings.HasPrefix(ref, "thirdparty:") {
		return ParsedRef{}, fmt.Errorf("%q is not a third-party reference Choreo accepts: use thirdparty:<name>/<version>, a name of letters, digits, spaces, dots, hyphens and underscores and a version such as v1", ref)
	}
	return ParsedRef{}, fmt.Errorf("%q is not a database reference Choreo accepts: use database:[<server>/]<database> with letters, digits, hyphens and underscores", ref)
}

// ChoreoConnection is one connection of a component in an export.
type ChoreoConnection struct {
	ID      string
	Name    string
	Service *Service
	// Env maps parameters to variable names.
	Env map[string]string
}

// ChoreoExport is a component.yaml written by Junction.
type ChoreoExport struct {
	Schema string
	YAML   []byte
	// Warning says what the file cannot carry (custom variable names in schema 1.1), or "".
	Warning string
}

// ChoreoCustomNames lists, as "connection: Parameter -> NAME", the mappings that schema 1.1
// cannot carry: variables not named as Choreo names them (ChoreoDefaultEnvName).
func ChoreoCustomNames(conns []ChoreoConnection) []string {
	var out []string
	for _, c := range conns {
		for _, param := range slices.Sorted(maps.Keys(c.Env)) {
			if c.Env[param] != ChoreoDefaultEnvName(c.Name, param) {
				out = append(out, c.Name+": "+param+" -> "+c.Env[param])
			}
		}
	}
	return out
}

// ChoreoSchema11Warning says what an export of conns as schema 1.1 loses, or "".
func ChoreoSchema11Warning(conns []ChoreoConnection) string {
	custom := ChoreoCustomNames(conns)
	if len(custom) == 0 {
		return ""
	}
	shown := custom
	if len(shown) > 3 {
		shown = append(slices.Clone(shown[:3]), fmt.Sprintf("%d more", len(custom)-3))
	}
	return "Schema 1.1 cannot carry custom variable names: Choreo names every variable CHOREO_<CONNECTION>_<PARAMETER>, so these names would be lost: " +
		strings.Join(shown, ", ") + ". Export schema 1.2 (by connection name) or 1.0 (by Connection ID) to keep them."
}

// ChoreoInvalidConnectionNames lists the connections whose names Choreo's validator rejects
// (given before Junction had the rule): schemas 1.1 and 1.2 write them, 1.0 does not.
func ChoreoInvalidConnectionNames(conns []ChoreoConnection) []string {
	var out []string
	for _, c := range conns {
		if ValidateConnectionName(c.Name) != "" {
			out = append(out, c.Name)
		}
	}
	return out
}

// checkChoreoExport refuses an export that Choreo's validator would reject, saying what to
// change: a connection name (schemas 1.1 and 1.2), a service version or name.
func checkChoreoExport(conns []ChoreoConnection, schema string) error {
	var problems []string
	if schema != ChoreoSchema10 {
		for _, name := range ChoreoInvalidConnectionNames(conns) {
			problems = append(problems, fmt.Sprintf("the connection name %q is not one Choreo accepts (%s): rename the connection, or export schema 1.0, which refers to connections by ID", name, ConnectionNameRule))
		}
	}
	for _, c := range conns {
		ref := ServiceReferenceName(c.Service)
		var err error
		if schema == ChoreoSchema10 {
			_, err = ParseServiceReferenceName(ref)
		} else {
			ref = ResourceRef(c.Service)
			_, err = ParseResourceRef(ref)
		}
		if err == nil {
			continue
		}
		switch {
		case c.Service.Kind != KindDatabase && ValidateVersion(c.Service.Version) != "":
			problems = append(problems, fmt.Sprintf("connection %s: the version %q of %s is not one Choreo accepts (such as v1 or v1.2): give the service such a version", c.Name, c.Service.Version, c.Service.Name))
		default:
			problems = append(problems, fmt.Sprintf("connection %s: %s", c.Name, err))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	msg := "Choreo would reject this component.yaml: " + strings.Join(problems, "; ") + "."
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"schema": msg}}
}

type choreoFile struct {
	SchemaVersion string `yaml:"schemaVersion"`
	Dependencies  struct {
		ServiceReferences    []choreoServiceRef `yaml:"serviceReferences,omitempty"`
		ConnectionReferences []choreoRef        `yaml:"connectionReferences,omitempty"`
	} `yaml:"dependencies"`
	Configurations *struct {
		Env []choreoEnv `yaml:"env"`
	} `yaml:"configurations,omitempty"`
}

type choreoServiceRef struct {
	Name             string         `yaml:"name"`
	ConnectionConfig string         `yaml:"connectionConfig"`
	Env              []choreoFromTo `yaml:"env"`
}

type choreoFromTo struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

type choreoRef struct {
	Name        string `yaml:"name"`
	ResourceRef string `yaml:"resourceRef"`
}

type choreoEnv struct {
	Name      string `yaml:"name"`
	ValueFrom struct {
		ConnectionRef struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"connectionRef"`
	} `yaml:"valueFrom"`
}

// MarshalComponentYAML writes a component.yaml of conns. Schema "1.0" lists serviceReferences
// by Connection ID with every parameter's variable; "1.1" lists connection references only
// (Choreo then names the variables itself, which the Warning says when it loses names); "1.2"
// adds configurations.env mapping every parameter to its name. A file Choreo's validator would
// reject is refused (EINVALID), naming what to change.
func MarshalComponentYAML(conns []ChoreoConnection, schema string) (*ChoreoExport, error) {
	if !slices.Contains(ChoreoSchemas, schema) {
		return nil, &Error{Code: EINVALID, Message: "schema must be 1.0, 1.1 or 1.2.", Fields: map[string]string{"schema": "Use 1.0, 1.1 or 1.2."}}
	}
	if err := checkChoreoExport(conns, schema); err != nil {
		return nil, err
	}
	out := &ChoreoExport{Schema: schema}
	var f choreoFile
	f.SchemaVersion = schema
	for _, c := range conns {
		if schema == ChoreoSchema10 {
			ref := choreoServiceRef{Name: ServiceReferenceName(c.Service), ConnectionConfig: c.ID}
			for _, param := range slices.Sorted(maps.Keys(c.Env)) {
				ref.Env = append(ref.Env, choreoFromTo{From: param, To: c.Env[param]})
			}
			f.Dependencies.ServiceReferences = append(f.Dependencies.ServiceReferences, ref)
			continue
		}
		f.Dependencies.ConnectionReferences = append(f.Dependencies.ConnectionReferences, choreoRef{Name: c.Name, ResourceRef: ResourceRef(c.Service)})
	}
	if schema == ChoreoSchema12 {
		f.Configurations = &struct {
			Env []choreoEnv `yaml:"env"`
		}{}
		for _, c := range conns {
			for _, param := range slices.Sorted(maps.Keys(c.Env)) {
				var e choreoEnv
				e.Name = c.Env[param]
				e.ValueFrom.ConnectionRef.Name, e.ValueFrom.ConnectionRef.Key = c.Name, param
				f.Configurations.Env = append(f.Configurations.Env, e)
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Choreo component.yaml exported by Junction.\n")
	switch schema {
	case ChoreoSchema10:
		buf.WriteString("# Schema 1.0 refers to each connection by its Junction Connection ID (connectionConfig);\n" +
			"# Junction resolves the service name when the ID is not one of its connections.\n")
	case ChoreoSchema11:
		if out.Warning = ChoreoSchema11Warning(conns); out.Warning != "" {
			buf.WriteString("# Warning: " + out.Warning + "\n")
		}
	}
	var doc yaml.Node
	if err := doc.Encode(f); err != nil {
		return nil, err
	}
	// Name each connection of a 1.0 file beside its ID, for people reading it.
	if refs := child(child(&doc, "dependencies"), "serviceReferences"); refs != nil {
		for i, item := range refs.Content {
			item.HeadComment = "Connection " + conns[i].Name
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out.YAML = buf.Bytes()
	return out, nil
}

// ChoreoImport is what a Choreo file asks for: references to connections and the variables
// taken from them. Lines point into the file for messages.
type ChoreoImport struct {
	// Format names what was read, such as "component.yaml schema 1.2" or
	// "component-config.yaml (core.choreo.dev/v1beta1)".
	Format     string
	References []ChoreoReference
}

// ChoreoReference is one connection reference, or one service reference, with the variables
// mapped from it.
type ChoreoReference struct {
	// Name is the connection name of a connection reference, or the service name of a
	// service reference (choreo:///…, thirdparty:…, database:…).
	Name string
	// ResourceRef is the service of a connection reference.
	ResourceRef string
	// ConnectionConfig is the connection of a service reference: a Junction Connection ID,
	// or a Choreo connection's UUID.
	ConnectionConfig string
	Line             int
	// Env maps parameters to the names the file gives (configurations.env, or env from/to);
	// parameters it does not name get Choreo's default names.
	Env map[string]string
	// EnvLines are the lines of those entries, by parameter.
	EnvLines map[string]int
}

// ServiceReference reports whether r is a serviceReferences entry (schema 1.0 and
// component-config.yaml), which names its connection by connectionConfig.
func (r ChoreoReference) ServiceReference() bool { return r.ConnectionConfig != "" }

// Service parses the service r names.
func (r ChoreoReference) Service() (ParsedRef, error) {
	if r.ServiceReference() {
		return ParseServiceReferenceName(r.Name)
	}
	return ParseResourceRef(r.ResourceRef)
}

// Ref is the service identifier of r, for messages.
func (r ChoreoReference) Ref() string {
	if r.ServiceReference() {
		return r.Name
	}
	return r.ResourceRef
}

// ChoreoNothingToImport is the message for a file without references.
const ChoreoNothingToImport = "The file lists no connection references (dependencies.connectionReferences, dependencies.serviceReferences or spec.outbound.serviceReferences): there is nothing to import, and nothing changes."

// ParseComponentYAML reads a Choreo component.yaml (schema 1.0, 1.1 or 1.2) or
// component-config.yaml. Sections it does not use (endpoints, metadata, spec.build,
// spec.inbound, comments, others) are accepted and ignored; a file without references is an
// empty import. Mistakes are EINVALID with their line.
func ParseComponentYAML(data []byte) (*ChoreoImport, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlSyntaxError(data, err)
	}
	if len(doc.Content) == 0 {
		return nil, yamlError(0, "The file is empty: paste or upload a component.yaml or component-config.yaml.")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamlError(root.Line, "A Choreo file is a mapping with schemaVersion, endpoints, dependencies… (or apiVersion, kind and spec).")
	}
	p := &choreoParser{imp: &ChoreoImport{}, byName: map[string]int{}, byConfig: map[string]int{}}
	apiVersion, kind := child(root, "apiVersion"), child(root, "kind")
	if kind != nil && kind.Value != "" || apiVersion != nil && apiVersion.Value != "" {
		if err := p.componentConfig(root, apiVersion, kind); err != nil {
			return nil, err
		}
		return p.imp, nil
	}
	if err := p.componentYAML(root); err != nil {
		return nil, err
	}
	// In the order of the file, whichever section each came from.
	slices.SortStableFunc(p.imp.References, func(a, b ChoreoReference) int { return a.Line - b.Line })
	return p.imp, nil
}

type choreoParser struct {
	imp *ChoreoImport
	// byName indexes connection references by lower-cased name; byConfig service
	// references by connectionConfig.
	byName, byConfig map[string]int
}

// componentConfig reads a component-config.yaml.
func (p *choreoParser) componentConfig(root, apiVersion, kind *yaml.Node) error {
	if kind == nil || kind.Value != "ComponentConfig" {
		line, got := root.Line, ""
		if kind != nil {
			line, got = kind.Line, kind.Value
		}
		if got == "" {
			return yamlError(line, "A file with an apiVersion is a component-config.yaml: it needs kind: ComponentConfig.")
		}
		return yamlError(line, fmt.Sprintf("kind %q is not a Choreo file Junction reads: a component-config.yaml has kind: ComponentConfig.", got))
	}
	version := ""
	if apiVersion != nil {
		version = strings.TrimSpace(apiVersion.Value)
		if apiVersion.Kind != yaml.ScalarNode || version != "" && !slices.Contains(componentConfigAPIVersions, version) {
			return yamlError(apiVersion.Line, fmt.Sprintf("apiVersion %q is not one Junction reads: use core.choreo.dev/v1beta1 (or core.choreo.dev/v1alpha1).", version))
		}
	}
	p.imp.Format = "component-config.yaml"
	if version != "" {
		p.imp.Format += " (" + version + ")"
	}
	spec, err := mappingChild(root, "spec", "spec")
	if err != nil || spec == nil {
		return err
	}
	outbound, err := mappingChild(spec, "outbound", "spec.outbound")
	if err != nil || outbound == nil {
		return err
	}
	return p.serviceReferences(child(outbound, "serviceReferences"), "spec.outbound.serviceReferences")
}

// componentYAML reads a component.yaml of any schema: serviceReferences (1.0, and 1.1 files
// that keep them), connectionReferences and configurations.env (1.1 and 1.2).
func (p *choreoParser) componentYAML(root *yaml.Node) error {
	schema := ""
	if v := child(root, "schemaVersion"); v != nil {
		schema = strings.TrimSpace(v.Value)
		if v.Kind != yaml.ScalarNode || schema != "" && choreoSchemaOf(schema) == "" {
			return yamlError(v.Line, fmt.Sprintf("schemaVersion %q is not one Junction reads: use 1.0, 1.1 or 1.2.", schema))
		}
		schema = choreoSchemaOf(schema)
	}
	p.imp.Format = "component.yaml"
	if schema != "" {
		p.imp.Format += " schema " + schema
	}
	deps, err := mappingChild(root, "dependencies", "dependencies")
	if err != nil {
		return err
	}
	if err := p.serviceReferences(child(deps, "serviceReferences"), "dependencies.serviceReferences"); err != nil {
		return err
	}
	if err := p.connectionReferences(child(deps, "connectionReferences")); err != nil {
		return err
	}
	// Choreo reads configurations, and its validator also configuration.
	for _, section := range []string{"configurations", "configuration"} {
		conf, err := mappingChild(root, section, section)
		if err != nil {
			return err
		}
		if err := p.configurationEnv(child(conf, "env"), section+".env"); err != nil {
			return err
		}
	}
	return nil
}

// choreoSchemaOf normalises a schemaVersion (1, 1.0, "1.2") to one Junction reads, or "".
func choreoSchemaOf(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return ""
	}
	for _, s := range ChoreoSchemas {
		if g, _ := strconv.ParseFloat(s, 64); g == f {
			return s
		}
	}
	return ""
}

func (p *choreoParser) add(ref ChoreoReference) int {
	ref.Env, ref.EnvLines = map[string]string{}, map[string]int{}
	p.imp.References = append(p.imp.References, ref)
	return len(p.imp.References) - 1
}

func (p *choreoParser) serviceReferences(list *yaml.Node, path string) error {
	if list == nil || isNull(list) {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return yamlError(list.Line, path+" must be a list.")
	}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return yamlError(item.Line, "Each service reference is a mapping with name, connectionConfig and env.")
		}
		name, config := scalar(item, "name"), scalar(item, "connectionConfig")
		if name == "" || config == "" {
			return yamlError(item.Line, "Each service reference needs a name (the service, such as choreo:///org/project/component/abcde/v1/PUBLIC) and a connectionConfig (the connection).")
		}
		if _, err := ParseServiceReferenceName(name); err != nil {
			return yamlError(child(item, "name").Line, err.Error())
		}
		if first, dup := p.byConfig[config]; dup {
			return yamlError(item.Line, fmt.Sprintf("connectionConfig %s appears twice (also on line %d).", config, p.imp.References[first].Line))
		}
		i := p.add(ChoreoReference{Name: name, ConnectionConfig: config, Line: item.Line})
		p.byConfig[config] = i
		env := child(item, "env")
		if env == nil || isNull(env) {
			continue
		}
		if env.Kind != yaml.SequenceNode {
			return yamlError(env.Line, "env of a service reference must be a list of {from, to}.")
		}
		for _, e := range env.Content {
			from, to := scalar(e, "from"), scalar(e, "to")
			if e.Kind != yaml.MappingNode || from == "" || to == "" {
				return yamlError(e.Line, "Each env entry of a service reference needs from (a parameter, such as ServiceURL) and to (a variable name).")
			}
			if err := p.mapParameter(i, from, to, e.Line); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *choreoParser) connectionReferences(list *yaml.Node) error {
	if list == nil || isNull(list) {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return yamlError(list.Line, "dependencies.connectionReferences must be a list.")
	}
	for _, item := range list.Content {
		name, ref := scalar(item, "name"), scalar(item, "resourceRef")
		if item.Kind != yaml.MappingNode || name == "" || ref == "" {
			return yamlError(item.Line, "Each connection reference needs a name and a resourceRef.")
		}
		if first, dup := p.byName[strings.ToLower(name)]; dup {
			return yamlError(item.Line, fmt.Sprintf("Connection reference %q appears twice (also on line %d).", name, p.imp.References[first].Line))
		}
		if _, err := ParseResourceRef(ref); err != nil {
			return yamlError(child(item, "resourceRef").Line, err.Error())
		}
		p.byName[strings.ToLower(name)] = p.add(ChoreoReference{Name: name, ResourceRef: ref, Line: item.Line})
	}
	return nil
}

func (p *choreoParser) configurationEnv(env *yaml.Node, path string) error {
	if env == nil || isNull(env) {
		return nil
	}
	if env.Kind != yaml.SequenceNode {
		return yamlError(env.Line, path+" must be a list.")
	}
	for _, item := range env.Content {
		ref := child(child(item, "valueFrom"), "connectionRef")
		if ref == nil {
			continue // a plain value or another source (configForm, configGroupRef): not a connection's
		}
		name, conn, key := scalar(item, "name"), scalar(ref, "name"), scalar(ref, "key")
		if name == "" || conn == "" || key == "" {
			return yamlError(item.Line, "An env entry from a connection needs name, valueFrom.connectionRef.name and .key.")
		}
		i, ok := p.byName[strings.ToLower(conn)]
		if !ok {
			return yamlError(item.Line, fmt.Sprintf("env %s refers to connection %q, which dependencies.connectionReferences does not list.", name, conn))
		}
		if err := p.mapParameter(i, key, name, item.Line); err != nil {
			return err
		}
	}
	return nil
}

// mapParameter maps a parameter of reference i to a variable; Junction maps each parameter
// to one variable.
func (p *choreoParser) mapParameter(i int, param, env string, line int) error {
	ref := &p.imp.References[i]
	if first, dup := ref.EnvLines[param]; dup {
		return yamlError(line, fmt.Sprintf("%s of %s is already mapped to %s on line %d: Junction maps each parameter to one variable.", param, ref.Name, ref.Env[param], first))
	}
	ref.Env[param], ref.EnvLines[param] = env, line
	return nil
}

// mappingChild returns the mapping under key, nil when absent or empty, and an error naming
// the line when it is something else.
func mappingChild(n *yaml.Node, key, path string) (*yaml.Node, error) {
	v := child(n, key)
	if v == nil || isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, yamlError(v.Line, path+" must be a mapping.")
	}
	return v, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "")
}

func yamlError(line int, msg string) error {
	if line > 0 {
		msg = fmt.Sprintf("Line %d: %s", line, msg)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"yaml": msg}}
}

// yamlLine finds the line number in a go.yaml.in/yaml/v3 error.
var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// Bounds of the search for the line of a syntax error.
const (
	yamlSearchLines = 64
	yamlSearchBytes = 2 << 20
)

// yamlSyntaxError names the line of a YAML syntax error. The library reports a line that is
// often the one before the problem: parser errors count lines from 0 and name the start of
// the enclosing list or mapping (an unclosed [ on line 4 is "line 3"), and a quote left open
// is reported where the text ends. So the error is located again by parsing the file's first
// lines: from the reported line on, the problem is on the first line at which the text read
// so far stops being YAML with the same problem; and back from there, as long as the lines
// before fail the same way (a string opened earlier) or at all (a list opened earlier and
// never closed), on the first of them. When that search cannot settle it (a very
// long file), the message says "near" the reported line.
func yamlSyntaxError(data []byte, err error) error {
	reported, text := yamlProblem(err)
	msg := "The file is not valid YAML: " + text + "."
	// ends[k] is the offset just past line k+1.
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	budget, tries := yamlSearchBytes, 0
	// fails tells whether the first k lines are not YAML, and with which problem; ok is false
	// when the search has spent its budget.
	fails := func(k int) (problem string, failed, ok bool) {
		if k == 0 {
			return "", false, true
		}
		prefix := data[:ends[k-1]]
		if budget -= len(prefix); budget < 0 || tries >= yamlSearchLines {
			return "", false, false
		}
		tries++
		var n yaml.Node
		if err := yaml.Unmarshal(prefix, &n); err != nil {
			_, problem = yamlProblem(err)
			return problem, true, true
		}
		return "", false, true
	}
	from := min(max(reported, 1), len(ends))
	for line := from; line <= len(ends); line++ {
		problem, failed, ok := fails(line)
		if !ok {
			break
		}
		if !failed || problem != text {
			continue // still YAML, or a list opened here and closed later
		}
		// A list or mapping left open fails on every line after its bracket, each time with
		// another problem: the bracket's line is the first of them.
		unclosed := strings.HasPrefix(text, "did not find expected ',' or ")
		for line > 1 {
			before, failed, ok := fails(line - 1)
			if !ok {
				return nearLineError(line, " (the problem may start earlier)", msg)
			}
			if !failed || before != text && !unclosed {
				break
			}
			line--
		}
		return yamlError(line, msg)
	}
	return nearLineError(from, "", msg)
}

func nearLineError(line int, hint, msg string) error {
	msg = fmt.Sprintf("Near line %d%s: %s", line, hint, msg)
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"yaml": msg}}
}

// yamlProblem splits a go.yaml.in/yaml/v3 error into the line it reports (0 for none) and
// the problem.
func yamlProblem(err error) (int, string) {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, strings.TrimPrefix(err.Error(), m[0])
	}
	return 0, strings.TrimPrefix(err.Error(), "yaml: ")
}

// child returns the value of key in a mapping node, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node, key string) string {
	if v := child(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return strings.TrimSpace(v.Value)
	}
	return ""
}

// ImportSummary says in one sentence what an import does (dryRun) or did.
func ImportSummary(steps []ImportStep, dryRun bool) string {
	if len(steps) == 0 {
		return ChoreoNothingToImport
	}
	vars, created := 0, 0
	for _, s := range steps {
		vars += len(s.Mappings)
		if s.Created {
			created++
		}
	}
	verb := "Mapped"
	if dryRun {
		verb = "Applying maps"
	}
	msg := fmt.Sprintf("%s %s of %s", verb, countOf(vars, "variable"), countOf(len(steps), "connection"))
	if created > 0 {
		if dryRun {
			msg += fmt.Sprintf(", connecting %s", countOf(created, "new component connection"))
		} else {
			msg += fmt.Sprintf(", with %s", countOf(created, "new component connection"))
		}
	}
	return msg + "."
}

func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
