package db

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/junction-dev/junction"
)

// FindProjectGraph implements junction.ProjectService: the project's components, every
// connection of the project or of one of its components with the components that map it,
// and the services behind them, read in one transaction. Ordering is done here rather than
// in SQL so that it does not depend on the engine's collations.
func (s *ProjectService) FindProjectGraph(ctx context.Context, handle string) (g *junction.ProjectGraph, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, err := findProject(ctx, tx, handle)
		if err != nil {
			return err
		}
		g = &junction.ProjectGraph{Project: p}
		rows, err := tx.QueryContext(ctx, componentSelect+` WHERE c.project_id = ?`, p.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanComponent(rows, p.Handle)
			if err != nil {
				rows.Close()
				return err
			}
			g.Components = append(g.Components, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		byID := map[string]*junction.GraphConnection{}
		rows, err = tx.QueryContext(ctx, `SELECT c.id, c.name, c.scope, COALESCE(k.handle, ''), c.service_id
			FROM connections c LEFT JOIN components k ON k.id = c.component_id WHERE c.project_id = ?`, p.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c junction.GraphConnection
			if err := rows.Scan(&c.ID, &c.Name, &c.Scope, &c.Component, &c.ServiceID); err != nil {
				rows.Close()
				return err
			}
			byID[c.ID] = &c
			g.Connections = append(g.Connections, &c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		rows, err = tx.QueryContext(ctx, `SELECT DISTINCT m.connection_id, k.handle FROM mappings m
			JOIN components k ON k.id = m.component_id WHERE k.project_id = ?`, p.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, component string
			if err := rows.Scan(&id, &component); err != nil {
				rows.Close()
				return err
			}
			if c := byID[id]; c != nil {
				c.MappedBy = append(c.MappedBy, component)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		rows, err = tx.QueryContext(ctx, `SELECT s.id, s.kind, s.display_name, s.version, COALESCE(s.engine, ''),
			COALESCE(sp.handle, ''), COALESCE(sk.handle, ''), s.unlisted
			FROM services s LEFT JOIN projects sp ON sp.id = s.project_id LEFT JOIN components sk ON sk.id = s.component_id
			WHERE s.id IN (SELECT service_id FROM connections WHERE project_id = ?)`, p.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var svc junction.GraphService
			var unlisted sql.NullBool
			if err := rows.Scan(&svc.ID, &svc.Kind, &svc.Name, &svc.Version, &svc.Engine, &svc.Project, &svc.Component, &unlisted); err != nil {
				return err
			}
			svc.Unlisted = unlisted.Bool
			g.Services = append(g.Services, &svc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	sortGraph(g)
	return g, nil
}

func sortGraph(g *junction.ProjectGraph) {
	less := func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
	sort.SliceStable(g.Components, func(i, j int) bool {
		if c := less(g.Components[i].Name, g.Components[j].Name); c != 0 {
			return c < 0
		}
		return g.Components[i].Handle < g.Components[j].Handle
	})
	sort.SliceStable(g.Connections, func(i, j int) bool {
		a, b := g.Connections[i], g.Connections[j]
		if c := less(a.Name, b.Name); c != 0 {
			return c < 0
		}
		return a.ID < b.ID
	})
	for _, c := range g.Connections {
		sort.Strings(c.MappedBy)
	}
	sort.SliceStable(g.Services, func(i, j int) bool {
		if c := less(g.Services[i].Name, g.Services[j].Name); c != 0 {
			return c < 0
		}
		return g.Services[i].ID < g.Services[j].ID
	})
}
