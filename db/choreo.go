package db

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/junction-dev/junction"
)

// Choreo component.yaml export and import.

// errDryRun rolls back an import that only had to say what it would do.
var errDryRun = errors.New("dry run")

// ExportComponentYAML implements junction.MappingService.
func (s *MappingService) ExportComponentYAML(ctx context.Context, project, component, schema string) (out *junction.ChoreoExport, err error) {
	if !slices.Contains(junction.ChoreoSchemas, schema) {
		return nil, &junction.Error{Code: junction.EINVALID, Message: "schema must be 1.0, 1.1 or 1.2.", Fields: map[string]string{"schema": "Use 1.0, 1.1 or 1.2."}}
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		_, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		mappings, err := mappingsOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		byConn := map[string]*junction.ChoreoConnection{}
		var order []string
		for _, m := range mappings {
			cc, ok := byConn[m.ConnectionID]
			if !ok {
				r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, m.ConnectionID))
				if err != nil {
					return err
				}
				// The export names parameters, never values: the service without its secrets.
				svc, err := scanService(tx.QueryRowContext(ctx, serviceSelect+` WHERE s.id = ?`, r.c.Service.ID))
				if err != nil {
					return err
				}
				cc = &junction.ChoreoConnection{ID: r.c.ID, Name: r.c.Name, Service: svc, Env: map[string]string{}}
				byConn[m.ConnectionID] = cc
				order = append(order, m.ConnectionID)
			}
			cc.Env[m.Parameter] = m.Env
		}
		sort.Slice(order, func(i, j int) bool { return byConn[order[i]].Name < byConn[order[j]].Name })
		conns := make([]junction.ChoreoConnection, len(order))
		for i, id := range order {
			conns[i] = *byConn[id]
		}
		out, err = junction.MarshalComponentYAML(conns, schema)
		return err
	})
	return out, err
}

// importer holds what an import knows of the component while it runs.
type importer struct {
	s      *MappingService
	tx     *Tx
	user   *junction.User
	p      *junction.Project
	c      *junction.Component
	usable []*connectionRow // the connections the component may use, its own first
}

func (im *importer) loadUsable(ctx context.Context) error {
	rows, err := im.tx.QueryContext(ctx, connectionSelect+` WHERE c.component_id = ? OR (c.project_id = ? AND c.scope = 'project')
		ORDER BY c.scope DESC, c.created_at, c.id`, im.c.ID, im.p.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanConnection(rows)
		if err != nil {
			return err
		}
		im.usable = append(im.usable, r)
	}
	return rows.Err()
}

func (im *importer) find(match func(*connectionRow) bool) *connectionRow {
	for _, r := range im.usable {
		if match(r) {
			return r
		}
	}
	return nil
}

