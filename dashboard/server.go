package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Server serves a fixed set of runs: the pages and the /api/ endpoints.
type Server struct {
	runs []Run
	byID map[string]Run
	mux  *http.ServeMux
}

// New returns a server of runs; their IDs must be unique (FindRuns and
// AssignIDs make them so).
func New(runs []Run) (*Server, error) {
	s := &Server{runs: runs, byID: map[string]Run{}, mux: http.NewServeMux()}
	for _, r := range runs {
		if r.ID == "" || r.ID != slug(r.ID) {
			return nil, fmt.Errorf("dashboard: run %q has an unusable ID %q", r.Name, r.ID)
		}
		if _, dup := s.byID[r.ID]; dup {
			return nil, fmt.Errorf("dashboard: two runs with the ID %q", r.ID)
		}
		s.byID[r.ID] = r
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	m := s.mux
	m.Handle("GET /", http.FileServerFS(static))
	m.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s (see docs/DASHBOARD.md)", r.URL.Path)
	})
	m.HandleFunc("GET /api/runs", s.listRuns)
	m.HandleFunc("GET /api/run/{id}/status", s.run(s.status))
	m.HandleFunc("GET /api/run/{id}/config", s.run(s.config))
	m.HandleFunc("GET /api/run/{id}/metrics", s.run(s.lines("metrics.jsonl")))
	m.HandleFunc("GET /api/run/{id}/sft", s.run(s.lines("sft.jsonl")))
	m.HandleFunc("GET /api/run/{id}/evals", s.run(s.lines("evals.jsonl")))
	m.HandleFunc("GET /api/run/{id}/samples", s.run(s.sampleFiles))
	m.HandleFunc("GET /api/run/{id}/samples/{tag}", s.run(s.samples))
	m.HandleFunc("GET /api/run/{id}/diff", s.run(s.diff))
	m.HandleFunc("GET /api/run/{id}/diff/{qid}", s.run(s.diffPair))
	m.HandleFunc("GET /api/run/{id}/trees", s.run(s.trees))
	m.HandleFunc("GET /api/run/{id}/trees/{step}", s.run(s.treeList))
	m.HandleFunc("GET /api/run/{id}/trees/{step}/{prompt}", s.run(s.tree))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// Listen opens addr (host:port); port 0 picks a free one.
