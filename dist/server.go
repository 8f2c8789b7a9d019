package dist

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is a NATS server with JetStream running inside this process: the
// single-machine default of `train --workers N`, so that one command needs
// no separate server. It listens on loopback on a random port and keeps its
// store in a temporary folder that Close removes.
type Embedded struct {
	srv *server.Server
	dir string
}

// StartEmbedded starts the server and waits until it accepts connections.
func StartEmbedded() (*Embedded, error) {
	dir, err := os.MkdirTemp("", "arpo-nats-")
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	opts := &server.Options{
		ServerName: "arpo-embedded",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		MaxPayload: MaxMessage,
		NoLog:      true,
		NoSigs:     true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("nats: the embedded server did not start within 30 s")
	}
	return &Embedded{srv: srv, dir: dir}, nil
}

// URL is the address clients connect to, e.g. nats://127.0.0.1:40213.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Close stops the server and removes its store.
func (e *Embedded) Close() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	os.RemoveAll(e.dir)
}
