package toolworld

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/goarpo/arpo/tasks"
)

// Attr is a fact type. Its keyword appears in every wording of the fact, so
// that the query "<name> <keyword>" finds it with any lexical retriever.
type Attr int

const (
	AttrFounded    Attr = iota // cities, countries: year; companies: founder and year
	AttrPopulation             // cities, countries
	AttrCountry                // the country a city is in
	AttrCapital                // a country's capital
	AttrBorn                   // a person's birthplace and year
	AttrHQ                     // a company's headquarters city
	AttrEmployees              // a company's head count
	AttrLength                 // a river's length in km
	AttrFlows                  // the country a river flows through
)

var attrKeywords = [...]string{"founded", "population", "country", "capital", "born", "headquarters", "employees", "length", "flows"}

// Keyword is the word a search for this fact uses.
func (a Attr) Keyword() string { return attrKeywords[a] }

// Query is the canonical search query for a fact about name.
func Query(name string, a Attr) string { return name + " " + a.Keyword() }

// attrsOf lists the facts each kind has a passage for.
var attrsOf = [5][]Attr{
	Country: {AttrFounded, AttrPopulation, AttrCapital},
	City:    {AttrFounded, AttrPopulation, AttrCountry},
	Person:  {AttrBorn},
	Company: {AttrFounded, AttrHQ, AttrEmployees},
	River:   {AttrLength, AttrFlows},
}

// statement is the content of a passage: a subject, a fact, and its values
// (a linked name and/or a number).
type statement struct {
	kind  Kind
	attr  Attr
	name  string
	other string // linked name: country, capital, birthplace, founder, HQ
	num   int
}

