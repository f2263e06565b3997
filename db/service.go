package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/junction-dev/junction"
)

// ServiceService implements junction.ServiceService.
type ServiceService struct{ db *DB }

var _ junction.ServiceService = (*ServiceService)(nil)

// NewServiceService returns a ServiceService over db.
func NewServiceService(db *DB) *ServiceService { return &ServiceService{db: db} }

// serviceSpec is the JSON stored in services.spec: the kind-specific details without
// secret values.
type serviceSpec struct {
	URLs       map[string]string            `json:"urls,omitempty"`
	Parameters []junction.ServiceParameter  `json:"parameters,omitempty"`
	Endpoints  []junction.Endpoint          `json:"endpoints,omitempty"`
	Values     map[string]map[string]string `json:"values,omitempty"`
	// Credentials are a database's credentials besides the default one, per environment.
	Credentials map[string][]specCredential `json:"credentials,omitempty"`
}

// specCredential is a database credential as stored in the spec. A nil Password is sealed
// with the other secrets; an empty one stays here, so it reads back as empty.
type specCredential struct {
	Name     string  `json:"name"`
	Username string  `json:"username"`
	Password *string `json:"password,omitempty"`
}

// splitSecrets separates a service's details into the stored spec and the secret values,
// keyed "endpoint/<name>/<parameter>", "env/<environment>/<parameter>" or, for a database
// credential's password, "credential/<environment>/<name>". An empty secret (a database
// without a password) stays in the spec, so it reads back as empty, not masked.
func splitSecrets(s *junction.Service) (serviceSpec, map[string]string) {
	spec := serviceSpec{URLs: s.URLs, Parameters: s.Parameters}
	secrets := map[string]string{}
	for _, e := range s.Endpoints {
		values := map[string]string{}
		for name, v := range e.Values {
			if s.IsSecret(name) && v != "" {
				secrets["endpoint/"+e.Name+"/"+name] = v
			} else {
				values[name] = v
			}
		}
		e.Values = values
		spec.Endpoints = append(spec.Endpoints, e)
	}
	if len(s.Values) > 0 {
		spec.Values = map[string]map[string]string{}
		for env, vals := range s.Values {
			plain := map[string]string{}
			for name, v := range vals {
				if s.IsSecret(name) && v != "" {
					secrets["env/"+env+"/"+name] = v
				} else {
					plain[name] = v
				}
			}
			spec.Values[env] = plain
		}
	}
	for env, creds := range s.Credentials {
		for _, c := range creds {
			stored := specCredential{Name: c.Name, Username: c.Username}
			if c.Password != "" {
				secrets["credential/"+env+"/"+c.Name] = c.Password
			} else {
				stored.Password = new(string)
			}
			if spec.Credentials == nil {
				spec.Credentials = map[string][]specCredential{}
			}
			spec.Credentials[env] = append(spec.Credentials[env], stored)
		}
	}
	return spec, secrets
}

// applySpec fills a service's details from the stored spec, with secret values masked.
func applySpec(s *junction.Service, raw string) error {
	var spec serviceSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fmt.Errorf("decode service %s: %w", s.ID, err)
	}
	s.URLs, s.Parameters, s.Endpoints, s.Values = spec.URLs, spec.Parameters, spec.Endpoints, spec.Values
	// A secret missing from the spec is stored sealed: show that it is set, not its value.
	for i := range s.Endpoints {
		for _, p := range s.Parameters {
			if _, ok := s.Endpoints[i].Values[p.Name]; p.Secret && !ok {
				s.Endpoints[i].Values[p.Name] = junction.Masked
			}
		}
	}
	for _, vals := range s.Values {
		if _, ok := vals[junction.ParamPassword]; !ok {
			vals[junction.ParamPassword] = junction.Masked
		}
	}
	s.Credentials = nil
	for env, creds := range spec.Credentials {
		if s.Credentials == nil {
			s.Credentials = map[string][]junction.DatabaseCredential{}
		}
		for _, c := range creds {
			cred := junction.DatabaseCredential{Name: c.Name, Username: c.Username, Password: junction.Masked}
			if c.Password != nil {
				cred.Password = *c.Password
			}
			s.Credentials[env] = append(s.Credentials[env], cred)
		}
	}
	return nil
}

