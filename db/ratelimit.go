package db

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"
)

// SignInLimits counts sign-in attempts in the database, so that every process on it (every
// replica on PostgreSQL) takes from the same allowance: a token bucket per key that holds
// at most burst attempts and gains one every interval.
type SignInLimits struct {
	db     *DB
	lastGC atomic.Int64 // Unix microseconds of this process's last sweep of stale buckets
}

// NewSignInLimits returns the sign-in limits of db.
func NewSignInLimits(db *DB) *SignInLimits { return &SignInLimits{db: db} }

// Allow reports whether one more attempt for key may go ahead at now, taking it from the
// key's bucket when it may. The bucket's row is locked for the read and the update
// (dialect.forUpdate; SQLite's one writer runs them one at a time), so replicas counting the
// same key at once never both spend its last attempt.
func (l *SignInLimits) Allow(ctx context.Context, key string, now time.Time, every time.Duration, burst int) (bool, error) {
	hash := hashSecret(key) // the key holds an address and an e-mail: keep only a digest
	at := now.UnixMicro()
	allowed := false
	err := l.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		if _, err := tx.ExecContext(ctx, `INSERT INTO sign_in_limits (key_hash, tokens, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key_hash) DO NOTHING`, hash, float64(burst), at); err != nil {
			return err
		}
		var tokens float64
		var updated int64
		if err := tx.QueryRowContext(ctx, `SELECT tokens, updated_at FROM sign_in_limits WHERE key_hash = ?`+tx.db.dialect.forUpdate,
			hash).Scan(&tokens, &updated); err != nil {
			return err
		}
		if at > updated {
			tokens += float64(at-updated) / float64(every.Microseconds())
		} else {
			at = updated // a replica with a clock behind the last writer's gains nothing
		}
		tokens = min(tokens, float64(burst))
		if tokens >= 1 {
			tokens--
			allowed = true
		}
		_, err := tx.ExecContext(ctx, `UPDATE sign_in_limits SET tokens = ?, updated_at = ? WHERE key_hash = ?`, tokens, at, hash)
		return err
	})
	if err != nil {
		return false, err
	}
	l.sweep(ctx, now, time.Duration(burst)*every)
	return allowed, nil
}

// sweep forgets, at most once a minute per process, the buckets that have been quiet long
// enough to be full again (full is what a missing row means too).
func (l *SignInLimits) sweep(ctx context.Context, now time.Time, full time.Duration) {
	last := l.lastGC.Load()
	if now.UnixMicro()-last < time.Minute.Microseconds() || !l.lastGC.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	// Keep an hour at least: limits with a longer refill share the table.
	cutoff := now.Add(-max(full, time.Hour)).UnixMicro()
	err := l.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv()
		_, err := tx.ExecContext(ctx, `DELETE FROM sign_in_limits WHERE updated_at < ?`, cutoff)
		return err
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		l.lastGC.Store(last) // try again at the next attempt
	}
}
