package vllm

// ParseChunk exposes the chunk parser to the external tests and the fuzzer.
func ParseChunk(data []byte, d *Delta) error {
	var c wireChunk
	var u Usage
	return c.decode(data, d, &u)
}

// ParseChunkBoth runs the fast and the reference decoder on data.
func ParseChunkBoth(data []byte) (fastOK bool, fast, slow Delta, slowErr error) {
	var c wireChunk
	var u1, u2 Usage
	fastOK = fastChunk(data, &fast, &u1)
	slowErr = c.decodeSlow(data, &slow, &u2)
	return fastOK, fast, slow, slowErr
}
