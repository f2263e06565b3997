package db_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

// activityFixture is a component with a mapped connection and two runtime tokens.
func activityFixture(t *testing.T) (*connFixture, *db.MappingService, []string) {
	t.Helper()
	f := newConnFixture(t)
	mappings := db.NewMappingService(f.store, f.conns)
	keyed := f.mustCreateService(t, f.developer, withSecurity(internalService("shop", "inventory", "Keyed API", junction.VisibilityOrganization), junction.SecurityAPIKey))
	conn := f.connect(t, f.developer, "shop", "inventory", keyed.ID, "keyed")
	ctx := ContextAs(t, f.developer)
	_, err := mappings.SetMappings(ctx, "shop", "inventory", conn.ID, map[string]string{"ServiceURL": "KEYED_URL", "ChoreoAPIKey": "KEYED_KEY"})
	require.NoError(t, err)
	var tokens []string
	for _, env := range []string{"production", "development"} {
		_, token, err := mappings.CreateRuntimeToken(ctx, "shop", "inventory", env)
		require.NoError(t, err)
		tokens = append(tokens, token)
	}
	return f, mappings, tokens
}

func TestRuntimeActivity(t *testing.T) {
	f, mappings, tokens := activityFixture(t)
	ctx := ContextAs(t, f.developer)
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	f.store.Now = func() time.Time { return now }
	fetch := func(token string, n int) {
		t.Helper()
		for range n {
			_, err := mappings.RuntimeEnv(t.Context(), token)
			require.NoError(t, err)
		}
	}
	activity := func() map[string][]int64 {
		t.Helper()
		list, err := mappings.FindRuntimeTokens(ctx, "shop", "inventory")
		require.NoError(t, err)
		out := map[string][]int64{}
		for _, tok := range list {
			require.Len(t, tok.Activity, db.ActivityHours)
			out[tok.Environment] = tok.Activity
		}
		return out
	}
	last := db.ActivityHours - 1

	fetch(tokens[0], 3)
	require.EqualValues(t, 3, activity()["production"][last], "counts not flushed yet show")
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()))
	require.EqualValues(t, 3, activity()["production"][last], "flushed counts show once, not twice")

	fetch(tokens[0], 2)
	fetch(tokens[1], 1)
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()))
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()), "an empty flush is fine")
	a := activity()
	require.EqualValues(t, 5, a["production"][last], "flushes add up in the same hour")
	require.EqualValues(t, 1, a["development"][last])

	// Two hours later: the earlier hour moves left, the new one starts at zero.
	now = now.Add(2 * time.Hour)
	fetch(tokens[0], 4)
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()))
	a = activity()
	require.EqualValues(t, 4, a["production"][last])
	require.EqualValues(t, 0, a["production"][last-1])
	require.EqualValues(t, 5, a["production"][last-2])

	// A week on, the first hours fall out of the window.
	now = now.Add(7 * 24 * time.Hour)
	a = activity()
	var total int64
	for _, n := range a["production"] {
		total += n
	}
	require.Zero(t, total)

	// A fetch counted before its token was revoked is dropped at the flush, not an error.
	fetch(tokens[1], 1)
	list, err := mappings.FindRuntimeTokens(ctx, "shop", "inventory")
	require.NoError(t, err)
	for _, tok := range list {
		require.NoError(t, mappings.RevokeRuntimeToken(ctx, "shop", "inventory", tok.ID))
	}
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()))
}

// TestRuntimeActivityConcurrent: counts from many goroutines racing with flushes all land.
func TestRuntimeActivityConcurrent(t *testing.T) {
	f, mappings, tokens := activityFixture(t)
	var wg sync.WaitGroup
	const workers, each = 8, 200
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, err := mappings.RuntimeEnv(t.Context(), tokens[0])
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			if err := mappings.FlushRuntimeActivity(t.Context()); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	require.NoError(t, mappings.FlushRuntimeActivity(t.Context()))
	list, err := mappings.FindRuntimeTokens(ContextAs(t, f.developer), "shop", "inventory")
	require.NoError(t, err)
	var total int64
	for _, tok := range list {
		for _, n := range tok.Activity {
			total += n
		}
	}
	require.EqualValues(t, workers*each, total)
}

// BenchmarkRuntimeEnvCounting compares the cached runtime fetch with the activity counter
// (the default) and without it: the counter's cost is the difference.
func BenchmarkRuntimeEnvCounting(b *testing.B) {
	for _, counting := range []bool{false, true} {
		name := "NoCounter"
		if counting {
			name = "Counter"
		}
		b.Run(name, func(b *testing.B) {
			mappings, tokens := activityFixtureB(b)
			if !counting {
				db.DisableRuntimeActivity(mappings)
			}
			ctx := b.Context()
			if _, err := mappings.RuntimeEnv(ctx, tokens[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := mappings.RuntimeEnv(ctx, tokens[0]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkCountRuntimeFetch is the counter alone, one token, from parallel goroutines.
func BenchmarkCountRuntimeFetch(b *testing.B) {
	mappings, _ := activityFixtureB(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mappings.CountRuntimeFetch(1)
		}
	})
}

// activityFixtureB is a component with one mapped third-party connection and a runtime
// token, for benchmarks.
func activityFixtureB(tb testing.TB) (*db.MappingService, []string) {
	tb.Helper()
	store := MustOpenDB(tb)
	admin := MustCreateUser(tb, store, "admin@example.com", true)
	MustCreateProject(tb, store, admin, "shop", "Shop")
	MustCreateComponent(tb, store, admin, "shop", "orders")
	ctx := ContextAs(tb, admin)
	svc := thirdPartyService("Twilio")
	require.NoError(tb, db.NewServiceService(store).CreateService(ctx, svc))
	conns := db.NewConnectionService(store, "http://localhost/oauth2/token")
	conn := &junction.Connection{Name: "twilio", Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: svc.ID}}
	require.NoError(tb, conns.CreateConnection(ctx, conn))
	mappings := db.NewMappingService(store, conns)
	_, err := mappings.SetMappings(ctx, "shop", "orders", conn.ID, map[string]string{"ServiceURL": "TWILIO_URL", "AccountSID": "TWILIO_SID", "AuthToken": "TWILIO_TOKEN"})
	require.NoError(tb, err)
	_, token, err := mappings.CreateRuntimeToken(ctx, "shop", "orders", "production")
	require.NoError(tb, err)
	return mappings, []string{token}
}

// BenchmarkCountRuntimeFetchSerial is the counter alone from one goroutine: no contention.
func BenchmarkCountRuntimeFetchSerial(b *testing.B) {
	mappings, _ := activityFixtureB(b)
	b.ReportAllocs()
	for b.Loop() {
		mappings.CountRuntimeFetch(1)
	}
}
