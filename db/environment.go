package db

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction"
)

// EnvironmentService implements junction.EnvironmentService.
type EnvironmentService struct{ db *DB }

var _ junction.EnvironmentService = (*EnvironmentService)(nil)

// NewEnvironmentService returns an EnvironmentService over db.
func NewEnvironmentService(db *DB) *EnvironmentService { return &EnvironmentService{db: db} }

// FindEnvironments implements junction.EnvironmentService. Environments are listed in the
// order they were added, so development and production come first.
func (s *EnvironmentService) FindEnvironments(ctx context.Context) ([]*junction.Environment, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var names []string
	err := s.db.inTx(ctx, false, func(tx *Tx) (err error) {
		names, err = tx.environmentNames(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find environments: %w", err)
	}
	envs := make([]*junction.Environment, len(names))
	for i, name := range names {
		envs[i] = &junction.Environment{Name: name}
	}
	return envs, nil
}

// CreateEnvironment implements junction.EnvironmentService.
func (s *EnvironmentService) CreateEnvironment(ctx context.Context, env *junction.Environment) error {
	if err := requireAdmin(ctx, "add environments"); err != nil {
		return err
	}
	if err := env.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO environments (name, created_at) VALUES (?, ?)`, env.Name, formatTime(tx.now))
		if isConflict(err) {
			msg := fmt.Sprintf("Environment %q already exists.", env.Name)
			return &junction.Error{Code: junction.ECONFLICT, Message: msg, Fields: map[string]string{"name": msg}}
		} else if err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "environment.create", Target: junction.AuditTarget{Type: "environment", ID: env.Name, Name: env.Name}})
	})
}
