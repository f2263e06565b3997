package db_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
	"github.com/junction-dev/junction/internal/pgtest"
	"github.com/junction-dev/junction/views"
)

var benchTopics = []string{"payments", "orders", "billing", "invoices", "shipping", "inventory", "catalog", "search",
	"users", "identity", "accounts", "notifications", "email", "sms", "analytics", "reports", "events", "metrics",
	"logs", "storage", "files", "images", "video", "chat", "support", "tickets", "pricing", "tax", "fraud", "risk",
	"loyalty", "rewards", "reviews", "recommendations", "maps", "weather", "calendar", "booking", "scheduling", "twilio"}

var benchSuffixes = []string{"API", "Service", "Gateway", "Hub", "Engine", "Platform", "Connector", "Bridge"}

// benchCatalog is a seeded catalog of n services over a few projects, shared by benchmarks.
type benchCatalog struct {
	store    *db.DB
	services *db.ServiceService
	admin    *junction.User
	member   *junction.User
}

var (
	benchCatalogsMu sync.Mutex
	benchCatalogs   = map[string]*benchCatalog{}
	benchDirs       []string
)

// benchEngines are the engines the catalog benchmarks run on, each in the same run.
var benchEngines = []string{"sqlite", "postgres"}

// removeBenchCatalogs removes the benchmark catalogs, which outlive single benchmark
// functions; TestMain calls it.
func removeBenchCatalogs() {
	for _, c := range benchCatalogs {
		c.store.Close()
	}
	for _, dir := range benchDirs {
		os.RemoveAll(dir)
	}
}

