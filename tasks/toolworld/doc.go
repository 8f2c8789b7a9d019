// Package toolworld generates ToolWorld, a seeded fictional world and an
// agentic benchmark about it: questions a small model can only answer by
// using the tools (search over the world's corpus, python for arithmetic),
// each with its gold answer and a gold demonstration in the ARPO turn format.
//
// The world has countries, cities, people, companies and rivers whose names
// are made of syllables, so they are new strings to any model; facts are
// stated by short passages in varied wording, and distractor passages about
// similarly named things ("Port Kalven" beside "Kalven") make a search result
// ambiguous. Train and test questions come from two disjoint sets of
// entities, so test accuracy measures tool use, not memory. Some families
// (level 3: longer chains, new tool combinations) are "novel": they get no
// demonstrations, so RL has something to learn beyond imitation.
//
// The package does not run the real tools: gold trajectories take the tool
// results from a ToolFunc that the caller wires to the search index and the
// interpreter, with a built-in deterministic fallback (Fallback) for tests.
// Everything is a pure function of Config: the same seed gives the same
// bytes.
package toolworld