func (db *DB) sealSecrets(id string, secrets map[string]string) ([]byte, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	return db.sealer.Seal(plain, "services.secrets:"+id), nil
}

// serviceSelect reads services with their publishing component and project.
const serviceSelect = `SELECT ` + serviceColumns + serviceFrom

const serviceColumns = `s.id, s.kind, s.name, s.version, s.description, s.tags, s.unlisted,
	s.created_at, s.updated_at, COALESCE(p.handle, ''), COALESCE(c.handle, ''), COALESCE(c.name, ''),
	COALESCE(s.visibility, ''), COALESCE(s.security, ''), COALESCE(s.engine, ''), s.spec`

const serviceFrom = ` FROM services s LEFT JOIN components c ON c.id = s.component_id LEFT JOIN projects p ON p.id = s.project_id`

func scanService(row interface{ Scan(...any) error }, extra ...any) (*junction.Service, error) {
	var s junction.Service
	var tags, created, updated, spec string
	err := row.Scan(append([]any{&s.ID, &s.Kind, &s.Name, &s.Version, &s.Description, &tags, &s.Unlisted,
		&created, &updated, &s.Project, &s.Component, &s.ComponentName,
		&s.Visibility, &s.Security, &s.Engine, &spec}, extra...)...)
	if err != nil {
		return nil, err
	}
	s.Tags = strings.Fields(tags)
	if s.Tags == nil {
		s.Tags = []string{}
	}
	s.CreatedAt, s.UpdatedAt = parseTime(created), parseTime(updated)
	return &s, applySpec(&s, spec)
}

// visibleTo limits rows of alias (services or service_counts) to those the caller may see:
// all third-party and database services, organization and public internal services, and
// project services of the caller's projects. Its parameters are (isAdmin, userID).
func visibleTo(alias string) string {
	return `(? OR ` + alias + `.kind != 'internal' OR ` + alias + `.visibility != 'project'
	OR ` + alias + `.project_id IN (SELECT project_id FROM project_members WHERE user_id = ?))`
}

// searchWords splits what a person typed into the words a search looks for: runs of letters
// and digits, so quotes, stars, colons and operators of either engine's query language are
// just separators. It keeps at most 8 words of at most 48 characters; none means browsing.
func searchWords(q string) []string {
	words := splitWords(q)
	if len(words) > 8 {
		words = words[:8]
	}
	for i, w := range words {
		if r := []rune(w); len(r) > 48 {
			words[i] = string(r[:48])
		}
	}
	return words
}

// splitWords splits text into words as SQLite's unicode61 tokenizer does. Combining marks
// belong to their word, so an accent typed as a separate code point ("e" + U+0301) does not
// split it.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.M, r)
	})
}

// facetCounter adds up grouped counts into the total and the facets: each facet applies
// the other facet's filter but not its own.
type facetCounter struct {
	filter junction.ServiceFilter
	total  int
	facets *junction.ServiceFacets
}

func newFacetCounter(f junction.ServiceFilter) *facetCounter {
	return &facetCounter{filter: f, facets: &junction.ServiceFacets{
		Kinds: map[junction.ServiceKind]int{}, Visibilities: map[junction.Visibility]int{}}}
}

func (fc *facetCounter) add(kind junction.ServiceKind, vis junction.Visibility, n int) {
	kindOK := fc.filter.Kind == "" || fc.filter.Kind == kind
	visOK := fc.filter.Visibility == "" || fc.filter.Visibility == vis
	if visOK {
		fc.facets.Kinds[kind] += n
	}
	if kindOK && vis != "" {
		fc.facets.Visibilities[vis] += n
	}
	if kindOK && visOK {
		fc.total += n
	}
}

