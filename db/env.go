package db

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/junction-dev/junction"
)

// A component's effective environment: its mapped variables with values and sources.

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
		err = s.db.recordOnly(ctx, junction.AuditEntry{Action: "secret.reveal", Project: project, Component: component,
			Target:  junction.AuditTarget{Type: "component", ID: project + "/" + component, Name: component},
			Details: map[string]any{"environment": environment, "what": "environment"}})
	}
	if err != nil {
		return nil, err // never revealed values without their audit record
	}
	return vars, nil
}
