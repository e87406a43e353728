package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
)

// openAIAuthed authenticates like requireAuth (X-API-Key, or Authorization: Bearer
// with an API key or JWT) but answers failures in the OpenAI envelope. Scopes and rate
// limits are checked by the handlers, which know the model only after reading the body.
func (s *Server) openAIAuthed(h http.HandlerFunc) http.Handler {
	return s.authedWith(s.writeOpenAIError, h) // scopes depend on the model: openAIAdmit
}

// openAIAdmit checks the caller's scope and rate limit for one request and returns
// the refusal, if any. The X-RateLimit-* headers are set as by limited.
func (s *Server) openAIAdmit(w http.ResponseWriter, r *http.Request, scope, group string) *realtime.Error {
	c, _ := callerFrom(r.Context())
	if scope != "" {
		if missing := auth.MissingScope(c.Scopes, []string{scope}); missing != "" {
			return realtime.NewError(realtime.CodeForbidden, "Permission denied: the '"+missing+"' scope is required")
		}
	}
	if s.deps.Ops.Limiter == nil {
		return nil
	}
	return s.checkLimit(w, r, c, group).Err
}

// handleOpenAIModelsList is GET /v1/models behind the default rate limit.
func (s *Server) handleOpenAIModelsList(w http.ResponseWriter, r *http.Request) {
	if err := s.openAIAdmit(w, r, "", limits.GroupDefault); err != nil {
		s.writeOpenAIError(w, r, err)
		return
	}
	if r.PathValue("id") != "" {
		s.handleOpenAIModel(w, r)
		return
	}
	s.handleOpenAIModels(w, r)
}

// handleOpenAIChat serves POST /v1/chat/completions (scope code_generation).
func (s *Server) handleOpenAIChat(w http.ResponseWriter, r *http.Request) {
	s.serveOpenAI(w, r, true, decodeChatRequest)
}

// handleOpenAICompletions serves POST /v1/completions: scope code_completion and the
// completion rate limit on the autocomplete task's adapter, code_generation and the
// generation limits on any other model.
func (s *Server) handleOpenAICompletions(w http.ResponseWriter, r *http.Request) {
	s.serveOpenAI(w, r, false, decodeCompletionRequest)
}

// serveOpenAI is the shared path: decode, resolve the model, admit, start, answer.
func (s *Server) serveOpenAI(w http.ResponseWriter, r *http.Request, chat bool, decode func(io.Reader) (openAIParsed, error)) {
	if r.Body == nil || r.Body == http.NoBody {
		s.writeOpenAIError(w, r, realtime.NewError(realtime.CodeInvalidInput, "Request body must be a JSON object"))
		return
	}
	p, err := decode(r.Body)
	if err != nil {
		s.writeOpenAIError(w, r, err)
		return
	}
	cat := s.openAICatalog()
	m, rerr := resolveOpenAIModel(cat, p.model)
	if rerr != nil {
		s.writeOpenAIError(w, r, rerr)
		return
	}
	scope, group := ScopeCodeGeneration, limits.GroupGeneration
	if p.stream {
		group = limits.GroupStream
	}
	if !chat && m.Adapter != "" && m.Adapter == cat.Tasks[realtime.TaskCompletion] {
		scope, group = ScopeCodeCompletion, limits.GroupCompletion
	}
	if err := s.openAIAdmit(w, r, scope, group); err != nil {
		s.writeOpenAIError(w, r, err)
		return
	}
	if s.deps.Engine == nil {
		s.writeOpenAIError(w, r, errNoEngine())
		return
	}
	req := openAIEngineRequest(r, p, m)
	stream, err := s.startStream(r.Context(), req)
	if err != nil {
		s.writeOpenAIError(w, r, err)
		return
	}
	name := p.model
	if name == "" {
		name = stream.Info().Model
	}
	f := newOpenAIFormat(chat, name, s.now().Unix())
	if id := stream.Info().CompletionID; id != "" {
		f.id = id // a FIM completion: its feedback names it (docs/api.md, "Completion feedback")
	}
	if p.stream {
		rl := &openAIRelay{srv: s, w: w, r: r, src: stream, f: f, usage: p.includeUsage, keepAlive: sseKeepAlive}
		rl.run()
		return
	}
	s.openAIOneShot(w, r, stream, f)
}

// openAIEngineRequest adds the transport fields to p's request. The model is always
// explicit (an adapter or the base model); Task is the alias's task for the request
// log. user is hashed into the affinity key, so one end user of a shared key keeps one
// vLLM replica (and its prefix cache); it is neither sent upstream nor logged.
func openAIEngineRequest(r *http.Request, p openAIParsed, m openAIModel) realtime.Request {
	req := p.req
	base := baseRequest(r, req.Kind, req.Task)
	req.Route, req.RequestID, req.Caller, req.AffinityKey = base.Route, base.RequestID, base.Caller, base.AffinityKey
	req.Model = m.Adapter
	if m.Task != "" && req.Kind == realtime.KindGeneration {
		req.Task = m.Task
	}
	if p.user != "" {
		sum := sha256.Sum256([]byte(p.user))
		req.AffinityKey += "/user:" + hex.EncodeToString(sum[:8])
	}
	return req
}