// FindServices implements junction.ServiceService. Browsing (no query) counts from the
// trigger-kept service_counts and pages through the name index; a search reads its matches
// once from the full-text index joined to a covering index, counts and orders them, and then
// loads only the rows of the page.
func (s *ServiceService) FindServices(ctx context.Context, f junction.ServiceFilter) ([]*junction.Service, int, *junction.ServiceFacets, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	fc := newFacetCounter(f)
	var services []*junction.Service
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		if words := searchWords(f.Query); len(words) > 0 {
			services, err = tx.db.dialect.searchServices(ctx, tx, user, words, fc)
		} else {
			services, err = browseServices(ctx, tx, user, fc)
		}
		return err
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("find services: %w", err)
	}
	return services, fc.total, fc.facets, nil
}

func browseServices(ctx context.Context, tx *Tx, user *junction.User, fc *facetCounter) ([]*junction.Service, error) {
	f := fc.filter
	countWhere := ` WHERE c.unlisted = ? AND c.n > 0 AND ` + visibleTo("c")
	where := ` WHERE s.unlisted = ? AND ` + visibleTo("s")
	args := []any{f.Unlisted, user.IsAdmin, user.ID}
	if f.Project != "" {
		countWhere += ` AND c.project_id = (SELECT id FROM projects WHERE handle = ?)`
		where += ` AND s.project_id = (SELECT id FROM projects WHERE handle = ?)`
		args = append(args, f.Project)
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.kind, c.visibility, SUM(c.n) FROM service_counts c`+countWhere+` GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind junction.ServiceKind
		var vis junction.Visibility
		var n int
		if err := rows.Scan(&kind, &vis, &n); err != nil {
			return nil, err
		}
		fc.add(kind, vis, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if f.Kind != "" {
		where += ` AND s.kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.Visibility != "" {
		where += ` AND s.visibility = ?`
		args = append(args, string(f.Visibility))
	}
	order := ` ORDER BY s.display_name COLLATE NOCASE, s.seq`
	if f.EffectiveSort() == junction.SortNewest {
		order = ` ORDER BY s.seq DESC`
	}
	return queryServices(ctx, tx, serviceSelect+where+order+` LIMIT ? OFFSET ?`, append(args, f.Page.Limit(), f.Page.Offset())...)
}

// searchPage counts the matches of a search (the query matches, whose columns are seq, kind,
// vis, name and score: 0 for a match in the name, 1 in the tags, 2 in the description only)
// for the facets, orders them, and loads the services of the page. The matches are read once
// into a materialized CTE; the database then groups them for the facets and sorts them for
// the page, so only a handful of rows cross into Go.
func searchPage(ctx context.Context, tx *Tx, matches string, args []any, fc *facetCounter) ([]*junction.Service, error) {
	f := fc.filter
	pageWhere := ` WHERE TRUE`
	if f.Kind != "" {
		pageWhere += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.Visibility != "" {
		pageWhere += ` AND vis = ?`
		args = append(args, string(f.Visibility))
	}
	byName := tx.db.dialect.searchNameOrder
	order := ` ORDER BY score, ` + byName + `, seq`
	switch f.EffectiveSort() {
	case junction.SortName:
		order = ` ORDER BY ` + byName + `, seq`
	case junction.SortNewest:
		order = ` ORDER BY seq DESC`
	}
	args = append(args, f.Page.Limit(), f.Page.Offset())
	rows, err := tx.QueryContext(ctx, `WITH m AS MATERIALIZED (`+matches+`)
		SELECT 0, kind, vis, COUNT(*) FROM m GROUP BY kind, vis
		UNION ALL
		SELECT * FROM (SELECT 1, '', '', seq FROM m`+pageWhere+order+` LIMIT ? OFFSET ?) page`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []any
	position := map[int64]int{}
	for rows.Next() {
		var isPage, n int64
		var kind junction.ServiceKind
		var vis junction.Visibility
		if err := rows.Scan(&isPage, &kind, &vis, &n); err != nil {
			return nil, err
		}
		if isPage == 0 {
			fc.add(kind, vis, int(n))
		} else {
			position[n] = len(seqs)
			seqs = append(seqs, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	services := make([]*junction.Service, len(seqs))
	placeholders := strings.Repeat("?, ", len(seqs)-1) + "?"
	err = queryEach(ctx, tx, `SELECT `+serviceColumns+`, s.seq`+serviceFrom+` WHERE s.seq IN (`+placeholders+`)`, seqs, func(row *sql.Rows) error {
		var seq int64
		svc, err := scanService(row, &seq)
		if err != nil {
			return err
		}
		services[position[seq]] = svc
		return nil
	})
	return services, err
}

// queryServices runs a query of serviceSelect rows.
func queryServices(ctx context.Context, tx *Tx, query string, args ...any) ([]*junction.Service, error) {
	var services []*junction.Service
	err := queryEach(ctx, tx, query, args, func(row *sql.Rows) error {
		svc, err := scanService(row)
		if err != nil {
			return err
		}
		services = append(services, svc)
		return nil
	})
	return services, err
}

// queryEach calls fn for every row of the query.
func queryEach(ctx context.Context, tx *Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// findService loads one service the caller may see, with CanEdit set.
func findService(ctx context.Context, tx *Tx, id string) (*junction.Service, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var role string
	var createdBy sql.NullInt64
	row := tx.QueryRowContext(ctx, `SELECT `+serviceColumns+`, COALESCE(m.role, ''), s.created_by`+serviceFrom+`
		LEFT JOIN project_members m ON m.project_id = s.project_id AND m.user_id = ?
		WHERE s.id = ? AND `+visibleTo("s"), append([]any{user.ID, id}, user.IsAdmin, user.ID)...)
	svc, err := scanService(row, &role, &createdBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, junction.Errorf(junction.ENOTFOUND, "Service not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find service %s: %w", id, err)
	}
	svc.CanEdit = svc.EditableBy(user, junction.Role(role), createdBy.Int64)
	return svc, nil
}

// FindService implements junction.ServiceService.
func (s *ServiceService) FindService(ctx context.Context, id string) (svc *junction.Service, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		svc, err = findService(ctx, tx, id)
		return err
	})
	return svc, err
}

// environmentNames lists the environments in the order they were added.
func (tx *Tx) environmentNames(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, tx, `SELECT name FROM environments ORDER BY id`)
}

// canRegister applies junction.CanRegisterServices to the caller.
func canRegister(ctx context.Context, tx *Tx, user *junction.User) (bool, error) {
	var developer bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM project_members WHERE user_id = ? AND role = 'developer')`, user.ID).Scan(&developer)
	return junction.CanRegisterServices(user, developer), err
}

func errServiceTaken(s *junction.Service) error {
	msg := fmt.Sprintf("A %s service named %q with version %q already exists.", s.Kind, s.Name, s.Version)
	if s.Kind == junction.KindInternal {
		msg = fmt.Sprintf("Component %q already publishes %q version %q.", s.Component, s.Name, s.Version)
	}
	return &junction.Error{Code: junction.ECONFLICT, Message: msg, Fields: map[string]string{"name": msg}}
}

// CreateService implements junction.ServiceService.
func (s *ServiceService) CreateService(ctx context.Context, svc *junction.Service) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		return s.createService(ctx, tx, user, svc)
	})
}

