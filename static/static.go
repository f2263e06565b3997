// Package static embeds the console's CSS, JavaScript and images and serves them under
// content-hashed URLs, so browsers may cache them for a year and still see every change.
//
// Vendored files: htmx.min.js is htmx 2.0.11 (npm htmx.org@2.0.11, dist/htmx.min.js);
// pico.min.css is Pico CSS 2.1.1 (npm @picocss/pico@2.1.1, css/pico.min.css).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Prefix is the URL path under which static files are served.
const Prefix = "/static/"

type asset struct {
	name string
	data []byte
	mime string
}

var (
	byHashedName = map[string]*asset{} // "app.1a2b3c4d5e.css" -> asset
	hashedName   = map[string]string{} // "app.css" -> "app.1a2b3c4d5e.css"
)

func init() {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:5]) + ext
		hashedName[e.Name()] = hashed
		byHashedName[hashed] = &asset{name: e.Name(), data: data, mime: mime.TypeByExtension(ext)}
	}
}

// URL returns the content-hashed URL of the named file, such as /static/app.1a2b3c4d5e.css.
// It panics on an unknown name, which templates reference only as constants.
func URL(name string) string {
	hashed, ok := hashedName[name]
	if !ok {
		panic("static: unknown file " + name)
	}
	return Prefix + hashed
}

// Handler serves the files under their hashed names with a one-year immutable cache
// lifetime. Any other name is 404, so a stale page never caches a wrong file.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := byHashedName[strings.TrimPrefix(r.URL.Path, Prefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.mime)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(a.data)
	})
}
