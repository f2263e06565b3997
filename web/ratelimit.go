package web

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/junction-dev/junction"
)

// signInLimiter slows down password guessing: each (client address, e-mail) pair gets a
// burst of attempts and then one more every few seconds. Keying on the pair keeps one
// attacker from locking everybody behind the same proxy out; a looser limit per address
// bounds how many pairs (and so how much memory) one client can make.
//
// With a SignInCounter (the database's, Services.SignInLimits) the attempts are counted
// there, so that every replica on the database shares one count; without one, in memory.
type signInLimiter struct {
	name   string // keeps the two limiters' keys apart in a shared counter
	shared SignInCounter

	mu      sync.Mutex
	entries map[string]*limiterEntry
	every   time.Duration
	burst   int
	lastGC  time.Time
}

type limiterEntry struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

// SignInCounter counts sign-in attempts for every process that shares it: a token bucket per
// key of at most burst attempts that gains one every interval. db.SignInLimits is one.
type SignInCounter interface {
	Allow(ctx context.Context, key string, now time.Time, every time.Duration, burst int) (bool, error)
}

func newSignInLimiter(name string, shared SignInCounter, every time.Duration, burst int) *signInLimiter {
	return &signInLimiter{name: name, shared: shared, entries: map[string]*limiterEntry{}, every: every, burst: burst}
}

// allow reports whether one more attempt for key may go ahead now. An error means the
// shared counter could not be reached.
func (l *signInLimiter) allow(ctx context.Context, key string, now time.Time) (bool, error) {
	if l.shared != nil {
		return l.shared.Allow(ctx, l.name+"\x00"+key, now, l.every, l.burst)
	}
	return l.allowLocal(key, now), nil
}

func (l *signInLimiter) allowLocal(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > time.Minute {
		// Forget pairs that have been quiet long enough to have a full burst again.
		for k, e := range l.entries {
			if now.Sub(e.lastSeen) > time.Duration(l.burst)*l.every {
				delete(l.entries, k)
			}
		}
		l.lastGC = now
	}
	e, ok := l.entries[key]
	if !ok {
		e = &limiterEntry{limiter: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.entries[key] = e
	}
	e.lastSeen = now
	return e.limiter.AllowN(now, 1)
}

// limitSignIn answers 429 when a client tries too many passwords for one e-mail.
func (s *Server) limitSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		host := clientHost(c)
		key := host + "\x00" + junction.NormalizeEmail(c.FormValue("email"))
		now := time.Now()
		ctx := c.Request().Context()
		ok, err := s.signInsByAddr.allow(ctx, host, now)
		if err == nil && ok {
			ok, err = s.signIns.allow(ctx, key, now)
		}
		if err != nil {
			return err
		} else if !ok {
			c.Response().Header().Set("Retry-After", "60")
			return &junction.Error{Code: junction.ETOOMANY, Message: "Too many sign-in attempts. Wait a minute and try again."}
		}
		return next(c)
	}
}

// limitProviderSignIn limits the identity provider's sign-in routes per client address only:
// there is no e-mail to key on, and the provider limits its own password attempts.
func (s *Server) limitProviderSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, err := s.signInsByAddr.allow(c.Request().Context(), clientHost(c), time.Now())
		if err != nil {
			return err
		} else if !ok {
			c.Response().Header().Set("Retry-After", "60")
			return &junction.Error{Code: junction.ETOOMANY, Message: "Too many sign-in attempts. Wait a minute and try again."}
		}
		return next(c)
	}
}

// clientHost is the address the request came from, without the port.
func clientHost(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}
