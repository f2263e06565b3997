package db

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junction-dev/junction"
)

// ConnectionService implements junction.ConnectionService.
type ConnectionService struct {
	db *DB
	// TokenURL is the OAuth token endpoint that connections to OAuth services are given.
	TokenURL string
}

var _ junction.ConnectionService = (*ConnectionService)(nil)

// NewConnectionService returns a ConnectionService over db.
func NewConnectionService(db *DB, tokenURL string) *ConnectionService {
	return &ConnectionService{db: db, TokenURL: tokenURL}
}

// connectionRow is a connection as stored, before its parameters are built.
type connectionRow struct {
	c           junction.Connection
	projectID   int64
	componentID sql.NullInt64
	appID       sql.NullInt64
}

const connectionSelect = `SELECT c.id, c.name, c.description, c.scope, p.handle, COALESCE(k.handle, ''),
	c.service_id, c.endpoints, c.credentials, c.created_at, c.updated_at, c.project_id, c.component_id, c.oauth_app_id,
	p.name, COALESCE(k.name, '')
	FROM connections c JOIN projects p ON p.id = c.project_id LEFT JOIN components k ON k.id = c.component_id`

func scanConnection(row interface{ Scan(...any) error }) (*connectionRow, error) {
	var r connectionRow
	var endpoints, credentials, created, updated string
	if err := row.Scan(&r.c.ID, &r.c.Name, &r.c.Description, &r.c.Scope, &r.c.Project, &r.c.Component,
		&r.c.Service.ID, &endpoints, &credentials, &created, &updated, &r.projectID, &r.componentID, &r.appID,
		&r.c.ProjectName, &r.c.ComponentName); err != nil {
		return nil, err
	}
	r.c.CreatedAt, r.c.UpdatedAt = parseTime(created), parseTime(updated)
	if err := json.Unmarshal([]byte(endpoints), &r.c.Endpoints); err != nil {
		return nil, fmt.Errorf("decode endpoints of %s: %w", r.c.ID, err)
	}
	if err := json.Unmarshal([]byte(credentials), &r.c.Credentials); err != nil {
		return nil, fmt.Errorf("decode credentials of %s: %w", r.c.ID, err)
	}
	return &r, nil
}

// serviceWithSecrets loads a service with its secret values in clear, for building the
// parameters of its connections. It applies no visibility rule: callers have checked them.
func (db *DB) serviceWithSecrets(ctx context.Context, tx *Tx, id string) (*junction.Service, error) {
	var sealed []byte
	row := tx.QueryRowContext(ctx, `SELECT `+serviceColumns+`, s.secrets`+serviceFrom+` WHERE s.id = ?`, id)
	svc, err := scanService(row, &sealed)
	if err != nil {
		return nil, notFound(err, "Service not found.")
	}
	if len(sealed) == 0 {
		return svc, nil
	}
	plain, err := db.sealer.Open(sealed, "services.secrets:"+id)
	if err != nil {
		return nil, fmt.Errorf("open secrets of service %s: %w", id, err)
	}
	var secrets map[string]string
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, err
	}
	for i, e := range svc.Endpoints {
		for name := range e.Values {
			if v, ok := secrets["endpoint/"+e.Name+"/"+name]; ok {
				svc.Endpoints[i].Values[name] = v
			}
		}
	}
	for env, vals := range svc.Values {
		for name := range vals {
			if v, ok := secrets["env/"+env+"/"+name]; ok {
				vals[name] = v
			}
		}
	}
	for env, creds := range svc.Credentials {
		for i, c := range creds {
			if v, ok := secrets["credential/"+env+"/"+c.Name]; ok {
				creds[i].Password = v
			}
		}
	}
	return svc, nil
}

