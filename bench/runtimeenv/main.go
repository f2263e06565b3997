// Command runtimeenv measures GET /api/v1/runtime/env under load: it starts Junction (a
// component with 3 connections and 15 mapped variables) on SQLite, and as two replicas on one
// throwaway PostgreSQL database, and a bare net/http server that returns a 15-variable JSON
// document, each in a process of its own on 127.0.0.1. It drives them with the same
// closed-loop load (64 connections, a few seconds each, bounded) and reports requests per
// second, p50 and p99 for JSON, dotenv and a 304 (If-None-Match) through one replica, and
// JSON round-robin over two PostgreSQL replicas, each beside the bare server measured just
// before it. Run it with `make bench`; -engines sqlite skips PostgreSQL, -cpuprofile writes a
// profile of each engine's first server.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
	"github.com/junction-dev/junction/web"
)

func main() {
	mode := flag.String("mode", "", "internal: junction or bare server")
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 4*time.Second, "load duration per target")
	engines := flag.String("engines", "sqlite,postgres", "database engines to measure, comma-separated")
	dsn := flag.String("dsn", "", "internal: the database of a junction server")
	seed := flag.Bool("seed", true, "internal: seed the database before serving")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the (first) Junction server to this file")
	flag.Parse()
	var err error
	switch *mode {
	case "junction":
		err = serveJunction(*dsn, *seed, *cpuprofile)
	case "bare":
		err = serveBare()
	default:
		err = orchestrate(*conns, *duration, strings.Split(*engines, ","), *cpuprofile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runtimeenv:", err)
		os.Exit(1)
	}
}

// benchKey is the installation key of the benchmark's databases: every replica shares it.
var benchKey = make([]byte, 32)

// serveJunction serves the console on dsn, first seeding it (when seed is set) with a
// component of 3 connections and 15 mapped variables and a runtime token in a settings row;
// it prints "URL TOKEN VARIABLES" when ready, and stops (writing its CPU profile) on SIGTERM.
func serveJunction(dsn string, seed bool, cpuprofile string) error {
	ctx := context.Background()
	store, err := db.Open(ctx, dsn, benchKey)
	if err != nil {
		return err
	}
	defer store.Close()
	conns := db.NewConnectionService(store, "")
	users := db.NewUserService(store)
	users.PasswordCost = 4
	svc := web.Services{Users: users, Projects: db.NewProjectService(store), Components: db.NewComponentService(store),
		Environments: db.NewEnvironmentService(store), Services: db.NewServiceService(store), Connections: conns,
		Mappings: db.NewMappingService(store, conns), Audit: db.NewAuditService(store)}
	token, mapped := os.Getenv("BENCH_TOKEN"), 15
	if seed {
		if token, mapped, err = seedComponent(ctx, svc); err != nil {
			return err
		}
	}
	server := web.NewServer(svc, db.DeriveKey(benchKey, "h"), db.DeriveKey(benchKey, "b"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := server.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	fmt.Printf("%s %s %d\n", server.URL(), token, mapped)
	return server.Serve()
}

// seedComponent makes the benchmark's component and returns a runtime token of it.
func seedComponent(ctx context.Context, svc web.Services) (string, int, error) {
	admin := &junction.User{Email: "admin@example.com", IsAdmin: true}
	if err := svc.Users.CreateUser(ctx, admin, "load-test-password"); err != nil {
		return "", 0, err
	}
	as := junction.NewContextWithUser(ctx, admin)
	if err := svc.Projects.CreateProject(as, &junction.Project{Handle: "shop", Name: "Shop"}); err != nil {
		return "", 0, err
	}
	if err := svc.Components.CreateComponent(as, "shop", &junction.Component{Handle: "orders", Name: "Orders"}); err != nil {
		return "", 0, err
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
			return "", 0, err
		}
		conn := &junction.Connection{Name: s.Name, Project: "shop", Component: "orders", Service: junction.ServiceRef{ID: s.ID}}
		if err := svc.Connections.CreateConnection(as, conn); err != nil {
			return "", 0, err
		}
		names := map[string]string{}
		for _, p := range conn.Parameters {
			names[p.Name] = junction.SuggestEnvName(conn.Name, p.Name)
		}
		mapped += len(names)
		if _, err := svc.Mappings.SetMappings(as, "shop", "orders", conn.ID, names); err != nil {
			return "", 0, err
		}
	}
	_, token, err := svc.Mappings.CreateRuntimeToken(as, "shop", "orders", "production")
	return token, mapped, err
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

// start runs this program in a mode with args and returns its first line of output.
func start(mode string, env []string, args ...string) (*exec.Cmd, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, append([]string{"-mode", mode}, args...)...)
	cmd.Env = append(os.Environ(), env...)
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

// stop ends a server started by start, letting it write its profile.
func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
	}
}

type result struct {
	requests int
	errors   int
	rps      float64
	p50, p99 time.Duration
}

// target is what a load drives: URLs taken in turn (round-robin over replicas), the
// runtime token, an If-None-Match to send, and the status every answer must have.
type target struct {
	urls        []string
	token       string
	ifNoneMatch string
	status      int
}

