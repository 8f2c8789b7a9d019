package dashboard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Run is one run folder the server shows.
type Run struct {
	// ID names the run in URLs (/api/run/ID/...); only letters, digits and
	// ._- so that it never reads as a path.
	ID string `json:"id"`
	// Name is what the pages show: the folder's path as given, or relative
	// to the experiment folder it was found in.
	Name string `json:"name"`
	// Dir is the run folder.
	Dir string `json:"dir"`
	// Live marks the run being trained by this process (cmd/train --serve).
	Live bool `json:"live"`
	// RLSteps, when above 0, is the number of RL steps the trainer is
	// running to; it overrides config.json's, which a run resumed with a
	// larger --rl-steps does not rewrite.
	RLSteps int `json:"-"`
}

// runMarkers are the files of which any one makes a folder a run folder.
var runMarkers = []string{"config.json", "metrics.jsonl", "sft.jsonl"}

// IsRunFolder reports whether dir holds a training run's files.
func IsRunFolder(dir string) bool {
	for _, m := range runMarkers {
		if st, err := os.Stat(filepath.Join(dir, m)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// FindRuns turns the folders given on a command line into runs: a run folder
// is itself; any other folder (an experiment's, or runs/) stands for the run
// folders up to two levels below it, so that an experiment's cells/NAME
// runs are found. A path that is neither is an error that says so.
func FindRuns(paths []string) ([]Run, error) {
	var runs []Run
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not a run folder", p)
		}
		if IsRunFolder(p) {
			runs = append(runs, Run{Name: filepath.Clean(p), Dir: p})
			continue
		}
		found := runsBelow(p, 2)
		if len(found) == 0 {
			return nil, fmt.Errorf("%s is not a run folder (it has no %s) and holds none up to two levels down",
				p, strings.Join(runMarkers, ", "))
		}
		for _, d := range found {
			rel, _ := filepath.Rel(p, d)
			runs = append(runs, Run{Name: filepath.Join(filepath.Base(filepath.Clean(p)), rel), Dir: d})
		}
	}
	AssignIDs(runs)
	return runs, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// runsBelow lists the run folders under dir, depth levels deep at most,
// sorted; it does not look inside a run folder.
func runsBelow(dir string, depth int) []string {
	if depth == 0 {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if IsRunFolder(sub) {
			out = append(out, sub)
			continue
		}
		out = append(out, runsBelow(sub, depth-1)...)
	}
	sort.Strings(out)
	return out
}

// AssignIDs gives each run a unique URL-safe ID made from its folder's
// name, and for a run found in an experiment folder, the path below it.
func AssignIDs(runs []Run) {
	used := map[string]bool{}
	for i := range runs {
		name := runs[i].Name
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			name = filepath.Base(name)
		}
		base := slug(name)
		id := base
		for n := 2; used[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		used[id] = true
		runs[i].ID = id
	}
}

// slug keeps letters, digits, '.', '_' and '-' and turns everything else
// into '_'; it never returns "", "." or "..".
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.Trim(filepath.ToSlash(name), "/") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		return "run"
	}
	return s
}
