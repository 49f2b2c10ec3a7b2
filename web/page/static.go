package page

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

//go:embed static
var staticEmbed embed.FS

// staticFS is static/ as the root.
var staticFS = func() fs.FS {
	sub, err := fs.Sub(staticEmbed, "static")
	if err != nil {
		panic(err) // static/ is embedded; cannot happen
	}
	return sub
}()

// staticVersions[name] is a short hash of the file's content, put in its
// URL so that a changed file gets a new URL and the old may be cached long.
var staticVersions = sync.OnceValue(func() map[string]string {
	v := map[string]string{}
	fs.WalkDir(staticFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(staticFS, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		v[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
})

// staticURL is the URL of static file name, with its version.
func staticURL(name string) string {
	if v, ok := staticVersions()[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// StaticHandler serves the embedded static files under /static/ (mount it
// at "GET /static/"). A URL carrying the file's current version (as the
// pages link it) may be cached for a year; others for five minutes. This
// overrides the no-store of SecurityHeaders, which runs first. Directories
// are not listed.
func StaticHandler() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		v, ok := staticVersions()[name]
		if !ok || strings.HasSuffix(name, "/") {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	}))
}
