package realtime

import (
	"strings"
	"testing"
	"unicode"
)

// TestCatalogueHasEveryLanguage: every code has its message and hint in English and in
// Korean, and the Korean texts are Korean.
func TestCatalogueHasEveryLanguage(t *testing.T) {
	hangul := func(s string) bool {
		for _, r := range s {
			if unicode.Is(unicode.Hangul, r) {
				return true
			}
		}
		return false
	}
	for _, info := range Catalogue() {
		for _, lang := range []Lang{LangEN, LangKO} {
			msg, hint := info.Text(lang)
			if msg == "" || hint == "" {
				t.Errorf("%s: no %s message or hint", info.Code, lang)
			}
			if lang == LangKO && (!hangul(msg) || !hangul(hint)) {
				t.Errorf("%s: Korean texts %q / %q are not Korean", info.Code, msg, hint)
			}
			if lang == LangEN && (hangul(msg) || hangul(hint)) {
				t.Errorf("%s: English texts %q / %q", info.Code, msg, hint)
			}
		}
	}
	if len(catalogueKO) != len(Catalogue()) {
		t.Errorf("the Korean catalogue has %d codes, the catalogue %d", len(catalogueKO), len(Catalogue()))
	}
}

func TestLocalize(t *testing.T) {
	generic := NewError(CodeRateLimited, "")
	if m, h := Localize(generic, LangEN); m != "Rate limit exceeded" || h != "Wait for Retry-After seconds, then retry" {
		t.Errorf("en: %q %q", m, h)
	}
	if m, _ := Localize(generic, LangKO); m != "요청 한도를 초과했습니다" {
		t.Errorf("ko: %q", m)
	}
	specific := NewError(CodeOutOfRange, "temperature: must be between 0 and 2 (got 3)")
	if m, _ := Localize(specific, LangEN); m != specific.Message {
		t.Errorf("en specific: %q", m)
	}
	if m, _ := Localize(specific, LangKO); !strings.HasPrefix(m, "값이 허용 범위를 벗어났습니다 (") || !strings.Contains(m, "temperature") {
		t.Errorf("ko specific: %q", m)
	}
}

func TestParseAcceptLanguage(t *testing.T) {
	for header, want := range map[string]Lang{
		"":                           LangEN,
		"ko":                         LangKO,
		"ko-KR,ko;q=0.9,en-US;q=0.8": LangKO,
		"en-US,en;q=0.9,ko;q=0.8":    LangEN,
		"fr-FR, ko;q=0.5":            LangKO,
		"de":                         LangEN,
		"ko;q=0, en":                 LangEN,
		"EN;q=0.2, KO-kr;q=0.7":      LangKO,
		"garbage;;q=x":               LangEN,
	} {
		if got := ParseAcceptLanguage(header); got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
}
