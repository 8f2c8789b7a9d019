package analysis

import (
	"context"
	"fmt"
	"math"

	"github.com/goarpo/arpo/rl"
)

// Collect rolls out prompts with roller, batch prompts at a time, and
// returns every trajectory's response for Analyze. The roller's own
// configuration decides M, branching and sampling; tools are the
// protocol's tool tags.
func Collect(ctx context.Context, roller *rl.Roller, prompts [][]int32, batch int, tools []string) ([]Trajectory, error) {
	if batch < 1 {
		batch = 16
	}
	norm := 1 / math.Log(float64(roller.Engine.VocabSize()))
	var out []Trajectory
	for lo := 0; lo < len(prompts); lo += batch {
		hi := min(lo+batch, len(prompts))
		trees, _, _, err := roller.Rollout(ctx, prompts[lo:hi], lo/batch)
		if err != nil {
			return nil, fmt.Errorf("entropy rollout of prompts %d..%d: %w", lo, hi-1, err)
		}
		for _, t := range trees {
			for _, leaf := range t.Leaves {
				out = append(out, FromTree(t, leaf, roller.Tok, tools, norm))
			}
		}
	}
	return out, nil
}
