package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/faultinject"
	"github.com/goarpo/arpo/internal/runlog"
	"github.com/goarpo/arpo/run"
	"github.com/goarpo/arpo/tools/python"
)

// childEnv makes this test binary run the command instead of the tests, so
// that a test can kill a real process (see TestMain).
const childEnv = "ARPO_TRAIN_TEST_CHILD"

func TestMain(m *testing.M) {
	// A child of --tool-isolation process: one Python call, then exit.
	python.ServeChild()
	// A child: a crash test's, or a local rollout worker of --workers
	// (main runs those first).
	if os.Getenv(childEnv) == "1" || os.Getenv(run.WorkerEnv) != "" {
		main()
		return
	}
	os.Exit(m.Run())
}

// trainChild runs the command in a child process with the fault point
// armed and returns its exit code (-1 when a signal ended it) and stderr.
func trainChild(t *testing.T, fault string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", faultinject.EnvVar+"="+fault)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("start child: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// steps lists the "step" of every line of a JSONL log.
func steps(t *testing.T, path string) []int {
	t.Helper()
	lines, err := runlog.ReadJSONL[struct {
		Step int    `json:"step"`
		Tag  string `json:"tag"`
	}](path)
	require.NoError(t, err)
	var out []int
	for _, l := range lines {
		out = append(out, l.Step)
	}
	return out
}

// tempFiles lists the leftovers of interrupted atomic writes under dir.
func tempFiles(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// TestKillAnywhereResumesToSameBits kills the smoke run (SIGKILL, in a child
// process) at each named point, resumes it, and requires the same files as
// a run that never stopped: the checkpoints and state.json bit for bit, and
// one log line per step.
func TestKillAnywhereResumesToSameBits(t *testing.T) {
	base := []string{"--preset", "smoke", "--threads", "1"}
	ref := filepath.Join(t.TempDir(), "ref")
	code, _, stderr := runCmd(t, append(base, "--out", ref)...)
	require.Equal(t, 0, code, stderr)
	want := map[string][]byte{}
	for _, f := range []string{"state.json", "checkpoints/sft.safetensors", "checkpoints/latest.safetensors", "checkpoints/final.safetensors"} {
		b, err := os.ReadFile(filepath.Join(ref, f))
		require.NoError(t, err)
		want[f] = b
	}
	wantSFT, wantRL, wantEvals := steps(t, filepath.Join(ref, "sft.jsonl")), steps(t, filepath.Join(ref, "metrics.jsonl")),
		steps(t, filepath.Join(ref, "evals.jsonl"))

	// The smoke preset writes latest.safetensors 6 times: at the start, at
	// SFT step 2, when RL starts, after RL steps 1 and 2, and when done.
	for _, point := range []string{
		"sft-step@1",                     // mid-SFT, before any periodic checkpoint
		"mid-line:sft.jsonl@3",           // half an SFT log line
		"renamed:latest.safetensors@2",   // the SFT step-2 checkpoint renamed, state.json not yet
		"unrenamed:latest.safetensors@4", // RL step 1's checkpoint written to its temporary file only
		"state-write@3",                  // the RL optimizer's checkpoint written, state.json still at SFT
		"renamed:sft.safetensors",        // SFT done, RL not started
		"mid-line:metrics.jsonl@2",       // half an RL log line
		"rl-step@2",                      // RL step 2 logged, not checkpointed
		"state-write@5",                  // the last RL checkpoint written, state.json one step behind
		"renamed:final.safetensors",      // everything but the summary
	} {
		t.Run(point, func(t *testing.T) {
			t.Parallel() // each run has its own folder; CI's cores do two at once
			dir := filepath.Join(t.TempDir(), "run")
			code, stderr := trainChild(t, point, append(base, "--out", dir)...)
			require.Equal(t, -1, code, "the run must be killed at %s: %s", point, stderr)

			code, out, stderr := runCmd(t, "--resume", dir, "--threads", "1")
			require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, out)
			for f, b := range want {
				got, err := os.ReadFile(filepath.Join(dir, f))
				require.NoError(t, err)
				assert.True(t, bytes.Equal(b, got), "%s differs from the uninterrupted run's", f)
			}
			assert.Equal(t, wantSFT, steps(t, filepath.Join(dir, "sft.jsonl")), "sft.jsonl")
			assert.Equal(t, wantRL, steps(t, filepath.Join(dir, "metrics.jsonl")), "metrics.jsonl")
			assert.Equal(t, wantEvals, steps(t, filepath.Join(dir, "evals.jsonl")), "evals.jsonl")
			assert.Empty(t, tempFiles(t, dir))
		})
	}
}

// TestResumeRefusesDamagedRun covers the files a resume must not trust: each
// case damages a finished smoke run and expects exit 2 with one line naming
// the problem.
func TestResumeRefusesDamagedRun(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", src, "--threads", "1")
	require.Equal(t, 0, code, stderr)
	latest := "checkpoints/latest.safetensors"

	for _, c := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"bogus phase", func(t *testing.T, dir string) { editState(t, dir, "phase", "bogus") }, `phase "bogus"`},
		{"empty state", func(t *testing.T, dir string) { writeFile(t, dir, "state.json", "{}") }, "checkpoint_sha256"},
		{"negative step", func(t *testing.T, dir string) { editState(t, dir, "rl_step", -5) }, "negative step"},
		{"unknown field", func(t *testing.T, dir string) { editState(t, dir, "extra", 1) }, "unknown field"},
		{"sft beyond its steps", func(t *testing.T, dir string) { editState(t, dir, "sft_step", 99) }, "beyond"},
		{"state ahead of the checkpoint", func(t *testing.T, dir string) { editState(t, dir, "rl_step", 7) }, "records done step 2"},
		{"swapped tokenizer", func(t *testing.T, dir string) {
			data := readFile(t, dir, "tokenizer.json")
			writeFile(t, dir, "tokenizer.json", strings.Replace(data, `"model"`, ` "model"`, 1))
		}, "tokenizer.json changed"},
		{"flipped bit in the checkpoint", func(t *testing.T, dir string) {
			b := []byte(readFile(t, dir, latest))
			b[len(b)-3] ^= 0x10
			writeFile(t, dir, latest, string(b))
		}, "replaced or damaged"},
		{"older checkpoint", func(t *testing.T, dir string) {
			// The RL step-1 checkpoint of another smoke run is this run's
			// earlier unit: resuming from it would redo steps silently.
			other := filepath.Join(t.TempDir(), "other")
			code, stderr := trainChild(t, "state-write@4", "--preset", "smoke", "--out", other, "--threads", "1")
			require.Equal(t, -1, code, stderr)
			writeFile(t, dir, latest, readFile(t, other, latest))
		}, "replaced or damaged"},
		{"another run's checkpoint", func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "other")
			code, _, stderr := runCmd(t, "--preset", "smoke", "--seed", "2", "--out", other, "--threads", "1")
			require.Equal(t, 0, code, stderr)
			writeFile(t, dir, latest, readFile(t, other, latest))
		}, "checkpoint of another run"},
		{"edited config", func(t *testing.T, dir string) {
			writeFile(t, dir, "config.json", strings.Replace(readFile(t, dir, "config.json"), `"lr": 0.0001`, `"lr": 0.0002`, 1))
		}, "config.json changed"},
		{"no state yet", func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "state.json"))) }, "before its first checkpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "run")
			require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
			c.damage(t, dir)
			code, _, stderr := runCmd(t, "--resume", dir, "--rl-steps", "3", "--threads", "1")
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, c.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

