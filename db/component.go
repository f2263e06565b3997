package db

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction"
)

// ComponentService implements junction.ComponentService.
type ComponentService struct{ db *DB }

var _ junction.ComponentService = (*ComponentService)(nil)

// NewComponentService returns a ComponentService over db.
func NewComponentService(db *DB) *ComponentService { return &ComponentService{db: db} }

const componentSelect = `SELECT c.id, c.project_id, c.handle, c.name, c.type, c.created_at, c.updated_at FROM components c`

func scanComponent(row interface{ Scan(...any) error }, project string) (*junction.Component, error) {
	c := junction.Component{Project: project}
	var created, updated string
	if err := row.Scan(&c.ID, &c.ProjectID, &c.Handle, &c.Name, &c.Type, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = parseTime(created), parseTime(updated)
	return &c, nil
}

func findComponent(ctx context.Context, tx *Tx, p *junction.Project, handle string) (*junction.Component, error) {
	row := tx.QueryRowContext(ctx, componentSelect+` WHERE c.project_id = ? AND c.handle = ?`, p.ID, handle)
	c, err := scanComponent(row, p.Handle)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("Component %q not found in project %q.", handle, p.Handle))
	}
	return c, nil
}

// FindComponents implements junction.ComponentService.
func (s *ComponentService) FindComponents(ctx context.Context, project string, page junction.Page) (components []*junction.Component, total int, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, project)
		if err != nil {
			return err
		}
		total = p.Components
		rows, err := tx.QueryContext(ctx, componentSelect+` WHERE c.project_id = ? ORDER BY c.name COLLATE NOCASE, c.handle LIMIT ? OFFSET ?`,
			p.ID, page.Limit(), page.Offset())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanComponent(rows, p.Handle)
			if err != nil {
				return err
			}
			components = append(components, c)
		}
		return rows.Err()
	})
	return components, total, err
}

// FindComponent implements junction.ComponentService.
func (s *ComponentService) FindComponent(ctx context.Context, project, handle string) (c *junction.Component, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, project)
		if err != nil {
			return err
		}
		c, err = findComponent(ctx, tx, p, handle)
		return err
	})
	return c, err
}

// CreateComponent implements junction.ComponentService.
func (s *ComponentService) CreateComponent(ctx context.Context, project string, c *junction.Component) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, err := findWritableProject(ctx, tx, project)
		if err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return err
		}
		id, err := tx.insertID(ctx, `INSERT INTO components (project_id, handle, name, type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, c.Handle, c.Name, string(c.Type), formatTime(tx.now), formatTime(tx.now))
		if isConflict(err) {
			return errHandleTaken("component in this project", c.Handle)
		} else if err != nil {
			return fmt.Errorf("create component %q: %w", c.Handle, err)
		}
		c.ID = id
		c.ProjectID, c.Project, c.CreatedAt, c.UpdatedAt = p.ID, p.Handle, tx.now, tx.now
		return tx.audit(ctx, junction.AuditEntry{Action: "component.create", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target: componentTarget(c), Details: map[string]any{"after": componentDetails(c)}})
	})
}

// UpdateComponent implements junction.ComponentService.
func (s *ComponentService) UpdateComponent(ctx context.Context, project, handle string, upd junction.ComponentUpdate) (c *junction.Component, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		p, err := findWritableProject(ctx, tx, project)
		if err != nil {
			return err
		}
		if c, err = findComponent(ctx, tx, p, handle); err != nil {
			return err
		}
		before := componentDetails(c)
		if err := upd.Apply(c); err != nil {
			return err
		}
		c.UpdatedAt = tx.now
		if _, err = tx.ExecContext(ctx, `UPDATE components SET name = ?, type = ?, updated_at = ? WHERE id = ?`,
			c.Name, string(c.Type), formatTime(tx.now), c.ID); err != nil {
			return err
		}
		if err := renameComponentServices(ctx, tx, c); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "component.update", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target: componentTarget(c), Details: diff(before, componentDetails(c))})
	})
	return c, err
}

// DeleteComponent implements junction.ComponentService.
func (s *ComponentService) DeleteComponent(ctx context.Context, project, handle string) error {
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		p, err := findWritableProject(ctx, tx, project)
		if err != nil {
			return err
		}
		c, err := findComponent(ctx, tx, p, handle)
		if err != nil {
			return err
		}
		// The component's own connections go with it; connections of others to its endpoints
		// would lose their service.
		var outside int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connections n JOIN services s ON s.id = n.service_id
			WHERE s.component_id = ? AND (n.component_id IS NULL OR n.component_id != ?)`, c.ID, c.ID).Scan(&outside); err != nil {
			return err
		} else if outside > 0 {
			return junction.Errorf(junction.ECONFLICT, "%d connection(s) of other components use endpoints of %q; they must be deleted first.", outside, handle)
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM components WHERE id = ?`, c.ID); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "component.delete", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target: componentTarget(c), Details: map[string]any{"before": componentDetails(c)}})
	})
}

// renameComponentServices refreshes the catalog names ("component – endpoint") of the
// endpoints a component publishes after the component was renamed.
func renameComponentServices(ctx context.Context, tx *Tx, c *junction.Component) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM services WHERE component_id = ?`, c.ID)
	if err != nil {
		return err
	}
	var services []*junction.Service
	for rows.Next() {
		svc := &junction.Service{Kind: junction.KindInternal, ComponentName: c.Name}
		if err := rows.Scan(&svc.ID, &svc.Name); err != nil {
			rows.Close()
			return err
		}
		services = append(services, svc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, svc := range services {
		if _, err := tx.ExecContext(ctx, `UPDATE services SET display_name = ? WHERE id = ?`, svc.DisplayName(), svc.ID); err != nil {
			return err
		}
		if err := tx.db.dialect.indexService(ctx, tx, svc.ID); err != nil {
			return err
		}
	}
	return nil
}

// componentTarget names a component in the audit log.
func componentTarget(c *junction.Component) junction.AuditTarget {
	return junction.AuditTarget{Type: "component", ID: c.Project + "/" + c.Handle, Name: c.Name}
}

// componentDetails are the fields of a component that its history shows.
func componentDetails(c *junction.Component) map[string]any {
	return map[string]any{"handle": c.Handle, "name": c.Name, "type": string(c.Type)}
}
