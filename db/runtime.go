package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/junction-dev/junction"
)

// Runtime tokens, and the runtime fetch of a component's variables, cached per token.

type runtimeEntry struct {
	generation uint64
	tokenID    int64
	lastUsed   time.Time
	vars       []junction.EnvVar
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
		id, err := tx.insertID(ctx, `INSERT INTO runtime_tokens (component_id, environment, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, environment, hashSecret(secret), user.ID, formatTime(tx.now))
		if err != nil {
			return err
		}
		token = &junction.RuntimeToken{ID: id, Environment: environment, CreatedAt: tx.now}
		return tx.audit(ctx, junction.AuditEntry{Action: "runtime_token.create", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target:  junction.AuditTarget{Type: "runtime_token", ID: strconv.FormatInt(id, 10), Name: environment},
			Details: map[string]any{"after": map[string]any{"environment": environment}}})
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
		var environment string
		if err := tx.QueryRowContext(ctx, `SELECT environment FROM runtime_tokens WHERE id = ? AND component_id = ?`, id, c.ID).Scan(&environment); err != nil {
			return notFound(err, "Runtime token not found.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM runtime_tokens WHERE id = ? AND component_id = ?`, id, c.ID); err != nil {
			return err
		}
		return tx.audit(ctx, junction.AuditEntry{Action: "runtime_token.revoke", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target:  junction.AuditTarget{Type: "runtime_token", ID: strconv.FormatInt(id, 10), Name: environment},
			Details: map[string]any{"before": map[string]any{"environment": environment}}})
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
		if err := s.db.inTx(ctx, true, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE runtime_tokens SET last_used_at = ?, first_used_at = COALESCE(first_used_at, ?) WHERE id = ?`,
				formatTime(now), formatTime(now), entry.tokenID)
			return err
		}); err != nil {
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
