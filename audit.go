package junction

import (
	"context"
	"time"
)

// AuditEntry records who did what to which target and how it ended. It never holds a secret.
type AuditEntry struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
}

// AuditFilter selects audit entries; empty fields select all.
type AuditFilter struct {
	Actor  string
	Action string
	// Project keeps entries whose target is in the project.
	Project string
	Since   time.Time
	Until   time.Time
	Page    Page
}

// AuditLog records and lists the audit trail.
type AuditLog interface {
	// Record appends an entry; At is set when zero.
	Record(ctx context.Context, e AuditEntry) error
	// FindAudit lists entries newest first; for admins.
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, int, error)
}
