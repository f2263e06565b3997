package handlers

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/junction-dev/junction"
)

// The runtime API: GET /api/v1/runtime/env, Junction's hot path. The store keeps each
// token's answer encoded in every format with its ETag, so a fetch is a hash, a map lookup
// and writing bytes; a conditional fetch may wait for the next change (a long poll).

const (
	// maxRuntimeWait bounds ?wait=.
	maxRuntimeWait = 60 * time.Second
	// maxWaitsPerToken bounds the long polls one token may hold open on one replica.
	maxWaitsPerToken = 16
)

// RuntimeEnv answers the component's variables for the token's environment, secrets in
// clear: format=json (default), dotenv, shell or js, with an ETag. If-None-Match with the
// current ETag gets 304; with ?wait=30s (at most 60 s) as well, the request is held until the
// variables change (200 with the new body) or the wait ends (304).
func (h *Handler) RuntimeEnv(c echo.Context) error {
	req := c.Request()
	scheme, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return junction.Errorf(junction.EUNAUTHORIZED, "Send the runtime token as Authorization: Bearer.")
	}
	query := req.URL.Query()
	format := query.Get("format")
	if format == "" {
		format = "json"
	}
	wait, err := parseWait(query.Get("wait"))
	if err != nil {
		return err
	}
	ctx := req.Context()
	changed := h.Mappings.RuntimeChanged()
	doc, err := h.Mappings.RuntimeDocument(ctx, token, format)
	if err != nil {
		return err
	}
	ifNoneMatch := req.Header.Get("If-None-Match")
	if wait > 0 && etagMatches(ifNoneMatch, doc.ETag) {
		release, ok := h.runtimeWaits.acquire(token)
		if !ok {
			c.Response().Header().Set("Retry-After", "5")
			return junction.Errorf(junction.ETOOMANY, "This runtime token already holds %d waiting requests: wait for one to end.", maxWaitsPerToken)
		}
		defer release()
		// The server's write timeout would cut a long wait short.
		_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
		timer := time.NewTimer(wait)
		defer timer.Stop()
	wait:
		for etagMatches(ifNoneMatch, doc.ETag) {
			select {
			case <-changed:
				changed = h.Mappings.RuntimeChanged()
				if doc, err = h.Mappings.RuntimeDocument(ctx, token, format); err != nil {
					return err // a revoked token is a 401 now
				}
			case <-timer.C:
				break wait
			case <-h.Draining:
				break wait
			case <-ctx.Done():
				return nil // the client left
			}
		}
	}
	c.Response().Header().Set("ETag", doc.ETag)
	if etagMatches(ifNoneMatch, doc.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, doc.ContentType, doc.Body)
}

// parseWait reads ?wait=: a Go duration (30s, 1m) or whole seconds (30), at most 60 s.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		var n int
		if n, err = strconv.Atoi(s); err == nil {
			d = time.Duration(n) * time.Second
		}
	}
	if err != nil || d < 0 || d > maxRuntimeWait {
		return 0, &junction.Error{Code: junction.EINVALID, Message: "wait must be a duration of at most 60s, such as 30s.",
			Fields: map[string]string{"wait": "Use a duration of at most 60s, such as 30s."}}
	}
	return d, nil
}

// etagMatches reports whether an If-None-Match header names etag: a list of entity tags,
// weak ones compared weakly (RFC 9110, 13.1.2), or "*".
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}

// runtimeWaits counts the long polls in progress per token (by hash: no secret is kept).
type runtimeWaits struct {
	mu sync.Mutex
	n  map[[32]byte]int
}

// acquire takes one of the token's waiting slots; release gives it back.
func (w *runtimeWaits) acquire(token string) (release func(), ok bool) {
	key := sha256.Sum256([]byte(token))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[[32]byte]int{}
	}
	if w.n[key] >= maxWaitsPerToken {
		return nil, false
	}
	w.n[key]++
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.n[key]--; w.n[key] == 0 {
			delete(w.n, key)
		}
	}, true
}
