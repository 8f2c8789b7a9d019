package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Tool is the search tool over an index in this process. It implements
// tools.Tool (name "search").
type Tool struct {
	Index *Index
	TopK  int // e.g. 3 passages per query
}

func (t *Tool) Name() string { return "search" }

// Call returns the top passages for the query, formatted as Search-R1 does.
func (t *Tool) Call(ctx context.Context, query string) (string, error) {
	if strings.TrimSpace(query) == "" {
		return "", errors.New("empty search query")
	}
	return FormatHits(t.Index.Passages(t.Index.Search(query, max(t.TopK, 1)))), nil
}

// Client is the search tool over any server with the retriever API
// (this package's Handler, Search-R1's or FlashRAG's retrieval server). It
// implements tools.Tool (name "search").
type Client struct {
	URL  string       // e.g. "http://127.0.0.1:8000/retrieve"
	TopK int          // e.g. 3
	HTTP *http.Client // nil: a client with a 30 s timeout
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) Name() string { return "search" }

// Call sends one query and formats the passages.
func (c *Client) Call(ctx context.Context, query string) (string, error) {
	if strings.TrimSpace(query) == "" {
		return "", errors.New("empty search query")
	}
	res, err := c.Retrieve(ctx, []string{query})
	if err != nil {
		return "", err
	}
	return FormatHits(res[0]), nil
}

// Retrieve sends a batch of queries and returns the passages of each.
func (c *Client) Retrieve(ctx context.Context, queries []string) ([][]Doc, error) {
	body, err := json.Marshal(RetrieveRequest{Queries: queries, TopK: max(c.TopK, 1), ReturnScores: true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("search server %s: %w", c.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("search server: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("search server %s: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search server %s: %s: %s", c.URL, resp.Status, strings.TrimSpace(string(data)))
	}
	return decodeResult(data, len(queries))
}

// decodeResult accepts both result shapes: with scores ({"document": doc,
// "score": s}) and without (the doc itself).
func decodeResult(data []byte, n int) ([][]Doc, error) {
	var r struct {
		Result [][]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("search server: bad response: %w", err)
	}
	if len(r.Result) != n {
		return nil, fmt.Errorf("search server: %d result lists for %d queries", len(r.Result), n)
	}
	out := make([][]Doc, n)
	for i, list := range r.Result {
		for _, raw := range list {
			var item struct {
				Document *APIDoc `json:"document"`
				APIDoc
			}
			if err := json.Unmarshal(raw, &item); err != nil {
				return nil, fmt.Errorf("search server: bad passage: %w", err)
			}
			d := item.APIDoc
			if item.Document != nil {
				d = *item.Document
			}
			out[i] = append(out[i], fromAPI(d))
		}
	}
	return out, nil
}

func fromAPI(d APIDoc) Doc {
	if d.Title != "" || d.Text != "" {
		return Doc{ID: d.ID, Title: d.Title, Text: d.Text}
	}
	title, text, _ := strings.Cut(d.Contents, "\n")
	return Doc{ID: d.ID, Title: title, Text: text}
}
