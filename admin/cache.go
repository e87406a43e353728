package admin

import (
	"maps"
	"net/http"
	"slices"
)

// knownNamespaces are always listed, even before their first use: the response cache
// and the profile cache of the operations API's cache_type.
var knownNamespaces = []string{"code_generation", "user_profiles"}

// allNamespaces is the form value that clears every namespace.
const allNamespaces = "all"

func (h *Handler) cachePage(w http.ResponseWriter, r *http.Request) {
	c := h.chrome(r, "cache", "Cache")
	c.Flash = flashFor(r)
	h.render(w, r, http.StatusOK, CachePage(c, h.cacheView(r)))
}

func (h *Handler) cacheView(r *http.Request) CacheView {
	v := CacheView{Connected: h.deps.Cache != nil, Replica: h.cfg.Replica}
	if !v.Connected {
		return v
	}
	stats := h.deps.Cache.Stats(r.Context())
	names := append([]string(nil), knownNamespaces...)
	for _, ns := range slices.Sorted(maps.Keys(stats)) {
		if !slices.Contains(names, ns) {
			names = append(names, ns)
		}
	}
	for _, ns := range names {
		st := stats[ns]
		row := CacheRow{Name: ns, Entries: st.Entries, Hits: st.Hits, Misses: st.Misses, HitRate: "–"}
		if n := st.Hits + st.Misses; n > 0 {
			row.HitRate = pct(float64(st.Hits) / float64(n))
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// cacheTarget validates the namespace a clear names: a listed one or "all".
func (h *Handler) cacheTarget(r *http.Request, ns string) bool {
	if h.deps.Cache == nil {
		return false
	}
	if ns == allNamespaces {
		return true
	}
	return slices.ContainsFunc(h.cacheView(r).Rows, func(c CacheRow) bool { return c.Name == ns })
}

// cacheConfirm is the confirmation step before a clear.
func (h *Handler) cacheConfirm(w http.ResponseWriter, r *http.Request) {
	ns := r.URL.Query().Get("ns")
	if !h.cacheTarget(r, ns) {
		h.notFound(w, r, "There is no such cache namespace.")
		return
	}
	h.render(w, r, http.StatusOK, CacheConfirmPage(h.chrome(r, "cache", "Clear the cache?"), ns))
}

// cacheClear clears after the confirmation form was submitted.
func (h *Handler) cacheClear(w http.ResponseWriter, r *http.Request) {
	ns := r.PostFormValue("ns")
	if !h.cacheTarget(r, ns) {
		h.notFound(w, r, "There is no such cache namespace.")
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/admin/cache/clear?ns="+ns, http.StatusSeeOther)
		return
	}
	target := ns
	if ns == allNamespaces {
		target = ""
	}
	n, err := h.deps.Cache.Clear(r.Context(), target)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: cache cleared", "namespace", ns, "entries", n, "by", sessionFrom(r.Context()).User.Email)
	h.audit(r, actCacheClear, "cache:"+ns, itoa(n)+" entries")
	http.Redirect(w, r, "/admin/cache?done=cleared", http.StatusSeeOther)
}
