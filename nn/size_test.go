package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNumParams: the count a config predicts is what New allocates, for
// every bias and tying variant.
func TestNumParams(t *testing.T) {
	b := refBackend{}
	for name, c := range tinyConfigs() {
		for _, tie := range []bool{false, true} {
			for _, bias := range []bool{false, true} {
				c.TieWordEmbeddings, c.AttentionBias = tie, bias
				m, err := New(c, b)
				require.NoError(t, err, name)
				assert.Equal(t, int64(m.NumParams()), c.NumParams(), "%s tie=%v bias=%v", name, tie, bias)
				assert.Equal(t, 16*c.NumParams(), c.TrainingBytes())
				m.Free()
			}
		}
	}
}

// TestHugeConfigRefused: absurd sizes in a config.json are refused by
// ParseConfig with a message naming the field, before anything is
// allocated; hidden_size 1e9 used to panic in New with "tensor: negative
// dimension" and num_hidden_layers 1e15 to allocate terabytes (issue 20).
func TestHugeConfigRefused(t *testing.T) {
	base := `"model_type":"llama","vocab_size":32000,"num_attention_heads":8,"max_position_embeddings":2048`
	cases := map[string]string{
		`"hidden_size":1000000000,"num_hidden_layers":2,"intermediate_size":64`:                    "hidden_size 1000000000 is over the limit",
		`"hidden_size":64,"num_hidden_layers":1000000000000000,"intermediate_size":64`:             "num_hidden_layers 1000000000000000 is over the limit",
		`"hidden_size":64,"num_hidden_layers":2,"intermediate_size":10000000000`:                   "intermediate_size 10000000000 is over the limit",
		`"hidden_size":64,"num_hidden_layers":2,"intermediate_size":64,"vocab_size":9000000000`:    "vocab_size 9000000000 is over the limit",
		`"hidden_size":1048576,"num_hidden_layers":4000,"intermediate_size":1048576`:               "parameters, over the limit",
		`"hidden_size":64,"num_hidden_layers":2,"intermediate_size":64,"head_dim":1048576`:         "num_attention_heads x head_dim",
		`"hidden_size":64,"num_hidden_layers":2,"intermediate_size":64,"num_key_value_heads":8192`: "num_key_value_heads 8192 is over the limit",
	}
	for fields, want := range cases {
		_, err := ParseConfig([]byte("{" + base + "," + fields + "}"))
		require.Error(t, err, fields)
		assert.Contains(t, err.Error(), want, fields)
	}
	// Real sizes pass: Llama 3.1 405B's shape.
	c, err := ParseConfig([]byte(`{"model_type":"llama","vocab_size":128256,"hidden_size":16384,"num_hidden_layers":126,
		"num_attention_heads":128,"num_key_value_heads":8,"intermediate_size":53248,"max_position_embeddings":131072}`))
	require.NoError(t, err)
	assert.InDelta(t, 405.8e9, float64(c.NumParams()), 1e9)
}
