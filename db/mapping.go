package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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

// lockedComponent finds a component whose mappings the caller may change and takes its row
// lock, so that mapping writes (and their version numbers) on one component go one at a time.
func (s *MappingService) lockedComponent(ctx context.Context, tx *Tx, project, component string) (*junction.Project, *junction.Component, error) {
	p, c, err := s.component(ctx, tx, project, component)
	if err != nil {
		return nil, nil, err
	}
	if !p.Role.CanWrite() {
		return nil, nil, junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change mappings.")
	}
	if err := lockComponent(ctx, tx, c.ID); err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// SetMappings implements junction.MappingService.
func (s *MappingService) SetMappings(ctx context.Context, project, component, connectionID string, names map[string]string) (list []junction.Mapping, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.lockedComponent(ctx, tx, project, component)
		if err != nil {
			return err
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
		before, err := mappingsOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ? AND connection_id = ?`, c.ID, connectionID); err != nil {
			return err
		}
		if err := writeMappings(ctx, tx, c.ID, connectionID, params, names); err != nil {
			return err
		}
		list, err = recordMappings(ctx, tx, p, c, "mappings.replace", before, map[string]any{"connection_id": connectionID})
		return err
	})
	return list, err
}

// mappingsTarget names a component's mappings in the audit log.
func mappingsTarget(p *junction.Project, c *junction.Component) junction.AuditTarget {
	return junction.AuditTarget{Type: "mappings", ID: p.Handle + "/" + c.Handle, Name: c.Handle}
}

// recordMappings stores the component's mappings as they are now as a new version and writes
// the entry of the change (action) with the mappings before and after; it returns them.
func recordMappings(ctx context.Context, tx *Tx, p *junction.Project, c *junction.Component, action string, before []junction.Mapping, extra map[string]any) ([]junction.Mapping, error) {
	after, err := mappingsOf(ctx, tx, c.ID)
	if err != nil {
		return nil, err
	}
	version, err := saveMappingVersion(ctx, tx, c.ID, action, after)
	if err != nil {
		return nil, err
	}
	details := diff(mappingDetails(before), mappingDetails(after))
	details["version"] = version
	for k, v := range extra {
		details[k] = v
	}
	return after, tx.audit(ctx, junction.AuditEntry{Action: action, Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
		Target: mappingsTarget(p, c), Details: details})
}

// mappingDetails keys each variable name by "<connection ID>.<parameter>".
func mappingDetails(list []junction.Mapping) map[string]any {
	d := map[string]any{}
	for _, m := range list {
		d[m.ConnectionID+"."+m.Parameter] = m.Env
	}
	return d
}

// saveMappingVersion stores a component's mappings as its next version.
func saveMappingVersion(ctx context.Context, tx *Tx, componentID int64, action string, list []junction.Mapping) (int, error) {
	var version int
	// Writers of one component's mappings take turns (they took the lock first already), so
	// that each gets its own number.
	if err := lockComponent(ctx, tx, componentID); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM mapping_versions WHERE component_id = ?`, componentID).Scan(&version); err != nil {
		return 0, err
	}
	if list == nil {
		list = []junction.Mapping{}
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return 0, err
	}
	actor := SystemActor
	if user := junction.UserFromContext(ctx); user != nil {
		actor = user.Email
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mapping_versions (component_id, version, at, actor, action, mappings) VALUES (?, ?, ?, ?, ?, ?)`,
		componentID, version, formatTime(tx.now), actor, action, string(raw))
	return version, err
}

// MappingHistory implements junction.MappingService.
func (s *MappingService) MappingHistory(ctx context.Context, project, component string) (list []*junction.MappingVersion, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		_, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		list = []*junction.MappingVersion{}
		return queryEach(ctx, tx, `SELECT version, at, actor, action, mappings FROM mapping_versions WHERE component_id = ? ORDER BY version DESC`,
			[]any{c.ID}, func(rows *sql.Rows) error {
				var v junction.MappingVersion
				var at, raw string
				if err := rows.Scan(&v.Version, &at, &v.Actor, &v.Action, &raw); err != nil {
					return err
				}
				v.At = parseTime(at)
				if err := json.Unmarshal([]byte(raw), &v.Mappings); err != nil {
					return fmt.Errorf("decode mapping version %d: %w", v.Version, err)
				}
				list = append(list, &v)
				return nil
			})
	})
	return list, err
}

// RestoreMappings implements junction.MappingService.
func (s *MappingService) RestoreMappings(ctx context.Context, project, component string, version int) (list []junction.Mapping, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.lockedComponent(ctx, tx, project, component)
		if err != nil {
			return err
		}
		var raw string
		err = tx.QueryRowContext(ctx, `SELECT mappings FROM mapping_versions WHERE component_id = ? AND version = ?`, c.ID, version).Scan(&raw)
		if err != nil {
			return notFound(err, fmt.Sprintf("Component %q has no mappings version %d.", c.Handle, version))
		}
		var old []junction.Mapping
		if err := json.Unmarshal([]byte(raw), &old); err != nil {
			return fmt.Errorf("decode mapping version %d: %w", version, err)
		}
		names := map[string]map[string]string{}
		for _, m := range old {
			if names[m.ConnectionID] == nil {
				names[m.ConnectionID] = map[string]string{}
			}
			names[m.ConnectionID][m.Parameter] = m.Env
		}
		var gone []string
		for _, id := range slices.Sorted(maps.Keys(names)) {
			if _, err := s.usableConnection(ctx, tx, p, c, id); junction.ErrorCode(err) == junction.ENOTFOUND {
				gone = append(gone, id)
			} else if err != nil {
				return err
			}
		}
		if len(gone) > 0 {
			fields := map[string]string{}
			var named []string
			for _, id := range gone {
				name := id
				var last string
				if err := tx.QueryRowContext(ctx, `SELECT target_name FROM audit_log WHERE target_type = 'connection' AND target_id = ?
					ORDER BY id DESC LIMIT 1`, id).Scan(&last); err == nil && last != "" {
					name = fmt.Sprintf("%q (%s)", last, id)
				}
				named = append(named, name)
				fields[id] = "This connection no longer exists."
			}
			return &junction.Error{Code: junction.EINVALID, Fields: fields,
				Message: fmt.Sprintf("Version %d maps connection %s, which no longer exists; nothing was restored.", version, strings.Join(named, ", "))}
		}
		list, err = s.replaceMappings(ctx, tx, p, c, names, "mappings.restore", map[string]any{"restored_version": version})
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
		p, c, err := s.lockedComponent(ctx, tx, project, component)
		if err != nil {
			return err
		}
		list, err = s.replaceMappings(ctx, tx, p, c, names, "mappings.replace", nil)
		return err
	})
	return list, err
}

// replaceMappings validates and writes a component's whole set of mappings, recorded as
// action.
func (s *MappingService) replaceMappings(ctx context.Context, tx *Tx, p *junction.Project, c *junction.Component,
	names map[string]map[string]string, action string, extra map[string]any) ([]junction.Mapping, error) {
	conns := map[string]junction.MappedConnection{}
	for id := range names {
		r, err := s.usableConnection(ctx, tx, p, c, id)
		if err != nil {
			return nil, err
		}
		conn, err := s.connections.build(ctx, tx, r, p.Role, false)
		if err != nil {
			return nil, err
		}
		mc := junction.MappedConnection{Name: conn.Name}
		for _, prm := range conn.Parameters {
			mc.Parameters = append(mc.Parameters, prm.Name)
		}
		conns[id] = mc
	}
	if err := junction.ValidateComponentMappings(conns, names); err != nil {
		return nil, err
	}
	before, err := mappingsOf(ctx, tx, c.ID)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ?`, c.ID); err != nil {
		return nil, err
	}
	for id, byParam := range names {
		if err := writeMappings(ctx, tx, c.ID, id, conns[id].Parameters, byParam); err != nil {
			return nil, err
		}
	}
	return recordMappings(ctx, tx, p, c, action, before, extra)
}

// DeleteMappings implements junction.MappingService.
func (s *MappingService) DeleteMappings(ctx context.Context, project, component, connectionID string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.lockedComponent(ctx, tx, project, component)
		if err != nil {
			return err
		}
		before, err := mappingsOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE component_id = ? AND connection_id = ?`, c.ID, connectionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return junction.Errorf(junction.ENOTFOUND, "Component %q does not map connection %s.", c.Handle, connectionID)
		}
		_, err = recordMappings(ctx, tx, p, c, "mappings.delete", before, map[string]any{"connection_id": connectionID})
		return err
	})
}

// lockComponent takes the component's row lock until the transaction ends, so that writers
// of its mappings take turns. Every mappings write takes it before it touches a mapping, and
// after its project's lock when it takes that too.
func lockComponent(ctx context.Context, tx *Tx, id int64) error {
	var locked int64
	return tx.QueryRowContext(ctx, `SELECT id FROM components WHERE id = ?`+tx.db.dialect.forNoKeyUpdate, id).Scan(&locked)
}
