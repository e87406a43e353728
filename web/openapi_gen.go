package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/hapa-project/hapa/realtime"
)

// The OpenAPI 3.1 document is generated from apiOps (openapi.go): each operation names
// the Go types its handler decodes and encodes, and invopop/jsonschema reflects them
// into JSON Schema 2020-12, which is OpenAPI 3.1's own dialect. The document is built
// once, at the first GET /openapi.json or /docs, and served as bytes from then on: no
// request of any other route pays for it.

// openAPIDoc is the document's top level (only the fields HAPA uses).
type openAPIDoc struct {
	OpenAPI    string                          `json:"openapi"`
	Info       openAPIInfo                     `json:"info"`
	Servers    []openAPIServer                 `json:"servers"`
	Tags       []openAPITag                    `json:"tags"`
	Paths      map[string]map[string]*apiOpDoc `json:"paths"`
	Components openAPIComponents               `json:"components"`
}

type openAPIInfo struct {
	Title       string            `json:"title"`
	Version     string            `json:"version"`
	Description string            `json:"description"`
	License     map[string]string `json:"license"`
}

type openAPIServer struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

type openAPITag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type openAPIComponents struct {
	Schemas         map[string]json.RawMessage `json:"schemas"`
	SecuritySchemes map[string]securityScheme  `json:"securitySchemes"`
}

type securityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	In           string `json:"in,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description"`
}

// apiOpDoc is one Operation object.
type apiOpDoc struct {
	OperationID string                  `json:"operationId"`
	Summary     string                  `json:"summary"`
	Description string                  `json:"description,omitempty"`
	Tags        []string                `json:"tags"`
	Security    []map[string][]string   `json:"security"`
	Parameters  []paramDoc              `json:"parameters,omitempty"`
	RequestBody *bodyDoc                `json:"requestBody,omitempty"`
	Responses   map[string]*responseDoc `json:"responses"`
	RateLimit   string                  `json:"x-rate-limit-group,omitempty"`
}

type paramDoc struct {
	Name        string          `json:"name"`
	In          string          `json:"in"`
	Required    bool            `json:"required"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Example     any             `json:"example,omitempty"`
}

type bodyDoc struct {
	Required bool                     `json:"required"`
	Content  map[string]*mediaTypeDoc `json:"content"`
}

type responseDoc struct {
	Description string                   `json:"description"`
	Headers     map[string]headerDoc     `json:"headers,omitempty"`
	Content     map[string]*mediaTypeDoc `json:"content,omitempty"`
}

type headerDoc struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

type mediaTypeDoc struct {
	Schema  json.RawMessage `json:"schema"`
	Example any             `json:"example,omitempty"`
}

// schemaSet reflects Go types into components.schemas.
type schemaSet struct {
	r        *jsonschema.Reflector
	schemas  map[string]json.RawMessage
	names    map[string]reflect.Type // schema name → the Go type it describes
	inBodies map[string]bool         // schema names reached from a request body
	errs     []error
}

func newSchemaSet() *schemaSet {
	set := &schemaSet{schemas: map[string]json.RawMessage{}, names: map[string]reflect.Type{}, inBodies: map[string]bool{}}
	codes := []any{}
	for _, c := range realtime.Catalogue() {
		codes = append(codes, string(c.Code))
	}
	set.r = &jsonschema.Reflector{
		Anonymous:                 true, // no $id
		AllowAdditionalProperties: true, // clients must ignore fields added later
		Namer: func(t reflect.Type) string {
			n := t.Name()
			if n == "" {
				return ""
			}
			return strings.ToUpper(n[:1]) + n[1:]
		},
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case reflect.TypeFor[realtime.Code]():
				return &jsonschema.Schema{Type: "string", Enum: codes, Description: "catalogue code (docs/api.md, \"Error catalogue\")"}
			case reflect.TypeFor[json.RawMessage]():
				return &jsonschema.Schema{Description: "any JSON value"}
			}
			return nil
		},
	}
	return set
}

// schema reflects v's type and returns its schema (usually a $ref into components);
// request marks it and everything it reaches as a request body.
func (s *schemaSet) schema(v any, request bool) json.RawMessage {
	t := reflect.TypeOf(v)
	root := s.r.ReflectFromType(t)
	defs := root.Definitions
	root.Definitions, root.Version = nil, ""
	fixNullable(t, defs, s.r.Namer)
	for name, d := range defs {
		if request {
			s.inBodies[name] = true
			d.Required = requestRequired()[name] // requests: only what the handler demands
		}
		b := refsToComponents(d)
		prev, ok := s.schemas[name]
		if ok && !bytes.Equal(prev, b) && !request && !s.inBodies[name] {
			s.errs = append(s.errs, fmt.Errorf("two schemas named %s", name))
		}
		if !ok || request {
			s.schemas[name] = b
		}
	}
	if request && root.Ref == "" {
		root.Required = requestRequired()[s.r.Namer(t)]
	}
	return refsToComponents(root)
}

// refsToComponents encodes a schema with its references pointing into components.
func refsToComponents(s *jsonschema.Schema) json.RawMessage {
	b, _ := json.Marshal(s)
	return bytes.ReplaceAll(b, []byte(`"#/$defs/`), []byte(`"#/components/schemas/`))
}

