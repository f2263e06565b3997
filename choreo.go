package junction

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Choreo compatibility: a component's connections export to, and import from, a Choreo
// component.yaml. Schema 1.1 lists dependencies.connectionReferences ({name, resourceRef});
// schema 1.2 adds configurations.env entries whose valueFrom.connectionRef {name, key} maps
// one parameter to one variable.

// ChoreoDefaultEnvName is the variable Choreo gives a parameter of a schema 1.1 reference.
func ChoreoDefaultEnvName(connection, parameter string) string {
	return "CHOREO_" + SuggestEnvName(connection, parameter)
}

// EndpointRefID is the 5-hex endpoint id of an internal service in a resourceRef.
func EndpointRefID(serviceID string) string {
	sum := sha256.Sum256([]byte(serviceID))
	return hex.EncodeToString(sum[:])[:5]
}

// ResourceRef is the Choreo resourceRef of a service:
// service:/<project>/<component>/<version>/<endpoint id>/<VISIBILITY>,
// thirdparty:<name>/<version> or database:<server>/<database>.
func ResourceRef(s *Service) string {
	switch s.Kind {
	case KindInternal:
		return fmt.Sprintf("service:/%s/%s/%s/%s/%s", s.Project, s.Component, s.Version, EndpointRefID(s.ID), strings.ToUpper(string(s.Visibility)))
	case KindThirdParty:
		return "thirdparty:" + s.Name + "/" + s.Version
	}
	database := ""
	for _, env := range slices.Sorted(mapKeys(s.Values)) {
		if database = s.Values[env][ParamDatabaseName]; database != "" {
			break
		}
	}
	return "database:" + s.Name + "/" + database
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ParsedRef is a resourceRef taken apart.
type ParsedRef struct {
	Kind       ServiceKind
	Project    string // internal
	Component  string // internal
	Version    string // internal and third-party
	EndpointID string // internal; may differ from ours
	Visibility string // internal
	Name       string // third-party name, database server
	Database   string // database
}

// ParseResourceRef reads a resourceRef in one of the three forms.
func ParseResourceRef(ref string) (ParsedRef, error) {
	switch {
	case strings.HasPrefix(ref, "service:/"):
		parts := strings.Split(strings.TrimPrefix(ref, "service:/"), "/")
		if len(parts) != 5 || slices.Contains(parts, "") {
			return ParsedRef{}, fmt.Errorf("want service:/<project>/<component>/<version>/<endpoint id>/<visibility>, got %q", ref)
		}
		return ParsedRef{Kind: KindInternal, Project: parts[0], Component: parts[1], Version: parts[2], EndpointID: parts[3], Visibility: parts[4]}, nil
	case strings.HasPrefix(ref, "thirdparty:"):
		name, version, ok := strings.Cut(strings.TrimPrefix(ref, "thirdparty:"), "/")
		if !ok || name == "" || version == "" {
			return ParsedRef{}, fmt.Errorf("want thirdparty:<name>/<version>, got %q", ref)
		}
		return ParsedRef{Kind: KindThirdParty, Name: name, Version: version}, nil
	case strings.HasPrefix(ref, "database:"):
		server, database, ok := strings.Cut(strings.TrimPrefix(ref, "database:"), "/")
		if !ok || server == "" {
			return ParsedRef{}, fmt.Errorf("want database:<server>/<database>, got %q", ref)
		}
		return ParsedRef{Kind: KindDatabase, Name: server, Database: database}, nil
	}
	return ParsedRef{}, fmt.Errorf("unknown resourceRef %q: it starts with service:/, thirdparty: or database:", ref)
}

// ChoreoConnection is one connection of a component in an export.
type ChoreoConnection struct {
	Name    string
	Service *Service
	// Env maps parameters to variable names.
	Env map[string]string
}

type choreoFile struct {
	SchemaVersion string `yaml:"schemaVersion"`
	Dependencies  struct {
		ConnectionReferences []choreoRef `yaml:"connectionReferences"`
	} `yaml:"dependencies"`
	Configurations *struct {
		Env []choreoEnv `yaml:"env"`
	} `yaml:"configurations,omitempty"`
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

// MarshalComponentYAML writes a component.yaml. Schema "1.1" lists the connection references
// only (Choreo then names the variables itself); "1.2" also maps every parameter to its name.
func MarshalComponentYAML(conns []ChoreoConnection, schema string) ([]byte, error) {
	var f choreoFile
	f.SchemaVersion = schema
	for _, c := range conns {
		f.Dependencies.ConnectionReferences = append(f.Dependencies.ConnectionReferences, choreoRef{Name: c.Name, ResourceRef: ResourceRef(c.Service)})
	}
	if schema == "1.2" {
		f.Configurations = &struct {
			Env []choreoEnv `yaml:"env"`
		}{}
		for _, c := range conns {
			for _, param := range slices.Sorted(mapKeys(c.Env)) {
				var e choreoEnv
				e.Name = c.Env[param]
				e.ValueFrom.ConnectionRef.Name, e.ValueFrom.ConnectionRef.Key = c.Name, param
				f.Configurations.Env = append(f.Configurations.Env, e)
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Choreo component.yaml exported by Junction.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// ChoreoImport is what a component.yaml asks for: connection references and, for schema
// 1.2, variables taken from them. Lines point into the file for messages.
type ChoreoImport struct {
	References []ChoreoReference
}

// ChoreoReference is one connection reference with the variables mapped from it.
type ChoreoReference struct {
	Name        string
	ResourceRef string
	Line        int
	// Env maps parameters to names given in configurations.env; parameters it does not
	// name get Choreo's default names.
	Env map[string]string
	// EnvLines are the lines of those entries, by parameter.
	EnvLines map[string]int
}

// ParseComponentYAML reads a Choreo component.yaml. Sections it does not use (endpoints,
// comments, others) are accepted and ignored; mistakes are EINVALID with their line.
func ParseComponentYAML(data []byte) (*ChoreoImport, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(0, "The file is not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, yamlError(1, "component.yaml must be a mapping with dependencies or configurations.")
	}
	root := doc.Content[0]
	imp := &ChoreoImport{}
	byName := map[string]int{}
	if refs := child(child(root, "dependencies"), "connectionReferences"); refs != nil {
		if refs.Kind != yaml.SequenceNode {
			return nil, yamlError(refs.Line, "dependencies.connectionReferences must be a list.")
		}
		for _, item := range refs.Content {
			name, ref := scalar(item, "name"), scalar(item, "resourceRef")
			if name == "" || ref == "" {
				return nil, yamlError(item.Line, "Each connection reference needs a name and a resourceRef.")
			}
			if _, dup := byName[name]; dup {
				return nil, yamlError(item.Line, fmt.Sprintf("Connection reference %q appears twice.", name))
			}
			if _, err := ParseResourceRef(ref); err != nil {
				return nil, yamlError(item.Line, err.Error())
			}
			byName[name] = len(imp.References)
			imp.References = append(imp.References, ChoreoReference{Name: name, ResourceRef: ref, Line: item.Line,
				Env: map[string]string{}, EnvLines: map[string]int{}})
		}
	}
	if env := child(child(root, "configurations"), "env"); env != nil {
		if env.Kind != yaml.SequenceNode {
			return nil, yamlError(env.Line, "configurations.env must be a list.")
		}
		for _, item := range env.Content {
			ref := child(child(item, "valueFrom"), "connectionRef")
			if ref == nil {
				continue // a plain value or another source: not a connection's
			}
			name, conn, key := scalar(item, "name"), scalar(ref, "name"), scalar(ref, "key")
			if name == "" || conn == "" || key == "" {
				return nil, yamlError(item.Line, "An env entry from a connection needs name, valueFrom.connectionRef.name and .key.")
			}
			i, ok := byName[conn]
			if !ok {
				return nil, yamlError(item.Line, fmt.Sprintf("env %s refers to connection %q, which dependencies.connectionReferences does not list.", name, conn))
			}
			imp.References[i].Env[key] = name
			imp.References[i].EnvLines[key] = item.Line
		}
	}
	if len(imp.References) == 0 {
		return nil, yamlError(root.Line, "The file lists no connection references.")
	}
	return imp, nil
}

func yamlError(line int, msg string) error {
	if line > 0 {
		msg = fmt.Sprintf("Line %d: %s", line, msg)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"yaml": msg}}
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
