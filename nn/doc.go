// Package nn is the Llama/Qwen2/Qwen3 decoder-only transformer of this project,
// written as explicit forward/backward pairs on top of package tensor, so
// that every numeric step runs through a backend.Backend (CPU or Vulkan):
//
//   - Config: the Hugging Face config.json of LlamaForCausalLM (with Llama
//     3's "llama3" and "linear" rope_scaling), Qwen2ForCausalLM and
//     Qwen3ForCausalLM (per-head q_norm/k_norm before RoPE), validated.
//   - Model: weights and gradients with Hugging Face names, seeded
//     initialisation, loading a Hugging Face folder (config.json +
//     safetensors).
//   - Forward over a packed batch of sequences of different lengths
//     (Forward), logits or chunked per-token log-probs and entropies (Logits,
//     LogProbs), and the matching backward passes (Backward,
//     BackwardLogProbs), which accumulate into the gradients.
//   - MaskedCE, the token-mean cross-entropy for supervised fine-tuning, as a
//     pure function of log-probs; the RL losses live in rl/ the same way.
//   - AdamW with global-norm clipping and learning-rate schedules; training
//     checkpoints that resume bitwise.
//
// What it is not: an autograd system or a general layer library. It knows
// one architecture family. Tokenisation (nn/tokenizer) and the safetensors
// format (nn/safetensors) are separate packages.
package nn
