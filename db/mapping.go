package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/junction-dev/junction"
)

// MappingService implements junction.MappingService.
type MappingService struct {
	db          *DB
	connections *ConnectionService

	// runtime caches the answers of RuntimeEnv by token hash. An entry is good while no write
	// transaction has committed since it was computed: any change (a mapping, a rotation, a
	// revoked token) makes the next request recompute, so the hot path is a hash and a map
	// lookup, and stale values are never served.
	runtimeMu sync.RWMutex
	runtime   map[string]runtimeEntry
}

type runtimeEntry struct {
	generation uint64
	tokenID    int64
	lastUsed   time.Time
	vars       []junction.EnvVar
}

var _ junction.MappingService = (*MappingService)(nil)

// NewMappingService returns a MappingService over db, building parameters as connections do.
func NewMappingService(db *DB, connections *ConnectionService) *MappingService {
	return &MappingService{db: db, connections: connections, runtime: map[string]runtimeEntry{}}
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

// env builds a component's variables for one environment, with secrets in clear.
func (s *MappingService) env(ctx context.Context, tx *Tx, p *junction.Project, componentID int64, environment string) ([]junction.EnvVar, error) {
	mappings, err := mappingsOf(ctx, tx, componentID)
	if err != nil {
		return nil, err
	}
	connections := map[string]*junction.Connection{}
	vars := make([]junction.EnvVar, 0, len(mappings))
	for _, m := range mappings {
		conn, ok := connections[m.ConnectionID]
		if !ok {
			r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, m.ConnectionID))
			if err != nil {
				return nil, err
			}
			if conn, err = s.connections.build(ctx, tx, r, p.Role, true); err != nil {
				return nil, err
			}
			connections[m.ConnectionID] = conn
		}
		v := junction.EnvVar{Name: m.Env, ConnectionID: conn.ID, ConnectionName: conn.Name, Parameter: m.Parameter, Scope: conn.Scope}
		for _, prm := range conn.Parameters {
			if prm.Name == m.Parameter {
				v.Secret = prm.Secret
				v.Value, v.HasValue = prm.Values[environment]
			}
		}
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars, nil
}

func errUnknownEnvironment(env string, envs []string) error {
	msg := fmt.Sprintf("There is no environment %q; use one of %v.", env, envs)
	return &junction.Error{Code: junction.EINVALID, Message: msg, Fields: map[string]string{"environment": msg}}
}

// Env implements junction.MappingService.
func (s *MappingService) Env(ctx context.Context, project, component, environment string, reveal bool) (vars []junction.EnvVar, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if reveal && !p.Role.CanSeeSecrets() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot reveal secret values.")
		}
		envs, err := tx.environmentNames(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(envs, environment) {
			return errUnknownEnvironment(environment, envs)
		}
		if vars, err = s.env(ctx, tx, p, c.ID, environment); err != nil {
			return err
		}
		if !reveal {
			for i := range vars {
				if vars[i].Secret && vars[i].Value != "" {
					vars[i].Value = junction.Masked
				}
			}
		}
		return nil
	})
	if err == nil && reveal {
		err = s.connections.audit(ctx, "env.reveal", project+"/"+component+" "+environment)
	}
	if err != nil {
		return nil, err // never revealed values without their audit record
	}
	return vars, nil
}

// CreateRuntimeToken implements junction.MappingService.
func (s *MappingService) CreateRuntimeToken(ctx context.Context, project, component, environment string) (token *junction.RuntimeToken, secret string, err error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot create runtime tokens.")
		}
		envs, err := tx.environmentNames(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(envs, environment) {
			return errUnknownEnvironment(environment, envs)
		}
		secret = junction.RuntimeTokenPrefix + randomString(24)
		res, err := tx.ExecContext(ctx, `INSERT INTO runtime_tokens (component_id, environment, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, environment, hashSecret(secret), user.ID, formatTime(tx.now))
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		token = &junction.RuntimeToken{ID: id, Environment: environment, CreatedAt: tx.now}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return token, secret, nil
}

// FindRuntimeTokens implements junction.MappingService.
func (s *MappingService) FindRuntimeTokens(ctx context.Context, project, component string) (list []*junction.RuntimeToken, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		_, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, environment, created_at, first_used_at, last_used_at FROM runtime_tokens WHERE component_id = ? ORDER BY id DESC`, c.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		list = []*junction.RuntimeToken{}
		for rows.Next() {
			var t junction.RuntimeToken
			var created string
			var first, last sql.NullString
			if err := rows.Scan(&t.ID, &t.Environment, &created, &first, &last); err != nil {
				return err
			}
			t.CreatedAt, t.FirstUsedAt, t.LastUsedAt = parseTime(created), parseNullTime(first), parseNullTime(last)
			list = append(list, &t)
		}
		return rows.Err()
	})
	return list, err
}

