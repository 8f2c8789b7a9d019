package run

import (
	"context"
	"fmt"
	"hash/fnv"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/goarpo/arpo/dist"
	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/rl"
)

// WorkerEnv, set to a NATS URL, makes a command that calls Start a local
// rollout worker: a run with --workers N starts its own executable N times,
// so that `go run ./cmd/train` needs no second binary. The command's main
// checks it first and calls LocalWorker.
const WorkerEnv = "ARPO_ROLLOUT_WORKER"

// LocalWorker is the whole process of a local worker; it returns the exit
// status.
func LocalWorker(url string) int {
	defer exitcode.OnPanic("rollout-worker")
	ctx, stop := exitcode.SignalContext("rollout-worker", os.Stderr)
	defer stop()
	threads := 0
	fmt.Sscan(os.Getenv(WorkerEnv+"_THREADS"), &threads)
	lg := log.New(os.Stderr, "", log.LstdFlags)
	if err := dist.Serve(ctx, dist.ServeOptions{URL: url, Name: os.Getenv(WorkerEnv + "_NAME"), Backend: "cpu", Threads: threads}, lg); err != nil {
		lg.Print(err)
		return 1
	}
	return 0
}

// rollouts is the distributed rollout of a run: a NATS connection (to an
// embedded server with --workers, or to --nats), the trainer's source and
// the local worker processes.
type rollouts struct {
	src    *dist.Source
	srv    *dist.Embedded
	procs  []*exec.Cmd
	close  []func()
	exited atomic.Int32    // local worker processes that have exited
	waits  []chan struct{} // closed when each has exited
	log    string          // their log file
}

// healthy fails once every local worker process has exited (with --nats
// the workers are elsewhere, and may come and go).
func (r *rollouts) healthy() error {
	if n := len(r.procs); n > 0 && int(r.exited.Load()) == n {
		return fmt.Errorf("all %d local rollout workers have exited; see %s", n, r.log)
	}
	return nil
}

// startRollouts connects the trainer to its workers, or returns nil when
// the run rolls out in this process.
func (j *job) startRollouts(ctx context.Context, tr *rl.Trainer, ahead func(step int) [][]int32) (*rollouts, error) {
	c := j.c
	if c.Workers == 0 && c.NATS == "" {
		return nil, nil
	}
	r := &rollouts{}
	url := c.NATS
	if url == "" {
		srv, err := dist.StartEmbedded()
		if err != nil {
			return nil, err
		}
		r.srv, url = srv, srv.URL()
	}
	nc, js, err := dist.Connect(url, "trainer")
	if err != nil {
		r.stop()
		return nil, err
	}
	r.close = append(r.close, nc.Close)
	abs, _ := filepath.Abs(j.dir)
	h := fnv.New64a()
	h.Write([]byte(abs))
	run := fmt.Sprintf("run-%016x", h.Sum64())
	src, err := dist.NewSource(ctx, js, dist.SourceOptions{Run: run, MaxStaleness: c.MaxStaleness, Ahead: ahead,
		Log: j.out, Healthy: r.healthy})
	if err != nil {
		r.stop()
		return nil, err
	}
	kind, _, _ := parseTask(c.Task)
	tj, err := j.tok.MarshalHF()
	if err != nil {
		r.stop()
		return nil, err
	}
	spec := dist.RunSpec{Tokenizer: tj, Tools: runconfig.ToolSpec{Task: kind, World: c.World(), Data: c.Data,
		SearchTopK: c.SearchTopK, MaxResult: c.MaxResult, CallLimit: c.CallLimit, Isolation: c.ToolIsolation},
		RolloutPrecision: c.RolloutPrecision, KVCache: c.KVCache}
	if err := src.PublishSpec(ctx, spec); err != nil {
		r.stop()
		return nil, err
	}
	src.Vocab = j.model.Cfg.VocabSize
	r.src, tr.Source = src, src
	if c.Workers > 0 {
		if err := r.spawn(j, url, c.Workers); err != nil {
			r.stop()
			return nil, err
		}
	}
	where := "NATS " + url
	if r.srv != nil {
		where = "an embedded NATS server (" + url + ")"
	}
	j.printf("%-10s run %s on %s; %d local worker processes (log: %s), max staleness %d\n", "rollouts", run, where,
		c.Workers, filepath.Join(j.dir, "workers.log"), c.MaxStaleness)
	return r, nil
}

// spawn starts n local worker processes of this binary, logging to
// workers.log in the run folder; they share the CPU threads.
func (r *rollouts) spawn(j *job, url string, n int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(j.dir, "workers.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.close = append(r.close, func() { logf.Close() })
	threads := j.c.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	r.log = logf.Name()
	for i := range n {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), WorkerEnv+"="+url, fmt.Sprintf("%s_THREADS=%d", WorkerEnv, max(1, threads/n)),
			fmt.Sprintf("%s_NAME=local-%d", WorkerEnv, i))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start a local worker: %w", err)
		}
		r.procs = append(r.procs, cmd)
		done := make(chan struct{})
		r.waits = append(r.waits, done)
		go func() { cmd.Wait(); r.exited.Add(1); close(done) }()
	}
	return nil
}

// beforeStep publishes the policy the step's groups are generated with:
// version v is the weights after v RL steps.
func (r *rollouts) beforeStep(ctx context.Context, j *job, step int) error {
	if r == nil {
		return nil
	}
	policy, err := j.policy()
	if err != nil {
		return err
	}
	return r.src.SetPolicy(ctx, step-1, policy)
}

// afterStep reports the step's rollout: workers, throughput, queue depth.
func (r *rollouts) afterStep(j *job, line *MetricsLine) {
	if r == nil {
		return
	}
	info := r.src.Last()
	line.Dist = &info
	if j.tty {
		j.printf("  rollouts: %d groups from %d workers, %.1f groups/s, queue %d, rejected %d\n", info.Groups,
			len(info.Workers), float64(info.Groups)/max(info.Seconds, 1e-9), info.QueueDepth, info.Rejected)
	}
}

// stop ends the local workers (SIGTERM, then a kill after 10 s), the
// connection and the embedded server.
func (r *rollouts) stop() {
	if r == nil {
		return
	}
	for _, p := range r.procs {
		p.Process.Signal(os.Interrupt)
	}
	for i, p := range r.procs {
		select {
		case <-r.waits[i]:
		case <-time.After(10 * time.Second):
			p.Process.Kill()
			<-r.waits[i]
		}
	}
	for i := len(r.close) - 1; i >= 0; i-- {
		r.close[i]()
	}
	if r.srv != nil {
		r.srv.Close()
	}
}

func tokensOf(ps []rl.Prompt) [][]int32 {
	out := make([][]int32, len(ps))
	for i, p := range ps {
		out[i] = p.Tokens
	}
	return out
}
