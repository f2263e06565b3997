package db

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/junction-dev/junction"
)

// MappingService implements junction.MappingService.
type MappingService struct {
	db          *DB
	connections *ConnectionService

	// runtime caches the answers of RuntimeEnv by token hash. An entry is good while no change
	// of a runtime environment has committed since it was computed, here or on another
	// replica (env_changes.go): a mapping, a rotation or a revoked token makes the next
	// request recompute, so the hot path is a hash and a map lookup, and stale values are
	// never served.
	runtimeMu sync.RWMutex
	runtime   map[string]*runtimeEntry

	// activity counts runtime fetches per token and hour (see runtime_activity.go); nil
	// counts nothing.
	activity *runtimeActivity
}

var _ junction.MappingService = (*MappingService)(nil)

// NewMappingService returns a MappingService over db, building parameters as connections do.
func NewMappingService(db *DB, connections *ConnectionService) *MappingService {
	return &MappingService{db: db, connections: connections, runtime: map[string]*runtimeEntry{}, activity: &runtimeActivity{}}
}

// component finds a component the caller may see, with the caller's project role.
func (s *MappingService) component(ctx context.Context, tx *Tx, project, component string) (*junction.Project, *junction.Component, error) {
	p, err := findProject(ctx, tx, project)
	if err != nil {
		return nil, nil, err
	}
	c, err := findComponent(ctx, tx, p, component)
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// FindMappings implements junction.MappingService.
func (s *MappingService) FindMappings(ctx context.Context, project, component string) (list []junction.Mapping, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		_, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		list, err = mappingsOf(ctx, tx, c.ID)
		return err
	})
	return list, err
}

func mappingsOf(ctx context.Context, tx *Tx, componentID int64) ([]junction.Mapping, error) {
	rows, err := tx.QueryContext(ctx, `SELECT connection_id, parameter, env FROM mappings WHERE component_id = ? ORDER BY env`, componentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []junction.Mapping{}
	for rows.Next() {
		var m junction.Mapping
		if err := rows.Scan(&m.ConnectionID, &m.Parameter, &m.Env); err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// usableConnection loads a connection the component may map: its own, or one of its
// project's project connections.
func (s *MappingService) usableConnection(ctx context.Context, tx *Tx, p *junction.Project, c *junction.Component, id string) (*connectionRow, error) {
	r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ? AND (c.component_id = ? OR (c.project_id = ? AND c.scope = 'project'))`,
		id, c.ID, p.ID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("Component %q may not use connection %s.", c.Handle, id))
	}
	return r, nil
}

// SetMappings implements junction.MappingService.
func (s *MappingService) SetMappings(ctx context.Context, project, component, connectionID string, names map[string]string) (list []junction.Mapping, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change mappings.")
		}
		r, err := s.usableConnection(ctx, tx, p, c, connectionID)
		if err != nil {
			return err
		}
		conn, err := s.connections.build(ctx, tx, r, p.Role, false)
		if err != nil {
			return err
		}
		params := make([]string, len(conn.Parameters))
		for i, prm := range conn.Parameters {
			params[i] = prm.Name
		}
		taken, err := takenNames(ctx, tx, c.ID, connectionID)
		if err != nil {
			return err
		}
		if err := junction.ValidateMapping(params, names, taken); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ? AND connection_id = ?`, c.ID, connectionID); err != nil {
			return err
		}
		if err := writeMappings(ctx, tx, c.ID, connectionID, params, names); err != nil {
			return err
		}
		list, err = mappingsOf(ctx, tx, c.ID)
		return err
	})
	return list, err
}

// writeMappings stores the variable name of each parameter of a connection (validated
// before), trimmed as validation read it.
func writeMappings(ctx context.Context, tx *Tx, componentID int64, connectionID string, params []string, names map[string]string) error {
	for _, prm := range params {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mappings (component_id, connection_id, parameter, env) VALUES (?, ?, ?, ?)`,
			componentID, connectionID, prm, strings.TrimSpace(names[prm])); err != nil {
			return err
		}
	}
	return nil
}

// takenNames lists the variable names the component's other connections use.
func takenNames(ctx context.Context, tx *Tx, componentID int64, except string) ([]junction.MappingTaken, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.env, m.connection_id, c.name, m.parameter FROM mappings m
		JOIN connections c ON c.id = m.connection_id WHERE m.component_id = ? AND m.connection_id != ?`, componentID, except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var taken []junction.MappingTaken
	for rows.Next() {
		var t junction.MappingTaken
		if err := rows.Scan(&t.Env, &t.ConnectionID, &t.ConnectionName, &t.Parameter); err != nil {
			return nil, err
		}
		taken = append(taken, t)
	}
	return taken, rows.Err()
}

// ReplaceMappings implements junction.MappingService.
func (s *MappingService) ReplaceMappings(ctx context.Context, project, component string, names map[string]map[string]string) (list []junction.Mapping, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change mappings.")
		}
		conns := map[string]junction.MappedConnection{}
		for id := range names {
			r, err := s.usableConnection(ctx, tx, p, c, id)
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
		list, err = mappingsOf(ctx, tx, c.ID)
		return err
	})
	return list, err
}

// DeleteMappings implements junction.MappingService.
func (s *MappingService) DeleteMappings(ctx context.Context, project, component, connectionID string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change mappings.")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ? AND connection_id = ?`, c.ID, connectionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return junction.Errorf(junction.ENOTFOUND, "Component %q does not map connection %s.", c.Handle, connectionID)
		}
		return nil
	})
}
