package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/junction-dev/junction"
)

// Runtime tokens, and the runtime fetch of a component's variables, cached per token.

// runtimeEntry is a token's cached answer: its variables of one generation, and their
// encodings in junction.RuntimeFormats (or why a format cannot carry them). Only lastUsed
// (Unix nanoseconds) changes once cached.
type runtimeEntry struct {
	generation uint64
	tokenID    int64
	lastUsed   atomic.Int64
	vars       []junction.EnvVar
	docs       [4]junction.RuntimeDocument
	errs       [4]error
}

// CreateRuntimeToken implements junction.MappingService.
func (s *MappingService) CreateRuntimeToken(ctx context.Context, project, component, environment string) (*junction.RuntimeToken, string, error) {
	return s.IssueRuntimeToken(ctx, project, component, junction.RuntimeTokenRequest{Environment: environment})
}

// IssueRuntimeToken implements junction.MappingService.
func (s *MappingService) IssueRuntimeToken(ctx context.Context, project, component string, req junction.RuntimeTokenRequest) (token *junction.RuntimeToken, secret string, err error) {
	environment := req.Environment
	name := strings.TrimSpace(req.Name)
	if len(name) > junction.MaxTokenName {
		return nil, "", &junction.Error{Code: junction.EINVALID, Message: "Token name is too long.",
			Fields: map[string]string{"name": fmt.Sprintf("Use at most %d characters.", junction.MaxTokenName)}}
	}
	user, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv() // a new token is not cached anywhere yet
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
		if name == "" {
			name = c.Handle + "-" + environment
		}
		secret = junction.RuntimeTokenPrefix + randomString(24)
		prefix := junction.SecretPrefix(junction.RuntimeTokenPrefix, secret)
		id, err := tx.insertID(ctx, `INSERT INTO runtime_tokens (component_id, environment, token_hash, created_by, created_at, name, prefix) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, environment, hashSecret(secret), user.ID, formatTime(tx.now), name, prefix)
		if err != nil {
			return err
		}
		token = &junction.RuntimeToken{ID: id, Environment: environment, Name: name, Prefix: prefix, CreatedBy: user.Email,
			CreatedAt: tx.now, CanRevoke: true}
		return tx.audit(ctx, junction.AuditEntry{Action: "runtime_token.create", Project: p.Handle, ProjectID: p.ID, Component: c.Handle,
			Target:  junction.AuditTarget{Type: "runtime_token", ID: strconv.FormatInt(id, 10), Name: name},
			Details: map[string]any{"after": map[string]any{"environment": environment, "name": name, "prefix": prefix}}})
	})
	if err != nil {
		return nil, "", err
	}
	return token, secret, nil
}

// FindRuntimeTokens implements junction.MappingService.
func (s *MappingService) FindRuntimeTokens(ctx context.Context, project, component string) (list []*junction.RuntimeToken, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		p, c, err := s.component(ctx, tx, project, component)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT t.id, t.environment, t.created_at, t.first_used_at, t.last_used_at, t.name, t.prefix, COALESCE(u.email, '')
			FROM runtime_tokens t LEFT JOIN users u ON u.id = t.created_by WHERE t.component_id = ? ORDER BY t.id DESC`, c.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		list = []*junction.RuntimeToken{}
		for rows.Next() {
			t := junction.RuntimeToken{CanRevoke: p.Role.CanWrite()}
			var created string
			var first, last sql.NullString
			if err := rows.Scan(&t.ID, &t.Environment, &created, &first, &last, &t.Name, &t.Prefix, &t.CreatedBy); err != nil {
				return err
			}
			t.CreatedAt, t.FirstUsedAt, t.LastUsedAt = parseTime(created), parseNullTime(first), parseNullTime(last)
			list = append(list, &t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return s.fillRuntimeActivity(ctx, tx, c.ID, list)
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

// RuntimeEnv implements junction.MappingService. A cached answer serves as long as no change
// of a runtime environment was committed since (env_changes.go); otherwise one indexed lookup
// of the token's hash and the component's variables.
func (s *MappingService) RuntimeEnv(ctx context.Context, token string) ([]junction.EnvVar, error) {
	entry, err := s.runtimeEntry(ctx, token)
	if err != nil {
		return nil, err
	}
	return entry.vars, nil
}

// RuntimeDocument implements junction.MappingService: the cached entry holds every format
// encoded once, so a fetch costs a hash, a map lookup and writing the bytes.
func (s *MappingService) RuntimeDocument(ctx context.Context, token, format string) (*junction.RuntimeDocument, error) {
	i := slices.Index(junction.RuntimeFormats, format)
	if i < 0 {
		return nil, &junction.Error{Code: junction.EINVALID, Message: "format must be json, dotenv, shell or js.",
			Fields: map[string]string{"format": "Use json, dotenv, shell or js."}}
	}
	entry, err := s.runtimeEntry(ctx, token)
	if err != nil {
		return nil, err
	}
	if entry.errs[i] != nil {
		return nil, entry.errs[i]
	}
	return &entry.docs[i], nil
}

// RuntimeChanged implements junction.MappingService.
func (s *MappingService) RuntimeChanged() <-chan struct{} { return s.db.EnvChanged() }

// runtimeEntry returns the token's cached entry, recomputing it after a change, and records
// the token's use.
func (s *MappingService) runtimeEntry(ctx context.Context, token string) (*runtimeEntry, error) {
	hash := hashSecret(token)
	generation := s.db.generation.Load()
	s.runtimeMu.RLock()
	entry, ok := s.runtime[hash]
	s.runtimeMu.RUnlock()
	if !ok || entry.generation != generation || !s.db.envCacheUsable() {
		var err error
		if entry, err = s.loadRuntimeEnv(ctx, hash, generation); err != nil {
			return nil, err
		}
	}
	s.CountRuntimeFetch(entry.tokenID)
	// Recording every use would make each fetch a write; a minute's precision is enough.
	now := s.db.Now().UTC()
	if entry.claimUse(now) {
		if err := s.db.inTx(ctx, true, func(tx *Tx) error {
			tx.keepEnv()
			_, err := tx.ExecContext(ctx, `UPDATE runtime_tokens SET last_used_at = ?, first_used_at = COALESCE(first_used_at, ?) WHERE id = ?`,
				formatTime(now), formatTime(now), entry.tokenID)
			return err
		}); err != nil {
			return nil, fmt.Errorf("record runtime token use: %w", err)
		}
	}
	return entry, nil
}

// claimUse marks the token as used at now and reports whether the caller should record that
// use: of the concurrent fetches that cross a minute, only one writes.
func (e *runtimeEntry) claimUse(now time.Time) bool {
	last := e.lastUsed.Load()
	if now.UnixNano()-last < int64(time.Minute) {
		return false
	}
	return e.lastUsed.CompareAndSwap(last, now.UnixNano())
}

// loadRuntimeEnv computes, encodes and caches the variables of a token; generation was read
// before, so that a change committed meanwhile makes the next fetch compute again.
func (s *MappingService) loadRuntimeEnv(ctx context.Context, hash string, generation uint64) (*runtimeEntry, error) {
	entry := &runtimeEntry{generation: generation}
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
			entry.lastUsed.Store(last.UnixNano())
		}
		entry.vars, err = s.env(ctx, tx, &junction.Project{Role: junction.RoleDeveloper}, componentID, environment)
		return err
	})
	if err != nil {
		return nil, err
	}
	entry.encode()
	s.runtimeMu.Lock()
	if len(s.runtime) > 10000 {
		s.runtime = map[string]*runtimeEntry{} // bound the cache; it refills from the hot tokens
	}
	s.runtime[hash] = entry
	s.runtimeMu.Unlock()
	return entry, nil
}

// encode renders the entry's variables in every runtime format, each with its ETag.
func (e *runtimeEntry) encode() {
	values := junction.EnvValues(e.vars)
	for i, format := range junction.RuntimeFormats {
		var body string
		var err error
		contentType := "text/plain; charset=utf-8"
		switch format {
		case "json":
			var b []byte
			b, err = json.Marshal(values)
			body, contentType = string(b)+"\n", "application/json"
		case "dotenv":
			body, err = junction.FormatDotenv(values)
		case "shell":
			body, err = junction.FormatShell(values)
		case "js":
			body, err = junction.FormatJS(e.vars)
			contentType = "text/javascript; charset=utf-8"
		}
		if err != nil {
			e.errs[i] = err
			continue
		}
		sum := sha256.Sum256([]byte(format + "\x00" + body))
		e.docs[i] = junction.RuntimeDocument{Body: []byte(body), ContentType: contentType,
			ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	}
}