// credentials loads the generated secrets of a connection in clear.
func (s *ConnectionService) credentials(ctx context.Context, tx *Tx, r *connectionRow) (creds junction.Credentials, previous map[string]time.Time, err error) {
	creds = junction.Credentials{ClientID: map[string]string{}, ClientSecret: map[string]string{}, APIKey: map[string]string{}}
	if r.appID.Valid {
		rows, err := tx.QueryContext(ctx, `SELECT environment, client_id, secret_sealed, previous_valid_until FROM oauth_credentials WHERE app_id = ?`, r.appID.Int64)
		if err != nil {
			return creds, previous, err
		}
		defer rows.Close()
		for rows.Next() {
			var env, clientID string
			var sealed []byte
			var until sql.NullString
			if err := rows.Scan(&env, &clientID, &sealed, &until); err != nil {
				return creds, previous, err
			}
			previous = notePrevious(previous, tx, env, until)
			secret, err := s.db.sealer.Open(sealed, "oauth_credentials:"+clientID)
			if err != nil {
				return creds, previous, err
			}
			creds.ClientID[env], creds.ClientSecret[env] = clientID, string(secret)
		}
		if err := rows.Err(); err != nil {
			return creds, previous, err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT environment, key_sealed, previous_valid_until FROM api_keys WHERE connection_id = ?`, r.c.ID)
	if err != nil {
		return creds, previous, err
	}
	defer rows.Close()
	for rows.Next() {
		var env string
		var sealed []byte
		var until sql.NullString
		if err := rows.Scan(&env, &sealed, &until); err != nil {
			return creds, previous, err
		}
		previous = notePrevious(previous, tx, env, until)
		key, err := s.db.sealer.Open(sealed, "api_keys:"+r.c.ID+":"+env)
		if err != nil {
			return creds, previous, err
		}
		creds.APIKey[env] = string(key)
	}
	return creds, previous, rows.Err()
}

// notePrevious adds an environment's end of grace to previous while the grace lasts.
func notePrevious(previous map[string]time.Time, tx *Tx, env string, until sql.NullString) map[string]time.Time {
	if !until.Valid {
		return previous
	}
	if t := parseTime(until.String); t.After(tx.now) {
		if previous == nil {
			previous = map[string]time.Time{}
		}
		previous[env] = t
	}
	return previous
}

// build fills a connection's service and parameters, masked unless reveal.
func (s *ConnectionService) build(ctx context.Context, tx *Tx, r *connectionRow, role junction.Role, reveal bool) (*junction.Connection, error) {
	svc, err := s.db.serviceWithSecrets(ctx, tx, r.c.Service.ID)
	if err != nil {
		return nil, err
	}
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return nil, err
	}
	creds, previous, err := s.credentials(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	c := r.c
	c.PreviousValidUntil = previous
	c.Service = junction.ServiceRef{ID: svc.ID, Name: svc.DisplayName(), Kind: svc.Kind, Version: svc.Version}
	c.Credentials = junction.EffectiveCredentials(svc, envs, c.Credentials)
	chosen := c.Endpoints
	if svc.Kind == junction.KindDatabase {
		chosen = c.Credentials
	}
	c.Parameters = junction.BuildParameters(svc, envs, chosen, creds, s.TokenURL)
	c.Role, c.Revealed = role, true
	c.CanEdit = role.CanWrite()
	// A generated secret: the OAuth application's, or the API key of an api-key service.
	c.Rotatable = c.CanEdit && (r.appID.Valid || svc.Kind == junction.KindInternal && svc.Security == junction.SecurityAPIKey)
	if !reveal {
		c.Mask()
	}
	return &c, nil
}

// findConnection loads a connection of a project the caller may see.
func (s *ConnectionService) findConnection(ctx context.Context, tx *Tx, id string) (*connectionRow, *junction.Project, error) {
	r, err := scanConnection(tx.QueryRowContext(ctx, connectionSelect+` WHERE c.id = ?`, id))
	if err != nil {
		return nil, nil, notFound(err, "Connection not found.")
	}
	p, err := findProject(ctx, tx, r.c.Project)
	if junction.ErrorCode(err) == junction.ENOTFOUND {
		return nil, nil, junction.Errorf(junction.ENOTFOUND, "Connection not found.")
	} else if err != nil {
		return nil, nil, err
	}
	return r, p, nil
}

func errConnectionNameTaken(c *junction.Connection) error {
	msg := fmt.Sprintf("%s already has a connection named %q.", c.Owner(), c.Name)
	return &junction.Error{Code: junction.ECONFLICT, Message: msg, Fields: map[string]string{"name": msg}}
}

// CreateConnection implements junction.ConnectionService. Everything happens in one
// transaction: a failure leaves no connection, key or OAuth application behind.
func (s *ConnectionService) CreateConnection(ctx context.Context, c *junction.Connection) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error { return s.createConnection(ctx, tx, user, c) })
}

// createConnection creates a connection inside tx.
func (s *ConnectionService) createConnection(ctx context.Context, tx *Tx, user *junction.User, c *junction.Connection) error {
	p, err := findWritableProject(ctx, tx, c.Project)
	if err != nil {
		return err
	}
	if err := lockProject(ctx, tx, p.ID); err != nil {
		return err
	}
	var componentID sql.NullInt64
	scopeKey := "project:" + strconv.FormatInt(p.ID, 10)
	c.Scope = junction.ScopeProject
	if c.Component != "" {
		comp, err := findComponent(ctx, tx, p, c.Component)
		if err != nil {
			return err
		}
		componentID = sql.NullInt64{Int64: comp.ID, Valid: true}
		scopeKey = "component:" + strconv.FormatInt(comp.ID, 10)
		c.Scope = junction.ScopeComponent
	}
	if strings.TrimSpace(c.Service.ID) == "" {
		return &junction.Error{Code: junction.EINVALID, Message: "Name the service to connect to.",
			Fields: map[string]string{"service_id": "Required."}}
	}
	// The service's credentials stay as they are until this connection, which may choose
	// one, is committed: removing a credential waits, then sees the connection (409).
	if err := lockService(ctx, tx, c.Service.ID, tx.db.dialect.forShare); err != nil {
		return err
	}
	svc, err := findService(ctx, tx, c.Service.ID)
	if err != nil {
		return err
	}
	if err := svc.ConnectableFrom(p.Handle); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	if c.Endpoints, err = junction.ChooseEndpoints(svc, envs, c.Endpoints); err != nil {
		return err
	}
	if c.Credentials, err = junction.ChooseCredentials(svc, envs, c.Credentials); err != nil {
		return err
	}
	served := junction.ServedEnvironments(svc, envs)
	var appID sql.NullInt64
	if junction.NeedsOAuthApp(svc) {
		id, err := ensureOAuthApp(ctx, tx, p.ID, componentID, served)
		if err != nil {
			return err
		}
		appID = sql.NullInt64{Int64: id, Valid: true}
	}
	endpoints, err := json.Marshal(c.Endpoints)
	if err != nil {
		return err
	}
	if c.Endpoints == nil {
		endpoints = []byte("{}")
	}
	credentials, err := marshalChoices(c.Credentials)
	if err != nil {
		return err
	}
	c.ID = junction.NewConnectionID()
	_, err = tx.ExecContext(ctx, `INSERT INTO connections (id, name, description, scope, project_id, component_id,
		scope_key, service_id, oauth_app_id, endpoints, credentials, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Description, string(c.Scope), p.ID, componentID, scopeKey, svc.ID, appID, string(endpoints), credentials,
		user.ID, formatTime(tx.now), formatTime(tx.now))
	if isConflict(err) {
		return errConnectionNameTaken(c)
	} else if err != nil {
		return fmt.Errorf("create connection %q: %w", c.Name, err)
	}
	if junction.NeedsAPIKey(svc) {
		for _, env := range served {
			if err := setAPIKey(ctx, tx, c.ID, env); err != nil {
				return err
			}
		}
	}
	r := &connectionRow{c: *c, projectID: p.ID, componentID: componentID, appID: appID}
	r.c.CreatedAt, r.c.UpdatedAt = tx.now, tx.now
	built, err := s.build(ctx, tx, r, p.Role, false)
	if err != nil {
		return err
	}
	*c = *built
	return tx.audit(ctx, junction.AuditEntry{Action: "connection.create", Project: p.Handle, ProjectID: p.ID, Component: c.Component,
		Target: connectionTarget(c), Details: map[string]any{"after": connectionDetails(c)}})
}

// connectionTarget names a connection in the audit log.
func connectionTarget(c *junction.Connection) junction.AuditTarget {
	return junction.AuditTarget{Type: "connection", ID: c.ID, Name: c.Name}
}

// connectionDetails are the non-secret fields of a connection that its history shows.
func connectionDetails(c *junction.Connection) map[string]any {
	d := map[string]any{"name": c.Name, "description": c.Description, "scope": string(c.Scope), "service_id": c.Service.ID}
	if len(c.Endpoints) > 0 {
		d["endpoints"] = c.Endpoints
	}
	if len(c.Credentials) > 0 {
		d["credentials"] = c.Credentials
	}
	return d
}

// marshalChoices encodes a choice per environment (the credentials column) as a JSON object.
func marshalChoices(choices map[string]string) (string, error) {
	if choices == nil {
		return "{}", nil
	}
	b, err := json.Marshal(choices)
	return string(b), err
}

// ensureOAuthApp returns the OAuth application shared by the project's project-scope
// connections (componentID unset) or by the component's connections, creating it and its
// client credentials for the given environments as needed. The caller holds the project's
// lock (lockProject), so that two writers never both find no application and make two.
func ensureOAuthApp(ctx context.Context, tx *Tx, projectID int64, componentID sql.NullInt64, envs []string) (int64, error) {
	var appID int64
	var err error
	if componentID.Valid {
		err = tx.QueryRowContext(ctx, `SELECT id FROM oauth_apps WHERE component_id = ?`, componentID.Int64).Scan(&appID)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT id FROM oauth_apps WHERE project_id = ?`, projectID).Scan(&appID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		owner := sql.NullInt64{Int64: projectID, Valid: true}
		if componentID.Valid {
			owner = sql.NullInt64{}
		}
		if appID, err = tx.insertID(ctx, `INSERT INTO oauth_apps (project_id, component_id, created_at) VALUES (?, ?, ?)`,
			owner, componentID, formatTime(tx.now)); err != nil {
			return 0, fmt.Errorf("create OAuth application: %w", err)
		}
	} else if err != nil {
		return 0, err
	}
	for _, env := range envs {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM oauth_credentials WHERE app_id = ? AND environment = ?)`, appID, env).Scan(&exists); err != nil {
			return 0, err
		}
		if exists {
			continue
		}
		clientID := "jci_" + randomString(15)
		secret := "jcs_" + randomString(30)
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_credentials (app_id, environment, client_id, secret_hash, secret_sealed, rotated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, appID, env, clientID, hashSecret(secret),
			tx.db.sealer.Seal([]byte(secret), "oauth_credentials:"+clientID), formatTime(tx.now)); err != nil {
			return 0, fmt.Errorf("create OAuth credentials: %w", err)
		}
	}
	return appID, nil
}

// setAPIKey creates or replaces the API key of a connection in one environment.
func setAPIKey(ctx context.Context, tx *Tx, connectionID, env string) error {
	key := "jak_" + randomString(30)
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (connection_id, environment, key_hash, key_sealed, rotated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, environment) DO UPDATE SET key_hash = excluded.key_hash, key_sealed = excluded.key_sealed,
		rotated_at = excluded.rotated_at`,
		connectionID, env, hashSecret(key), tx.db.sealer.Seal([]byte(key), "api_keys:"+connectionID+":"+env), formatTime(tx.now))
	return err
}

// FindConnections implements junction.ConnectionService.
func (s *ConnectionService) FindConnections(ctx context.Context, f junction.ConnectionFilter) (list []*junction.Connection, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, f.Project)
		if err != nil {
			return err
		}
		where, args := ` WHERE c.project_id = ? AND c.scope = 'project'`, []any{p.ID}
		if f.Component != "" {
			comp, err := findComponent(ctx, tx, p, f.Component)
			if err != nil {
				return err
			}
			where, args = ` WHERE c.component_id = ?`, []any{comp.ID}
			if f.WithProjectConnections {
				where, args = ` WHERE c.component_id = ? OR (c.project_id = ? AND c.scope = 'project')`, []any{comp.ID, p.ID}
			}
		}
		rows, err := tx.QueryContext(ctx, connectionSelect+where+` ORDER BY c.scope DESC, c.name COLLATE NOCASE`, args...)
		if err != nil {
			return err
		}
		var found []*connectionRow
		for rows.Next() {
			r, err := scanConnection(rows)
			if err != nil {
				rows.Close()
				return err
			}
			found = append(found, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range found {
			c, err := s.build(ctx, tx, r, p.Role, false)
			if err != nil {
				return err
			}
			list = append(list, c)
		}
		return nil
	})
	return list, err
}

// FindConnection implements junction.ConnectionService.
func (s *ConnectionService) FindConnection(ctx context.Context, id string, reveal bool) (c *junction.Connection, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		r, p, err := s.findConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if reveal && !p.Role.CanSeeSecrets() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot reveal secret values.")
		}
		c, err = s.build(ctx, tx, r, p.Role, reveal)
		return err
	})
	if err == nil && reveal {
		// A reveal changes nothing but is recorded: the values go out only once it is.
		err = s.db.recordOnly(ctx, junction.AuditEntry{Action: "secret.reveal", Project: c.Project, Component: c.Component,
			Target: connectionTarget(c)})
	}
	if err != nil {
		return nil, err // never a revealed connection without its audit record
	}
	return c, nil
}

// UpdateConnection implements junction.ConnectionService.
func (s *ConnectionService) UpdateConnection(ctx context.Context, id string, upd junction.ConnectionUpdate) (c *junction.Connection, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		r, p, err := s.findConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change connections.")
		}
		previousName := r.c.Name
		before := connectionDetails(&r.c)
		if upd.Name != nil {
			r.c.Name = *upd.Name
		}
		if upd.Description != nil {
			r.c.Description = *upd.Description
		}
		if err := r.c.ValidateUpdate(previousName); err != nil {
			return err
		}
		if upd.Credentials != nil {
			if err := chooseNewCredentials(ctx, tx, r, upd.Credentials); err != nil {
				return err
			}
		}
		credentials, err := marshalChoices(r.c.Credentials)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE connections SET name = ?, description = ?, credentials = ?, updated_at = ? WHERE id = ?`,
			r.c.Name, r.c.Description, credentials, formatTime(tx.now), id)
		if isConflict(err) {
			return errConnectionNameTaken(&r.c)
		} else if err != nil {
			return err
		}
		r.c.UpdatedAt = tx.now
		if c, err = s.build(ctx, tx, r, p.Role, false); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "connection.update", Project: p.Handle, ProjectID: p.ID, Component: c.Component,
			Target: connectionTarget(c), Details: diff(before, connectionDetails(&r.c))})
	})
	return c, err
}

