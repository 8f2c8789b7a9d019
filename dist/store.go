package dist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/runconfig"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
)

// The JetStream layout, shared by every run on a server:
//
//	stream ARPO_WORK     subjects arpo.work.RUN, a work queue of WorkItems;
//	                     consumer "workers", pulled by every rollout worker
//	stream ARPO_RESULTS  subjects arpo.result.RUN, a work queue of Results;
//	                     consumer "trainer-RUN", pulled by the run's trainer
//	object store ARPO    RUN/spec (RunSpec), RUN/policy/V (weights of
//	                     version V), RUN/current (the newest version)
const (
	workStream    = "ARPO_WORK"
	resultStream  = "ARPO_RESULTS"
	workConsumer  = "workers"
	bucket        = "ARPO"
	retainStreams = 24 * time.Hour
	// DefaultAckWait is how long a work item may go without a worker's
	// heartbeat before it is given to another worker; workers beat every
	// third of it while they roll out.
	DefaultAckWait = 30 * time.Second
)

func workSubject(run string) string   { return "arpo.work." + run }
func resultSubject(run string) string { return "arpo.result." + run }
func specObject(run string) string    { return run + "/spec" }
func currentObject(run string) string { return run + "/current" }
func policyObject(run string, v int) string {
	return run + "/policy/" + strconv.Itoa(v)
}

// RunSpec is what a worker needs besides the weights: the tokenizer and the
// tools of the run.
type RunSpec struct {
	Version   int                `json:"v"`
	Tokenizer json.RawMessage    `json:"tokenizer"` // a Hugging Face tokenizer.json
	Tools     runconfig.ToolSpec `json:"tools"`
	// RolloutPrecision is the precision of the weights the rollout engine
	// decodes with ("f32" or "bf16"; "" is f32): workers must use the
	// trainer's, or their groups' bits would differ from a local rollout's.
	RolloutPrecision string `json:"rollout_precision,omitempty"`
	// KVCache is the storage precision of the rollout engine's KV cache
	// ("f32" or "bf16"; "" is f32), for the same reason.
	KVCache string `json:"kv_cache,omitempty"`
}

// Connect opens a connection to a NATS server and its JetStream; name says
// who connects, in the server's monitoring.
func Connect(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("nats: connect to %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	return nc, js, nil
}

// layout creates the streams, the workers' consumer and the object store
// when they are missing. update also applies ackWait to an existing
// consumer (the trainer's choice wins over a worker's default).
func layout(ctx context.Context, js jetstream.JetStream, ackWait time.Duration, update bool) (jetstream.Stream, jetstream.Consumer, jetstream.ObjectStore, error) {
	fail := func(err error) (jetstream.Stream, jetstream.Consumer, jetstream.ObjectStore, error) {
		return nil, nil, nil, fmt.Errorf("nats: %w", err)
	}
	work, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: workStream, Subjects: []string{"arpo.work.>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, MaxAge: retainStreams, MaxMsgSize: MaxMessage,
	})
	if err != nil {
		return fail(err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: resultStream, Subjects: []string{"arpo.result.>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, MaxAge: retainStreams, MaxMsgSize: MaxMessage,
	}); err != nil {
		return fail(err)
	}
	cc := jetstream.ConsumerConfig{
		Durable: workConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait,
		MaxDeliver: -1, MaxAckPending: 10000,
	}
	var cons jetstream.Consumer
	if update {
		cons, err = work.CreateOrUpdateConsumer(ctx, cc)
	} else if cons, err = work.Consumer(ctx, workConsumer); errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = work.CreateConsumer(ctx, cc)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = work.Consumer(ctx, workConsumer)
		}
	}
	if err != nil {
		return fail(err)
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bucket, Storage: jetstream.FileStorage})
	if err != nil {
		return fail(err)
	}
	return work, cons, obs, nil
}

// encodeWeights serialises a model's weights and config as safetensors.
func encodeWeights(m *nn.Model) ([]byte, error) {
	ws, err := m.Weights()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ws, map[string]string{"format": "pt", "config": string(m.Cfg.HFJSON())}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeWeights reads weights written by encodeWeights into m, or into a new
// model on b when m is nil or has another configuration. The bytes go
// through a temporary file: the safetensors reader validates files.
func decodeWeights(data []byte, m *nn.Model, b backend.Backend) (*nn.Model, error) {
	f, err := os.CreateTemp("", "arpo-policy-*.safetensors")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	meta, err := safetensors.ReadMetadata(f.Name())
	if err != nil {
		return nil, err
	}
	cfg, err := nn.ParseConfig([]byte(meta["config"]))
	if err != nil {
		return nil, err
	}
	ts, err := safetensors.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	if m == nil || !bytes.Equal(m.Cfg.HFJSON(), cfg.HFJSON()) {
		if m != nil {
			m.Free()
		}
		if m, err = nn.New(cfg, b); err != nil {
			return nil, err
		}
	}
	if err := m.SetWeights(ts); err != nil {
		m.Free()
		return nil, err
	}
	return m, nil
}
