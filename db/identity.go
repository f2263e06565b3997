package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/junction-dev/junction"
)

// SignInWithProvider implements junction.UserService.
func (s *UserService) SignInWithProvider(ctx context.Context, id junction.ProviderIdentity, grants junction.ProviderGrants) (*junction.User, error) {
	id.Email = junction.NormalizeEmail(id.Email)
	var user *junction.User
	err := id.Validate()
	if err == nil {
		err = s.db.inTx(ctx, true, func(tx *Tx) error {
			tx.keepEnv()
			var err error
			if user, err = linkIdentity(ctx, tx, id); err != nil {
				return err
			}
			if err := applyProviderGrants(ctx, tx, user, grants); err != nil {
				return err
			}
			return tx.audit(ctx, junction.AuditEntry{Actor: user.Email, Action: "session.sign_in",
				Target: junction.AuditTarget{Type: "session", ID: user.Email, Name: id.AuditTarget()}, Details: providerDetails(id)})
		})
	}
	if code := junction.ErrorCode(err); code == junction.EFORBIDDEN || code == junction.EUNAUTHORIZED {
		actor := id.Email
		if actor == "" {
			actor = "anonymous"
		}
		if aerr := s.db.recordOnly(ctx, junction.AuditEntry{Actor: actor, Action: "session.sign_in", Outcome: junction.OutcomeDenied,
			Target: junction.AuditTarget{Type: "session", ID: id.Email, Name: id.AuditTarget()}, Details: providerDetails(id)}); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
	}
	if err != nil {
		return nil, err
	}
	return user, nil
}

// linkIdentity returns the user of a provider identity: the one linked to its subject, else
// the user with its e-mail (linked now), else a new user without a password.
func linkIdentity(ctx context.Context, tx *Tx, id junction.ProviderIdentity) (*junction.User, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.issuer = ? AND i.subject = ?`, id.Issuer, id.Subject)
	user, err := scanUser(row)
	switch {
	case err == nil:
		if user.Email != id.Email {
			// The e-mail changed at the provider: follow it, unless another user has it.
			if err := updateLinkedEmail(ctx, tx, user, id.Email); err != nil {
				return nil, err
			}
		}
	case errors.Is(err, sql.ErrNoRows):
		if user, err = linkByEmail(ctx, tx, id); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("find identity: %w", err)
	}
	if id.Name != "" && id.Name != user.Name {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, id.Name, user.ID); err != nil {
			return nil, fmt.Errorf("update user name: %w", err)
		}
		user.Name = id.Name
	}
	if _, err := tx.ExecContext(ctx, `UPDATE user_identities SET last_sign_in_at = ? WHERE issuer = ? AND subject = ?`,
		formatTime(tx.now), id.Issuer, id.Subject); err != nil {
		return nil, fmt.Errorf("record sign-in: %w", err)
	}
	return user, nil
}

func updateLinkedEmail(ctx context.Context, tx *Tx, user *junction.User, email string) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ?`, email, user.ID)
	if isConflict(err) {
		return junction.Errorf(junction.EFORBIDDEN, "Your e-mail address changed to %s at the identity provider, but another Junction user already has that address. Ask an administrator to resolve it.", email)
	} else if err != nil {
		return fmt.Errorf("update e-mail of user %d: %w", user.ID, err)
	}
	user.Email = email
	return nil
}

// linkByEmail links the identity to the user with its e-mail, creating the user first when
// there is none. A user already linked to another subject of the same provider is refused:
// the address now belongs to a different account there.
func linkByEmail(ctx context.Context, tx *Tx, id junction.ProviderIdentity) (*junction.User, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = ?`, id.Email)
	user, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		user = &junction.User{Email: id.Email, Name: id.Name, CreatedAt: tx.now}
		user.ID, err = tx.insertID(ctx, `INSERT INTO users (email, name, password_hash, is_admin, created_at) VALUES (?, ?, '', FALSE, ?)`,
			user.Email, user.Name, formatTime(tx.now))
		if err != nil {
			return nil, fmt.Errorf("create user %q: %w", user.Email, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("find user %q: %w", id.Email, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO user_identities (issuer, subject, user_id, created_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?)`,
		id.Issuer, id.Subject, user.ID, formatTime(tx.now), formatTime(tx.now))
	if isConflict(err) {
		return nil, junction.Errorf(junction.EFORBIDDEN, "The Junction user %s is linked to a different account at the identity provider. Ask an administrator to resolve it.", id.Email)
	} else if err != nil {
		return nil, fmt.Errorf("link identity of %q: %w", id.Email, err)
	}
	return user, nil
}