// TestResumeRefusesDamagedSFTReference: with a KL term, the SFT checkpoint
// is the reference policy; a bit flipped in it after SFT is refused.
func TestResumeRefusesDamagedSFTReference(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "1", "--kl-coef", "0.01", "--rl-steps", "1")
	require.Equal(t, 0, code, stderr)
	st := readState(t, filepath.Join(dir, "state.json"))
	sft := fileSHA256(t, filepath.Join(dir, "checkpoints", "sft.safetensors"))
	require.Equal(t, sft, st.SFT, "state.json records the SFT checkpoint")

	b := []byte(readFile(t, dir, "checkpoints/sft.safetensors"))
	b[len(b)-3] ^= 0x10
	writeFile(t, dir, "checkpoints/sft.safetensors", string(b))
	code, _, stderr = runCmd(t, "--resume", dir, "--rl-steps", "2", "--threads", "1")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "is not the SFT model this run trained")
}

// TestResumeRefusesSecondProcess: while one process works in a run folder,
// a second --resume of it is refused; a lock left by a killed process is
// not (TestKillAnywhereResumesToSameBits resumes after kills).
func TestResumeRefusesSecondProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCmd(t, "--preset", "smoke", "--out", dir, "--threads", "1")
	require.Equal(t, 0, code, stderr)
	lock, err := runlog.LockDir(dir)
	require.NoError(t, err)
	code, stderr = trainChild(t, "", "--resume", dir, "--rl-steps", "3", "--threads", "1")
	require.NoError(t, lock.Unlock())
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "is being written by process")
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
}

// editState sets one field of state.json.
func editState(t *testing.T, dir, key string, v any) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(readFile(t, dir, "state.json")), &m))
	m[key] = v
	b, err := json.Marshal(m)
	require.NoError(t, err)
	writeFile(t, dir, "state.json", string(b))
}
