package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/junction-dev/junction"
)

// SystemActor is the actor of the changes background jobs make (retention, grace ends).
const SystemActor = "system"

// AuditService implements junction.AuditLog and junction.HistoryService.
type AuditService struct{ db *DB }

var (
	_ junction.AuditLog       = (*AuditService)(nil)
	_ junction.HistoryService = (*AuditService)(nil)
)

// NewAuditService returns an AuditService over db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// audit writes one entry in tx, the transaction of the change it records, so that there is
// no change without its entry and no entry without its change. The actor (unless set), the
// request ID and the client address come from ctx; At is the transaction's time.
func (tx *Tx) audit(ctx context.Context, e junction.AuditEntry) error {
	e.At = tx.now
	if e.Actor == "" {
		if user := junction.UserFromContext(ctx); user != nil {
			e.Actor = user.Email
		} else {
			e.Actor = SystemActor
		}
	}
	if e.Outcome == "" {
		e.Outcome = junction.OutcomeOK
	}
	req := junction.RequestFromContext(ctx)
	e.RequestID, e.ClientAddr = req.ID, req.ClientAddr
	if e.ProjectID == 0 && e.Project != "" {
		// Entries name a project by handle; the ID keeps them its own after a rename or reuse.
		if err := tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE handle = ?`, e.Project).Scan(&e.ProjectID); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	if hook := tx.db.auditHook; hook != nil {
		if err := hook(&e); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	projectID := sql.NullInt64{Int64: e.ProjectID, Valid: e.ProjectID != 0}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, outcome, project, project_id, component,
		target_type, target_id, target_name, request_id, client_addr, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		formatTime(e.At), e.Actor, e.Action, e.Target.ID, e.Outcome, e.Project, projectID, e.Component,
		e.Target.Type, e.Target.ID, e.Target.Name, e.RequestID, e.ClientAddr, string(details)); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// recordOnly writes an entry in a transaction of its own: for events that change nothing
// else (a refused sign-in, an authorization denial).
func (db *DB) recordOnly(ctx context.Context, e junction.AuditEntry) error {
	return db.inTx(context.WithoutCancel(ctx), true, func(tx *Tx) error {
		tx.keepEnv()
		return tx.audit(ctx, e)
	})
}

// RecordDenied implements junction.AuditLog.
func (s *AuditService) RecordDenied(ctx context.Context, e junction.AuditEntry) error {
	e.Outcome = junction.OutcomeDenied
	return s.db.recordOnly(ctx, e)
}

// auditWhere turns a filter into a WHERE clause and its arguments.
func auditWhere(ctx context.Context, tx *Tx, f junction.AuditFilter) (string, []any, error) {
	where, args := ` WHERE TRUE`, []any{}
	if f.Actor != "" {
		where += ` AND lower(actor) LIKE lower(?) ESCAPE '\'`
		args = append(args, "%"+escapeLike(f.Actor)+"%")
	}
	if f.Action != "" {
		// An action ("connection.create"), a resource ("connection") or a verb ("reveal").
		where += ` AND (action = ? OR action LIKE ? ESCAPE '\' OR action LIKE ? ESCAPE '\')`
		args = append(args, f.Action, escapeLike(f.Action)+".%", "%."+escapeLike(f.Action))
	}
	if f.Project != "" {
		// By the project's ID while it exists (a later project with the same handle is
		// another project); by the handle written in the entry once it is gone.
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE handle = ?`, f.Project).Scan(&id)
		switch {
		case err == nil:
			where += ` AND project_id = ?`
			args = append(args, id)
		case errors.Is(err, sql.ErrNoRows):
			where += ` AND project = ? AND project_id NOT IN (SELECT id FROM projects)`
			args = append(args, f.Project)
		default:
			return "", nil, err
		}
	}
	if f.Target != "" {
		where += ` AND target_id = ?`
		args = append(args, f.Target)
	}
	if !f.Since.IsZero() {
		where += ` AND at >= ?`
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where += ` AND at < ?`
		args = append(args, formatTime(f.Until))
	}
	return where, args, nil
}

const auditColumns = `id, at, actor, action, outcome, project, COALESCE(project_id, 0), component, target_type, target_id,
	target_name, target, request_id, client_addr, details`

func scanAudit(rows interface{ Scan(...any) error }) (*junction.AuditEntry, error) {
	var e junction.AuditEntry
	var at, legacyTarget, details string
	if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Outcome, &e.Project, &e.ProjectID, &e.Component, &e.Target.Type,
		&e.Target.ID, &e.Target.Name, &legacyTarget, &e.RequestID, &e.ClientAddr, &details); err != nil {
		return nil, err
	}
	e.At = parseTime(at)
	if e.Target.Type == "" && e.Target.ID == "" {
		// Written before entries were domain events: the free text is all there is.
		e.Target.Name = legacyTarget
	}
	if details != "" && details != "{}" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("decode details of audit entry %d: %w", e.ID, err)
		}
	}
	return &e, nil
}

// FindAudit implements junction.AuditLog.
func (s *AuditService) FindAudit(ctx context.Context, f junction.AuditFilter) (list []*junction.AuditEntry, total int, err error) {
	if err := requireAdmin(ctx, "read the audit log"); err != nil {
		return nil, 0, err
	}
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		where, args, err := auditWhere(ctx, tx, f)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+where, args...).Scan(&total); err != nil {
			return err
		}
		return queryEach(ctx, tx, `SELECT `+auditColumns+` FROM audit_log`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`,
			append(args, f.Page.Limit(), f.Page.Offset()), func(rows *sql.Rows) error {
				e, err := scanAudit(rows)
				if err == nil {
					list = append(list, e)
				}
				return err
			})
	})
	return list, total, err
}