// applyProviderGrants makes the user's provider-granted roles match grants: admin, and the
// project roles, are granted, changed or taken away. Roles granted by hand stay as they are;
// projects that do not exist are skipped.
func applyProviderGrants(ctx context.Context, tx *Tx, user *junction.User, grants junction.ProviderGrants) error {
	var byProvider bool
	if err := tx.QueryRowContext(ctx, `SELECT is_admin, admin_by_provider FROM users WHERE id = ?`, user.ID).Scan(&user.IsAdmin, &byProvider); err != nil {
		return fmt.Errorf("read admin grant: %w", err)
	}
	switch {
	case grants.Admin && !user.IsAdmin:
		if _, err := tx.ExecContext(ctx, `UPDATE users SET is_admin = TRUE, admin_by_provider = TRUE WHERE id = ?`, user.ID); err != nil {
			return fmt.Errorf("grant admin: %w", err)
		}
		user.IsAdmin = true
	case !grants.Admin && user.IsAdmin && byProvider:
		if _, err := tx.ExecContext(ctx, `UPDATE users SET is_admin = FALSE, admin_by_provider = FALSE WHERE id = ?`, user.ID); err != nil {
			return fmt.Errorf("revoke admin: %w", err)
		}
		user.IsAdmin = false
	}

	type membership struct {
		projectID  int64
		handle     string
		role       junction.Role
		byProvider bool
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.project_id, p.handle, m.role, m.by_provider FROM project_members m
		JOIN projects p ON p.id = m.project_id WHERE m.user_id = ?`, user.ID)
	if err != nil {
		return fmt.Errorf("read memberships: %w", err)
	}
	var current []membership
	for rows.Next() {
		var m membership
		if err := rows.Scan(&m.projectID, &m.handle, &m.role, &m.byProvider); err != nil {
			rows.Close()
			return err
		}
		current = append(current, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	todo := make(map[string]junction.Role, len(grants.Projects))
	for handle, role := range grants.Projects {
		todo[handle] = role
	}
	for _, m := range current {
		want, granted := todo[m.handle]
		delete(todo, m.handle)
		switch {
		case !m.byProvider:
			// Granted by hand: an admin's decision, left alone.
		case !granted:
			if _, err := tx.ExecContext(ctx, `DELETE FROM project_members WHERE project_id = ? AND user_id = ?`, m.projectID, user.ID); err != nil {
				return fmt.Errorf("revoke role in %q: %w", m.handle, err)
			}
		case want != m.role:
			if _, err := tx.ExecContext(ctx, `UPDATE project_members SET role = ? WHERE project_id = ? AND user_id = ?`, string(want), m.projectID, user.ID); err != nil {
				return fmt.Errorf("change role in %q: %w", m.handle, err)
			}
		}
	}
	for handle, role := range todo {
		var projectID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE handle = ?`, handle).Scan(&projectID)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not created (yet); granted at a sign-in after it is
		} else if err != nil {
			return fmt.Errorf("find project %q: %w", handle, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at, by_provider) VALUES (?, ?, ?, ?, TRUE)`,
			projectID, user.ID, string(role), formatTime(tx.now)); err != nil {
			return fmt.Errorf("grant role in %q: %w", handle, err)
		}
	}
	return nil
}

// idTokenContext binds a sealed ID token to its session, so that it cannot be moved to
// another session's row.
func idTokenContext(idHash string) string { return "sessions.id_token " + idHash }

// SetSessionIDToken implements junction.UserService.
func (s *UserService) SetSessionIDToken(ctx context.Context, sessionID, idToken string) error {
	idHash := hashSecret(sessionID)
	sealed := base64.StdEncoding.EncodeToString(s.db.sealer.Seal([]byte(idToken), idTokenContext(idHash)))
	return s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET id_token = ? WHERE id_hash = ?`, sealed, idHash)
		if err != nil {
			return fmt.Errorf("keep ID token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return junction.Errorf(junction.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
		}
		return nil
	})
}

// SessionIDToken implements junction.UserService.
func (s *UserService) SessionIDToken(ctx context.Context, sessionID string) (string, error) {
	idHash := hashSecret(sessionID)
	var sealed sql.NullString
	err := s.db.inTx(ctx, false, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id_token FROM sessions WHERE id_hash = ?`, idHash).Scan(&sealed)
	})
	if errors.Is(err, sql.ErrNoRows) || err == nil && !sealed.Valid {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read ID token: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed.String)
	if err != nil {
		return "", fmt.Errorf("read ID token: %w", err)
	}
	plain, err := s.db.sealer.Open(raw, idTokenContext(idHash))
	if err != nil {
		return "", fmt.Errorf("read ID token: %w", err)
	}
	return string(plain), nil
}

// providerDetails are what the audit log keeps of a sign-in with the identity provider: the
// method, the issuer and the provider's subject, never a token.
func providerDetails(id junction.ProviderIdentity) map[string]any {
	d := map[string]any{"method": "oidc", "issuer": id.Issuer}
	if id.Subject != "" {
		d["subject"] = id.Subject
	}
	return d
}

// RecordProviderDenied records a sign-in with the identity provider that was refused before
// any identity was known (a bad or forged answer).
func (s *UserService) RecordProviderDenied(ctx context.Context, id junction.ProviderIdentity) error {
	return s.db.recordOnly(ctx, junction.AuditEntry{Actor: "anonymous", Action: "session.sign_in", Outcome: junction.OutcomeDenied,
		Target: junction.AuditTarget{Type: "session", Name: id.AuditTarget()}, Details: providerDetails(id)})
}
