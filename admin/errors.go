package admin

import (
	"net/http"
	"slices"
	"time"
)

// errorPeriod is one choice of the patterns chart.
type errorPeriod struct {
	Name  string
	Span  time.Duration
	Step  time.Duration
	Label string
}

var errorPeriods = []errorPeriod{
	{"1h", time.Hour, 5 * time.Minute, "last hour"},
	{"24h", 24 * time.Hour, time.Hour, "last 24 hours"},
	{"7d", 7 * 24 * time.Hour, 6 * time.Hour, "last 7 days"},
	{"30d", 30 * 24 * time.Hour, 24 * time.Hour, "last 30 days"},
}

// recentIncidents is how many incidents the errors page lists.
const recentIncidents = 25

func (h *Handler) errorsPage(w http.ResponseWriter, r *http.Request) {
	p := errorPeriods[1]
	for _, ep := range errorPeriods {
		if ep.Name == r.URL.Query().Get("period") {
			p = ep
		}
	}
	class := ErrorClasses[0]
	if c := r.URL.Query().Get("class"); slices.Contains(ErrorClasses, c) {
		class = c
	}
	v := ErrorsView{Period: p.Name, PeriodLabel: p.Label, Class: class, Classes: ErrorClasses}
	for _, ep := range errorPeriods {
		v.Periods = append(v.Periods, ep.Name)
	}
	c := h.chrome(r, "errors", "Errors")
	if h.deps.Incidents == nil {
		v.Unavailable = "Incident tracking is not connected to the console."
		h.render(w, r, http.StatusOK, ErrorsPage(c, v))
		return
	}
	ctx := r.Context()
	since := h.now().Add(-p.Span)
	counts, err := h.deps.Incidents.Errors(ctx, since, class)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Codes, v.Cancelled, v.Requests = counts.Codes, counts.Cancelled, counts.Requests
	for _, cc := range counts.Codes {
		v.Total += cc.Count
	}
	series, err := h.deps.Incidents.Series(ctx, since, p.Step)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Chart = newBarChart("Incidents, "+p.Label, series, true, chartLayout(p.Step))
	if v.Recent, err = h.deps.Incidents.Recent(ctx, recentIncidents); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, ErrorsPage(c, v))
}

func (h *Handler) incidentPage(w http.ResponseWriter, r *http.Request) {
	if h.deps.Incidents == nil {
		h.notFound(w, r, "Incident tracking is not connected to the console.")
		return
	}
	inc, err := h.deps.Incidents.ByID(r.Context(), r.PathValue("id"))
	if isNotFound(err) {
		h.notFound(w, r, "There is no such incident. Incidents are kept for ERROR_RETENTION_DAYS days.")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, IncidentPage(h.chrome(r, "errors", "Incident "+inc.ID), inc))
}
