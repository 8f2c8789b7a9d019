package search

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

func TestServerRetrieve(t *testing.T) {
	srv := httptest.NewServer(Handler(smallIndex(t), DefaultLimits))
	defer srv.Close()

	code, body := post(t, srv.URL+"/retrieve", `{"queries": ["capital of Germany", "eiffel tower"], "topk": 1, "return_scores": true}`)
	require.Equal(t, http.StatusOK, code, body)
	var withScores struct {
		Result [][]ScoredDoc `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &withScores))
	require.Len(t, withScores.Result, 2)
	assert.Equal(t, "2", withScores.Result[0][0].Document.ID)
	assert.Equal(t, "Berlin\nBerlin is the capital of Germany and its largest city.", withScores.Result[0][0].Document.Contents)
	assert.Positive(t, withScores.Result[0][0].Score)

	code, body = post(t, srv.URL+"/retrieve", `{"queries": ["paris"]}`)
	require.Equal(t, http.StatusOK, code, body)
	var plain struct {
		Result [][]APIDoc `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &plain))
	assert.Len(t, plain.Result[0], 2, "default topk 3, two passages match")

	resp, err := http.Get(srv.URL + "/health")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var h map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	assert.Equal(t, "ok", h["status"])
	assert.Equal(t, 4.0, h["docs"])
}

func TestServerRejectsBadRequests(t *testing.T) {
	lim := DefaultLimits
	lim.MaxBody = 4096
	lim.MaxQueries = 4
	srv := httptest.NewServer(Handler(smallIndex(t), lim))
	defer srv.Close()
	cases := map[string]string{
		"not json":       `{queries: [}`,
		"empty":          ``,
		"wrong type":     `{"queries": "paris"}`,
		"no queries":     `{"topk": 3}`,
		"empty list":     `{"queries": []}`,
		"too many":       `{"queries": ["a","b","c","d","e"]}`,
		"negative topk":  `{"queries": ["a"], "topk": -1}`,
		"huge topk":      `{"queries": ["a"], "topk": 1000000}`,
		"trailing data":  `{"queries": ["a"]} {"queries": ["b"]}`,
		"oversized body": `{"queries": ["` + strings.Repeat("x", 10000) + `"]}`,
		"binary":         "\x00\xff\xfe",
	}
	for name, body := range cases {
		code, msg := post(t, srv.URL+"/retrieve", body)
		assert.Equal(t, http.StatusBadRequest, code, name)
		var e map[string]string
		require.NoError(t, json.Unmarshal([]byte(msg), &e), name)
		assert.NotEmpty(t, e["error"], name)
	}
	resp, err := http.Get(srv.URL + "/retrieve")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestServerLoad: many concurrent clients on loopback, bounded in count
// (16 clients x 25 requests) and in time (a 20 s deadline); every answer
// must be right.
func TestServerLoad(t *testing.T) {
	ix := Build(syntheticDocs(5000, 40, 3), DefaultParams)
	srv := httptest.NewServer(Handler(ix, DefaultLimits)) // listens on 127.0.0.1
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &Client{URL: srv.URL + "/retrieve", TopK: 3}
	var wg sync.WaitGroup
	errs := make(chan error, 16*25)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				q := fmt.Sprintf("w%d w%d", g+1, i+2)
				got, err := c.Retrieve(ctx, []string{q})
				if err != nil {
					errs <- err
					return
				}
				want := ix.Passages(ix.Search(q, 3))
				if len(got[0]) != len(want) || got[0][0].ID != want[0].ID {
					errs <- fmt.Errorf("query %q: got %v", q, got[0])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClient(t *testing.T) {
	ix := smallIndex(t)
	srv := httptest.NewServer(Handler(ix, DefaultLimits))
	defer srv.Close()
	c := &Client{URL: srv.URL + "/retrieve", TopK: 2}
	local := &Tool{Index: ix, TopK: 2}
	ctx := context.Background()
	for _, q := range []string{"capital city", "eiffel", "nothing matches zzz"} {
		want, err := local.Call(ctx, q)
		require.NoError(t, err)
		got, err := c.Call(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, want, got, q)
	}
	_, err := c.Call(ctx, "  ")
	require.Error(t, err)
	_, err = local.Call(ctx, "")
	require.Error(t, err)

	// Results without scores (return_scores false) decode too.
	docs, err := decodeResult([]byte(`{"result": [[{"id": "9", "contents": "T\nbody"}]]}`), 1)
	require.NoError(t, err)
	assert.Equal(t, Doc{ID: "9", Title: "T", Text: "body"}, docs[0][0])
	_, err = decodeResult([]byte(`{"result": []}`), 1)
	require.Error(t, err)

	// A server error comes back as an error with the server's message.
	bad := &Client{URL: srv.URL + "/nope"}
	_, err = bad.Call(ctx, "x")
	require.ErrorContains(t, err, "404")
	dead := &Client{URL: "http://127.0.0.1:1/retrieve"}
	_, err = dead.Call(ctx, "x")
	require.Error(t, err)
}