// CreateServices registers many services in one transaction, each under the same rules as
// CreateService: for bulk imports and for seeding large catalogs.
func (s *ServiceService) CreateServices(ctx context.Context, services []*junction.Service) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		for _, svc := range services {
			if err := s.createService(ctx, tx, user, svc); err != nil {
				return fmt.Errorf("service %q: %w", svc.Name, err)
			}
		}
		return nil
	})
}

// createService registers one service inside tx.
func (s *ServiceService) createService(ctx context.Context, tx *Tx, user *junction.User, svc *junction.Service) error {
	var projectID, componentID sql.NullInt64
	scope := string(svc.Kind)
	svc.ComponentName = ""
	if svc.Kind == junction.KindInternal {
		fields := junction.FieldErrors{}
		if svc.Project == "" {
			fields.Add("project", "Name the project of the publishing component.")
		}
		if svc.Component == "" {
			fields.Add("component", "Name the publishing component.")
		}
		if err := fields.Err(); err != nil {
			return err
		}
		p, err := findWritableProject(ctx, tx, svc.Project)
		if err != nil {
			return err
		}
		c, err := findComponent(ctx, tx, p, svc.Component)
		if err != nil {
			return err
		}
		projectID = sql.NullInt64{Int64: p.ID, Valid: true}
		componentID = sql.NullInt64{Int64: c.ID, Valid: true}
		scope = "component:" + strconv.FormatInt(c.ID, 10)
		svc.ComponentName = c.Name
	} else if svc.Kind.Valid() {
		ok, err := canRegister(ctx, tx, user)
		if err != nil {
			return err
		} else if !ok {
			return junction.Errorf(junction.EFORBIDDEN, "Only admins and project developers can register services.")
		}
		svc.Project, svc.Component = "", ""
	}
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	if err := svc.Validate(envs); err != nil {
		return err
	}
	svc.ID = "svc_" + randomString(10)
	spec, secrets := splitSecrets(svc)
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	sealed, err := s.db.sealSecrets(svc.ID, secrets)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO services (id, kind, name, version, display_name, description, tags,
		scope, project_id, component_id, visibility, security, engine, spec, secrets, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, ?, ?)`,
		svc.ID, string(svc.Kind), svc.Name, svc.Version, svc.DisplayName(), svc.Description, strings.Join(svc.Tags, " "),
		scope, projectID, componentID, string(svc.Visibility), string(svc.Security), svc.Engine, string(specJSON), sealed,
		user.ID, formatTime(tx.now), formatTime(tx.now))
	if isConflict(err) {
		return errServiceTaken(svc)
	} else if err != nil {
		return fmt.Errorf("create service %q: %w", svc.Name, err)
	}
	if err := tx.db.dialect.indexService(ctx, tx, svc.ID); err != nil {
		return err
	}
	svc.CreatedAt, svc.UpdatedAt, svc.CanEdit, svc.Unlisted = tx.now, tx.now, true, false
	after := serviceDetails(svc, spec)
	for key := range secrets {
		after["secret "+key] = "changed"
	}
	svc.Mask()
	return tx.audit(ctx, junction.AuditEntry{Action: "service.register", Project: svc.Project, Component: svc.Component,
		Target: serviceTarget(svc), Details: map[string]any{"after": after}})
}

// serviceTarget names a service in the audit log.
func serviceTarget(svc *junction.Service) junction.AuditTarget {
	return junction.AuditTarget{Type: "service", ID: svc.ID, Name: svc.DisplayName()}
}

// serviceDetails are the non-secret fields of a service that its history shows.
func serviceDetails(svc *junction.Service, spec serviceSpec) map[string]any {
	d := map[string]any{"kind": string(svc.Kind), "name": svc.Name, "version": svc.Version, "description": svc.Description,
		"tags": strings.Join(svc.Tags, " ")}
	if svc.Visibility != "" {
		d["visibility"] = string(svc.Visibility)
	}
	if svc.Security != "" {
		d["security"] = string(svc.Security)
	}
	if svc.Engine != "" {
		d["engine"] = svc.Engine
	}
	// The spec without its secrets, one field per entry, so that a history shows what moved.
	raw, _ := json.Marshal(spec)
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	for k, v := range fields {
		d[k] = v
	}
	return d
}

// serviceState is a stored service's details and its secrets (only to tell which changed).
func (db *DB) serviceState(ctx context.Context, tx *Tx, id string) (map[string]any, map[string]string, *junction.Service, error) {
	svc, err := db.serviceWithSecrets(ctx, tx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	spec, secrets := splitSecrets(svc)
	return serviceDetails(svc, spec), secrets, svc, nil
}

// findEditableService is findService for callers about to change the service.
func findEditableService(ctx context.Context, tx *Tx, id string) (*junction.Service, error) {
	// Two edits of one service (each adding a database credential, say) take turns, so
	// that neither overwrites the other with what it read before the other's commit.
	if err := lockService(ctx, tx, id, tx.db.dialect.forUpdate); err != nil {
		return nil, err
	}
	svc, err := findService(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !svc.CanEdit {
		return nil, junction.Errorf(junction.EFORBIDDEN, "You cannot change this service.")
	}
	return svc, nil
}

// lockService takes the row lock lock (dialect.forUpdate or forShare) of service id until the
// transaction ends. A service that does not exist is left to the caller's lookup to report.
func lockService(ctx context.Context, tx *Tx, id, lock string) error {
	if lock == "" {
		return nil
	}
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM services WHERE id = ?`+lock, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// UpdateService implements junction.ServiceService. Internal and database services change in
// place; a third-party API is versioned, so a change is a new registration. A database
// password left empty (or masked) keeps the stored one for that environment.
func (s *ServiceService) UpdateService(ctx context.Context, id string, upd *junction.Service) (svc *junction.Service, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		if svc, err = findEditableService(ctx, tx, id); err != nil {
			return err
		}
		before, beforeSecrets, _, err := s.db.serviceState(ctx, tx, id)
		if err != nil {
			return err
		}
		switch svc.Kind {
		case junction.KindInternal:
			err = s.updateInternal(ctx, tx, svc, upd)
		case junction.KindDatabase:
			err = s.updateDatabase(ctx, tx, svc, upd)
		default:
			return junction.Errorf(junction.EINVALID, "A third-party API cannot be edited; register a new version instead.")
		}
		if err != nil {
			return err
		}
		after, afterSecrets, stored, err := s.db.serviceState(ctx, tx, id)
		if err != nil {
			return err
		}
		details := diff(before, after)
		for key := range afterSecrets {
			if beforeSecrets[key] != afterSecrets[key] {
				details["before"].(map[string]any)["secret "+key] = ""
				details["after"].(map[string]any)["secret "+key] = "changed"
			}
		}
		for key := range beforeSecrets {
			if _, ok := afterSecrets[key]; !ok {
				details["before"].(map[string]any)["secret "+key] = "set"
				details["after"].(map[string]any)["secret "+key] = "removed"
			}
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "service.update", Project: stored.Project, Component: stored.Component,
			Target: serviceTarget(stored), Details: details})
	})
	if err != nil {
		return nil, err // svc may hold a database's passwords in clear
	}
	return svc, nil
}

