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
	"sync"
)

// Prefix is the URL path under which Handler serves the assets.
const Prefix = "/static/"

// files holds every asset: css/, js/, img/. It is read-only.
//
//go:embed css js img
var files embed.FS

// asset is one embedded file under its hashed name.
type asset struct {
	name   string // path inside files, e.g. "css/admin.css"
	hashed string // e.g. "css/admin.3f2a9c1b0d.css"
	etag   string
}

// manifest maps both the plain and the hashed name of every asset to it. It is
// computed once from the embedded, immutable files, so it is not mutable state.
type manifest struct {
	byName   map[string]*asset
	byHashed map[string]*asset
}

var loadManifest = sync.OnceValue(func() *manifest {
	m := &manifest{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])[:10]
		a := &asset{name: p, hashed: hashedName(p, h), etag: `"` + h + `"`}
		m.byName[p] = a
		m.byHashed[a.hashed] = a
		return nil
	})
	return m
})

// hashedName inserts h before the extension: js/htmx.min.js → js/htmx.min.<h>.js.
func hashedName(p, h string) string {
	ext := path.Ext(p)
	return strings.TrimSuffix(p, ext) + "." + h + ext
}

// Path returns the content-hashed URL of the asset name (relative to static/, e.g.
// "css/admin.css" → "/static/css/admin.3f2a9c1b0d.css"). An unknown name yields its
// unhashed URL, so a typo shows up as a 404 in the browser rather than a panic.
func Path(name string) string {
	name = strings.TrimPrefix(name, "/")
	if a, ok := loadManifest().byName[name]; ok {
		return Prefix + a.hashed
	}
	return Prefix + name
}

// FS returns the embedded assets (read-only), rooted at static/.
func FS() fs.FS { return files }

// Handler serves the assets; mount it at Prefix ("/static/") without StripPrefix.
// Hashed names are served with "Cache-Control: public, max-age=31536000, immutable";
// plain names (for clients that cannot know the hash) with "no-cache" and an ETag.
func Handler() http.Handler {
	m := loadManifest()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, Prefix)
		a, immutable := m.byHashed[p]
		if !immutable {
			a = m.byName[p]
		}
		if a == nil {
			http.NotFound(w, r)
			return
		}
		b, err := files.ReadFile(a.name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if ct := mime.TypeByExtension(path.Ext(a.name)); ct != "" {
			h.Set("Content-Type", ct)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", a.etag)
		if immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
}
