package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runtimeOn fetches the runtime env from replica r; with etag and wait set it is a long poll.
func (rs *replicaSet) runtimeOn(r *replica, token, etag, wait string) (status int, newETag string, values map[string]string, err error) {
	url := r.url + "/api/v1/runtime/env"
	if wait != "" {
		url += "?wait=" + wait
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := replicaClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &values); err != nil {
			return 0, "", nil, fmt.Errorf("%s: %v", body, err)
		}
	}
	return res.StatusCode, res.Header.Get("ETag"), values, nil
}

// runtimeChangesServedByB checks that a mapping change, a rotation and a revoke made on
// replica A reach a long poll waiting on replica B within a second: the poll waits 30 s, so
// its 200 (or 401) can only come from A's change.
func (rs *replicaSet) runtimeChangesServedByB(t *testing.T) {
	svc := rs.oauthService(t, "Journal")
	conn := rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components/orders/connections",
		`{"name":"ledger","service_id":"`+svc+`"}`)
	connID := conn["id"].(string)
	mapTo := func(url string) {
		rs.mustAPI(t, rs.A, http.StatusOK, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+connID,
			`{"mappings":{"ServiceURL":"`+url+`","ConsumerKey":"LEDGER_KEY","ConsumerSecret":"LEDGER_SECRET","TokenURL":"LEDGER_TOKEN_URL"}}`)
	}
	mapTo("LEDGER_URL")
	created := rs.mustAPI(t, rs.A, http.StatusCreated, http.MethodPost, "/api/v1/projects/shop/components/orders/runtime-tokens", `{"environment":"production"}`)
	token := created["token"].(string)
	tokenID := fmt.Sprint(created["id"])

	status, etag, values, err := rs.runtimeOn(rs.B, token, "", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, values, "LEDGER_URL")

	type answer struct {
		status int
		etag   string
		values map[string]string
		at     time.Time
		err    error
	}
	// waitOnB starts a long poll on B with the current tag, makes the change on A, and
	// returns B's answer and how long after A's answer it came.
	waitOnB := func(what string, change func()) (answer, time.Duration) {
		t.Helper()
		done := make(chan answer, 1)
		go func() {
			status, tag, values, err := rs.runtimeOn(rs.B, token, etag, "30s")
			done <- answer{status, tag, values, time.Now(), err}
		}()
		time.Sleep(100 * time.Millisecond) // let the poll reach B (if it does not, it answers at once: same result)
		change()
		changed := time.Now()
		a := <-done
		require.NoError(t, a.err)
		took := max(a.at.Sub(changed), 0)
		t.Logf("%s on A reached the long poll on B after %s", what, took.Round(time.Millisecond))
		require.Less(t, took, time.Second, "%s on A is served by B within 1 s", what)
		return a, took
	}

	a, _ := waitOnB("a mapping change", func() { mapTo("LEDGER_SERVICE_URL") })
	require.Equal(t, http.StatusOK, a.status)
	require.Contains(t, a.values, "LEDGER_SERVICE_URL")
	require.NotEqual(t, etag, a.etag)
	secret := a.values["LEDGER_SECRET"]
	etag = a.etag

	a, _ = waitOnB("a rotation", func() {
		rs.mustAPI(t, rs.A, http.StatusOK, http.MethodPost, "/api/v1/connections/"+connID+"/rotate", `{"environment":"production"}`)
	})
	require.Equal(t, http.StatusOK, a.status)
	require.NotEqual(t, secret, a.values["LEDGER_SECRET"], "B serves the rotated secret")
	etag = a.etag

	a, _ = waitOnB("a revoke", func() {
		status, body := rs.apiOn(rs.A, http.MethodDelete, "/api/v1/projects/shop/components/orders/runtime-tokens/"+tokenID, "")
		require.Equal(t, http.StatusNoContent, status, body)
	})
	require.Equal(t, http.StatusUnauthorized, a.status, "a token revoked on A stops on B")
	require.False(t, strings.Contains(rs.B.logs.String(), token), "no token in B's log")
}