func (s *ServiceService) updateInternal(ctx context.Context, tx *Tx, svc, upd *junction.Service) error {
	previousVersion := svc.Version
	svc.Name, svc.Version, svc.Description, svc.Tags = upd.Name, upd.Version, upd.Description, upd.Tags
	svc.Visibility, svc.Security, svc.URLs = upd.Visibility, upd.Security, upd.URLs
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	if err := svc.ValidateUpdate(envs, previousVersion); err != nil {
		return err
	}
	specJSON, err := json.Marshal(serviceSpec{URLs: svc.URLs})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE services SET name = ?, version = ?, display_name = ?, description = ?, tags = ?,
		visibility = ?, security = ?, spec = ?, updated_at = ? WHERE id = ?`,
		svc.Name, svc.Version, svc.DisplayName(), svc.Description, strings.Join(svc.Tags, " "),
		string(svc.Visibility), string(svc.Security), string(specJSON), formatTime(tx.now), svc.ID)
	if isConflict(err) {
		return errServiceTaken(svc)
	} else if err != nil {
		return err
	}
	if err := tx.db.dialect.indexService(ctx, tx, svc.ID); err != nil {
		return err
	}
	svc.UpdatedAt = tx.now
	// Connections follow the service: new environments or a new security scheme get
	// their generated secrets in the same transaction.
	return syncServiceCredentials(ctx, tx, svc)
}

// updateDatabase replaces a database's details and values. Its connections read the values
// from the service, so they follow at once.
func (s *ServiceService) updateDatabase(ctx context.Context, tx *Tx, svc, upd *junction.Service) error {
	current, err := s.db.serviceWithSecrets(ctx, tx, svc.ID)
	if err != nil {
		return err
	}
	values := map[string]map[string]string{}
	for env, vals := range upd.Values {
		vals = maps.Clone(vals)
		if pw := vals[junction.ParamPassword]; (pw == "" || pw == junction.Masked) && databaseServes(vals) {
			vals[junction.ParamPassword] = current.Values[env][junction.ParamPassword]
		}
		values[env] = vals
	}
	credentials := map[string][]junction.DatabaseCredential{}
	for env, creds := range upd.Credentials {
		for _, c := range creds {
			name := strings.TrimSpace(c.Name)
			if stored, ok := current.Credential(env, name); ok && name != junction.DefaultCredential && (c.Password == "" || c.Password == junction.Masked) {
				c.Password = stored.Password
			}
			credentials[env] = append(credentials[env], c)
		}
	}
	svc.Name, svc.Description, svc.Tags, svc.Engine = upd.Name, upd.Description, upd.Tags, upd.Engine
	svc.Values, svc.Credentials = values, credentials
	envs, err := tx.environmentNames(ctx)
	if err != nil {
		return err
	}
	if err := svc.Validate(envs); err != nil {
		return err
	}
	if err := credentialsKept(ctx, tx, svc); err != nil {
		return err
	}
	spec, secrets := splitSecrets(svc)
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	sealed, err := s.db.sealSecrets(svc.ID, secrets)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE services SET name = ?, display_name = ?, description = ?, tags = ?, engine = ?,
		spec = ?, secrets = ?, updated_at = ? WHERE id = ?`,
		svc.Name, svc.DisplayName(), svc.Description, strings.Join(svc.Tags, " "), svc.Engine,
		string(specJSON), sealed, formatTime(tx.now), svc.ID)
	if isConflict(err) {
		return errServiceTaken(svc)
	} else if err != nil {
		return err
	}
	if err := tx.db.dialect.indexService(ctx, tx, svc.ID); err != nil {
		return err
	}
	svc.UpdatedAt = tx.now
	svc.Mask()
	return nil
}