// fixNullable corrects what reflection cannot see from types alone: encoding/json
// writes null for a nil pointer, map or slice without omitempty, and leaves out a zero
// field tagged omitzero.
func fixNullable(t reflect.Type, defs jsonschema.Definitions, namer func(reflect.Type) string) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, def *jsonschema.Schema)
	walk = func(t reflect.Type, def *jsonschema.Schema) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if def == nil {
			if seen[t] {
				return
			}
			seen[t] = true
			def = defs[namer(t)]
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				walk(f.Type, def) // embedded: its fields are the parent's
				continue
			}
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			walk(f.Type, nil)
			if def == nil || def.Properties == nil {
				continue
			}
			prop, ok := def.Properties.Get(name)
			if !ok {
				continue
			}
			o := "," + opts + ","
			switch {
			case strings.Contains(o, ",omitzero,"):
				def.Required = slices.DeleteFunc(def.Required, func(r string) bool { return r == name })
			case strings.Contains(o, ",omitempty,"):
			case f.Type.Kind() == reflect.Pointer, f.Type.Kind() == reflect.Map, f.Type.Kind() == reflect.Slice && f.Type != reflect.TypeFor[json.RawMessage]():
				def.Properties.Set(name, &jsonschema.Schema{AnyOf: []*jsonschema.Schema{prop, {Type: "null"}}, Description: prop.Description})
				prop.Description = ""
			}
		}
	}
	walk(t, nil)
}

// errorExample is the body HAPA sends for code on path (or OpenAI's envelope).
func errorExample(code realtime.Code, path string, family errFamily) any {
	e := realtime.NewError(code, "")
	info := realtime.Lookup(code)
	if family == openAIErrors {
		_, env := openAIErrorOf(e, realtime.LangEN)
		return env
	}
	b := errorBody{Detail: info.Message, Message: info.Message, ErrorMessage: info.Message, ErrorCode: code,
		Status: "error", Timestamp: "2026-12-01T19:08:41Z", Path: path, RequestID: "req_d2e26c1438986d32", RecoveryHint: info.Hint}
	if e.Server() {
		b.IncidentID = "INC-20261201-9F56B3FE"
	}
	if family == sseErrors {
		done := true
		b.Type, b.Content, b.IsComplete = "error", info.Message, &done
	}
	return b
}

// statusCode is the first catalogue code answered with status.
func statusCode(status int) realtime.Code {
	for _, c := range realtime.Catalogue() {
		if c.HTTPStatus == status {
			return c.Code
		}
	}
	return realtime.CodeInternal
}

