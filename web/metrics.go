package web

import (
	"database/sql"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/junction-dev/junction"
)

// metrics are the server's Prometheus metrics, in a registry of their own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(dbStats func() (write, read sql.DBStats)) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_http_requests_total", Help: "HTTP requests by route, method and status; route /api/v1/runtime/env counts runtime fetches.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "junction_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if dbStats != nil {
		m.registry.MustRegister(&poolCollector{stats: dbStats})
	}
	return m
}

// observe records one answered request under its route pattern (never the raw path, which
// would make a series per ID).
func (m *metrics) observe(c echo.Context, took time.Duration) {
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
	m.duration.WithLabelValues(route, c.Request().Method).Observe(took.Seconds())
}

// handler serves /metrics to admins only: the figures describe the installation.
func (m *metrics) handler() echo.HandlerFunc {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return func(c echo.Context) error {
		if user := junction.UserFromContext(c.Request().Context()); user == nil || !user.IsAdmin {
			return junction.Errorf(junction.EFORBIDDEN, "Only admins can read the metrics.")
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// poolCollector reports the connection pools of the database.
type poolCollector struct {
	stats func() (write, read sql.DBStats)
}

var (
	poolOpen     = prometheus.NewDesc("junction_db_connections_open", "Open database connections by pool.", []string{"pool"}, nil)
	poolInUse    = prometheus.NewDesc("junction_db_connections_in_use", "Database connections in use by pool.", []string{"pool"}, nil)
	poolWaits    = prometheus.NewDesc("junction_db_waits_total", "Times a caller waited for a database connection, by pool.", []string{"pool"}, nil)
	poolWaitTime = prometheus.NewDesc("junction_db_wait_seconds_total", "Time spent waiting for database connections, by pool.", []string{"pool"}, nil)
)

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolInUse
	ch <- poolWaits
	ch <- poolWaitTime
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	write, read := p.stats()
	for pool, s := range map[string]sql.DBStats{"write": write, "read": read} {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), pool)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.WaitDuration.Seconds(), pool)
	}
}
