package ws

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/hapa-project/hapa/realtime"
)

// The session's own state: session.update, affinity, id, draining.

// update applies session.update and answers session.updated; an invalid profile
// changes nothing and is answered with error E4008 and its field details.
func (s *session) update(ev ClientEvent) {
	if ev.Workspace != nil && len(*ev.Workspace) > 4096 {
		s.push(EventError, errorFrame(ev.EventID, s.tr(realtime.NewError(realtime.CodeOutOfRange, "workspace longer than 4096 bytes"))))
		return
	}
	var profile *realtime.Profile
	if ev.Profile != nil { // checked now, not on every later create
		p, bad := realtime.NormalizeProfile(*ev.Profile, "profile.")
		if len(bad) > 0 {
			e := realtime.NewError(bad[0].Code, bad[0].Field+": "+bad[0].Message)
			e.Fields = bad
			s.push(EventError, errorFrame(ev.EventID, s.tr(e)))
			return
		}
		profile = &p
	}
	s.mu.Lock()
	if profile != nil {
		s.profile = profile
	}
	if ev.Editor != nil {
		e := EditorInfo{Name: truncate(ev.Editor.Name, 128), Version: truncate(ev.Editor.Version, 128)}
		s.editor = &e
	}
	if ev.Workspace != nil {
		s.workspace = *ev.Workspace
		s.affinity = affinityKey(s.caller, s.workspace, s.id)
	}
	info := SessionInfo{ID: s.id, Profile: s.profile, Editor: s.editor, Workspace: s.workspace}
	s.mu.Unlock()
	s.push(EventSessionUpdated, serverEvent{Type: EventSessionUpdated, EventID: ev.EventID, Session: &info}.encode())
}

// drain refuses new streams and announces the shutdown.
func (s *session) drain(reason string) {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.push(EventSessionClosing, serverEvent{Type: EventSessionClosing, Reason: reason,
		ReconnectAfterMS: ptr(s.hub.cfg.ReconnectAfter.Milliseconds())}.encode())
}

// affinityKey keeps an editor's workspace on one vLLM replica (rendezvous hash in the
// pool). Without a workspace the session id is used.
func affinityKey(c realtime.Caller, workspace, sessionID string) string {
	if workspace == "" {
		return sessionID
	}
	h := sha256.Sum256([]byte(strconv.FormatInt(c.KeyID, 10) + ":" + strconv.FormatInt(c.UserID, 10) + ":" + workspace))
	return "ws-" + hex.EncodeToString(h[:12])
}

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return "ses_" + hex.EncodeToString(b[:])
}
