package search

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve starts NewServer on a loopback port behind LimitConns and returns
// its address; the server stops with the test.
func serve(t *testing.T, lim Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(smallIndex(t), lim)
	go srv.Serve(LimitConns(ln, lim.MaxConns))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedBy reports whether the server ends the connection (EOF, a reset,
// or a response) before the client's own deadline.
func closedBy(t *testing.T, c net.Conn, deadline time.Duration) (string, bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(deadline))
	data, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return string(data), false
	}
	return string(data), true
}

// TestSlowBodyCutOff: a client that sends its headers and then its body
// never is disconnected after ReadTimeout (issue 20: held for 60 s).
func TestSlowBodyCutOff(t *testing.T) {
	lim := DefaultLimits
	lim.ReadTimeout, lim.HeaderTimeout = 200*time.Millisecond, 200*time.Millisecond
	addr := serve(t, lim)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"queries\"")
	require.NoError(t, err)
	_, closed := closedBy(t, c, 10*time.Second)
	assert.True(t, closed, "the server still holds a connection whose body stalled")
}

// TestSlowHeadersCutOff: a client that never finishes its headers is
// disconnected after HeaderTimeout.
func TestSlowHeadersCutOff(t *testing.T) {
	lim := DefaultLimits
	lim.HeaderTimeout = 200 * time.Millisecond
	addr := serve(t, lim)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	_, closed := closedBy(t, c, 10*time.Second)
	assert.True(t, closed, "the server still holds a connection whose headers stalled")
}

// TestMaxConns: with MaxConns connections held open, one more gets a 503
// at once; when one closes, requests are served again.
func TestMaxConns(t *testing.T) {
	lim := DefaultLimits
	lim.MaxConns = 2
	addr := serve(t, lim)
	var held []net.Conn
	for range lim.MaxConns {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		held = append(held, c)
	}
	// The held connections are accepted once the server has answered on
	// them; a request on each makes sure.
	for _, c := range held {
		_, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	body, closed := closedBy(t, c, 10*time.Second)
	c.Close()
	require.True(t, closed, "a connection over the limit must be answered, not queued")
	assert.True(t, strings.HasPrefix(body, "HTTP/1.1 503 "), body)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(body)), nil)
	require.NoError(t, err, "the 503 is a well-formed response")
	resp.Body.Close()

	held[0].Close()
	// The slot is free once the server notices the close; retry briefly.
	var status int
	for range 100 {
		r, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + addr + "/health")
		require.NoError(t, err)
		status = r.StatusCode
		r.Body.Close()
		if status == http.StatusOK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, status)
	held[1].Close()
}
