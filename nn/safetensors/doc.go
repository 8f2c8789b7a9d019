// Package safetensors reads and writes model weights in the Hugging Face
// safetensors format: an 8-byte little-endian header length, a JSON header
// mapping each tensor name to its dtype, shape and byte range, then the raw
// little-endian tensor data.
//
// It is for loading Hugging Face checkpoints (single files or sharded
// directories with model.safetensors.index.json) into float32 and for
// saving our own float32 checkpoints in a form PyTorch and the Python
// safetensors library load unchanged. Reading converts F32, F16, BF16, F64,
// I32 and I64 to float32; other dtypes are recognised (so the rest of the
// file still loads) but reading them is an error. Writing stores F32, BF16
// or F16 (rounded to nearest even).
//
// It is not a general tensor library: tensors are plain (shape, []float32)
// pairs with no strides or devices; package tensor does that.
//
// Every file is validated before any data is trusted, following the Python
// library's rules: the header must be valid JSON with no duplicate names,
// every dtype known, shapes non-negative, and the tensors' byte ranges must
// tile the data section exactly (no gaps, overlaps or trailing bytes). A bad
// file gives an error naming the file and the tensor, never a panic.
package safetensors
