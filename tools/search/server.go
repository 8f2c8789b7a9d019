package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// RetrieveRequest is the body of POST /retrieve, as Search-R1's and
// FlashRAG's retrieval servers take it.
type RetrieveRequest struct {
	Queries      []string `json:"queries"`
	TopK         int      `json:"topk"`
	ReturnScores bool     `json:"return_scores"`
}

// APIDoc is a passage as the retriever API returns it: "contents" is what
// Search-R1 clients read (title on its first line); title and text are
// added for clients that want them apart.
type APIDoc struct {
	ID       string `json:"id"`
	Contents string `json:"contents"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text,omitempty"`
}

// ScoredDoc is one entry of a result list when return_scores is true.
type ScoredDoc struct {
	Document APIDoc  `json:"document"`
	Score    float32 `json:"score"`
}

// Limits guard the server against requests that would tie it up. The
// timeouts and MaxConns apply to a server made by NewServer.
type Limits struct {
	MaxBody    int64 // e.g. 1 << 20 bytes per request
	MaxQueries int   // e.g. 256 queries per request
	MaxTopK    int   // e.g. 100
	DefaultK   int   // e.g. 3, used when topk is absent or 0

	HeaderTimeout time.Duration // e.g. 5 * time.Second to read a request's headers
	ReadTimeout   time.Duration // e.g. 10 * time.Second to read a whole request, body included
	WriteTimeout  time.Duration // e.g. 30 * time.Second from the end of the headers to the end of the response
	IdleTimeout   time.Duration // e.g. 60 * time.Second a kept-alive connection may wait
	MaxConns      int           // e.g. 256 open connections; more get 503 at once
}

// DefaultLimits suit a local server for rollouts: a client that sends its
// body slowly is cut off after 10 s, and a thousand of them at once keep at
// most 256 descriptors.
var DefaultLimits = Limits{MaxBody: 1 << 20, MaxQueries: 256, MaxTopK: 100, DefaultK: 3,
	HeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
	IdleTimeout: 60 * time.Second, MaxConns: 256}

// Handler serves an index: POST /retrieve and GET /health.
func Handler(ix *Index, lim Limits) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/retrieve", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST with a JSON body")
			return
		}
		req, err := decodeRequest(w, r, lim)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		result := make([]any, len(req.Queries))
		for i, q := range req.Queries {
			hits := ix.Search(q, req.TopK)
			if req.ReturnScores {
				list := make([]ScoredDoc, len(hits))
				for j, h := range hits {
					list[j] = ScoredDoc{apiDoc(ix.Docs[h.Doc]), h.Score}
				}
				result[i] = list
			} else {
				list := make([]APIDoc, len(hits))
				for j, h := range hits {
					list[j] = apiDoc(ix.Docs[h.Doc])
				}
				result[i] = list
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": result})
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "docs": len(ix.Docs), "terms": len(ix.Terms)})
	})
	return mux
}

func decodeRequest(w http.ResponseWriter, r *http.Request, lim Limits) (RetrieveRequest, error) {
	var req RetrieveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, lim.MaxBody))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, fmt.Errorf("request body over %d bytes", lim.MaxBody)
		}
		return req, fmt.Errorf("bad JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errors.New("bad JSON: data after the request object")
	}
	switch {
	case len(req.Queries) == 0:
		return req, errors.New(`"queries" must be a non-empty list of strings`)
	case len(req.Queries) > lim.MaxQueries:
		return req, fmt.Errorf("%d queries, at most %d per request", len(req.Queries), lim.MaxQueries)
	case req.TopK < 0 || req.TopK > lim.MaxTopK:
		return req, fmt.Errorf("topk %d outside [0, %d]", req.TopK, lim.MaxTopK)
	}
	if req.TopK == 0 {
		req.TopK = lim.DefaultK
	}
	return req, nil
}

func apiDoc(d Doc) APIDoc {
	return APIDoc{ID: d.ID, Contents: d.Contents(), Title: d.Title, Text: d.Text}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}