// build assembles the document.
func buildOpenAPI(version string) (*openAPIDoc, error) {
	set := newSchemaSet()
	doc := &openAPIDoc{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{Title: "HAPA gateway API", Version: version, Description: openAPIDescription,
			License: map[string]string{"name": "Proprietary", "identifier": "LicenseRef-HAPA"}},
		Servers: []openAPIServer{{URL: "/", Description: "the server that serves this document (make run: http://localhost:8000)"}},
		Paths:   map[string]map[string]*apiOpDoc{},
		Components: openAPIComponents{
			Schemas: set.schemas,
			SecuritySchemes: map[string]securityScheme{
				"ApiKey":    {Type: "apiKey", In: "header", Name: "X-API-Key", Description: "An API key (hapa_…): hapa keys create, the console, or POST /api/v1/users/generate-api-key."},
				"BearerKey": {Type: "http", Scheme: "bearer", BearerFormat: "hapa_ API key", Description: "The same API key as Authorization: Bearer hapa_… (what OpenAI clients send)."},
				"BearerJWT": {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "An access token from POST /api/v1/users/login or /auth/login."},
			},
		},
	}
	for _, t := range apiTags() {
		doc.Tags = append(doc.Tags, openAPITag{Name: t[0], Description: t[1]})
	}
	errSchemas := map[errFamily]json.RawMessage{
		hapaErrors:   set.schema(errorBody{}, false),
		sseErrors:    set.schema(errorBody{}, false),
		openAIErrors: set.schema(openAIErrorEnvelope{}, false),
	}
	for _, op := range apiOps() {
		item := doc.Paths[op.path]
		if item == nil {
			item = map[string]*apiOpDoc{}
			doc.Paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = op.document(set, errSchemas)
	}
	if len(set.errs) > 0 {
		return nil, fmt.Errorf("openapi: %v", set.errs)
	}
	return doc, nil
}

// document is the Operation object of op.
func (op apiOp) document(set *schemaSet, errSchemas map[errFamily]json.RawMessage) *apiOpDoc {
	d := &apiOpDoc{
		OperationID: op.operationID(),
		Summary:     op.summary,
		Description: op.description,
		Tags:        []string{op.tag},
		Security:    op.auth.requirements(),
		Responses:   map[string]*responseDoc{},
		RateLimit:   op.group,
	}
	if op.scope != "" {
		d.Description = strings.TrimSpace(d.Description + "\n\nScope: `" + op.scope + "`.")
	}
	for _, seg := range strings.Split(op.path, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			d.Parameters = append(d.Parameters, paramDoc{Name: name, In: "path", Required: true,
				Description: op.pathDoc, Schema: json.RawMessage(`{"type":"string"}`), Example: op.pathEx})
		}
	}
	for _, q := range op.query {
		d.Parameters = append(d.Parameters, paramDoc{Name: q.name, In: "query", Description: q.doc,
			Schema: json.RawMessage(q.schema), Example: q.example})
	}
	if op.req != nil {
		d.RequestBody = &bodyDoc{Required: !op.optionalBody, Content: map[string]*mediaTypeDoc{
			"application/json": {Schema: set.schema(op.req, true), Example: op.reqEx}}}
	}
	ok := &responseDoc{Description: op.okDoc, Content: map[string]*mediaTypeDoc{}}
	if ok.Description == "" {
		ok.Description = "Success"
	}
	if op.resp != nil {
		ok.Content["application/json"] = &mediaTypeDoc{Schema: set.schema(op.resp, false), Example: op.respEx}
	}
	if op.event != nil {
		ev := set.schema(op.event, false)
		ok.Content["text/event-stream"] = &mediaTypeDoc{
			Schema:  json.RawMessage(`{"type":"string","description":"Server-sent events: each event is one line data: <JSON>, then a blank line; the stream ends with data: [DONE]. contentSchema describes one event's JSON.","contentMediaType":"application/json","contentSchema":` + string(ev) + `}`),
			Example: op.streamEx,
		}
	}
	if op.raw != "" {
		ok.Content[op.raw] = &mediaTypeDoc{Schema: json.RawMessage(`{"type":"string"}`), Example: op.rawEx}
	}
	if len(ok.Content) == 0 {
		ok.Content = nil
	}
	if op.group != "" {
		ok.Headers = rateLimitHeaders()
	}
	status := op.status
	if status == 0 {
		status = http.StatusOK
	}
	d.Responses[strconv.Itoa(status)] = ok
	if op.family == noErrors {
		return d
	}
	for _, st := range op.errorStatuses() {
		code := statusCode(st)
		r := &responseDoc{Description: http.StatusText(st) + " (" + string(code) + "; the body names the code)",
			Content: map[string]*mediaTypeDoc{"application/json": {Schema: errSchemas[op.family], Example: errorExample(code, op.path, op.family)}}}
		if st == http.StatusTooManyRequests {
			r.Headers = map[string]headerDoc{"Retry-After": {Description: "seconds to wait", Schema: json.RawMessage(`{"type":"integer"}`)}}
		}
		d.Responses[strconv.Itoa(st)] = r
	}
	return d
}

// errorStatuses are the error statuses op can answer, from what it is: a body can be
// malformed or too large, a credential missing or short of a scope, a limit reached, a
// generation time out.
func (op apiOp) errorStatuses() []int {
	var out []int
	if op.req != nil {
		out = append(out, 400, 413)
	}
	if op.auth != public {
		out = append(out, 401, 403)
	}
	out = append(out, op.errs...)
	if op.group != "" {
		out = append(out, 429)
	}
	out = append(out, 500)
	slices.Sort(out)
	return slices.Compact(out)
}

func (op apiOp) operationID() string {
	if op.id != "" {
		return op.id
	}
	return strings.ToLower(op.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(op.path)
}

// requirements is the security of one operation: any one of the listed schemes.
func (a authKind) requirements() []map[string][]string {
	key := []map[string][]string{{"ApiKey": {}}, {"BearerKey": {}}, {"BearerJWT": {}}}
	switch a {
	case public:
		return []map[string][]string{}
	case openAIKey:
		return []map[string][]string{{"BearerKey": {}}, {"ApiKey": {}}}
	case jwtOnly:
		return []map[string][]string{{"BearerJWT": {}}}
	case optionalKey:
		return append(key, map[string][]string{})
	}
	return key
}

func rateLimitHeaders() map[string]headerDoc {
	integer := json.RawMessage(`{"type":"integer"}`)
	return map[string]headerDoc{
		"X-RateLimit-Limit":     {Description: "requests allowed in the window of the route's group", Schema: integer},
		"X-RateLimit-Remaining": {Description: "requests left in the window", Schema: integer},
		"X-RateLimit-Reset":     {Description: "Unix time at which the window resets", Schema: integer},
	}
}