func Listen(addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("address %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	return net.Listen("tcp", addr)
}

// IsLoopback reports whether a listening address is reachable from this
// machine only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NotLoopbackWarning is the line printed when the dashboard listens where
// other machines can reach it.
func NotLoopbackWarning(addr string) string {
	return fmt.Sprintf("warning: the dashboard listens on %s, reachable from other machines, and has no authentication: anyone who can reach it can read the runs", addr)
}

// URL is the address to open in a browser for a listener.
func URL(ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// Serve serves on ln until ctx is done, then shuts down, letting requests
// in flight finish for a second. Slow or oversized requests are cut off by
// timeouts and a header limit.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// apiError is an error with its HTTP status.
type apiError struct {
	code int
	msg  string
}

func (e apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code, data = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// run wraps a handler of one run: it finds the run by its ID (never by a
// path) and turns errors into JSON answers.
func (s *Server) run(fn func(Run, *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		run, ok := s.byID[id]
		if !ok {
			writeError(w, http.StatusNotFound, "no run %q is served (see /api/runs)", id)
			return
		}
		v, err := fn(run, r)
		if err != nil {
			var ae apiError
			switch {
			case errors.As(err, &ae):
				writeError(w, ae.code, "%s", ae.msg)
			case errors.Is(err, os.ErrNotExist):
				writeError(w, http.StatusNotFound, "%s: %s", run.Name, err.Error())
			default:
				writeError(w, http.StatusInternalServerError, "%s: %s", run.Name, err.Error())
			}
			return
		}
		if raw, ok := v.(json.RawMessage); ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(append(raw, '\n'))
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// RunInfo is a run's line in /api/runs: its status, or why it has none.
type RunInfo struct {
	Status
	Error string `json:"error,omitempty"`
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	out := make([]RunInfo, 0, len(s.runs))
	for _, run := range s.runs {
		st, err := readStatus(run)
		info := RunInfo{Status: st}
		if err != nil {
			info.Error = err.Error()
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) status(run Run, r *http.Request) (any, error) {
	st, err := readStatus(run)
	if err != nil {
		return nil, notFound("%v", err)
	}
	return st, nil
}

func (s *Server) config(run Run, r *http.Request) (any, error) {
	data, err := os.ReadFile(filepath.Join(run.Dir, "config.json"))
	if err != nil {
		return nil, notFound("%s has no config.json yet", run.Name)
	}
	if !json.Valid(data) {
		return nil, apiError{http.StatusInternalServerError, run.Name + ": config.json is not valid JSON"}
	}
	return json.RawMessage(strings.TrimSpace(string(data))), nil
}

// Lines is the answer of the line-file endpoints.
type Lines struct {
	Rows    []json.RawMessage `json:"rows"`
	Skipped int               `json:"skipped_lines"`
}

// lines serves one of a run's JSONL files; ?after=N keeps the lines whose
// "step" is above N, so a page polling a live run fetches only new steps.
func (s *Server) lines(name string) func(Run, *http.Request) (any, error) {
	return func(run Run, r *http.Request) (any, error) {
		q := r.URL.Query()
		if err := onlyParams(q, "after"); err != nil {
			return nil, err
		}
		after, err := intParam(q, "after", -1, -1, 1<<30)
		if err != nil {
			return nil, err
		}
		rows, skipped, err := readJSONLines(filepath.Join(run.Dir, name))
		if err != nil {
			return nil, err
		}
		out := Lines{Rows: []json.RawMessage{}, Skipped: skipped}
		for _, row := range rows {
			var k struct {
				Step *int `json:"step"`
			}
			if after >= 0 && (json.Unmarshal(row, &k) != nil || k.Step == nil || *k.Step <= after) {
				continue
			}
			out.Rows = append(out.Rows, row)
		}
		return out, nil
	}
}

func (s *Server) sampleFiles(run Run, r *http.Request) (any, error) {
	files, err := evalFiles(run.Dir)
	if err != nil {
		return nil, err
	}
	return map[string]any{"evals": files}, nil
}

// maxLimit bounds a page of samples or rows.
const maxLimit = 500

func pageParams(q url.Values) (offset, limit int, err error) {
	if offset, err = intParam(q, "offset", 0, 0, 1<<30); err != nil {
		return
	}
	limit, err = intParam(q, "limit", 50, 1, maxLimit)
	return
}

func filterParams(q url.Values) (SampleFilter, error) {
	f := SampleFilter{Family: q.Get("family"), Correct: q.Get("correct"), Format: q.Get("format"), Query: q.Get("q")}
	switch {
	case f.Correct != "" && f.Correct != "yes" && f.Correct != "no":
		return f, badRequest("correct: want yes or no, got %q", f.Correct)
	case f.Format != "" && f.Format != "ok" && f.Format != "error":
		return f, badRequest("format: want ok or error, got %q", f.Format)
	case len(f.Query) > 200 || len(f.Family) > 100:
		return f, badRequest("q or family: too long")
	}
	return f, nil
}

func tagParam(v, name string) (string, error) {
	if !validTag.MatchString(v) {
		return "", badRequest("%s: %q is not an evaluation tag (letters, digits, '.', '_', '-'; see /api/run/ID/samples)", name, v)
	}
	return v, nil
}

func (s *Server) samples(run Run, r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "offset", "limit", "family", "correct", "format", "q"); err != nil {
		return nil, err
	}
	tag, err := tagParam(r.PathValue("tag"), "tag")
	if err != nil {
		return nil, err
	}
	offset, limit, err := pageParams(q)
	if err != nil {
		return nil, err
	}
	f, err := filterParams(q)
	if err != nil {
		return nil, err
	}
	path := evalPath(run.Dir, tag)
	if !fileExists(path) {
		return nil, notFound("%s has no evaluation %q", run.Name, tag)
	}
	return readSamples(path, tag, f, offset, limit)
}

func (s *Server) diffTags(run Run, q url.Values) (string, string, error) {
	a, err := tagParam(q.Get("a"), "a")
	if err != nil {
		return "", "", err
	}
	b, err := tagParam(q.Get("b"), "b")
	if err != nil {
		return "", "", err
	}
	for _, t := range []string{a, b} {
		if !fileExists(evalPath(run.Dir, t)) {
			return "", "", notFound("%s has no evaluation %q", run.Name, t)
		}
	}
	return a, b, nil
}

func (s *Server) diff(run Run, r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "a", "b", "change", "offset", "limit", "family", "q"); err != nil {
		return nil, err
	}
	a, b, err := s.diffTags(run, q)
	if err != nil {
		return nil, err
	}
	change := q.Get("change")
	switch change {
	case "", "gained", "lost", "changed":
	default:
		return nil, badRequest("change: want gained, lost or changed, got %q", change)
	}
	offset, limit, err := pageParams(q)
	if err != nil {
		return nil, err
	}
	f, err := filterParams(q)
	if err != nil {
		return nil, err
	}
	return readDiff(evalPath(run.Dir, a), evalPath(run.Dir, b), change, f, offset, limit)
}

func (s *Server) diffPair(run Run, r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "a", "b"); err != nil {
		return nil, err
	}
	a, b, err := s.diffTags(run, q)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("qid")
	pa, err := findSample(evalPath(run.Dir, a), id)
	if err != nil {
		return nil, err
	}
	pb, err := findSample(evalPath(run.Dir, b), id)
	if err != nil {
		return nil, err
	}
	if pa == nil || pb == nil {
		return nil, notFound("question %q is not in both evaluations", id)
	}
	return map[string]json.RawMessage{"a": pa, "b": pb}, nil
}

func (s *Server) trees(run Run, r *http.Request) (any, error) {
	steps, err := treeSteps(run.Dir)
	if err != nil {
		return nil, err
	}
	return map[string]any{"steps": steps}, nil
}

func (s *Server) stepParam(run Run, r *http.Request) (string, int, error) {
	step, err := strconv.Atoi(r.PathValue("step"))
	if err != nil || step < 0 || step > 1e9 {
		return "", 0, badRequest("step: want a step number, got %q", r.PathValue("step"))
	}
	path := TreesPath(run.Dir, step)
	if !fileExists(path) {
		return "", 0, notFound("%s has no rollout trees of step %d (see /api/run/%s/trees)", run.Name, step, run.ID)
	}
	return path, step, nil
}

func (s *Server) treeList(run Run, r *http.Request) (any, error) {
	path, step, err := s.stepParam(run, r)
	if err != nil {
		return nil, err
	}
	out := []TreeSummary{}
	skipped, err := scanJSONL(path, func(line []byte) bool {
		var rec TreeRecord
		if json.Unmarshal(line, &rec) == nil {
			out = append(out, summarise(rec))
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"step": step, "prompts": out, "skipped_lines": skipped}, nil
}

func (s *Server) tree(run Run, r *http.Request) (any, error) {
	path, step, err := s.stepParam(run, r)
	if err != nil {
		return nil, err
	}
	prompt, err := strconv.Atoi(r.PathValue("prompt"))
	if err != nil || prompt < 0 {
		return nil, badRequest("prompt: want a prompt index, got %q", r.PathValue("prompt"))
	}
	var found json.RawMessage
	if _, err := scanJSONL(path, func(line []byte) bool {
		var k struct {
			Prompt int `json:"prompt"`
		}
		if json.Unmarshal(line, &k) == nil && k.Prompt == prompt {
			found = append(json.RawMessage(nil), line...)
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}
	if found == nil {
		return nil, notFound("step %d has no saved tree of prompt %d", step, prompt)
	}
	return found, nil
}

// onlyParams refuses query parameters an endpoint does not know, so a typo
// is an answer, not a silently ignored filter.
func onlyParams(q url.Values, names ...string) error {
	for k := range q {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known {
			return badRequest("unknown query parameter %q (this endpoint takes: %s)", k, strings.Join(names, ", "))
		}
	}
	return nil
}

// intParam reads an integer parameter in [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	vs, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(vs) != 1 {
		return 0, badRequest("%s: given %d times", name, len(vs))
	}
	n, err := strconv.Atoi(vs[0])
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s: want an integer in [%d, %d], got %q", name, lo, hi, vs[0])
	}
	return n, nil
}
