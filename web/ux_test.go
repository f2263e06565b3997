package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var fieldErrorPattern = regexp.MustCompile(`<small id="([^"]+-error)" class="field-error"`)

// requireDescribedErrors: every field error on the page is named by a control (or group)
// marked aria-invalid="true" whose aria-describedby points to it.
func requireDescribedErrors(t *testing.T, body string) int {
	t.Helper()
	ids := fieldErrorPattern.FindAllStringSubmatch(body, -1)
	for _, m := range ids {
		described := regexp.MustCompile(`aria-invalid="true"[^>]*aria-describedby="[^"]*\b` + regexp.QuoteMeta(m[1]) + `\b|aria-describedby="[^"]*\b` + regexp.QuoteMeta(m[1]) + `\b[^"]*"[^>]*aria-invalid="true"`)
		require.Regexp(t, described, body, "field error %s is not described by an invalid control", m[1])
	}
	return len(ids)
}

func TestFieldErrorsAreDescribed(t *testing.T) {
	f := newMappingFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	for _, tt := range []struct {
		path   string
		values url.Values
	}{
		{"/services/third-party", url.Values{"op": {"save"}}},
		{"/services/database", url.Values{"engine": {"nosql"}}},
		{"/projects/shop/components/orders/endpoints", url.Values{"visibility": {"galaxy"}, "security": {"magic"}}},
		{"/projects/shop/members", url.Values{"email": {"nobody"}, "role": {"owner"}}},
		{"/projects/shop/components", url.Values{"type": {"robot"}}},
		{"/account/tokens", url.Values{"name": {string(make([]byte, 101))}}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			res, body := b.post(tt.path, tt.values)
			require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
			require.NotZero(t, requireDescribedErrors(t, body), "the form shows field errors")
		})
	}
}

// TestCatalogCanonicalURL: a catalog address with empty parameters redirects to the one
// without them; htmx gets it as the URL to push; the page renders no empty filter fields.
func TestCatalogCanonicalURL(t *testing.T) {
	f := newMappingFixture(t)
	b := f.browser(t)
	b.mustLogin("ada@example.com")
	res, _ := b.get("/services?q=twil&kind=&visibility=&sort=")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/services?q=twil", res.Header.Get("Location"))
	res, _ = b.get("/services?q=&kind=")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/services", res.Header.Get("Location"))

	req, _ := http.NewRequest(http.MethodGet, f.URL+"/services?q=twil&kind=&sort=", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "catalog")
	res, _ = b.do(req)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "/services?q=twil", res.Header.Get("HX-Push-Url"))

	res, body := b.get("/services?q=twil")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotRegexp(t, `name="(kind|visibility|sort)" value=""`, body, "no empty filter travels with the search form")

	_, body = b.get("/services/nope")
	require.Contains(t, body, `data-testid="error-catalog-link"`, "the 404 page links to the catalog")
}
