package admin_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// TestPlaygroundKeyStreamsOverTheHub checks the server side of the playground without a
// browser: the key the page mints opens the hapa.v1 socket the way a browser does
// (hapa.auth.<key>, the page's Origin), streams a generation, and signing out revokes
// the key and closes the socket with 4001.
func TestPlaygroundKeyStreamsOverTheHub(t *testing.T) {
	srv := newE2EServer(t)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := hc.PostForm(base+"/admin/login", url.Values{"email": {e2eEmail}, "password": {e2ePassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = hc.Get(base + "/admin/playground")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find(`[data-testid="pg-form"]`)
	key, _ := form.Attr("data-key")
	endpoint, _ := form.Attr("data-endpoint")
	if key == "" || endpoint != strings.Replace(base, "http://", "ws://", 1)+"/api/v1/realtime" {
		t.Fatalf("status %d, key %q, endpoint %q", res.StatusCode, key, endpoint)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, endpoint, key, &wsclient.Options{BrowserAuth: true, Header: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "Write a function that reverses a string.", ModelType: "code_generation", MaxTokens: 32})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Collect(ctx)
	if err != nil || r.Done == nil || r.Text == "" {
		t.Fatalf("stream: %+v, %v", r, err)
	}

	res, err = hc.PostForm(base+"/admin/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	select {
	case <-c.Done():
		if got := c.CloseStatus(); got != 4001 {
			t.Fatalf("close %d (%v), want 4001", got, c.Err())
		}
	case <-ctx.Done():
		t.Fatal("the socket stayed open after sign-out revoked its key")
	}
}