// chooseNewCredentials changes the database credentials of r for the environments in
// chosen; the environments the database serves keep their credential otherwise.
func chooseNewCredentials(ctx context.Context, tx *Tx, r *connectionRow, chosen map[string]string) error {
	svc, err := scanService(tx.QueryRowContext(ctx, serviceSelect+` WHERE s.id = ?`, r.c.Service.ID))
	if err != nil {
		return notFound(err, "Service not found.")
	}
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	merged := map[string]string{}
	maps.Copy(merged, junction.EffectiveCredentials(svc, envs, r.c.Credentials))
	for env, name := range chosen {
		merged[env] = name
	}
	r.c.Credentials, err = junction.ChooseCredentials(svc, envs, merged)
	return err
}

// DeleteConnection implements junction.ConnectionService. The OAuth application goes with
// its last connection.
func (s *ConnectionService) DeleteConnection(ctx context.Context, id string, force bool) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		r, p, err := s.findConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot delete connections.")
		}
		if err := lockProject(ctx, tx, p.ID); err != nil {
			return err
		}
		mappedBy, err := mappedBy(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(mappedBy) > 0 && !force {
			return junction.Errorf(junction.ECONFLICT, "Components still map connection %s: %s. Delete with force to remove their mappings too.",
				id, strings.Join(mappedBy, ", "))
		}
		var components []int64
		if err := queryEach(ctx, tx, `SELECT DISTINCT component_id FROM mappings WHERE connection_id = ?`, []any{id}, func(rows *sql.Rows) error {
			var k int64
			components = append(components, k)
			return rows.Scan(&components[len(components)-1])
		}); err != nil {
			return err
		}
		sort.Slice(components, func(i, j int) bool { return components[i] < components[j] })
		for _, k := range components {
			if err := lockComponent(ctx, tx, k); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?`, id); err != nil {
			return err
		}
		for _, k := range components {
			// Their mappings of it went with it: each such component gets a new version.
			list, err := mappingsOf(ctx, tx, k)
			if err != nil {
				return err
			}
			if _, err := saveMappingVersion(ctx, tx, k, "connection.delete", list); err != nil {
				return err
			}
		}
		if r.appID.Valid {
			if _, err = tx.ExecContext(ctx, `DELETE FROM oauth_apps WHERE id = ? AND NOT EXISTS (SELECT 1 FROM connections WHERE oauth_app_id = ?)`,
				r.appID.Int64, r.appID.Int64); err != nil {
				return err
			}
		}
		details := map[string]any{"before": connectionDetails(&r.c)}
		if len(mappedBy) > 0 {
			details["unmapped_from"] = mappedBy
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "connection.delete", Project: p.Handle, ProjectID: p.ID, Component: r.c.Component,
			Target: connectionTarget(&r.c), Details: details})
	})
}

// MappedBy implements junction.ConnectionService.
func (s *ConnectionService) MappedBy(ctx context.Context, id string) (list []string, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		if _, _, err := s.findConnection(ctx, tx, id); err != nil {
			return err
		}
		list, err = mappedBy(ctx, tx, id)
		return err
	})
	return list, err
}

func mappedBy(ctx context.Context, tx *Tx, id string) ([]string, error) {
	return queryStrings(ctx, tx, `SELECT DISTINCT p.handle || '/' || k.handle FROM mappings m
		JOIN components k ON k.id = m.component_id JOIN projects p ON p.id = k.project_id
		WHERE m.connection_id = ? ORDER BY 1`, id)
}

// SharedWith implements junction.ConnectionService.
func (s *ConnectionService) SharedWith(ctx context.Context, id string) (list []*junction.Connection, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		list, err = s.sharedWith(ctx, tx, id)
		return err
	})
	return list, err
}

func (s *ConnectionService) sharedWith(ctx context.Context, tx *Tx, id string) ([]*junction.Connection, error) {
	r, p, err := s.findConnection(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	var hasKeys bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE connection_id = ?)`, id).Scan(&hasKeys); err != nil {
		return nil, err
	}
	switch {
	case r.appID.Valid:
		rows, err := tx.QueryContext(ctx, connectionSelect+` WHERE c.oauth_app_id = ? ORDER BY c.name COLLATE NOCASE`, r.appID.Int64)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var list []*junction.Connection
		for rows.Next() {
			other, err := scanConnection(rows)
			if err != nil {
				return nil, err
			}
			c := other.c
			c.Role = p.Role
			list = append(list, &c)
		}
		return list, rows.Err()
	case hasKeys:
		c := r.c
		c.Role = p.Role
		return []*junction.Connection{&c}, nil
	}
	return nil, junction.Errorf(junction.EINVALID, "Connection %s has no generated secret to rotate.", id)
}

