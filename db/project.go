package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/junction-dev/junction"
)

// ProjectService implements junction.ProjectService.
type ProjectService struct{ db *DB }

var _ junction.ProjectService = (*ProjectService)(nil)

// NewProjectService returns a ProjectService over db.
func NewProjectService(db *DB) *ProjectService { return &ProjectService{db: db} }

// caller returns the signed-in user of ctx; anonymous calls are EUNAUTHORIZED.
func caller(ctx context.Context) (*junction.User, error) {
	if user := junction.UserFromContext(ctx); user != nil {
		return user, nil
	}
	return nil, junction.Errorf(junction.EUNAUTHORIZED, "Please sign in.")
}

func errProjectNotFound(handle string) error {
	return junction.Errorf(junction.ENOTFOUND, "Project %q not found.", handle)
}

// projectSelect returns projects with the caller's membership role (empty when none). Its
// parameters are the caller's user ID, then whether the caller is an admin.
const projectSelect = `SELECT p.id, p.handle, p.name, p.description, p.created_at, p.updated_at,
	(SELECT COUNT(*) FROM components c WHERE c.project_id = p.id), COALESCE(m.role, '')` + projectFrom

// projectFrom is the FROM and WHERE of projectSelect, also used to count without the
// per-project component counts.
const projectFrom = ` FROM projects p LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?
	WHERE (? OR m.role IS NOT NULL)`

func scanProject(row interface{ Scan(...any) error }, user *junction.User) (*junction.Project, error) {
	var p junction.Project
	var created, updated, role string
	if err := row.Scan(&p.ID, &p.Handle, &p.Name, &p.Description, &created, &updated, &p.Components, &role); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt, p.Role = parseTime(created), parseTime(updated), junction.Role(role)
	if user.IsAdmin {
		p.Role = junction.RoleAdmin
	}
	p.Can = junction.ProjectCanFor(p.Role)
	return &p, nil
}

// findProject returns the project with the caller's role, or ENOTFOUND when the caller may
// not see it. Every project-scoped read and write starts here.
func findProject(ctx context.Context, tx *Tx, handle string) (*junction.Project, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	row := tx.QueryRowContext(ctx, projectSelect+` AND p.handle = ?`, user.ID, user.IsAdmin, handle)
	p, err := scanProject(row, user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errProjectNotFound(handle)
	} else if err != nil {
		return nil, fmt.Errorf("find project %q: %w", handle, err)
	}
	return p, nil
}

// findWritableProject is findProject for callers about to change the project's contents.
func findWritableProject(ctx context.Context, tx *Tx, handle string) (*junction.Project, error) {
	p, err := findProject(ctx, tx, handle)
	if err != nil {
		return nil, err
	}
	if !p.Role.CanWrite() {
		return nil, junction.Errorf(junction.EFORBIDDEN, "Viewers cannot change project %q.", handle)
	}
	return p, nil
}

// findManagedProject is findProject for callers about to manage the project itself
// (members, deletion): a project the caller cannot see stays 404 before it is 403.
func findManagedProject(ctx context.Context, tx *Tx, handle string) (*junction.Project, error) {
	p, err := findProject(ctx, tx, handle)
	if err != nil {
		return nil, err
	}
	if !p.Role.CanManage() {
		return nil, junction.Errorf(junction.EFORBIDDEN, "Only admins can manage project %q.", handle)
	}
	return p, nil
}

