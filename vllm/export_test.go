package vllm

// ParseChunk exposes the chunk parser to the external tests and the fuzzer.
func ParseChunk(data []byte, d *Delta) error {
	var c wireChunk
	var u Usage
	return c.decode(data, d, &u)
}
