package search

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// NewServer returns an http.Server for the index with lim's timeouts. Serve
// it on LimitConns(ln, lim.MaxConns) to cap the open connections too.
func NewServer(ix *Index, lim Limits) *http.Server {
	return &http.Server{
		Handler:           Handler(ix, lim),
		ReadHeaderTimeout: lim.HeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// LimitConns returns a listener that keeps at most max connections open:
// one accepted beyond that gets "503 Service Unavailable" and is closed at
// once, so a crowd of slow clients cannot use up the process's file
// descriptors, and a health probe gets a quick answer instead of waiting in
// the accept queue. max <= 0 means no limit.
func LimitConns(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, max)}
}

type limitListener struct {
	net.Listener
	slots chan struct{}
}

// busyReply is written to a connection over the limit.
const busyReply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 47\r\n\r\n{\"error\": \"too many connections, retry later\"}\n"

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			// Answer without reading: the reply is small enough for the
			// socket buffer, and the deadline bounds a client that never reads.
			go func() {
				c.SetDeadline(time.Now().Add(time.Second))
				c.Write([]byte(busyReply))
				c.Close()
			}()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
