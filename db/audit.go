package db

import (
	"context"
	"fmt"

	"github.com/junction-dev/junction"
)

// AuditService implements junction.AuditLog.
type AuditService struct{ db *DB }

var _ junction.AuditLog = (*AuditService)(nil)

// NewAuditService returns an AuditService over db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// Record implements junction.AuditLog.
func (s *AuditService) Record(ctx context.Context, e junction.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.db.Now()
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, outcome) VALUES (?, ?, ?, ?, ?)`,
			formatTime(e.At), e.Actor, e.Action, e.Target, e.Outcome)
		return err
	}); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// FindAudit implements junction.AuditLog.
func (s *AuditService) FindAudit(ctx context.Context, f junction.AuditFilter) (list []*junction.AuditEntry, total int, err error) {
	if err := requireAdmin(ctx, "read the audit log"); err != nil {
		return nil, 0, err
	}
	where, args := ` WHERE TRUE`, []any{}
	if f.Actor != "" {
		where += ` AND lower(actor) LIKE lower(?) ESCAPE '\'`
		args = append(args, "%"+escapeLike(f.Actor)+"%")
	}
	if f.Action != "" {
		where += ` AND lower(action) LIKE lower(?) ESCAPE '\'`
		args = append(args, "%"+escapeLike(f.Action)+"%")
	}
	if f.Project != "" {
		// The project's own path or a path under it (not "shop2" for "shop"), or an
		// environment reveal's "project/component" target.
		p := escapeLike(f.Project)
		where += ` AND (target LIKE ? ESCAPE '\' OR target LIKE ? ESCAPE '\' OR target LIKE ? ESCAPE '\')`
		args = append(args, "%/projects/"+p, "%/projects/"+p+"/%", p+"/%")
	}
	if !f.Since.IsZero() {
		where += ` AND at >= ?`
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where += ` AND at < ?`
		args = append(args, formatTime(f.Until))
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT at, actor, action, target, outcome FROM audit_log`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`,
			append(args, f.Page.Limit(), f.Page.Offset())...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e junction.AuditEntry
			var at string
			if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Outcome); err != nil {
				return err
			}
			e.At = parseTime(at)
			list = append(list, &e)
		}
		return rows.Err()
	})
	return list, total, err
}