// credentialsKept checks that every credential a connection uses is still there after a
// change of the database svc: removing one (or its environment) would silently give those
// connections no user, so it is ECONFLICT naming them, to be moved to another credential
// first. Connections in projects the caller cannot see are counted, not named.
func credentialsKept(ctx context.Context, tx *Tx, svc *junction.Service) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	type use struct {
		named  []string
		hidden int
	}
	uses := map[string]*use{} // by "<environment>/<credential>"
	err = queryEach(ctx, tx, `SELECT c.id, c.name, c.credentials, p.handle, COALESCE(k.handle, ''),
		(? OR c.project_id IN (SELECT project_id FROM project_members WHERE user_id = ?))
		FROM connections c JOIN projects p ON p.id = c.project_id LEFT JOIN components k ON k.id = c.component_id
		WHERE c.service_id = ? ORDER BY p.handle, k.handle, c.name`, []any{user.IsAdmin, user.ID, svc.ID}, func(rows *sql.Rows) error {
		var id, name, raw, project, component string
		var visible bool
		if err := rows.Scan(&id, &name, &raw, &project, &component, &visible); err != nil {
			return err
		}
		var chosen map[string]string
		if err := json.Unmarshal([]byte(raw), &chosen); err != nil {
			return fmt.Errorf("decode credentials of %s: %w", id, err)
		}
		owner := project
		if component != "" {
			owner += "/" + component
		}
		for env, credential := range chosen {
			if credential == junction.DefaultCredential || slices.Contains(svc.CredentialNames(env), credential) {
				continue
			}
			key := env + "/" + credential
			if uses[key] == nil {
				uses[key] = &use{}
			}
			if visible {
				uses[key].named = append(uses[key].named, fmt.Sprintf("%s (%s, %s)", name, owner, id))
			} else {
				uses[key].hidden++
			}
		}
		return nil
	})
	if err != nil || len(uses) == 0 {
		return err
	}
	fields := map[string]string{}
	var messages []string
	for _, key := range slices.Sorted(maps.Keys(uses)) {
		env, credential, _ := strings.Cut(key, "/")
		u := uses[key]
		who := strings.Join(u.named, ", ")
		if u.hidden > 0 {
			if who != "" {
				who += " and "
			}
			who += fmt.Sprintf("%d connection(s) in projects you cannot see", u.hidden)
		}
		msg := fmt.Sprintf("Credential %q of %s is used by %s; move them to another credential first.", credential, env, who)
		fields["values."+env+".credentials."+credential] = msg
		messages = append(messages, msg)
	}
	return &junction.Error{Code: junction.ECONFLICT, Message: strings.Join(messages, " "), Fields: fields}
}

