// Package dashboard serves training runs to a web browser: an overview of a
// run's configuration, progress and curves, an explorer of ARPO's rollout
// trees, the evaluation samples with a before/after view, and a comparison
// of several runs' curves, with the JSON endpoints under /api/ that the
// pages read (docs/DASHBOARD.md).
//
// It reads only the files a run folder already holds (config.json,
// metrics.jsonl, samples/...), so the same server shows a run while
// cmd/train writes it (cmd/train --serve) and finished runs (cmd/view).
// Files are read on each request, tolerating a last line that is still
// being written; large sample files are streamed and paginated. Pages and
// charts are embedded (go:embed) and load nothing from the network.
//
// The server has no authentication: it listens on loopback unless told
// otherwise.
package dashboard