// RevokeRuntimeToken implements junction.MappingService.
func (s *MappingService) RevokeRuntimeToken(ctx context.Context, project, component string, id int64) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot revoke runtime tokens.")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM runtime_tokens WHERE id = ? AND component_id = ?`, id, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return junction.Errorf(junction.ENOTFOUND, "Runtime token not found.")
		}
		return nil
	})
}

// RuntimeEnv implements junction.MappingService. A cached answer serves as long as nothing
// was written since; otherwise one indexed lookup of the token's hash and the component's
// variables.
func (s *MappingService) RuntimeEnv(ctx context.Context, token string) ([]junction.EnvVar, error) {
	hash := hashSecret(token)
	generation := s.db.generation.Load()
	s.runtimeMu.RLock()
	entry, ok := s.runtime[hash]
	s.runtimeMu.RUnlock()
	if !ok || entry.generation != generation {
		var err error
		if entry, err = s.loadRuntimeEnv(ctx, hash, generation); err != nil {
			return nil, err
		}
	}
	// Recording every use would make each fetch a write; a minute's precision is enough.
	now := s.db.Now().UTC()
	if now.Sub(entry.lastUsed) >= time.Minute && s.claimUse(hash, entry.generation, now) {
		if _, err := s.db.write.ExecContext(ctx, `UPDATE runtime_tokens SET last_used_at = ?, first_used_at = COALESCE(first_used_at, ?) WHERE id = ?`,
			formatTime(now), formatTime(now), entry.tokenID); err != nil {
			return nil, fmt.Errorf("record runtime token use: %w", err)
		}
	}
	return entry.vars, nil
}

// claimUse marks a cached token as used at now and reports whether the caller should record
// that use: of the concurrent fetches that cross a minute, only one writes.
func (s *MappingService) claimUse(hash string, generation uint64, now time.Time) bool {
	s.runtimeMu.Lock()
	defer s.runtimeMu.Unlock()
	current, ok := s.runtime[hash]
	if !ok || current.generation != generation {
		return true // replaced meanwhile: record, the next fetch caches again
	}
	if now.Sub(current.lastUsed) < time.Minute {
		return false
	}
	current.lastUsed = now
	s.runtime[hash] = current
	return true
}

// loadRuntimeEnv computes and caches the variables of a token; generation was read before.
func (s *MappingService) loadRuntimeEnv(ctx context.Context, hash string, generation uint64) (runtimeEntry, error) {
	var entry runtimeEntry
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		var componentID int64
		var environment string
		var lastUsed sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, component_id, environment, last_used_at FROM runtime_tokens WHERE token_hash = ?`, hash).
			Scan(&entry.tokenID, &componentID, &environment, &lastUsed)
		if errors.Is(err, sql.ErrNoRows) {
			return junction.Errorf(junction.EUNAUTHORIZED, "Unknown or revoked runtime token.")
		} else if err != nil {
			return err
		}
		if last := parseNullTime(lastUsed); last != nil {
			entry.lastUsed = *last
		}
		entry.vars, err = s.env(ctx, tx, &junction.Project{Role: junction.RoleDeveloper}, componentID, environment)
		return err
	})
	if err != nil {
		return entry, err
	}
	entry.generation = generation
	s.runtimeMu.Lock()
	if len(s.runtime) > 10000 {
		s.runtime = map[string]runtimeEntry{} // bound the cache; it refills from the hot tokens
	}
	s.runtime[hash] = entry
	s.runtimeMu.Unlock()
	return entry, nil
}

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
			WHERE s.kind = 'internal' AND p.handle = ? AND k.handle = ? AND s.version = ? AND s.unlisted = 0 ORDER BY s.name LIMIT 1`,
			[]any{parsed.Project, parsed.Component, parsed.Version}
	case junction.KindThirdParty:
		query, args = `SELECT id FROM services WHERE kind = 'third-party' AND name = ? COLLATE NOCASE AND version = ? AND unlisted = 0 LIMIT 1`,
			[]any{parsed.Name, parsed.Version}
	default:
		query, args = `SELECT id FROM services WHERE kind = 'database' AND name = ? COLLATE NOCASE AND unlisted = 0 LIMIT 1`, []any{parsed.Name}
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
