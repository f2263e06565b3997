// Command runtimeenv measures GET /api/v1/runtime/env under load: it starts Junction (a
// component with 3 connections and 15 mapped variables) and a bare net/http server that
// returns a 15-variable JSON document, each in a process of its own on 127.0.0.1, drives both
// with the same closed-loop load (64 connections, a few seconds each, bounded) and reports
// requests per second, p50 and p99 latency and the ratio. Run it with `make bench`.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/web"
)

func main() {
	mode := flag.String("mode", "", "internal: junction or bare server")
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 4*time.Second, "load duration per target")
	flag.Parse()
	var err error
	switch *mode {
	case "junction":
		err = serveJunction()
	case "bare":
		err = serveBare()
	default:
		err = orchestrate(*conns, *duration)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runtimeenv:", err)
		os.Exit(1)
	}
}

// serveJunction seeds a database and serves the console; it prints "URL TOKEN" when ready.
func serveJunction() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "junction-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	store, err := db.Open(ctx, filepath.Join(dir, "junction.db"), key)
	if err != nil {
		return err
	}
	conns := db.NewConnectionService(store, "")
	users := db.NewUserService(store)
	users.PasswordCost = 4
	svc := web.Services{Users: users, Projects: db.NewProjectService(store), Components: db.NewComponentService(store),
		Environments: db.NewEnvironmentService(store), Services: db.NewServiceService(store), Connections: conns,
		Mappings: db.NewMappingService(store, conns), Audit: db.NewAuditService(store)}
	admin := &junction.User{Email: "admin@example.com", IsAdmin: true}
	if err := users.CreateUser(ctx, admin, "load-test-password"); err != nil {
		return err
	}
	as := junction.NewContextWithUser(ctx, admin)
	if err := svc.Projects.CreateProject(as, &junction.Project{Handle: "shop", Name: "Shop"}); err != nil {
		return err
	}
	if err := svc.Components.CreateComponent(as, "shop", &junction.Component{Handle: "orders", Name: "Orders"}); err != nil {
		return err
	}
	// Three connections with 15 parameters: Twilio (5), a database (5), an OAuth API (4) + 1.
	params := []junction.ServiceParameter{{Name: "AccountSID"}, {Name: "AuthToken", Secret: true}, {Name: "Region"}, {Name: "Edge"}}
	values := map[string]string{"AccountSID": "AC123", "AuthToken": "secret-token", "Region": "ie1", "Edge": "dublin"}
	services := []*junction.Service{
		{Kind: junction.KindThirdParty, Name: "Twilio", Version: "v1", Parameters: params,
			Endpoints: []junction.Endpoint{{Name: "live", URL: "https://api.twilio.example", Environments: []string{"production"}, Values: values}}},
		{Kind: junction.KindDatabase, Name: "orders-db", Engine: "postgres", Values: map[string]map[string]string{"production": {
			"HostName": "db.internal", "Port": "5432", "DatabaseName": "orders", "Username": "app", "Password": "db-secret"}}},
		{Kind: junction.KindThirdParty, Name: "Stripe", Version: "v1", Parameters: []junction.ServiceParameter{{Name: "PublishableKey"}, {Name: "SecretKey", Secret: true}, {Name: "Account"}, {Name: "WebhookSecret", Secret: true}},
			Endpoints: []junction.Endpoint{{Name: "live", URL: "https://api.stripe.example", Environments: []string{"production"},
				Values: map[string]string{"PublishableKey": "pk", "SecretKey": "sk", "Account": "acct", "WebhookSecret": "whsec"}}}},
	}
	mapped := 0
	for _, s := range services {
		if err := svc.Services.CreateService(as, s); err != nil {
			return err
		}
		conn := &junction.Connection{Name: s.Name, Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: s.ID}}
		if err := svc.Connections.CreateConnection(as, conn); err != nil {
			return err
		}
		names := map[string]string{}
		for _, p := range conn.Parameters {
			names[p.Name] = junction.SuggestEnvName(conn.Name, p.Name)
		}
		mapped += len(names)
		if _, err := svc.Mappings.SetMappings(as, "shop", "orders", conn.ID, names); err != nil {
			return err
		}
	}
	_, token, err := svc.Mappings.CreateRuntimeToken(as, "shop", "orders", "production")
	if err != nil {
		return err
	}
	server := web.NewServer(svc, db.DeriveKey(key, "h"), db.DeriveKey(key, "b"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := server.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	fmt.Printf("%s %s %d\n", server.URL(), token, mapped)
	return server.Serve()
}

// serveBare serves a fixed 15-variable JSON document; it prints its URL when ready.
func serveBare() error {
	doc := map[string]string{}
	for i := range 15 {
		doc[fmt.Sprintf("VARIABLE_%02d", i)] = strings.Repeat("v", 24)
	}
	body, _ := json.Marshal(doc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
}

// start runs this program in a mode and returns its first line of output.
func start(mode string) (*exec.Cmd, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "-mode", mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, nil, fmt.Errorf("%s server did not start: %w", mode, err)
	}
	return cmd, strings.Fields(line), nil
}

type result struct {
	requests int
	errors   int
	rps      float64
	p50, p99 time.Duration
}

// load drives url with n closed-loop clients for d and measures every request.
func load(url, token string, n int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var latencies []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	r := result{requests: len(latencies), errors: errs, rps: float64(len(latencies)) / elapsed.Seconds()}
	if len(latencies) > 0 {
		r.p50 = latencies[len(latencies)/2]
		r.p99 = latencies[len(latencies)*99/100]
	}
	return r
}

func orchestrate(n int, d time.Duration) error {
	junctionCmd, jf, err := start("junction")
	if err != nil {
		return err
	}
	defer junctionCmd.Process.Kill()
	bareCmd, bf, err := start("bare")
	if err != nil {
		return err
	}
	defer bareCmd.Process.Kill()
	url, token := jf[0]+"/api/v1/runtime/env", jf[1]

	// Check the answer once: the 15 mapped variables, secrets in clear.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var vars map[string]string
	json.NewDecoder(res.Body).Decode(&vars)
	res.Body.Close()
	fmt.Printf("runtime env answers %d variables (%s)\n", len(vars), hex.EncodeToString([]byte(vars["TWILIO_AUTHTOKEN"]))[:8]+"…")

	load(url, token, n, time.Second) // warm up
	j := load(url, token, n, d)
	b := load(bf[0], "", n, d)
	fmt.Printf("%-22s %10s %8s %10s %10s\n", "target", "req/s", "errors", "p50", "p99")
	fmt.Printf("%-22s %10.0f %8d %10s %10s\n", "junction runtime/env", j.rps, j.errors, j.p50.Round(10*time.Microsecond), j.p99.Round(10*time.Microsecond))
	fmt.Printf("%-22s %10.0f %8d %10s %10s\n", "bare net/http", b.rps, b.errors, b.p50.Round(10*time.Microsecond), b.p99.Round(10*time.Microsecond))
	fmt.Printf("throughput ratio junction/bare: %.2f (goal >= 0.5); p99 ratio: %.2f\n", j.rps/b.rps, float64(j.p99)/float64(b.p99))
	return nil
}
