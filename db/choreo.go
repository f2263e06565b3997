package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/junction-dev/junction"
)

// Choreo component.yaml export and import.

// errDryRun rolls back an import that only had to say what it would do.
var errDryRun = errors.New("dry run")

// ExportComponentYAML implements junction.MappingService.
func (s *MappingService) ExportComponentYAML(ctx context.Context, project, component, schema string) (out []byte, err error) {
	if schema != "1.1" && schema != "1.2" {
		return nil, &junction.Error{Code: junction.EINVALID, Message: "schema must be 1.1 or 1.2.", Fields: map[string]string{"schema": "Use 1.1 or 1.2."}}
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
				cc = &junction.ChoreoConnection{Name: r.c.Name, Service: svc, Env: map[string]string{}}
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
		lines := map[string]int{}
		for _, ref := range imp.References {
			step := junction.ImportStep{Reference: ref.Name, Line: ref.Line}
			r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE lower(c.name) = lower(?)
				AND (c.component_id = ? OR (c.project_id = ? AND c.scope = 'project')) ORDER BY c.scope DESC LIMIT 1`, ref.Name, c.ID, p.ID))
			if errors.Is(err, sql.ErrNoRows) {
				svcID, err := s.resolveRef(ctx, tx, ref)
				if err != nil {
					return err
				}
				conn := &junction.Connection{Name: ref.Name, Project: p.Handle, Component: c.Handle, Service: junction.ServiceRef{ID: svcID}}
				if err := s.connections.createConnection(ctx, tx, user, conn); err != nil {
					return lineError(ref.Line, junction.ErrorMessage(err))
				}
				step.Created = true
				if r, err = scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, conn.ID)); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			conn, err := s.connections.build(ctx, tx, r, p.Role, false)
			if err != nil {
				return err
			}
			step.ConnectionID, step.ServiceID = conn.ID, conn.Service.ID
			mc := junction.MappedConnection{Name: conn.Name}
			for _, prm := range conn.Parameters {
				mc.Parameters = append(mc.Parameters, prm.Name)
			}
			for key, line := range ref.EnvLines {
				if !slices.Contains(mc.Parameters, key) {
					return lineError(line, fmt.Sprintf("Connection %s has no parameter %q.", ref.Name, key))
				}
			}
			previous := names[conn.ID]
			names[conn.ID] = map[string]string{}
			for _, prm := range mc.Parameters {
				env, ok := ref.Env[prm]
				if !ok {
					env = junction.ChoreoDefaultEnvName(ref.Name, prm)
				}
				names[conn.ID][prm] = env
				step.Mappings = append(step.Mappings, junction.ImportMapping{Parameter: prm, Env: env, Previous: previous[prm]})
			}
			lines[conn.ID] = ref.Line
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
			for key, msg := range junction.ErrorFields(err) {
				id, _, _ := strings.Cut(key, ".")
				return lineError(lines[id], conns[id].Name+": "+msg)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ?`, c.ID); err != nil {
			return err
		}
		for id, byParam := range names {
			if err := writeMappings(ctx, tx, c.ID, id, conns[id].Parameters, byParam); err != nil {
				return err
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return steps, err
}

// resolveRef finds the catalog service a resourceRef names, among those the caller sees.
func (s *MappingService) resolveRef(ctx context.Context, tx *Tx, ref junction.ChoreoReference) (string, error) {
	parsed, err := junction.ParseResourceRef(ref.ResourceRef)
	if err != nil {
		return "", lineError(ref.Line, err.Error())
	}
	var query string
	var args []any
	switch parsed.Kind {
	case junction.KindInternal:
		// The endpoint id may differ between installations: project, component and version decide.
		query, args = `SELECT s.id FROM services s JOIN components k ON k.id = s.component_id JOIN projects p ON p.id = s.project_id
			WHERE s.kind = 'internal' AND p.handle = ? AND k.handle = ? AND s.version = ? AND s.unlisted = FALSE ORDER BY s.name LIMIT 1`,
			[]any{parsed.Project, parsed.Component, parsed.Version}
	case junction.KindThirdParty:
		query, args = `SELECT id FROM services WHERE kind = 'third-party' AND name = ? COLLATE NOCASE AND version = ? AND unlisted = FALSE LIMIT 1`,
			[]any{parsed.Name, parsed.Version}
	default:
		query, args = `SELECT id FROM services WHERE kind = 'database' AND name = ? COLLATE NOCASE AND unlisted = FALSE LIMIT 1`, []any{parsed.Name}
	}
	var id string
	err = tx.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", lineError(ref.Line, fmt.Sprintf("No connection is named %q and %s matches no service in the catalog.", ref.Name, ref.ResourceRef))
	} else if err != nil {
		return "", err
	}
	if _, err := findService(ctx, tx, id); err != nil {
		return "", lineError(ref.Line, fmt.Sprintf("%s matches no service you can see.", ref.ResourceRef))
	}
	return id, nil
}

func lineError(line int, msg string) error {
	msg = fmt.Sprintf("Line %d: %s", line, msg)
	return &junction.Error{Code: junction.EINVALID, Message: msg, Fields: map[string]string{"yaml": msg}}
}
