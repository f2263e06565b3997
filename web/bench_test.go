package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction"
)

// BenchmarkProjectsAPI measures GET /api/v1/projects through the whole stack (bearer-token
// lookup, authorization, SQLite query, JSON) and, in the same run and over the same loopback
// HTTP client, a bare net/http handler that writes a JSON body of the same size. It reports
// the ratio as x_baseline, so the figure means the same on a slow or a busy machine.
func BenchmarkProjectsAPI(b *testing.B) {
	ts := newTestServer(b)
	admin := ts.createUser(b, "ada@example.com", true)
	for i := range 25 {
		p := &junction.Project{Handle: fmt.Sprintf("project-%02d", i), Name: fmt.Sprintf("Project %02d", i)}
		require.NoError(b, ts.svc.Projects.CreateProject(as(admin), p))
	}
	token := ts.token(b, admin)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url, token string) []byte {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		return body
	}
	sample := get(ts.URL+"/api/v1/projects", token)
	baseline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(sample)
	}))
	defer baseline.Close()

	b.ResetTimer()
	start := time.Now()
	for range b.N {
		get(ts.URL+"/api/v1/projects", token)
	}
	ours := time.Since(start)
	b.StopTimer()
	start = time.Now()
	for range b.N {
		get(baseline.URL, "")
	}
	bare := time.Since(start)
	b.ReportMetric(float64(ours)/float64(bare), "x_baseline")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "baseline_ns/op")
}