// load drives the target with n closed-loop clients for d and measures every request.
func load(tg target, n int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var latencies []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for j := i; time.Now().Before(deadline); j++ {
				req, _ := http.NewRequest(http.MethodGet, tg.urls[j%len(tg.urls)], nil)
				if tg.token != "" {
					req.Header.Set("Authorization", "Bearer "+tg.token)
				}
				if tg.ifNoneMatch != "" {
					req.Header.Set("If-None-Match", tg.ifNoneMatch)
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != tg.status {
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

// replicas are the Junction servers of one engine, with the runtime token they serve.
type replicas struct {
	urls  []string
	token string
	cmds  []*exec.Cmd
}

// startEngine starts Junction on the engine: one server on a SQLite file, or two replicas
// on one PostgreSQL database (the first seeds it).
func startEngine(engine, dir, cpuprofile string) (*replicas, func(), error) {
	var dsn string
	cleanup := func() {}
	switch engine {
	case "sqlite":
		dsn = filepath.Join(dir, "junction.db")
	case "postgres":
		cluster, err := pgtest.StartStandalone()
		if err != nil {
			return nil, nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		cleanup = func() { cluster.Shutdown() }
		if dsn, err = cluster.CreateDatabase(fmt.Sprintf("bench_%d", time.Now().UnixNano())); err != nil {
			cleanup()
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("unknown engine %q: use sqlite or postgres", engine)
	}
	r := &replicas{}
	args := []string{"-dsn", dsn}
	if cpuprofile != "" {
		args = append(args, "-cpuprofile", strings.TrimSuffix(cpuprofile, ".pprof")+"-"+engine+".pprof")
	}
	cmd, f, err := start("junction", nil, args...)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	r.cmds, r.urls, r.token = append(r.cmds, cmd), append(r.urls, f[0]+"/api/v1/runtime/env"), f[1]
	if engine == "postgres" {
		cmd, f, err := start("junction", []string{"BENCH_TOKEN=" + r.token}, "-dsn", dsn, "-seed=false")
		if err != nil {
			stop(r.cmds[0])
			cleanup()
			return nil, nil, err
		}
		r.cmds, r.urls = append(r.cmds, cmd), append(r.urls, f[0]+"/api/v1/runtime/env")
	}
	return r, func() {
		for _, cmd := range r.cmds {
			stop(cmd)
		}
		cleanup()
	}, nil
}

// fetchOnce checks an answer: its status, ETag and body.
func fetchOnce(url, token string) (etag string, body []byte, err error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	body, err = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("%s answered %s: %s", url, res.Status, body)
	}
	return res.Header.Get("ETag"), body, err
}

func orchestrate(n int, d time.Duration, engines []string, cpuprofile string) error {
	bareCmd, bf, err := start("bare", nil)
	if err != nil {
		return err
	}
	defer stop(bareCmd)
	bare := target{urls: []string{bf[0]}, status: http.StatusOK}
	dir, err := os.MkdirTemp("", "junction-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("%d connections, %s per target; each Junction figure is compared with the bare server measured just before it\n", n, d)
	fmt.Printf("%-34s %9s %7s %9s %9s %8s %8s\n", "target", "req/s", "errors", "p50", "p99", "tput", "p99")
	row := func(name string, r, base result) {
		fmt.Printf("%-34s %9.0f %7d %9s %9s %7.2fx %7.2fx\n", name, r.rps, r.errors, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), r.rps/base.rps, float64(r.p99)/float64(base.p99))
	}
	jsonRatio := map[string]float64{}
	etags := map[string]string{}
	for _, engine := range engines {
		r, cleanup, err := startEngine(engine, dir, cpuprofile)
		if err != nil {
			return err
		}
		etag, body, err := fetchOnce(r.urls[len(r.urls)-1], r.token)
		if err != nil {
			cleanup()
			return err
		}
		var vars map[string]string
		json.Unmarshal(body, &vars)
		etags[engine] = etag
		fmt.Printf("%s: runtime env answers %d variables, ETag %s\n", engine, len(vars), etag)
		one := func(format string) target {
			return target{urls: []string{r.urls[0] + "?format=" + format}, token: r.token, status: http.StatusOK}
		}
		notModified := target{urls: []string{r.urls[0]}, token: r.token, ifNoneMatch: etag, status: http.StatusNotModified}
		load(one("json"), n, time.Second) // warm up
		measure := func(name string, tg target) float64 {
			base := load(bare, n, d)
			res := load(tg, n, d)
			row(engine+" "+name, res, base)
			row("  bare net/http", base, base)
			return res.rps / base.rps
		}
		jsonRatio[engine] = measure("json", one("json"))
		measure("dotenv", one("dotenv"))
		measure("304 (If-None-Match)", notModified)
		if len(r.urls) > 1 {
			measure("json, 2 replicas round-robin", target{urls: r.urls, token: r.token, status: http.StatusOK})
		}
		cleanup()
	}
	if pg, lite := jsonRatio["postgres"], jsonRatio["sqlite"]; pg > 0 && lite > 0 {
		// Each against the bare server measured beside it, so that a busier minute on one
		// engine does not count against it.
		fmt.Printf("json throughput PostgreSQL/SQLite, each relative to bare: %.2f (goal >= 0.8)\n", pg/lite)
	}
	if len(etags) == 2 {
		fmt.Printf("same variables, same ETag on both engines: %v\n", etags["sqlite"] == etags["postgres"])
	}
	fmt.Println("goals: throughput >= 0.8x of bare, p99 <= 1.5x of bare")
	return nil
}