// Rotate implements junction.ConnectionService: a rotation without grace.
func (s *ConnectionService) Rotate(ctx context.Context, id, env string) ([]*junction.Connection, error) {
	rot, err := s.RotateWithGrace(ctx, id, env, 0)
	if err != nil {
		return nil, err
	}
	return rot.Shared, nil
}

// RotateWithGrace implements junction.ConnectionService. The previous secret is kept,
// sealed, with its hash and the end of the grace; without grace it is gone at once.
func (s *ConnectionService) RotateWithGrace(ctx context.Context, id, env string, grace time.Duration) (rot *junction.Rotation, err error) {
	if err := junction.ValidateGrace(grace); err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		r, p, err := s.findConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot rotate secrets.")
		}
		shared, err := s.sharedWith(ctx, tx, id)
		if err != nil {
			return err
		}
		rot = &junction.Rotation{Shared: shared, Environment: env}
		var until sql.NullString
		if grace > 0 {
			t := tx.now.Add(grace)
			rot.PreviousValidUntil = &t
			until = sql.NullString{String: formatTime(t), Valid: true}
		}
		kind := "api_key"
		if r.appID.Valid {
			kind = "oauth_secret"
			var clientID, hash string
			var sealed []byte
			err := tx.QueryRowContext(ctx, `SELECT client_id, secret_hash, secret_sealed FROM oauth_credentials WHERE app_id = ? AND environment = ?`,
				r.appID.Int64, env).Scan(&clientID, &hash, &sealed)
			if errors.Is(err, sql.ErrNoRows) {
				return errNoSecretIn(env)
			} else if err != nil {
				return err
			}
			prevHash, prevSealed := sql.NullString{}, []byte(nil)
			if grace > 0 {
				prevHash = sql.NullString{String: hash, Valid: true}
				// Resealed under its own label: a previous secret never opens as a current one.
				plain, err := s.db.sealer.Open(sealed, "oauth_credentials:"+clientID)
				if err != nil {
					return err
				}
				prevSealed = s.db.sealer.Seal(plain, "oauth_credentials.previous:"+clientID)
			}
			secret := "jcs_" + randomString(30)
			_, err = tx.ExecContext(ctx, `UPDATE oauth_credentials SET secret_hash = ?, secret_sealed = ?, rotated_at = ?,
				previous_secret_hash = ?, previous_secret_sealed = ?, previous_valid_until = ? WHERE client_id = ?`,
				hashSecret(secret), s.db.sealer.Seal([]byte(secret), "oauth_credentials:"+clientID), formatTime(tx.now),
				prevHash, prevSealed, until, clientID)
			if err != nil {
				return err
			}
		} else {
			var hash string
			var sealed []byte
			err := tx.QueryRowContext(ctx, `SELECT key_hash, key_sealed FROM api_keys WHERE connection_id = ? AND environment = ?`, id, env).Scan(&hash, &sealed)
			if errors.Is(err, sql.ErrNoRows) {
				return errNoSecretIn(env)
			} else if err != nil {
				return err
			}
			if err := setAPIKey(ctx, tx, id, env); err != nil {
				return err
			}
			prevHash, prevSealed := sql.NullString{}, []byte(nil)
			if grace > 0 {
				plain, err := s.db.sealer.Open(sealed, "api_keys:"+id+":"+env)
				if err != nil {
					return err
				}
				prevHash = sql.NullString{String: hash, Valid: true}
				prevSealed = s.db.sealer.Seal(plain, "api_keys.previous:"+id+":"+env)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET previous_key_hash = ?, previous_key_sealed = ?, previous_valid_until = ?
				WHERE connection_id = ? AND environment = ?`, prevHash, prevSealed, until, id, env); err != nil {
				return err
			}
		}
		details := map[string]any{"environment": env, "secret": "changed", "kind": kind, "grace": grace.String(), "shared_with": connectionIDs(shared)}
		if rot.PreviousValidUntil != nil {
			details["previous_valid_until"] = formatTime(*rot.PreviousValidUntil)
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "connection.rotate", Project: p.Handle, ProjectID: p.ID, Component: r.c.Component,
			Target: connectionTarget(&r.c), Details: details})
	})
	if err != nil {
		return nil, err
	}
	return rot, nil
}

func connectionIDs(list []*junction.Connection) []string {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// FinishRotation implements junction.ConnectionService.
func (s *ConnectionService) FinishRotation(ctx context.Context, id, env string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv() // the previous secret is in no variable: the runtime caches and long polls stay
		r, p, err := s.findConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanWrite() {
			return junction.Errorf(junction.EFORBIDDEN, "Viewers cannot rotate secrets.")
		}
		var res sql.Result
		if r.appID.Valid {
			res, err = tx.ExecContext(ctx, `UPDATE oauth_credentials SET previous_secret_hash = NULL, previous_secret_sealed = NULL,
				previous_valid_until = NULL WHERE app_id = ? AND environment = ? AND previous_secret_hash IS NOT NULL`, r.appID.Int64, env)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE api_keys SET previous_key_hash = NULL, previous_key_sealed = NULL,
				previous_valid_until = NULL WHERE connection_id = ? AND environment = ? AND previous_key_hash IS NOT NULL`, id, env)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			msg := fmt.Sprintf("No rotation of this connection is in its grace period in environment %q.", env)
			return &junction.Error{Code: junction.ECONFLICT, Message: msg, Fields: map[string]string{"environment": msg}}
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "connection.rotate_finish", Project: p.Handle, ProjectID: p.ID, Component: r.c.Component,
			Target: connectionTarget(&r.c), Details: map[string]any{"environment": env, "previous_secret": "erased"}})
	})
}

