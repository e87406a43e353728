package web

// openAPIComponents are the shared schemas and security schemes of the document.
func openAPIComponents() map[string]any {
	str := map[string]any{"type": "string"}
	num := map[string]any{"type": "number"}
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	obj := func(required []string, props map[string]any) map[string]any {
		o := map[string]any{"type": "object", "properties": props}
		if required != nil {
			o["required"] = required
		}
		return o
	}
	return map[string]any{
		"securitySchemes": map[string]any{
			"ApiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			"Bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "API key (hapa_…) or JWT access token"},
		},
		"schemas": map[string]any{
			"Error": obj([]string{"detail", "message", "error_code", "status", "timestamp", "path"}, map[string]any{
				"detail": str, "message": str, "error_message": str, "error_code": str, "status": str,
				"timestamp": str, "path": str, "request_id": str, "incident_id": str, "recovery_hint": str,
				"details": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}),
			"CodeGenerationRequest": obj([]string{"prompt"}, map[string]any{
				"prompt": str, "user_question": str, "context": str, "code_context": str, "model_type": str,
				"language": str, "max_tokens": integer, "temperature": num, "top_p": num,
				"userProfile": map[string]any{"$ref": "#/components/schemas/Profile"}}),
			"CompletionRequest": obj([]string{"prefix"}, map[string]any{
				"prefix": str, "suffix": str, "language": str, "file_path": str, "max_tokens": integer, "temperature": num}),
			"LegacyGenerationRequest": obj([]string{"user_question"}, map[string]any{
				"user_question": str, "code_context": str, "language": str}),
			"LoginRequest":      obj([]string{"email"}, map[string]any{"email": str, "password": str, "username": str}),
			"Profile":           obj(nil, map[string]any{"pythonSkillLevel": str, "codeOutputStructure": str, "explanationStyle": str, "projectContext": str, "errorHandlingPreference": str, "preferredLanguageFeatures": map[string]any{"type": "array", "items": str}}),
			"Settings":          map[string]any{"type": "object"},
			"CacheClearRequest": obj([]string{"cache_type", "confirm"}, map[string]any{"cache_type": map[string]any{"type": "string", "enum": []string{"code_generation", "user_profiles", "all"}}, "confirm": boolean}),
			"OpenAIChatRequest": obj([]string{"messages"}, map[string]any{ // web/openai_request.go; other OpenAI fields are ignored
				"model": str, "messages": map[string]any{"type": "array", "items": obj([]string{"role"}, map[string]any{"role": str, "content": map[string]any{}})},
				"max_tokens": integer, "max_completion_tokens": integer, "temperature": num, "top_p": num, "stop": map[string]any{},
				"n": integer, "seed": integer, "user": str, "stream": boolean, "stream_options": obj(nil, map[string]any{"include_usage": boolean})}),
			"OpenAICompletionRequest": obj([]string{"prompt"}, map[string]any{
				"model": str, "prompt": map[string]any{}, "suffix": str, "max_tokens": integer, "temperature": num, "top_p": num,
				"stop": map[string]any{}, "n": integer, "seed": integer, "user": str, "stream": boolean, "stream_options": obj(nil, map[string]any{"include_usage": boolean})}),
		},
	}
}