// lockProject takes the project's row lock until the transaction ends (dialect.forUpdate), so
// that writers keeping a rule across rows of one project take turns: one OAuth application per
// project and per component, and an application deleted with its last connection.
func lockProject(ctx context.Context, tx *Tx, id int64) error {
	var locked int64
	return tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE id = ?`+tx.db.dialect.forUpdate, id).Scan(&locked)
}

func requireAdmin(ctx context.Context, action string) error {
	user, err := caller(ctx)
	if err != nil {
		return err
	}
	if !user.IsAdmin {
		return junction.Errorf(junction.EFORBIDDEN, "Only admins can %s.", action)
	}
	return nil
}

// FindProjects implements junction.ProjectService.
func (s *ProjectService) FindProjects(ctx context.Context, filter junction.ProjectFilter) ([]*junction.Project, int, error) {
	user, err := caller(ctx)
	if err != nil {
		return nil, 0, err
	}
	where, args := "", []any{user.ID, user.IsAdmin}
	if q := strings.TrimSpace(filter.Query); q != "" {
		// lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
		where = ` AND (lower(p.name) LIKE lower(?) ESCAPE '\' OR lower(p.handle) LIKE lower(?) ESCAPE '\')`
		pattern := "%" + escapeLike(q) + "%"
		args = append(args, pattern, pattern)
	}
	var projects []*junction.Project
	var total int
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+projectFrom+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, projectSelect+where+` ORDER BY p.name COLLATE NOCASE, p.handle LIMIT ? OFFSET ?`,
			append(args, filter.Page.Limit(), filter.Page.Offset())...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProject(rows, user)
			if err != nil {
				return err
			}
			projects = append(projects, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("find projects: %w", err)
	}
	return projects, total, nil
}

// FindProject implements junction.ProjectService.
func (s *ProjectService) FindProject(ctx context.Context, handle string) (p *junction.Project, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err = findProject(ctx, tx, handle)
		return err
	})
	return p, err
}

func errHandleTaken(what, handle string) error {
	msg := fmt.Sprintf("A %s with handle %q already exists.", what, handle)
	return &junction.Error{Code: junction.ECONFLICT, Message: msg, Fields: map[string]string{"handle": msg}}
}

// CreateProject implements junction.ProjectService.
func (s *ProjectService) CreateProject(ctx context.Context, p *junction.Project) error {
	if err := requireAdmin(ctx, "create projects"); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		id, err := tx.insertID(ctx, `INSERT INTO projects (handle, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			p.Handle, p.Name, p.Description, formatTime(tx.now), formatTime(tx.now))
		if isConflict(err) {
			return errHandleTaken("project", p.Handle)
		} else if err != nil {
			return fmt.Errorf("create project %q: %w", p.Handle, err)
		}
		p.ID = id
		p.CreatedAt, p.UpdatedAt, p.Role, p.Components = tx.now, tx.now, junction.RoleAdmin, 0
		p.Can = junction.ProjectCanFor(p.Role)
		return tx.audit(ctx, junction.AuditEntry{Action: "project.create", Project: p.Handle, ProjectID: p.ID, Target: projectTarget(p),
			Details: map[string]any{"after": projectDetails(p)}})
	})
}

// UpdateProject implements junction.ProjectService.
func (s *ProjectService) UpdateProject(ctx context.Context, handle string, upd junction.ProjectUpdate) (p *junction.Project, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		if p, err = findWritableProject(ctx, tx, handle); err != nil {
			return err
		}
		before := projectDetails(p)
		if err := upd.Apply(p); err != nil {
			return err
		}
		p.UpdatedAt = tx.now
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET name = ?, description = ?, updated_at = ? WHERE id = ?`,
			p.Name, p.Description, formatTime(tx.now), p.ID); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "project.update", Project: p.Handle, ProjectID: p.ID, Target: projectTarget(p),
			Details: diff(before, projectDetails(p))})
	})
	return p, err
}

