package sysmem

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	if Total() == 0 {
		t.Skip("the machine's memory is unknown on this system")
	}
	require.NoError(t, Check("a byte", 1))
	err := Check("the model", 4000*(1<<30)*(1<<10))
	require.Error(t, err)
	assert.Regexp(t, `^the model needs about 4\.1e\+06 GiB, this machine has [0-9.]+ GiB$`, err.Error())
	assert.Equal(t, "1.5 GiB", GiB(1.5*(1<<30)))
	assert.Equal(t, "24 GiB", GiB(24*(1<<30)))
}
