package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
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

// recentIncidents and recentFailed are how many incidents and failed requests the
// errors page lists.
const (
	recentIncidents = 25
	recentFailed    = 15
)

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
	state := r.URL.Query().Get("state")
	if !slices.Contains(IncidentStates, state) {
		state = ""
	}
	v := ErrorsView{Period: p.Name, PeriodLabel: p.Label, Class: class, Classes: ErrorClasses, State: state, States: IncidentStates}
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
	if v.Recent, err = h.deps.Incidents.Recent(ctx, state, recentIncidents); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.StateCounts, err = h.db.Incidents().StateCounts(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	// The failed requests of the class: 4xx and 5xx from the request log.
	rc := map[string]string{"all": store.RequestsFailed, "4xx": store.Requests4xx, "5xx": store.Requests5xx}[class]
	failed, err := h.db.RequestLog().List(ctx, store.RequestFilter{Since: since, Class: rc, Limit: recentFailed})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Failed, err = h.requestRows(ctx, failed); err != nil {
		h.fail(w, r, err)
		return
	}
	v.FailedURL = "/admin/requests?range=" + p.Name + "&class=" + rc
	h.render(w, r, http.StatusOK, ErrorsPage(c, v))
}

func (h *Handler) incidentPage(w http.ResponseWriter, r *http.Request) {
	if h.deps.Incidents == nil {
		h.notFound(w, r, "Incident tracking is not connected to the console.")
		return
	}
	ctx := r.Context()
	inc, err := h.deps.Incidents.ByID(ctx, r.PathValue("id"))
	if isNotFound(err) {
		h.notFound(w, r, "There is no such incident. Incidents are kept for ERROR_RETENTION_DAYS days.")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := IncidentView{Incident: inc}
	if inc.RequestID != "" {
		rows, err := h.db.RequestLog().ByRequestID(ctx, inc.RequestID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if v.Requests, err = h.requestRows(ctx, rows); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	c := h.chrome(r, "errors", "Incident "+inc.ID)
	c.Flash = flashFor(r)
	h.render(w, r, http.StatusOK, IncidentPage(c, v))
}

// incidentActions are the workflow form's buttons and their audit actions.
var incidentActions = map[string]string{
	store.IncidentAcknowledge: actIncidentAck,
	store.IncidentResolve:     actIncidentSolve,
	store.IncidentReopen:      actIncidentReopen,
	store.IncidentNote:        actIncidentNote,
}

// incidentWorkflow applies acknowledge, resolve, reopen or a note, with who and when.
func (h *Handler) incidentWorkflow(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id := r.PathValue("id")
	action := r.PostFormValue("action")
	note := strings.TrimSpace(r.PostFormValue("note"))
	audit, ok := incidentActions[action]
	switch {
	case !ok:
		h.badRequest(w, r, "Unknown incident action.")
		return
	case len(note) > 2000:
		h.badRequest(w, r, "The note is longer than 2000 characters.")
		return
	case action == store.IncidentNote && note == "":
		http.Redirect(w, r, "/admin/errors/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	err := h.db.Incidents().Transition(r.Context(), id, action, sessionFrom(r.Context()).User.Email, note)
	switch {
	case isNotFound(err):
		h.notFound(w, r, "There is no such incident.")
		return
	case isConflict(err):
		h.render(w, r, http.StatusConflict, ErrorPage(h.chrome(r, "errors", "Already done"),
			ErrorView{Status: http.StatusConflict, Message: "The incident is not in a state that allows this (someone else may have changed it). Reload its page."}))
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.audit(r, audit, "incident:"+id, note)
	http.Redirect(w, r, "/admin/errors/"+url.PathEscape(id)+"?done=incident", http.StatusSeeOther)
}
