package db_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/db"
)

// TestSignInLimits: concurrent attempts from two stores on one database (two replicas) spend
// one bucket: exactly burst go ahead, then one more per interval.
func TestSignInLimits(t *testing.T) {
	store, path, key := MustOpenDBWithKey(t)
	other := store
	if testEngine() == "postgres" {
		other = MustReopenDB(t, path, key) // a second process's pool
	}
	limits := []*db.SignInLimits{db.NewSignInLimits(store), db.NewSignInLimits(other)}
	now := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := limits[i%2].Allow(t.Context(), "198.51.100.7\x00ada@example.com", now, 6*time.Second, 10)
			if err != nil {
				t.Error(err)
			} else if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 10, allowed.Load(), "exactly the burst goes ahead")

	ok, err := limits[0].Allow(t.Context(), "198.51.100.7\x00ada@example.com", now.Add(5*time.Second), 6*time.Second, 10)
	require.NoError(t, err)
	require.False(t, ok, "no attempt back before the interval")
	ok, err = limits[1].Allow(t.Context(), "198.51.100.7\x00ada@example.com", now.Add(6*time.Second), 6*time.Second, 10)
	require.NoError(t, err)
	require.True(t, ok, "one attempt back after the interval")
	ok, err = limits[1].Allow(t.Context(), "198.51.100.7\x00bob@example.com", now, 6*time.Second, 10)
	require.NoError(t, err)
	require.True(t, ok, "another key has its own bucket")

	var stored int
	require.NoError(t, store.ReadPool().QueryRow(`SELECT COUNT(*) FROM sign_in_limits WHERE key_hash LIKE '%ada%'`).Scan(&stored))
	require.Zero(t, stored, "keys are stored as digests")
}
