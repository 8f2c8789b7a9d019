package nn

// Size limits on a config: each is far above any released model
// (Llama 3.1 405B: hidden 16384, 126 layers, intermediate 53248, vocabulary
// 128256) and low enough that every product of two dimensions, and the
// parameter count, fit an int64 with room to spare. Validate refuses a
// config beyond them before anything is allocated.
const (
	maxDim    = 1 << 20 // hidden_size, intermediate_size, head_dim x heads
	maxVocab  = 1 << 24
	maxLayers = 1 << 12
	maxHeads  = 1 << 12
	maxPos    = 1 << 24
	maxParams = 1 << 42 // 4.4e12 scalars, 16 TiB of float32
)

// NumParams is the number of scalars a model with this config holds: what
// New allocates for the weights, and as much again for the gradients. It
// assumes a config that passed Validate (no overflow).
func (c Config) NumParams() int64 {
	h, v := int64(c.HiddenSize), int64(c.VocabSize)
	q, kv := int64(c.NumHeads)*int64(c.HeadDim), int64(c.NumKVHeads)*int64(c.HeadDim)
	layer := 2*h + h*q + 2*h*kv + q*h + 3*h*int64(c.IntermediateSize)
	if c.QKVBias() {
		layer += q + 2*kv
	}
	if c.OBias() {
		layer += h
	}
	if c.QKNorm() {
		layer += 2 * int64(c.HeadDim)
	}
	n := v*h + int64(c.NumLayers)*layer + h
	if !c.TieWordEmbeddings {
		n += v * h
	}
	return n
}

// numParamsFloat is NumParams in floating point, for configs not yet
// checked (no overflow possible).
func (c Config) numParamsFloat() float64 {
	h, v := float64(c.HiddenSize), float64(c.VocabSize)
	q, kv := float64(c.NumHeads)*float64(c.HeadDim), float64(c.NumKVHeads)*float64(c.HeadDim)
	layer := 2*h + h*q + 2*h*kv + q*h + 3*h*float64(c.IntermediateSize) + q + 2*kv + h + 2*float64(c.HeadDim)
	return 2*v*h + float64(c.NumLayers)*layer + h
}

// TrainingBytes is the memory the weights, gradients and AdamW's two
// moments take in float32 (16 bytes a parameter): a lower bound for
// training, before activations and the KV cache.
func (c Config) TrainingBytes() int64 { return 16 * c.NumParams() }

// KVBytesPerToken is the KV-cache memory one token of one sequence takes
// in float32 (keys and values of every layer).
func (c Config) KVBytesPerToken() int64 {
	return 2 * 4 * int64(c.NumLayers) * int64(c.NumKVHeads) * int64(c.HeadDim)
}

// LinearParams is the number of scalars of the linear weights (q, k, v, o,
// gate, up, down of every layer): what a bf16 base (NewBF16Base) stores as
// bf16.
func (c Config) LinearParams() int64 {
	h := int64(c.HiddenSize)
	q, kv := int64(c.NumHeads)*int64(c.HeadDim), int64(c.NumKVHeads)*int64(c.HeadDim)
	return int64(c.NumLayers) * (2*h*q + 2*h*kv + 3*h*int64(c.IntermediateSize))
}

// BF16BaseBytes is the memory a bf16 base takes: 2 bytes a linear weight,
// 4 every other weight (embeddings, LM head, norms, biases), no gradients.
func (c Config) BF16BaseBytes() int64 {
	lin := c.LinearParams()
	return 2*lin + 4*(c.NumParams()-lin)
}
