package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/db"
)

const crashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

// startBinary runs `junction serve` from bin and returns its URL.
func startBinary(t *testing.T, bin, dbPath string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbPath)
	cmd.Env = append(os.Environ(), "JUNCTION_SECRET_KEY="+crashKey)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	url := strings.Fields(strings.TrimPrefix(line, "Junction is running at "))[0]
	return cmd, url
}

// TestCrashSafety starts the real binary, drives writes (connections with their OAuth
// applications and mappings), kills it with SIGKILL at random moments several times and
// restarts it. Afterwards the database must pass integrity_check, hold every acknowledged
// write, and have no half-made connection or orphan OAuth application.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "junction")
	build := exec.Command("go", "build", "-race", "-tags", "sqlite_fts5", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	dbPath := filepath.Join(dir, "junction.db")
	env := map[string]string{"JUNCTION_SECRET_KEY": crashKey}
	require.Equal(t, 0, runCLI(t, env, "user", "create", "--email", "ops@example.com", "--password", "crash-test-password", "--admin", "--db", dbPath).code)
	tok := runCLI(t, env, "token", "create", "--email", "ops@example.com", "--db", dbPath)
	require.Equal(t, 0, tok.code)
	token := strings.TrimSpace(tok.stdout)

	api := func(url, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		var sb strings.Builder
		bufio.NewReader(res.Body).WriteTo(&sb)
		return res.StatusCode, sb.String()
	}

	cmd, url := startBinary(t, bin, dbPath)
	status, _ := api(url, http.MethodPost, "/api/v1/projects", `{"handle":"shop","name":"Shop"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = api(url, http.MethodPost, "/api/v1/projects/shop/components", `{"handle":"orders","name":"Orders"}`)
	require.Equal(t, http.StatusCreated, status)
	status, body := api(url, http.MethodPost, "/api/v1/services", `{"kind":"internal","name":"Stock","version":"v1","project":"shop","component":"orders",
		"visibility":"organization","security":"oauth","urls":{"production":"https://stock"}}`)
	require.Equal(t, http.StatusCreated, status, body)
	serviceID := between(body, `"id":"`, `"`)

	var mu sync.Mutex
	acknowledged := map[string]string{} // connection ID -> name, when its mapping was acknowledged too
	kills := 0
	rounds := 4
	if os.Getenv("JUNCTION_SOAK") != "" {
		rounds = 25
	}
	for round := range rounds {
		if round > 0 {
			cmd, url = startBinary(t, bin, dbPath)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					scope := "/api/v1/projects/shop/connections"
					if i%2 == 1 {
						scope = "/api/v1/projects/shop/components/orders/connections"
					}
					status, body := api(url, http.MethodPost, scope, `{"name":"`+name+`","service_id":"`+serviceID+`"}`)
					if status != http.StatusCreated {
						continue // killed mid-request: not acknowledged
					}
					id := between(body, `"id":"`, `"`)
					upper := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
					status, _ = api(url, http.MethodPut, "/api/v1/projects/shop/components/orders/mappings/"+id,
						`{"mappings":{"ServiceURL":"`+upper+`_URL","ConsumerKey":"`+upper+`_KEY","ConsumerSecret":"`+upper+`_SECRET","TokenURL":"`+upper+`_TOKEN"}}`)
					if status == http.StatusOK {
						mu.Lock()
						acknowledged[id] = name
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		kills++
		close(stop)
		wg.Wait()
	}
	require.Positive(t, len(acknowledged), "some writes were acknowledged")

	// The database opens (migrations, key check), is sound, and holds every acknowledged write.
	store, err := db.Open(context.Background(), dbPath, mustHex(t, crashKey))
	require.NoError(t, err)
	defer store.Close()
	conn, err := sql.Open("sqlite3", dbPath)
	require.NoError(t, err)
	defer conn.Close()
	var check string
	var n2 int
	require.NoError(t, conn.QueryRow(`PRAGMA integrity_check`).Scan(&check))
	require.Equal(t, "ok", check)
	for id, name := range acknowledged {
		var n int
		require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM connections WHERE id = ? AND name = ?`, id, name).Scan(&n))
		require.Equal(t, 1, n, "acknowledged connection %s", name)
		require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM mappings WHERE connection_id = ?`, id).Scan(&n))
		require.Equal(t, 4, n, "acknowledged mappings of %s", name)
	}
	// Every acknowledged change has its audit entry, and no entry lacks its change: each is
	// written in the transaction of the change it records.
	for id, name := range acknowledged {
		var n int
		require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'connection.create' AND target_id = ? AND target_name = ?`, id, name).Scan(&n))
		require.Equal(t, 1, n, "the entry of acknowledged connection %s", name)
		require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'mappings.replace' AND details LIKE ?`, `%"connection_id":"`+id+`"%`).Scan(&n))
		require.Equal(t, 1, n, "the entry of the acknowledged mappings of %s", name)
	}
	var entriesWithoutChange, changesWithoutEntry, versions, mappingEntries int
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM audit_log a WHERE a.action = 'connection.create'
		AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.id = a.target_id)`).Scan(&entriesWithoutChange))
	require.Zero(t, entriesWithoutChange, "no connection.create entry without its connection")
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM connections c
		WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'connection.create' AND a.target_id = c.id)`).Scan(&changesWithoutEntry))
	require.Zero(t, changesWithoutEntry, "no connection without its entry")
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM mapping_versions`).Scan(&versions))
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'mappings.replace'`).Scan(&mappingEntries))
	require.Equal(t, versions, mappingEntries, "one mappings entry per stored version, and the other way round")
	require.NoError(t, conn.QueryRow(`SELECT COUNT(DISTINCT connection_id) FROM mappings`).Scan(&n2))
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'mappings.replace'`).Scan(&mappingEntries))
	require.Equal(t, n2, mappingEntries, "each mapped connection has the entry of its one mappings write")

	var orphans, halfMade, apps int
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM oauth_apps a WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.oauth_app_id = a.id)`).Scan(&orphans))
	require.Zero(t, orphans, "no orphan OAuth application")
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM connections WHERE oauth_app_id IS NULL`).Scan(&halfMade))
	require.Zero(t, halfMade, "no connection to an OAuth service without its application")
	require.NoError(t, conn.QueryRow(`SELECT COUNT(*) FROM oauth_apps`).Scan(&apps))
	require.Equal(t, 2, apps, "one application for the project, one for the component")
	t.Logf("survived %d SIGKILLs; %d acknowledged connections with mappings", kills, len(acknowledged))
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	key, err := db.ParseKey(s)
	require.NoError(t, err)
	return key
}
