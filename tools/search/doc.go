// Package search is the agent's local search engine: a BM25 index over a
// JSONL corpus, saved to and loaded from disk, an HTTP server with the
// retriever API of Search-R1 and FlashRAG (POST /retrieve), and a search tool
// that talks either to an index in the same process or to any server of that
// API (so a dense retriever, or search on another machine, plugs in).
//
// It is not a web search client and not a dense retriever; it knows nothing
// of models or training.
package search
