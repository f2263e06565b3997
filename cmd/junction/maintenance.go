package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/junction-dev/junction/db"
)

// ParseRetention reads JUNCTION_AUDIT_RETENTION: a number of days ("400d") or hours
// ("36h"); "" keeps every entry (zero).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	bad := fmt.Errorf("JUNCTION_AUDIT_RETENTION must be a number of days or hours such as 400d or 36h, not %q", s)
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 100*366 {
		return 0, bad
	}
	return time.Duration(n) * unit, nil
}

// maintenanceInterval is how often serve ends rotation graces and enforces retention.
const maintenanceInterval = time.Minute

// runMaintenance erases the previous secrets whose grace ended and, with a retention, the
// audit entries older than it; both are recorded in the audit log. Every replica runs it:
// each step is one transaction that finds nothing left to do after another replica's.
func runMaintenance(ctx context.Context, store *db.DB, conns *db.ConnectionService, audit *db.AuditService, retention time.Duration, logger *slog.Logger) {
	if n, err := conns.EndGraces(ctx); err != nil {
		logger.Error("end rotation grace periods", "err", err)
	} else if n > 0 {
		logger.Info("rotation grace periods ended", "secrets_erased", n)
	}
	if retention > 0 {
		if n, err := audit.PurgeAudit(ctx, store.Now().Add(-retention)); err != nil {
			logger.Error("enforce audit retention", "err", err)
		} else if n > 0 {
			logger.Info("audit retention", "entries_deleted", n)
		}
	}
}

// maintain runs runMaintenance at once and then every interval until ctx ends.
func maintain(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	fn(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
