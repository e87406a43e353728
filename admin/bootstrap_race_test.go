package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/web"
)

// TestEnsureAdminConcurrentStarts is several replicas starting together on a fresh
// database: each has its own connection pool (as a process would) and calls
// EnsureAdmin at the same moment. Exactly one admin is created, exactly one password is
// printed, it is the one stored, and every other replica says the admin exists.
func TestEnsureAdminConcurrentStarts(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		ensureAdminRace(t, "sqlite:///"+filepath.Join(t.TempDir(), "hapa.db"))
	})
	t.Run("postgres", func(t *testing.T) { ensureAdminRace(t, storetest.PGURL(t)) })
}

func ensureAdminRace(t *testing.T, u string) {
	const replicas = 6
	ctx := context.Background()
	first := storetest.OpenMigrated(t, u)
	dbs := make([]*store.DB, replicas)
	for i := range dbs {
		dbs[i] = storetest.OpenMigrated(t, u) // a pool of its own, like another process
	}
	outs := make([]bytes.Buffer, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = EnsureAdmin(ctx, dbs[i], "", &outs[i])
		})
	}
	close(start)
	wg.Wait()

	created, exists, password := 0, 0, ""
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
		}
		out := outs[i].String()
		switch {
		case strings.Contains(out, "created admin account"):
			created++
			_, after, _ := strings.Cut(out, "with password ")
			password, _, _ = strings.Cut(after, "\n")
		case strings.Contains(out, "already exists"):
			exists++
		default:
			t.Errorf("replica %d printed %q", i, out)
		}
	}
	if created != 1 || exists != replicas-1 {
		t.Fatalf("%d replicas printed a created admin, %d said it exists; want 1 and %d", created, exists, replicas-1)
	}
	if n, err := first.Users().CountAdmins(ctx); n != 1 || err != nil {
		t.Fatalf("%d admins (%v), want 1", n, err)
	}
	// The printed password signs in to the console.
	h, err := New(Config{LoginDelay: 1}, Deps{DB: first})
	if err != nil {
		t.Fatal(err)
	}
	login := func(pw string) int {
		form := url.Values{"email": {DefaultAdminEmail}, "password": {pw}}
		req := httptest.NewRequest("POST", "http://localhost/admin/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := login(password); code != http.StatusSeeOther {
		t.Fatalf("the printed password %q does not sign in: %d", password, code)
	}
	if code := login(password + "x"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", code)
	}
	// … and to the API, as the DB-module login.
	authn, err := auth.New(auth.Config{JWTSecret: []byte("bootstrap-race-secret-0123456789")}, auth.Deps{DB: first})
	if err != nil {
		t.Fatal(err)
	}
	api, err := web.New(web.Config{LoginDelay: time.Millisecond}, web.Deps{DB: first, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"email": DefaultAdminEmail, "password": password})
	req := httptest.NewRequest("POST", "/auth/login", bytes.NewReader(body))
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); rec.Code != http.StatusOK || err != nil || tok.AccessToken == "" {
		t.Fatalf("POST /auth/login with the printed password: %d %s", rec.Code, rec.Body)
	}
}