// databaseServes reports whether an environment's database values are filled in beyond the
// password, that is whether the database serves that environment.
func databaseServes(vals map[string]string) bool {
	for name, v := range vals {
		if name != junction.ParamPassword && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// SetServiceListed implements junction.ServiceService.
func (s *ServiceService) SetServiceListed(ctx context.Context, id string, listed bool) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		svc, err := findEditableService(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE services SET unlisted = ?, updated_at = ? WHERE id = ?`, !listed, formatTime(tx.now), id); err != nil {
			return err
		}
		action := "service.unlist"
		if listed {
			action = "service.list"
		}
		return tx.audit(ctx, junction.AuditEntry{Action: action, Project: svc.Project, Component: svc.Component, Target: serviceTarget(svc),
			Details: map[string]any{"before": map[string]any{"listed": !svc.Unlisted}, "after": map[string]any{"listed": listed}}})
	})
}

// DeleteService implements junction.ServiceService.
func (s *ServiceService) DeleteService(ctx context.Context, id string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		svc, err := findEditableService(ctx, tx, id)
		if err != nil {
			return err
		}
		if svc.Kind != junction.KindInternal {
			return junction.Errorf(junction.EINVALID, "Only internal services can be unpublished; remove others from the catalog instead.")
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connections WHERE service_id = ?`, id).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return junction.Errorf(junction.ECONFLICT, "%d connection(s) use %s; remove it from the catalog instead, so they keep working.", n, svc.DisplayName())
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM services WHERE id = ?`, id); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "service.delete", Project: svc.Project, Component: svc.Component, Target: serviceTarget(svc),
			Details: map[string]any{"before": map[string]any{"name": svc.Name, "version": svc.Version}}})
	})
}

// CanRegisterServices implements junction.ServiceService.
func (s *ServiceService) CanRegisterServices(ctx context.Context) (ok bool, err error) {
	user, err := caller(ctx)
	if err != nil {
		return false, err
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		ok, err = canRegister(ctx, tx, user)
		return err
	})
	return ok, err
}

// FindComponentServices implements junction.ServiceService.
func (s *ServiceService) FindComponentServices(ctx context.Context, project, component string) (services []*junction.Service, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, project)
		if err != nil {
			return err
		}
		c, err := findComponent(ctx, tx, p, component)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, serviceSelect+` WHERE s.component_id = ? ORDER BY s.name COLLATE NOCASE, s.version`, c.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			svc, err := scanService(rows)
			if err != nil {
				return err
			}
			svc.CanEdit = p.Role.CanWrite()
			services = append(services, svc)
		}
		return rows.Err()
	})
	return services, err
}
