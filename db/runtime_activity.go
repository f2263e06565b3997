package db

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junction-dev/junction"
)

// Runtime activity: fetches per runtime token and hour. The hot path only adds one to an
// in-memory counter; FlushRuntimeActivity (every minute, and at shutdown) adds the counts to
// runtime_token_fetches in one transaction. Each replica counts its own fetches, so the sum
// in the table is the total.

// ActivityHours is how far back FindRuntimeTokens reports activity: 7 days of hours.
const ActivityHours = 7 * 24

// activityKey is one token's hour, as Unix hours.
type activityKey struct {
	token int64
	hour  int64
}

// runtimeActivity holds the counts not yet flushed.
type runtimeActivity struct {
	counters sync.Map // activityKey -> *atomic.Int64
	// flushMu keeps two flushes from interleaving.
	flushMu sync.Mutex
}

// count adds one fetch: a lock-free map read and one atomic add; only a token's first fetch
// in an hour allocates its counter.
func (a *runtimeActivity) count(token int64, now time.Time) {
	key := activityKey{token, now.Unix() / 3600}
	if c, ok := a.counters.Load(key); ok {
		c.(*atomic.Int64).Add(1)
		return
	}
	c, _ := a.counters.LoadOrStore(key, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

// take removes and returns the counts so far; the current hour's counters stay (at zero) so
// the hot path keeps finding them.
func (a *runtimeActivity) take(now time.Time) map[activityKey]int64 {
	current := now.Unix() / 3600
	out := map[activityKey]int64{}
	a.counters.Range(func(k, v any) bool {
		key, c := k.(activityKey), v.(*atomic.Int64)
		n := c.Swap(0)
		if key.hour < current {
			a.counters.Delete(key)
			n += c.Swap(0) // an add that raced with the delete
		}
		if n > 0 {
			out[key] += n
		}
		return true
	})
	return out
}

// pending returns the counts not yet flushed, without taking them.
func (a *runtimeActivity) pending() map[activityKey]int64 {
	out := map[activityKey]int64{}
	a.counters.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n > 0 {
			out[k.(activityKey)] += n
		}
		return true
	})
	return out
}

// CountRuntimeFetch records one runtime fetch with the token: the only hook on the hot path.
func (s *MappingService) CountRuntimeFetch(tokenID int64) {
	if s.activity != nil {
		s.activity.count(tokenID, s.db.Now())
	}
}

// FlushRuntimeActivity adds the counted fetches to runtime_token_fetches. Counts of tokens
// revoked meanwhile are dropped; on an error the counts are kept for the next flush.
func (s *MappingService) FlushRuntimeActivity(ctx context.Context) error {
	if s.activity == nil {
		return nil
	}
	s.activity.flushMu.Lock()
	defer s.activity.flushMu.Unlock()
	counts := s.activity.take(s.db.Now())
	if len(counts) == 0 {
		return nil
	}
	err := s.db.inTx(ctx, true, func(tx *Tx) error {
		tx.keepEnv() // counters change no variables: the runtime cache stays
		for key, n := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO runtime_token_fetches (token_id, hour, fetches)
				SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM runtime_tokens WHERE id = ?)
				ON CONFLICT (token_id, hour) DO UPDATE SET fetches = runtime_token_fetches.fetches + excluded.fetches`,
				key.token, activityHour(key.hour), n, key.token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for key, n := range counts {
			c, _ := s.activity.counters.LoadOrStore(key, new(atomic.Int64))
			c.(*atomic.Int64).Add(n)
		}
		return fmt.Errorf("flush runtime activity: %w", err)
	}
	return nil
}

// RunRuntimeActivityFlusher flushes every interval until ctx ends, then once more.
func (s *MappingService) RunRuntimeActivityFlusher(ctx context.Context, interval time.Duration, logError func(error)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushRuntimeActivity(context.WithoutCancel(ctx)); err != nil {
				logError(err)
			}
			return
		case <-ticker.C:
			if err := s.FlushRuntimeActivity(ctx); err != nil {
				logError(err)
			}
		}
	}
}

func activityHour(unixHour int64) string { return formatTime(time.Unix(unixHour*3600, 0)) }

// runtimeActivity fills each token's Activity: fetches per hour over the last ActivityHours,
// oldest first, from the table and the counts not flushed yet.
func (s *MappingService) fillRuntimeActivity(ctx context.Context, tx *Tx, componentID int64, tokens []*junction.RuntimeToken) error {
	if len(tokens) == 0 {
		return nil
	}
	last := s.db.Now().Unix() / 3600
	first := last - ActivityHours + 1
	byID := map[int64]*junction.RuntimeToken{}
	for _, t := range tokens {
		t.Activity = make([]int64, ActivityHours)
		byID[t.ID] = t
	}
	add := func(token, hour, n int64) {
		if t, ok := byID[token]; ok && hour >= first && hour <= last {
			t.Activity[hour-first] += n
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT f.token_id, f.hour, f.fetches FROM runtime_token_fetches f
		JOIN runtime_tokens t ON t.id = f.token_id WHERE t.component_id = ? AND f.hour >= ?`, componentID, activityHour(first))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var token, n int64
		var hour string
		if err := rows.Scan(&token, &hour, &n); err != nil {
			return err
		}
		add(token, parseTime(hour).Unix()/3600, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if s.activity != nil {
		for key, n := range s.activity.pending() {
			add(key.token, key.hour, n)
		}
	}
	return nil
}
