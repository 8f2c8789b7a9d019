// Package shareddata finds the project's reference data (tokenizers, model
// checkpoints, evaluation sets) in ../shared/data beside the repository, so
// that tests read it in place and never copy it in.
//
// Not for: commands. It imports testing (Path skips a test) and searches
// upward from the working directory for go.mod, which only makes sense in a
// checkout; commands take the folder as a flag (--data, default
// tasks.DefaultDataDir), and TestReleaseBinaries keeps this package out of
// them.
package shareddata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides the location of the data folder (tasks.DataDirEnv, the
// same variable the commands read).
const EnvVar = "ARPO_SHARED_DATA"

// Dir returns the shared data folder: $ARPO_SHARED_DATA when set, else
// ../shared/data relative to the repository root (the folder holding go.mod,
// found by walking up from the working directory).
func Dir() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, d, err)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			if _, err := os.Stat(d); err != nil {
				return "", fmt.Errorf("shared data not found at %s: %w", d, err)
			}
			return filepath.Clean(d), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("shared data: no go.mod above the working directory")
		}
	}
}

// Path returns the path of rel inside the shared data folder, or skips the
// test with a message when the folder or the file is absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	d, err := Dir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	p := filepath.Join(d, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: shared data file absent: %v", err)
	}
	return p
}
