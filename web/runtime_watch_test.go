package web_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runtimeFetch is one GET /api/v1/runtime/env with a runtime token and optional
// If-None-Match; it returns the status, the ETag and the body.
func (ts *testServer) runtimeFetch(t *testing.T, query, token, ifNoneMatch string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/runtime/env"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("ETag"), string(body)
}

// TestRuntimeEnvConditional checks the runtime API's conditional and long-poll fetches:
// ETag and 304, ?wait= answered by a change or at the end of the wait, a revoke during a wait,
// the bound on waits per token, and shutdown ending the waits.
func TestRuntimeEnvConditional(t *testing.T) {
	f := newMappingFixture(t)
	f.mustPut(t, "orders", f.twilioID, f.twilioMap)
	status, created := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", f.admin, `{"environment":"development"}`)
	require.Equal(t, http.StatusCreated, status, "%v", created)
	token := created["token"].(string)
	rename := func(url string) {
		t.Helper()
		m := map[string]string{"ServiceURL": url, "AccountSID": "TWILIO_SID", "AuthToken": "TWILIO_TOKEN"}
		f.mustPut(t, "orders", f.twilioID, m)
	}

	status, etag, body := f.runtimeFetch(t, "", token, "")
	require.Equal(t, http.StatusOK, status)
	require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)
	require.Contains(t, body, "TWILIO_URL")

	t.Run("NotModified", func(t *testing.T) {
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			status, got, body := f.runtimeFetch(t, "", token, inm)
			require.Equal(t, http.StatusNotModified, status, inm)
			require.Equal(t, etag, got, "a 304 names the current tag")
			require.Empty(t, body)
		}
		status, _, _ := f.runtimeFetch(t, "", token, `"stale"`)
		require.Equal(t, http.StatusOK, status)
		status, dotenvTag, _ := f.runtimeFetch(t, "?format=dotenv", token, etag)
		require.Equal(t, http.StatusOK, status, "another format is another document")
		require.NotEqual(t, etag, dotenvTag)
	})

	t.Run("BadWait", func(t *testing.T) {
		for _, wait := range []string{"soon", "61s", "-1s", "2m"} {
			status, body := f.api(t, http.MethodGet, "/api/v1/runtime/env?wait="+wait, token, "")
			require.Equal(t, http.StatusUnprocessableEntity, status, wait)
			_, fields := apiError(t, body)
			require.Contains(t, fields, "wait")
		}
	})

	t.Run("WaitEndsUnchanged", func(t *testing.T) {
		status, got, _ := f.runtimeFetch(t, "?wait=1", token, etag) // plain seconds work too
		require.Equal(t, http.StatusNotModified, status)
		require.Equal(t, etag, got)
	})

	t.Run("WaitWithoutTagAnswersAtOnce", func(t *testing.T) {
		status, _, _ := f.runtimeFetch(t, "?wait=60s", token, "")
		require.Equal(t, http.StatusOK, status)
	})

	t.Run("ChangeEndsWait", func(t *testing.T) {
		type answer struct {
			status     int
			etag, body string
		}
		done := make(chan answer, 1)
		go func() {
			status, got, body := f.runtimeFetch(t, "?wait=30s", token, etag)
			done <- answer{status, got, body}
		}()
		// Whether the change lands before or during the wait, the answer is the new version.
		rename("TWILIO_SERVICE_URL")
		a := <-done
		require.Equal(t, http.StatusOK, a.status)
		require.NotEqual(t, etag, a.etag)
		require.Contains(t, a.body, "TWILIO_SERVICE_URL")
		etag = a.etag
	})

	t.Run("TooManyWaits", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				status, _, _ := f.runtimeFetch(t, "?wait=60s", token, etag)
				for status == http.StatusTooManyRequests { // a probe below held a place
					time.Sleep(50 * time.Millisecond)
					status, _, _ = f.runtimeFetch(t, "?wait=60s", token, etag)
				}
				assert.Equal(t, http.StatusOK, status, "released by the change below")
			})
		}
		// The 17th wait is refused once the 16 hold their places; until then it holds one for
		// a second.
		var refused bool
		for range 30 {
			req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v1/runtime/env?wait=1s", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("If-None-Match", etag)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			if res.StatusCode == http.StatusTooManyRequests {
				require.Equal(t, "5", res.Header.Get("Retry-After"))
				refused = true
				break
			}
			require.Equal(t, http.StatusNotModified, res.StatusCode)
			time.Sleep(200 * time.Millisecond) // leave the place to a retrying waiter
		}
		require.True(t, refused, "a 17th wait of one token is refused with 429")
		status, _, _ := f.runtimeFetch(t, "", token, etag)
		require.Equal(t, http.StatusNotModified, status, "plain fetches are not limited")
		rename("TWILIO_URL")
		wg.Wait()
		_, etag, _ = f.runtimeFetch(t, "", token, "")
	})

	t.Run("RevokeEndsWait", func(t *testing.T) {
		_, created := f.api(t, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", f.admin, `{"environment":"development"}`)
		doomed := created["token"].(string)
		id := created["id"].(float64)
		_, tag, _ := f.runtimeFetch(t, "", doomed, "")
		done := make(chan int, 1)
		go func() {
			status, _, _ := f.runtimeFetch(t, "?wait=30s", doomed, tag)
			done <- status
		}()
		status, _ := f.api(t, http.MethodDelete, "/api/v1/projects/shop/components/orders/runtime-tokens/"+strconv.FormatInt(int64(id), 10), f.admin, "")
		require.Equal(t, http.StatusNoContent, status)
		require.Equal(t, http.StatusUnauthorized, <-done, "a token revoked during its wait gets 401")
	})

	t.Run("FastPathHeaders", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v1/runtime/env", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"), "secrets stay out of caches")
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.NotEmpty(t, res.Header.Get("X-Request-ID"))
	})

	t.Run("ShutdownEndsWaits", func(t *testing.T) {
		done := make(chan int, 1)
		go func() {
			status, _, _ := f.runtimeFetch(t, "?wait=60s", token, etag)
			done <- status
		}()
		// Shutting down ends the waits with 304, whether they started before or after.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		require.NoError(t, f.server.Shutdown(ctx))
		require.Equal(t, http.StatusNotModified, <-done)
	})
}