// EndGraces erases the previous secrets whose grace has ended, each with its entry
// (rotation.grace_end, by the system), and returns how many it erased. Checks of a previous
// secret compare its end with the clock, so an ended grace never lets one through meanwhile.
func (s *ConnectionService) EndGraces(ctx context.Context) (n int, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv() // variables hold the current secrets only: the runtime caches and long polls stay
		now := formatTime(tx.now)
		type ended struct{ kind, key, env, connection, name, project, component string }
		var list []ended
		err := queryEach(ctx, tx, `SELECT 'oauth_secret', o.client_id, o.environment, MIN(c.id), MIN(c.name), MIN(p.handle), COALESCE(MIN(k.handle), '')
			FROM oauth_credentials o JOIN connections c ON c.oauth_app_id = o.app_id JOIN projects p ON p.id = c.project_id
			LEFT JOIN components k ON k.id = c.component_id
			WHERE o.previous_valid_until IS NOT NULL AND o.previous_valid_until <= ? GROUP BY o.client_id, o.environment
			UNION ALL SELECT 'api_key', a.connection_id, a.environment, c.id, c.name, p.handle, COALESCE(k.handle, '')
			FROM api_keys a JOIN connections c ON c.id = a.connection_id JOIN projects p ON p.id = c.project_id
			LEFT JOIN components k ON k.id = c.component_id
			WHERE a.previous_valid_until IS NOT NULL AND a.previous_valid_until <= ?`, []any{now, now}, func(rows *sql.Rows) error {
			var e ended
			if err := rows.Scan(&e.kind, &e.key, &e.env, &e.connection, &e.name, &e.project, &e.component); err != nil {
				return err
			}
			list = append(list, e)
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range list {
			// Another replica's job may have erased it meanwhile: only the one that did records it.
			var res sql.Result
			if e.kind == "oauth_secret" {
				res, err = tx.ExecContext(ctx, `UPDATE oauth_credentials SET previous_secret_hash = NULL, previous_secret_sealed = NULL,
					previous_valid_until = NULL WHERE client_id = ? AND previous_valid_until IS NOT NULL AND previous_valid_until <= ?`, e.key, now)
			} else {
				res, err = tx.ExecContext(ctx, `UPDATE api_keys SET previous_key_hash = NULL, previous_key_sealed = NULL,
					previous_valid_until = NULL WHERE connection_id = ? AND environment = ? AND previous_valid_until IS NOT NULL
					AND previous_valid_until <= ?`, e.key, e.env, now)
			}
			if err != nil {
				return err
			}
			if affected, _ := res.RowsAffected(); affected == 0 {
				continue
			}
			n++
			if err := tx.audit(ctx, junction.AuditEntry{Actor: SystemActor, Action: "rotation.grace_end", Project: e.project, Component: e.component,
				Target:  junction.AuditTarget{Type: "connection", ID: e.connection, Name: e.name},
				Details: map[string]any{"environment": e.env, "kind": e.kind, "previous_secret": "erased"}}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

func errNoSecretIn(env string) error {
	msg := fmt.Sprintf("The connection has no secret in environment %q.", env)
	return &junction.Error{Code: junction.EINVALID, Message: msg, Fields: map[string]string{"environment": msg}}
}

// FindConsumers implements junction.ConnectionService. Only consumers in projects the caller
// may see are listed.
func (s *ConnectionService) FindConsumers(ctx context.Context, serviceID string) (list []*junction.Consumer, err error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		svc, err := findService(ctx, tx, serviceID)
		if err != nil {
			return err
		}
		envs, err := tx.environmentNames(ctx)
		if err != nil {
			return err
		}
		mapped := map[string][]string{}
		err = queryEach(ctx, tx, `SELECT DISTINCT m.connection_id, p.handle || '/' || k.handle FROM mappings m
			JOIN connections c ON c.id = m.connection_id JOIN components k ON k.id = m.component_id JOIN projects p ON p.id = k.project_id
			WHERE c.service_id = ? ORDER BY 2`, []any{serviceID}, func(rows *sql.Rows) error {
			var id, component string
			if err := rows.Scan(&id, &component); err != nil {
				return err
			}
			mapped[id] = append(mapped[id], component)
			return nil
		})
		if err != nil {
			return err
		}
		return queryEach(ctx, tx, `SELECT c.id, c.name, c.scope, p.handle, COALESCE(k.handle, ''), c.credentials
			FROM connections c JOIN projects p ON p.id = c.project_id LEFT JOIN components k ON k.id = c.component_id
			WHERE c.service_id = ? AND (? OR c.project_id IN (SELECT project_id FROM project_members WHERE user_id = ?))
			ORDER BY p.handle, k.handle, c.name`, []any{serviceID, user.IsAdmin, user.ID}, func(rows *sql.Rows) error {
			var c junction.Consumer
			var credentials string
			if err := rows.Scan(&c.ConnectionID, &c.Connection, &c.Scope, &c.Project, &c.Component, &credentials); err != nil {
				return err
			}
			var stored map[string]string
			if err := json.Unmarshal([]byte(credentials), &stored); err != nil {
				return fmt.Errorf("decode credentials of %s: %w", c.ConnectionID, err)
			}
			c.Credentials = junction.EffectiveCredentials(svc, envs, stored)
			c.MappedBy = mapped[c.ConnectionID]
			list = append(list, &c)
			return nil
		})
	})
	return list, err
}

// constantTimeEqual compares two secret hashes without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// syncServiceCredentials gives the connections to a service the generated secrets its
// current security scheme and environments call for, after the service changed: OAuth
// clients or API keys for environments it now serves, none for a scheme it no longer uses.
func syncServiceCredentials(ctx context.Context, tx *Tx, svc *junction.Service) error {
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	served := junction.ServedEnvironments(svc, envs)
	rows, err := tx.QueryContext(ctx, `SELECT id, project_id, component_id, oauth_app_id FROM connections WHERE service_id = ?`, svc.ID)
	if err != nil {
		return err
	}
	type conn struct {
		id          string
		projectID   int64
		componentID sql.NullInt64
		appID       sql.NullInt64
	}
	var conns []conn
	for rows.Next() {
		var c conn
		if err := rows.Scan(&c.id, &c.projectID, &c.componentID, &c.appID); err != nil {
			rows.Close()
			return err
		}
		conns = append(conns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Lock the projects in one order, so that two services' updates cannot wait for each other.
	sort.Slice(conns, func(i, j int) bool { return conns[i].projectID < conns[j].projectID })
	for i, c := range conns {
		if i == 0 || conns[i-1].projectID != c.projectID {
			if err := lockProject(ctx, tx, c.projectID); err != nil {
				return err
			}
		}
		appID := sql.NullInt64{}
		if junction.NeedsOAuthApp(svc) {
			id, err := ensureOAuthApp(ctx, tx, c.projectID, c.componentID, served)
			if err != nil {
				return err
			}
			appID = sql.NullInt64{Int64: id, Valid: true}
		}
		if appID != c.appID {
			if _, err := tx.ExecContext(ctx, `UPDATE connections SET oauth_app_id = ? WHERE id = ?`, appID, c.id); err != nil {
				return err
			}
			if c.appID.Valid {
				if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_apps WHERE id = ? AND NOT EXISTS (SELECT 1 FROM connections WHERE oauth_app_id = ?)`,
					c.appID.Int64, c.appID.Int64); err != nil {
					return err
				}
			}
		}
		if !junction.NeedsAPIKey(svc) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE connection_id = ?`, c.id); err != nil {
				return err
			}
			continue
		}
		for _, env := range served {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE connection_id = ? AND environment = ?)`, c.id, env).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				if err := setAPIKey(ctx, tx, c.id, env); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