// ImportComponentYAML implements junction.MappingService.
func (s *MappingService) ImportComponentYAML(ctx context.Context, project, component string, imp *junction.ChoreoImport, dryRun bool) (steps []junction.ImportStep, err error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot import mappings.")
		}
		// An import may create connections (the project's lock), then writes mappings.
		if err := lockProject(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := lockComponent(ctx, tx, c.ID); err != nil {
			return err
		}
		if len(imp.References) == 0 {
			return nil // nothing to import: nothing is written
		}
		im := &importer{s: s, tx: tx, user: user, p: p, c: c}
		if err := im.loadUsable(ctx); err != nil {
			return err
		}
		existing, err := mappingsOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		names := map[string]map[string]string{} // the component's whole mapping set after the import
		for _, m := range existing {
			if names[m.ConnectionID] == nil {
				names[m.ConnectionID] = map[string]string{}
			}
			names[m.ConnectionID][m.Parameter] = m.Env
		}
		conns := map[string]junction.MappedConnection{}
		refs := map[string]junction.ChoreoReference{} // the reference that maps each connection
		for _, ref := range imp.References {
			r, step, err := im.resolve(ctx, ref)
			if err != nil {
				return err
			}
			if first, dup := refs[r.c.ID]; dup {
				return lineError(ref.Line, fmt.Sprintf("%s resolves to connection %s (%s), which line %d already maps.", ref.Ref(), r.c.Name, r.c.ID, first.Line))
			}
			conn, err := s.connections.build(ctx, tx, r, p.Role, false)
			if err != nil {
				return err
			}
			step.ConnectionID, step.Connection, step.ServiceID = conn.ID, conn.Name, conn.Service.ID
			mc := junction.MappedConnection{Name: conn.Name}
			for _, prm := range conn.Parameters {
				mc.Parameters = append(mc.Parameters, prm.Name)
			}
			for _, key := range slices.Sorted(maps.Keys(ref.EnvLines)) {
				if !slices.Contains(mc.Parameters, key) {
					return lineError(ref.EnvLines[key], fmt.Sprintf("Connection %s has no parameter %q; it has %s.", conn.Name, key, strings.Join(mc.Parameters, ", ")))
				}
			}
			previous := names[conn.ID]
			names[conn.ID] = map[string]string{}
			for _, prm := range mc.Parameters {
				env, ok := ref.Env[prm]
				if !ok {
					env = junction.ChoreoDefaultEnvName(conn.Name, prm)
				}
				names[conn.ID][prm] = env
				step.Mappings = append(step.Mappings, junction.ImportMapping{Parameter: prm, Env: env, Previous: previous[prm]})
			}
			refs[conn.ID] = ref
			conns[conn.ID] = mc
			steps = append(steps, step)
		}
		for id := range names {
			if _, ok := conns[id]; ok {
				continue
			}
			r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, id))
			if err != nil {
				return err
			}
			conn, err := s.connections.build(ctx, tx, r, p.Role, false)
			if err != nil {
				return err
			}
			mc := junction.MappedConnection{Name: conn.Name}
			for _, prm := range conn.Parameters {
				mc.Parameters = append(mc.Parameters, prm.Name)
			}
			conns[id] = mc
		}
		if err := junction.ValidateComponentMappings(conns, names); err != nil {
			return mappingLineError(err, conns, refs)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ?`, c.ID); err != nil {
			return err
		}
		for id, byParam := range names {
			if err := writeMappings(ctx, tx, c.ID, id, conns[id].Parameters, byParam); err != nil {
				return err
			}
		}
		// A dry run rolls back with the rest of the transaction: its entry too.
		if _, err := recordMappings(ctx, tx, p, c, "mappings.import", existing, nil); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if steps == nil {
		steps = []junction.ImportStep{}
	}
	return steps, nil
}

// mappingLineError reports the first mapping error of the file, by line: the line of the
// entry that names the variable, else of the reference.
func mappingLineError(err error, conns map[string]junction.MappedConnection, refs map[string]junction.ChoreoReference) error {
	type found struct {
		line int
		msg  string
	}
	var all []found
	for key, msg := range junction.ErrorFields(err) {
		id, param, _ := strings.Cut(key, ".")
		ref, ok := refs[id]
		if !ok {
			continue // the other side of a clash: its file entry reports it
		}
		line := ref.Line
		if l, ok := ref.EnvLines[param]; ok {
			line = l
		}
		all = append(all, found{line, conns[id].Name + " " + param + ": " + msg})
	}
	if len(all) == 0 {
		return err
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].line < all[j].line || all[i].line == all[j].line && all[i].msg < all[j].msg
	})
	return lineError(all[0].line, all[0].msg)
}

// resolve finds the connection a reference means, creating a component connection to its
// service when the component may use none.
func (im *importer) resolve(ctx context.Context, ref junction.ChoreoReference) (*connectionRow, junction.ImportStep, error) {
	step := junction.ImportStep{Reference: ref.Name, Line: ref.Line}
	if ref.ServiceReference() {
		if r := im.find(func(r *connectionRow) bool { return r.c.ID == ref.ConnectionConfig }); r != nil {
			step.Match = junction.ImportMatchConnectionID
			return r, step, nil
		}
	} else if r := im.find(func(r *connectionRow) bool { return strings.EqualFold(r.c.Name, ref.Name) }); r != nil {
		step.Match = junction.ImportMatchConnectionName
		return r, step, nil
	}
	svc, err := im.resolveService(ctx, ref)
	if err != nil {
		return nil, step, err
	}
	name := ref.Name
	if ref.ServiceReference() {
		// Importing a Choreo file again finds the connection the first import made.
		if r := im.find(func(r *connectionRow) bool { return r.c.Service.ID == svc.ID }); r != nil {
			step.Match = junction.ImportMatchService
			return r, step, nil
		}
		name = im.freeName(junction.SuggestConnectionName(svc.Name))
	}
	conn := &junction.Connection{Name: name, Project: im.p.Handle, Component: im.c.Handle, Service: junction.ServiceRef{ID: svc.ID}}
	if err := im.s.connections.createConnection(ctx, im.tx, im.user, conn); err != nil {
		if junction.ErrorCode(err) == junction.EINTERNAL {
			return nil, step, err
		}
		msg := junction.ErrorMessage(err)
		if field := junction.ErrorFields(err)["name"]; field != "" {
			msg = fmt.Sprintf("A new connection named %q: %s", name, field)
		}
		return nil, step, lineError(ref.Line, msg)
	}
	r, err := scanConnection(im.tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, conn.ID))
	if err != nil {
		return nil, step, err
	}
	im.usable = append(im.usable, r)
	step.Match, step.Created = junction.ImportMatchCreated, true
	return r, step, nil
}

// freeName returns base, or base with a number, so that no connection the component may use
// has the name.
func (im *importer) freeName(base string) string {
	name := base
	for n := 2; im.find(func(r *connectionRow) bool { return strings.EqualFold(r.c.Name, name) }) != nil; n++ {
		suffix := "-" + strconv.Itoa(n)
		name = strings.TrimRight(base[:min(len(base), junction.MaxConnectionNameLength-len(suffix))], " ._-") + suffix
	}
	return name
}

// resolveService finds the catalog service a reference names, among the listed services the
// caller sees. An internal service is found by project (the importing one when the reference
// gives none), component and version, preferring the same endpoint id, which may differ
// between installations; a third-party service by name and version; a database by server
// (its service name) and database name. A version matches itself, else the latest minor
// version of its major version (v1.0 finds v1).
func (im *importer) resolveService(ctx context.Context, ref junction.ChoreoReference) (*junction.Service, error) {
	parsed, err := ref.Service()
	if err != nil {
		return nil, lineError(ref.Line, err.Error())
	}
	query := serviceSelect + ` WHERE s.unlisted = FALSE AND ` + visibleTo("s")
	args := []any{im.user.IsAdmin, im.user.ID}
	switch parsed.Kind {
	case junction.KindInternal:
		project := parsed.Project
		if project == "" {
			project = im.p.Handle
		}
		query += ` AND s.kind = 'internal' AND p.handle = ? AND c.handle = ?`
		args = append(args, project, parsed.Component)
	case junction.KindThirdParty:
		query += ` AND s.kind = 'third-party' AND s.name = ? COLLATE NOCASE`
		args = append(args, parsed.Name)
	default:
		query += ` AND s.kind = 'database'`
		if parsed.Name != "" {
			query += ` AND s.name = ? COLLATE NOCASE`
			args = append(args, parsed.Name)
		}
	}
	rows, err := im.tx.QueryContext(ctx, query+` ORDER BY s.name, s.id`, args...)
	if err != nil {
		return nil, err
	}
	var candidates []*junction.Service
	for rows.Next() {
		svc, err := scanService(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		candidates = append(candidates, svc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch parsed.Kind {
	case junction.KindDatabase:
		candidates, err = chooseDatabase(candidates, parsed, ref)
		if err != nil {
			return nil, err
		}
	default:
		candidates = chooseVersion(candidates, parsed.Version)
		if parsed.Kind == junction.KindInternal && len(candidates) > 1 {
			if candidates, err = im.chooseEndpoint(candidates, parsed, ref); err != nil {
				return nil, err
			}
		}
	}
	if len(candidates) == 0 {
		if ref.ServiceReference() {
			return nil, lineError(ref.Line, fmt.Sprintf("connectionConfig %s is not the Connection ID of a connection this component may use, and %s matches no service in the catalog.", ref.ConnectionConfig, ref.Name))
		}
		return nil, lineError(ref.Line, fmt.Sprintf("No connection is named %q and %s matches no service in the catalog.", ref.Name, ref.ResourceRef))
	}
	return candidates[0], nil
}

// chooseEndpoint picks among the endpoints one component publishes in one version: the one
// with the reference's endpoint id; else, for a service reference, one the component already
// uses; else the reference is ambiguous.
func (im *importer) chooseEndpoint(candidates []*junction.Service, parsed junction.ParsedRef, ref junction.ChoreoReference) ([]*junction.Service, error) {
	for _, svc := range candidates {
		if junction.EndpointRefID(svc.ID) == parsed.EndpointID {
			return []*junction.Service{svc}, nil
		}
	}
	if ref.ServiceReference() {
		for _, svc := range candidates {
			if im.find(func(r *connectionRow) bool { return r.c.Service.ID == svc.ID }) != nil {
				return []*junction.Service{svc}, nil
			}
		}
	}
	var endpoints []string
	for _, svc := range candidates {
		endpoints = append(endpoints, fmt.Sprintf("%s (%s)", svc.Name, junction.EndpointRefID(svc.ID)))
	}
	return nil, lineError(ref.Line, fmt.Sprintf("%s: %s/%s %s publishes several endpoints, %s, and none has the endpoint id %q: use the id of the one you mean.",
		ref.Ref(), candidates[0].Project, candidates[0].Component, candidates[0].Version, strings.Join(endpoints, ", "), parsed.EndpointID))
}

// chooseVersion keeps the candidates of the version a reference means (junction.ChooseVersion).
func chooseVersion(candidates []*junction.Service, want string) []*junction.Service {
	versions := make([]string, len(candidates))
	for i, svc := range candidates {
		versions[i] = svc.Version
	}
	i := junction.ChooseVersion(versions, want)
	if i < 0 {
		return nil
	}
	var out []*junction.Service
	for _, svc := range candidates {
		if svc.Version == versions[i] {
			out = append(out, svc)
		}
	}
	return out
}

// chooseDatabase picks the database service a reference means. With a server, the services of
// that name, those with the database name first (database names may differ between
// installations); without one, the services whose database has that name, else whose name it
// is. Two servers with that database are ambiguous.
func chooseDatabase(candidates []*junction.Service, parsed junction.ParsedRef, ref junction.ChoreoReference) ([]*junction.Service, error) {
	hasDatabase := func(svc *junction.Service) bool {
		for _, vals := range svc.Values {
			if strings.EqualFold(vals[junction.ParamDatabaseName], parsed.Database) {
				return true
			}
		}
		return false
	}
	var withDB, named []*junction.Service
	for _, svc := range candidates {
		switch {
		case hasDatabase(svc):
			withDB = append(withDB, svc)
		case parsed.Name != "" || strings.EqualFold(svc.Name, parsed.Database):
			named = append(named, svc)
		}
	}
	if parsed.Name != "" {
		return append(withDB, named...), nil
	}
	if len(withDB) > 1 {
		servers := make([]string, len(withDB))
		for i, svc := range withDB {
			servers[i] = svc.Name
		}
		return nil, lineError(ref.Line, fmt.Sprintf("%s is a database of %s: name the server, as database:<server>/%s.", ref.Ref(), strings.Join(servers, " and "), parsed.Database))
	}
	return append(withDB, named...), nil
}

func lineError(line int, msg string) error {
	msg = fmt.Sprintf("Line %d: %s", line, msg)
	return &junction.Error{Code: junction.EINVALID, Message: msg, Fields: map[string]string{"yaml": msg}}
}