// EachAudit implements junction.AuditLog. It reads in batches by ID, so that a long export
// never holds one transaction open for the whole stream.
func (s *AuditService) EachAudit(ctx context.Context, f junction.AuditFilter, fn func(*junction.AuditEntry) error) error {
	if err := requireAdmin(ctx, "read the audit log"); err != nil {
		return err
	}
	const batch = 500
	before := int64(-1)
	for {
		var list []*junction.AuditEntry
		err := s.db.inTx(ctx, false, func(tx *Tx) error {
			where, args, err := auditWhere(ctx, tx, f)
			if err != nil {
				return err
			}
			if before >= 0 {
				where += ` AND id < ?`
				args = append(args, before)
			}
			return queryEach(ctx, tx, `SELECT `+auditColumns+` FROM audit_log`+where+` ORDER BY id DESC LIMIT ?`,
				append(args, batch), func(rows *sql.Rows) error {
					e, err := scanAudit(rows)
					if err == nil {
						list = append(list, e)
					}
					return err
				})
		})
		if err != nil {
			return err
		}
		for _, e := range list {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(list) < batch {
			return nil
		}
		before = list[len(list)-1].ID
	}
}

// PurgeAudit implements junction.AuditLog. It runs as the system, for the retention job.
func (s *AuditService) PurgeAudit(ctx context.Context, before time.Time) (n int, err error) {
	err = s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv() // entries hold no variables: the runtime caches and long polls stay
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE at < ?`, formatTime(before))
		if err != nil {
			return err
		}
		deleted, _ := res.RowsAffected()
		n = int(deleted)
		if n == 0 {
			return nil // nothing changed: nothing to record
		}
		return tx.audit(ctx, junction.AuditEntry{Actor: SystemActor, Action: "audit.purge",
			Target:  junction.AuditTarget{Type: "audit", ID: "audit", Name: "audit log"},
			Details: map[string]any{"before": formatTime(before), "deleted": n}})
	})
	return n, err
}

// History implements junction.HistoryService: the entries about a connection, a service or
// a project, with the changes their details record.
func (s *AuditService) History(ctx context.Context, targetType, targetID string) (list []*junction.HistoryEntry, err error) {
	err = s.db.inTx(ctx, false, func(tx *Tx) error {
		switch targetType {
		case "connection":
			if _, _, err := (&ConnectionService{db: s.db}).findConnection(ctx, tx, targetID); err != nil {
				return err
			}
		case "service":
			if _, err := findService(ctx, tx, targetID); err != nil {
				return err
			}
		case "project":
			if _, err := findProject(ctx, tx, targetID); err != nil {
				return err
			}
		default:
			return junction.Errorf(junction.EINVALID, "No history for %q.", targetType)
		}
		query := `SELECT ` + auditColumns + ` FROM audit_log WHERE target_type = ? AND target_id = ?`
		args := []any{targetType, targetID}
		if targetType == "project" {
			// A project's history is every change in it (its components, members, connections,
			// variables), by its ID: not those of another project that had the handle before.
			query = `SELECT ` + auditColumns + ` FROM audit_log WHERE project_id = (SELECT id FROM projects WHERE handle = ?)`
			args = []any{targetID}
		}
		return queryEach(ctx, tx, query+` ORDER BY id DESC LIMIT 500`, args, func(rows *sql.Rows) error {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			list = append(list, &junction.HistoryEntry{AuditEntry: e, Changes: junction.ChangesOf(e.Details)})
			return nil
		})
	})
	return list, err
}

// diff returns the before/after details of a change: only the fields that changed.
func diff(before, after map[string]any) map[string]any {
	b, a := map[string]any{}, map[string]any{}
	for k, v := range after {
		if junction.DetailString(before[k]) != junction.DetailString(v) {
			b[k], a[k] = before[k], v
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			b[k] = v
		}
	}
	return map[string]any{"before": b, "after": a}
}