// templates give each fact three wordings, all containing its keyword.
var templates = map[Kind]map[Attr][]func(s statement) string{
	City: {
		AttrFounded: {
			func(s statement) string { return fmt.Sprintf("%s was founded in %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The town of %s was founded in %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("Founded in %d, %s grew into a city.", s.num, s.name) },
		},
		AttrPopulation: {
			func(s statement) string { return fmt.Sprintf("%s has a population of %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The population of %s is %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("%s is a city with a population of %d.", s.name, s.num) },
		},
		AttrCountry: {
			func(s statement) string { return fmt.Sprintf("%s is a city in the country of %s.", s.name, s.other) },
			func(s statement) string { return fmt.Sprintf("%s lies in the country of %s.", s.name, s.other) },
			func(s statement) string {
				return fmt.Sprintf("The country of %s includes the city of %s.", s.other, s.name)
			},
		},
	},
	Country: {
		AttrFounded: {
			func(s statement) string { return fmt.Sprintf("%s was founded as a nation in %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The nation of %s was founded in %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("Founded in %d, %s is an old nation.", s.num, s.name) },
		},
		AttrPopulation: {
			func(s statement) string { return fmt.Sprintf("%s has a population of %d.", s.name, s.num) },
			func(s statement) string {
				return fmt.Sprintf("The population of the nation of %s is %d.", s.name, s.num)
			},
			func(s statement) string { return fmt.Sprintf("%s is a nation with a population of %d.", s.name, s.num) },
		},
		AttrCapital: {
			func(s statement) string { return fmt.Sprintf("The capital of %s is %s.", s.name, s.other) },
			func(s statement) string { return fmt.Sprintf("%s is the capital of %s.", s.other, s.name) },
			func(s statement) string { return fmt.Sprintf("%s has %s as its capital.", s.name, s.other) },
		},
	},
	Person: {
		AttrBorn: {
			func(s statement) string { return fmt.Sprintf("%s was born in %s in %d.", s.name, s.other, s.num) },
			func(s statement) string {
				return fmt.Sprintf("%s was born in %d in the city of %s.", s.name, s.num, s.other)
			},
			func(s statement) string {
				return fmt.Sprintf("Born in %s in %d, %s became well known.", s.other, s.num, s.name)
			},
		},
	},
	Company: {
		AttrFounded: {
			func(s statement) string { return fmt.Sprintf("%s was founded by %s in %d.", s.name, s.other, s.num) },
			func(s statement) string { return fmt.Sprintf("%s founded %s in %d.", s.other, s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("In %d, %s founded %s.", s.num, s.other, s.name) },
		},
		AttrHQ: {
			func(s statement) string { return fmt.Sprintf("%s has its headquarters in %s.", s.name, s.other) },
			func(s statement) string { return fmt.Sprintf("The headquarters of %s are in %s.", s.name, s.other) },
			func(s statement) string {
				return fmt.Sprintf("%s keeps its headquarters in the city of %s.", s.name, s.other)
			},
		},
		AttrEmployees: {
			func(s statement) string { return fmt.Sprintf("%s has %d employees.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The number of employees at %s is %d.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("%s employs %d employees.", s.name, s.num) },
		},
	},
	River: {
		AttrLength: {
			func(s statement) string { return fmt.Sprintf("The %s has a length of %d km.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The length of the %s is %d km.", s.name, s.num) },
			func(s statement) string { return fmt.Sprintf("The %s runs for a length of %d km.", s.name, s.num) },
		},
		AttrFlows: {
			func(s statement) string { return fmt.Sprintf("The %s flows through %s.", s.name, s.other) },
			func(s statement) string { return fmt.Sprintf("The %s flows across the land of %s.", s.name, s.other) },
			func(s statement) string { return fmt.Sprintf("Through %s flows the %s.", s.other, s.name) },
		},
	},
}

// statementOf reads fact a of entity i of w.
func (w *world) statementOf(i int, a Attr) statement {
	e := &w.ents[i]
	s := statement{kind: e.Kind, attr: a, name: e.Name}
	link := func(j int) string { return w.ents[j].Name }
	switch a {
	case AttrFounded:
		s.num = e.Founded
		if e.Kind == Company {
			s.other = link(e.Founder)
		}
	case AttrPopulation:
		s.num = e.Population
	case AttrCountry, AttrFlows:
		s.other = link(e.Country)
	case AttrCapital:
		s.other = link(e.Capital)
	case AttrBorn:
		s.num, s.other = e.Born, link(e.Birthplace)
	case AttrHQ:
		s.other = link(e.HQ)
	case AttrEmployees:
		s.num = e.Employees
	case AttrLength:
		s.num = e.Length
	}
	return s
}

// distractorOf states the same fact about a similarly named thing, with
// values drawn afresh, so that only the exact name tells them apart.
func (w *world) distractorOf(s statement, rng *rand.Rand, nm *namer) (statement, bool) {
	name, ok := nm.similar(s.kind, s.name)
	if !ok {
		return s, false
	}
	d := s
	d.name = name
	if s.num != 0 {
		for d.num == s.num {
			if s.attr == AttrFounded || s.attr == AttrBorn {
				d.num = min(2024, s.num-150+rng.IntN(301)) // a plausible other year
			} else {
				d.num = s.num/2 + rng.IntN(s.num+1) // same size, different value
			}
		}
	}
	if s.other != "" {
		lk := linkKind(s.kind, s.attr)
		for d.other == s.other {
			d.other = w.ents[w.pick(rng, lk)].Name
		}
	}
	return d, true
}

// linkKind is the kind of the entity a fact links to.
func linkKind(k Kind, a Attr) Kind {
	switch a {
	case AttrCountry, AttrFlows:
		return Country
	case AttrFounded: // only companies link, to their founder
		return Person
	}
	return City // capital, birthplace, headquarters
}

// corpus is the passages of both worlds and, for the fallback search, the
// passages each canonical query returns.
type corpus struct {
	passages []tasks.Passage
	byQuery  map[string][]int // normalised query -> passage indices, best first
}

func normQuery(q string) string { return strings.ToLower(strings.Join(strings.Fields(q), " ")) }

func (c *corpus) add(s statement, rng *rand.Rand) int {
	ts := templates[s.kind][s.attr]
	c.passages = append(c.passages, tasks.Passage{
		ID:    fmt.Sprintf("tw-%06d", len(c.passages)),
		Title: s.name,
		Text:  ts[rng.IntN(len(ts))](s),
	})
	return len(c.passages) - 1
}

// addWorld writes every fact of w, and a distractor for a share of them.
// The fallback result of a fact's query is the fact and its distractor in a
// random order (the reader must match the name, not take the first line),
// or the fact alone.
func (c *corpus) addWorld(ctx context.Context, w *world, distractors float64, rng *rand.Rand, nm *namer) error {
	for i := range w.ents {
		if err := poll(ctx, i); err != nil {
			return err
		}
		for _, a := range attrsOf[w.ents[i].Kind] {
			s := w.statementOf(i, a)
			hits := []int{c.add(s, rng)}
			if rng.Float64() < distractors {
				if d, ok := w.distractorOf(s, rng, nm); ok {
					j := c.add(d, rng)
					c.byQuery[normQuery(Query(d.name, a))] = []int{j, hits[0]}
					hits = append(hits, j)
					if rng.IntN(2) == 0 {
						hits[0], hits[1] = hits[1], hits[0]
					}
				}
			}
			c.byQuery[normQuery(Query(s.name, a))] = hits
		}
	}
	return nil
}
