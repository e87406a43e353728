package realtime

import (
	"strconv"
	"strings"
)

// Lang is a language the catalogue speaks: English (the default) or Korean, the
// language of the original's users and of the VS Code extension's UI.
type Lang string

// The catalogue's languages.
const (
	LangEN Lang = "en"
	LangKO Lang = "ko"
)

// catalogueKO is the Korean half of the catalogue (errors.go holds the English half,
// which stays the wire text of every client that sends no Accept-Language): each
// code's message and recovery hint. TestCatalogueHasEveryLanguage proves every code
// has both.
var catalogueKO = map[Code][2]string{
	CodeInvalidInput:     {"잘못된 입력 형식입니다", "요청 본문이 문서에 맞는 형태의 JSON인지 확인하세요"},
	CodeMissingField:     {"필수 필드가 누락되었습니다", "필수 필드를 모두 포함하세요"},
	CodeInvalidKey:       {"API 키가 없거나 유효하지 않습니다", "X-API-Key 헤더나 Authorization: Bearer로 유효한 키를 보내세요"},
	CodeRateLimited:      {"요청 한도를 초과했습니다", "Retry-After에 적힌 초만큼 기다린 뒤 다시 시도하세요"},
	CodeForbidden:        {"권한이 없습니다", "필요한 권한(scope)을 가진 키를 사용하세요"},
	CodeKeyExpired:       {"API 키가 만료되었습니다", "새 API 키를 발급받으세요"},
	CodeKeyRevoked:       {"API 키가 폐기되었습니다", "새 API 키를 발급받으세요"},
	CodeOutOfRange:       {"값이 허용 범위를 벗어났습니다", "문서에 정한 범위 안의 값을 보내세요"},
	CodeUnsupportedLang:  {"지원하지 않는 언어입니다", "모델이 완성하는 언어를 지정하세요 (GET /api/v1/code/models에 목록이 있습니다). 코드 생성은 Python만 지원합니다"},
	CodePayloadTooLarge:  {"요청 본문이 너무 큽니다", "더 작은 본문을 보내세요"},
	CodeNotFound:         {"찾을 수 없습니다", "경로나 ID를 확인하세요"},
	CodeConflict:         {"충돌이 발생했습니다", "고유한 ID나 이름을 사용하세요"},
	CodeOriginNotAllowed: {"허용되지 않은 출처(Origin)입니다", "ALLOWED_ORIGINS에 출처를 추가하세요"},
	CodeTooManyStreams:   {"동시 스트림이 너무 많습니다", "스트림이 끝나기를 기다리거나 하나를 취소하세요"},
	CodeTooManyConns:     {"이 키의 연결이 너무 많습니다", "쓰지 않는 연결을 닫으세요"},
	CodeQuotaExceeded:    {"토큰 할당량을 초과했습니다", "할당량 기간이 초기화될 때까지 기다리세요"},
	CodeModelTimeout:     {"AI 모델 응답 시간이 초과되었습니다", "요청을 다시 시도하세요"},
	CodeCacheError:       {"캐시 서비스 오류입니다", "조치할 필요가 없습니다: 캐시를 건너뜁니다"},
	CodeDatabaseError:    {"데이터베이스 오류입니다", "잠시 후 다시 시도하세요"},
	CodeInternal:         {"내부 서버 오류가 발생했습니다", "인시던트 ID를 알려 주세요"},
	CodeModelUnavailable: {"AI 모델을 사용할 수 없습니다", "잠시 후 다시 시도하세요"},
	CodeModelError:       {"AI 모델이 오류를 반환했습니다", "다시 시도하거나 요청을 바꾸세요"},
}

// Text returns the code's message and recovery hint in lang (English for any language
// the catalogue does not speak).
func (info CodeInfo) Text(lang Lang) (message, hint string) {
	if lang == LangKO {
		if ko, ok := catalogueKO[info.Code]; ok {
			return ko[0], ko[1]
		}
	}
	return info.Message, info.Hint
}

// Localize returns e's client-facing message and its code's hint in lang. English is
// e's own message (or the catalogue's). In Korean a catalogue message becomes its
// Korean text, and a more specific one (naming a field or a limit) keeps its English
// specifics after the Korean text of its code: "값이 허용 범위를 벗어났습니다 (temperature:
// must be between 0 and 2 (got 3))".
func Localize(e *Error, lang Lang) (message, hint string) {
	info := Lookup(e.Code)
	msg := e.Message
	if msg == "" {
		msg = info.Message
	}
	if lang != LangKO {
		return msg, info.Hint
	}
	ko, hint := info.Text(lang)
	if msg == info.Message || msg == ko {
		return ko, hint
	}
	return ko + " (" + msg + ")", hint
}

// ParseAcceptLanguage picks the catalogue language of an Accept-Language header: the
// supported language (en, ko, with or without a region) of highest weight, English
// when none is supported or the header is empty.
func ParseAcceptLanguage(header string) Lang {
	best, bestQ := LangEN, -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		var lang Lang
		switch base {
		case "ko":
			lang = LangKO
		case "en":
			lang = LangEN
		default:
			continue
		}
		if q > bestQ && q > 0 {
			best, bestQ = lang, q
		}
	}
	return best
}