// seedBenchCatalog builds (once per process and size) a catalog of n services: 40% internal
// with every visibility, 45% third-party, 15% databases; names, descriptions and tags drawn
// from a vocabulary so that a common word matches a fixed share of the catalog.
func seedBenchCatalog(b *testing.B, engine string, n int) *benchCatalog {
	benchCatalogsMu.Lock()
	defer benchCatalogsMu.Unlock()
	id := fmt.Sprintf("%s/%d", engine, n)
	if c, ok := benchCatalogs[id]; ok {
		return c
	}
	var dsn string
	if engine == "postgres" {
		var err error
		if dsn, err = pgtest.Require(b).LongLivedDatabase(); err != nil {
			b.Fatal(err)
		}
	} else {
		dir, err := os.MkdirTemp("", "junction-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDirs = append(benchDirs, dir)
		dsn = dir + "/bench.db"
	}
	// Opened without a cleanup: the catalog outlives the benchmark function, which the
	// testing package calls several times.
	store, err := db.Open(context.Background(), dsn, RandomKey(b))
	if err != nil {
		b.Fatal(err)
	}
	admin := MustCreateUser(b, store, "admin@example.com", true)
	member := MustCreateUser(b, store, "member@example.com", false)
	for p := range 10 {
		handle := fmt.Sprintf("project-%d", p)
		MustCreateProject(b, store, admin, handle, handle)
		if p < 3 {
			MustSetMember(b, store, admin, handle, member.Email, junction.RoleDeveloper)
		}
		for c := range 10 {
			MustCreateComponent(b, store, admin, handle, fmt.Sprintf("component-%d", c))
		}
	}
	// A few vendors appear a fixed number of times whatever the catalog's size, as real
	// vendors do: a search for one of them is the "specific" query of the benchmark.
	for i := range 10 {
		svc := &junction.Service{Kind: junction.KindThirdParty, Name: fmt.Sprintf("Stripe %s", benchSuffixes[i%len(benchSuffixes)]),
			Version: fmt.Sprintf("v%d", i), Description: "Card payments through Stripe.",
			Endpoints: []junction.Endpoint{{Name: "live", URL: "https://api.stripe.com", Environments: []string{"production"}}}}
		if err := db.NewServiceService(store).CreateService(ContextAs(b, admin), svc); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	word := func() string { return benchTopics[rng.IntN(len(benchTopics))] }
	filler := func() string { return fmt.Sprintf("w%x", rng.IntN(5000)) }
	services := db.NewServiceService(store)
	ctx := ContextAs(b, admin)
	batch := make([]*junction.Service, 0, 1000)
	start := time.Now()
	for i := range n {
		topic := word()
		svc := &junction.Service{
			Name:        fmt.Sprintf("%s %s %d", strings.ToUpper(topic[:1])+topic[1:], benchSuffixes[rng.IntN(len(benchSuffixes))], i),
			Version:     fmt.Sprintf("v%d", 1+rng.IntN(3)),
			Description: strings.Join([]string{"Handles", topic, "for", word(), filler(), filler(), filler()}, " "),
			Tags:        []string{topic, word()},
		}
		switch r := rng.IntN(100); {
		case r < 40:
			svc.Kind = junction.KindInternal
			svc.Project = fmt.Sprintf("project-%d", rng.IntN(10))
			svc.Component = fmt.Sprintf("component-%d", rng.IntN(10))
			svc.Visibility = junction.Visibilities[rng.IntN(3)]
			svc.Security = junction.SecuritySchemes[rng.IntN(3)]
			svc.URLs = map[string]string{"development": "http://dev.internal/" + topic, "production": "https://prod.example.com/" + topic}
		case r < 85:
			svc.Kind = junction.KindThirdParty
			svc.Parameters = []junction.ServiceParameter{{Name: "APIKey", Secret: true}}
			svc.Endpoints = []junction.Endpoint{{Name: "live", URL: "https://api.example.com/" + topic,
				Environments: []string{"development", "production"}, Values: map[string]string{"APIKey": "secret-value"}}}
		default:
			svc.Kind = junction.KindDatabase
			svc.Version = ""
			svc.Engine = "postgres"
			svc.Values = map[string]map[string]string{"production": {"HostName": "db.internal", "Port": "5432",
				"DatabaseName": topic, "Username": "app", "Password": "secret"}}
		}
		batch = append(batch, svc)
		if len(batch) == cap(batch) || i == n-1 {
			if err := services.CreateServices(ctx, batch); err != nil {
				b.Fatalf("seed service %d: %v", i, err)
			}
			batch = batch[:0]
		}
	}
	if engine == "postgres" {
		// What autovacuum does a while after a bulk load (statistics, the visibility map),
		// done now rather than during the measurements.
		if _, err := store.WritePool().Exec(`VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d services on %s in %s", n, engine, time.Since(start).Round(time.Millisecond))
	c := &benchCatalog{store: store, services: services, admin: admin, member: member}
	benchCatalogs[id] = c
	return c
}

// timePerOp runs fn b.N times and returns the mean duration.
func timePerOp(b *testing.B, fn func()) time.Duration {
	fn() // warm the caches and the connection pool
	start := time.Now()
	for range b.N {
		fn()
	}
	return time.Since(start) / time.Duration(b.N)
}

// BenchmarkCatalogSearch measures catalog searches as a project member (who sees project
// services only of their projects) on 1,000 and on 100,000 services in the same run, on each
// engine, and reports both and their ratio (goal: at most 2): a common word ("payments", in
// about 7% of the catalog, so its matches grow with it) and a specific one ("stripe", 10
// services at any size).
func BenchmarkCatalogSearch(b *testing.B) {
	for _, engine := range benchEngines {
		b.Run(engine, func(b *testing.B) {
			small, large := seedBenchCatalog(b, engine, 1_000), seedBenchCatalog(b, engine, 100_000)
			search := func(c *benchCatalog, query string) func() {
				ctx := ContextAs(b, c.member)
				return func() {
					_, _, _, err := c.services.FindServices(ctx, junction.ServiceFilter{Query: query, Page: junction.NewPage(1, junction.DefaultCatalogPerPage)})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			common1k, common100k := timePerOp(b, search(small, "payments")), timePerOp(b, search(large, "payments"))
			specific1k, specific100k := timePerOp(b, search(small, "stripe")), timePerOp(b, search(large, "stripe"))
			b.ReportMetric(float64(common1k.Microseconds()), "common_µs_1k")
			b.ReportMetric(float64(common100k.Microseconds()), "common_µs_100k")
			b.ReportMetric(float64(common100k)/float64(common1k), "common_ratio")
			b.ReportMetric(float64(specific1k.Microseconds()), "specific_µs_1k")
			b.ReportMetric(float64(specific100k.Microseconds()), "specific_µs_100k")
			b.ReportMetric(float64(specific100k)/float64(specific1k), "specific_ratio")
		})
	}
}

// BenchmarkCatalogPage measures the server time of the catalog page at 100,000 services on
// each engine: the search with facets, the register check and rendering the page, with no
// query (the first page a person sees), a prefix query, a specific and a common word, each
// against the same page at 1,000 services (the baseline of the same run).
func BenchmarkCatalogPage(b *testing.B) {
	for _, engine := range benchEngines {
		b.Run(engine, func(b *testing.B) {
			small, large := seedBenchCatalog(b, engine, 1_000), seedBenchCatalog(b, engine, 100_000)
			page := func(c *benchCatalog, query string) func() {
				ctx := ContextAs(b, c.member)
				return func() {
					f := junction.ServiceFilter{Query: query, Page: junction.NewPage(1, junction.DefaultCatalogPerPage)}
					services, total, facets, err := c.services.FindServices(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					canRegister, err := c.services.CanRegisterServices(ctx)
					if err != nil {
						b.Fatal(err)
					}
					v := views.CatalogView{Filter: f, Services: services, Total: total, Facets: facets, CanRegister: canRegister}
					if err := views.ServicesPage(views.Page{Title: "Services", User: c.member}, v).Render(context.Background(), io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for _, q := range []struct{ name, query string }{{"all", ""}, {"prefix", "pay"}, {"stripe", "stripe"}, {"payments", "payments"}} {
				base, at100k := timePerOp(b, page(small, q.query)), timePerOp(b, page(large, q.query))
				b.ReportMetric(float64(at100k.Microseconds()), "µs_"+q.name)
				b.ReportMetric(float64(at100k)/float64(base), q.name+"_vs_1k")
			}
		})
	}
}