// DeleteProject implements junction.ProjectService.
func (s *ProjectService) DeleteProject(ctx context.Context, handle string, force bool) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, err := findManagedProject(ctx, tx, handle)
		if err != nil {
			return err
		}
		if p.Components > 0 && !force {
			return junction.Errorf(junction.ECONFLICT, "Project %q still has %d component(s); to delete them too, confirm on the project page or send ?force=true.", handle, p.Components)
		}
		var outside int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connections c JOIN services s ON s.id = c.service_id
			WHERE s.project_id = ? AND c.project_id != ?`, p.ID, p.ID).Scan(&outside); err != nil {
			return err
		} else if outside > 0 {
			return junction.Errorf(junction.ECONFLICT, "Other projects have %d connection(s) to endpoints of %q; they must be deleted first.", outside, handle)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, p.ID); err != nil {
			return fmt.Errorf("delete project %q: %w", handle, err)
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "project.delete", Project: p.Handle, ProjectID: p.ID, Target: projectTarget(p),
			Details: map[string]any{"before": projectDetails(p), "components": p.Components}})
	})
}

// FindMembers implements junction.ProjectService.
func (s *ProjectService) FindMembers(ctx context.Context, handle string) (members []*junction.Member, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, handle)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT u.email, m.role FROM project_members m JOIN users u ON u.id = m.user_id
			WHERE m.project_id = ? ORDER BY u.email`, p.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m junction.Member
			if err := rows.Scan(&m.Email, &m.Role); err != nil {
				return err
			}
			members = append(members, &m)
		}
		return rows.Err()
	})
	return members, err
}

// SetMember implements junction.ProjectService.
func (s *ProjectService) SetMember(ctx context.Context, handle, email string, role junction.Role) (*junction.Member, error) {
	email = junction.NormalizeEmail(email)
	err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		p, err := findManagedProject(ctx, tx, handle)
		if err != nil {
			return err
		}
		fields := junction.FieldErrors{}
		if msg := junction.ValidateEmail(email); msg != "" {
			fields.Add("email", msg)
		}
		if !role.Valid() {
			fields.Add("role", "Choose developer or viewer.")
		}
		if err := fields.Err(); err != nil {
			return err
		}
		var userID int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			msg := "No user has this e-mail. Add the user first, on the Users page."
			return &junction.Error{Code: junction.EINVALID, Message: msg, Fields: map[string]string{"email": msg}}
		} else if err != nil {
			return err
		}
		var previous string
		if err := tx.QueryRowContext(ctx, `SELECT role FROM project_members WHERE project_id = ? AND user_id = ?`, p.ID, userID).Scan(&previous); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// A role set here is set by hand: the identity provider no longer manages it.
		if _, err = tx.ExecContext(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, by_provider = FALSE`, p.ID, userID, string(role), formatTime(tx.now)); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "member.set", Project: p.Handle, ProjectID: p.ID, Target: memberTarget(p, email),
			Details: map[string]any{"before": map[string]any{"role": previous}, "after": map[string]any{"role": string(role)}}})
	})
	if err != nil {
		return nil, err
	}
	return &junction.Member{Email: email, Role: role}, nil
}

// RemoveMember implements junction.ProjectService.
func (s *ProjectService) RemoveMember(ctx context.Context, handle, email string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		p, err := findManagedProject(ctx, tx, handle)
		if err != nil {
			return err
		}
		email = junction.NormalizeEmail(email)
		var previous string
		err = tx.QueryRowContext(ctx, `SELECT m.role FROM project_members m JOIN users u ON u.id = m.user_id
			WHERE m.project_id = ? AND u.email = ?`, p.ID, email).Scan(&previous)
		if errors.Is(err, sql.ErrNoRows) {
			return junction.Errorf(junction.ENOTFOUND, "%s is not a member of project %q.", email, handle)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM project_members WHERE project_id = ?
			AND user_id = (SELECT id FROM users WHERE email = ?)`, p.ID, email); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "member.remove", Project: p.Handle, ProjectID: p.ID, Target: memberTarget(p, email),
			Details: map[string]any{"before": map[string]any{"role": previous}}})
	})
}

// escapeLike escapes LIKE wildcards so that user input matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// projectTarget names a project in the audit log.
func projectTarget(p *junction.Project) junction.AuditTarget {
	return junction.AuditTarget{Type: "project", ID: p.Handle, Name: p.Name}
}

// projectDetails are the fields of a project that its history shows.
func projectDetails(p *junction.Project) map[string]any {
	return map[string]any{"handle": p.Handle, "name": p.Name, "description": p.Description}
}

// memberTarget names a project membership in the audit log.
func memberTarget(p *junction.Project, email string) junction.AuditTarget {
	return junction.AuditTarget{Type: "member", ID: p.Handle + "/" + email, Name: email}
}
