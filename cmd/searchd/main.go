// Command searchd serves a BM25 index over HTTP with the retriever API of
// Search-R1 and FlashRAG, so rollouts (or any client of that API) can search
// a local corpus:
//
//	go run ./cmd/searchd --corpus wiki.jsonl --addr 127.0.0.1:8000
//	curl -s 127.0.0.1:8000/retrieve -d '{"queries": ["capital of France"], "topk": 3, "return_scores": true}'
//
// It builds the index from --corpus (and saves it with --save DIR), or loads
// one saved before with --index DIR. A request must arrive whole within
// --read-timeout (10 s) and at most --max-conns (256) connections are open;
// more get 503 at once. --delay adds a fixed latency to every request (for
// scaling measurements). SIGINT or SIGTERM stops it gracefully: requests in
// flight finish first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goarpo/arpo/tools/search"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("searchd: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	corpus := flag.String("corpus", "", "JSONL corpus to index ({id,title,text} or {id,contents} per line)")
	indexDir := flag.String("index", "", "load a saved index from this directory instead of --corpus")
	save := flag.String("save", "", "save the index built from --corpus into this directory")
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	topk := flag.Int("topk", 3, "passages per query when a request has no topk")
	maxBody := flag.Int64("max-body", 1<<20, "largest request body in bytes")
	maxQueries := flag.Int("max-queries", 256, "most queries in one request")
	readTimeout := flag.Duration("read-timeout", search.DefaultLimits.ReadTimeout, "longest time to read one request, body included")
	maxConns := flag.Int("max-conns", search.DefaultLimits.MaxConns, "most open connections; more get 503 at once (0: no limit)")
	delay := flag.Duration("delay", 0, "answer each request this much later, e.g. 200ms: a retriever of fixed latency, for measuring how rollouts scale (docs/SCALE.md)")
	flag.Parse()
	if *delay < 0 {
		return errors.New("--delay must be >= 0")
	}

	ix, err := loadIndex(*corpus, *indexDir, *save)
	if err != nil {
		return err
	}
	lim := search.DefaultLimits
	lim.DefaultK, lim.MaxBody, lim.MaxQueries = *topk, *maxBody, *maxQueries
	lim.ReadTimeout, lim.MaxConns = *readTimeout, *maxConns
	lim.HeaderTimeout = min(lim.HeaderTimeout, lim.ReadTimeout)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ln = search.LimitConns(ln, lim.MaxConns)
	srv := search.NewServer(ix, lim)
	srv.Handler = delayed(srv.Handler, *delay)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("serving %d passages on http://%s (POST /retrieve, GET /health)", len(ix.Docs), ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Printf("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// delayed answers each request d later (or not at all if the client gives
// up first).
func delayed(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

func loadIndex(corpus, dir, save string) (*search.Index, error) {
	start := time.Now()
	switch {
	case dir != "" && corpus != "":
		return nil, errors.New("give --corpus or --index, not both")
	case dir != "":
		ix, err := search.Load(dir)
		if err == nil {
			log.Printf("loaded %d passages from %s in %v", len(ix.Docs), dir, time.Since(start).Round(time.Millisecond))
		}
		return ix, err
	case corpus == "":
		return nil, errors.New("need --corpus FILE or --index DIR")
	}
	docs, err := search.ReadCorpusFile(corpus)
	if err != nil {
		return nil, err
	}
	ix := search.Build(docs, search.DefaultParams)
	log.Printf("indexed %d passages (%d terms) in %v", len(docs), len(ix.Terms), time.Since(start).Round(time.Millisecond))
	if save != "" {
		if err := ix.Save(save); err != nil {
			return nil, err
		}
		log.Printf("saved the index to %s", save)
	}
	return ix, nil
}
