package toolworld

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/goarpo/arpo/tasks/grade"
)

// Now is the year that "how many years before" questions count to.
const Now = 2025

// step is one tool call of a gold trajectory; want must appear in the
// tool's result for the demonstration to be trusted.
type step struct {
	tool, arg, want string
}

// item is a generated question with its plan.
type item struct {
	question string
	answer   string
	metric   grade.Metric
	think    string
	steps    []step
	demo     bool // whether the gold may be used for SFT, before checking results
}

// Family is a kind of question. Level 1 needs one tool call, level 2 two or
// three, level 3 longer chains or new combinations of tools.
type Family struct {
	Name  string
	Level int
	gen   func(w *world, rng *rand.Rand) item
}

// Families lists every question family, in a fixed order.
var Families = []Family{
	{"arith", 1, genArith},
	{"lookup", 1, genLookup},
	{"arith_chain", 2, genArithChain},
	{"two_hop", 2, genTwoHop},
	{"lookup_python", 2, genLookupPython},
	{"compare_python", 2, genComparePython},
	{"three_hop", 3, genThreeHop},
	{"two_hop_python", 3, genTwoHopPython},
	{"compare", 3, genCompare},
	{"sum3", 3, genSum3},
}

func familyByName(name string) (Family, bool) {
	for _, f := range Families {
		if f.Name == name {
			return f, true
		}
	}
	return Family{}, false
}

func oneOf(rng *rand.Rand, forms ...string) string { return forms[rng.IntN(len(forms))] }

func itoa(n int) string { return strconv.Itoa(n) }

func search(name string, a Attr, want string) step { return step{"search", Query(name, a), want} }

func python(code string, want int) step { return step{"python", code, itoa(want)} }

func genArith(_ *world, rng *rand.Rand) item {
	var a, b, r int
	var op string
	switch rng.IntN(3) {
	case 0:
		a, b, op = 100+rng.IntN(9900), 10+rng.IntN(990), "*"
		r = a * b
	case 1:
		a, b, op = 10_000+rng.IntN(990_000), 10_000+rng.IntN(990_000), "+"
		r = a + b
	default:
		a, b, op = 10_000+rng.IntN(990_000), 10_000+rng.IntN(990_000), "-"
		if a < b {
			a, b = b, a
		}
		r = a - b
	}
	expr := fmt.Sprintf("%d %s %d", a, op, b)
	return item{
		question: fmt.Sprintf(oneOf(rng, "What is %s?", "Compute %s.", "How much is %s?"), expr),
		answer:   itoa(r), metric: grade.MetricMath, think: "Compute it with python.",
		steps: []step{python("print("+expr+")", r)},
	}
}

func genArithChain(_ *world, rng *rand.Rand) item {
	a, b, c := 100+rng.IntN(9900), 100+rng.IntN(9900), 2+rng.IntN(98)
	var expr string
	var r int
	if rng.IntN(2) == 0 {
		expr, r = fmt.Sprintf("(%d + %d) * %d", a, b, c), (a+b)*c
	} else {
		if a < b {
			a, b = b, a
		}
		expr, r = fmt.Sprintf("(%d - %d) * %d", a, b, c), (a-b)*c
	}
	return item{
		question: fmt.Sprintf(oneOf(rng, "What is %s?", "Compute %s."), expr),
		answer:   itoa(r), metric: grade.MetricMath, think: "Compute it with python.",
		steps: []step{python("print("+expr+")", r)},
	}
}

// fact is a single-search question about one entity: its wording, the
// attribute searched and the answer, a number or a name.
type fact struct {
	question string
	attr     Attr
	answer   string
	numeric  bool
	subject  string // the entity's name, the start of the query
}

// lookupFact picks a random fact about a random entity of w.
func lookupFact(w *world, rng *rand.Rand) fact {
	k := Kind(rng.IntN(5))
	i := w.pick(rng, k)
	return factAbout(w, rng, i)
}

func factAbout(w *world, rng *rand.Rand, i int) fact {
	e := &w.ents[i]
	n := e.Name
	name := func(j int) string { return w.ents[j].Name }
	q := func(forms ...string) string { return fmt.Sprintf(oneOf(rng, forms...), n) }
	switch e.Kind {
	case Country:
		switch rng.IntN(3) {
		case 0:
			return fact{q("When was %s founded?", "In what year was %s founded?"), AttrFounded, itoa(e.Founded), true, n}
		case 1:
			return fact{q("What is the population of %s?"), AttrPopulation, itoa(e.Population), true, n}
		}
		return fact{q("What is the capital of %s?", "Which city is the capital of %s?"), AttrCapital, name(e.Capital), false, n}
	case City:
		switch rng.IntN(3) {
		case 0:
			return fact{q("When was %s founded?", "In what year was %s founded?"), AttrFounded, itoa(e.Founded), true, n}
		case 1:
			return fact{q("What is the population of %s?", "How many people live in %s?"), AttrPopulation, itoa(e.Population), true, n}
		}
		return fact{q("In which country is %s?", "Which country is %s in?"), AttrCountry, name(e.Country), false, n}
	case Person:
		if rng.IntN(2) == 0 {
			return fact{q("In what year was %s born?", "When was %s born?"), AttrBorn, itoa(e.Born), true, n}
		}
		return fact{q("Where was %s born?", "In which city was %s born?"), AttrBorn, name(e.Birthplace), false, n}
	case Company:
		switch rng.IntN(4) {
		case 0:
			return fact{q("Who founded %s?"), AttrFounded, name(e.Founder), false, n}
		case 1:
			return fact{q("When was %s founded?", "In what year was %s founded?"), AttrFounded, itoa(e.Founded), true, n}
		case 2:
			return fact{q("Where does %s have its headquarters?", "In which city are the headquarters of %s?"), AttrHQ, name(e.HQ), false, n}
		}
		return fact{q("How many employees does %s have?"), AttrEmployees, itoa(e.Employees), true, n}
	}
	if rng.IntN(2) == 0 {
		return fact{q("How long is the %s in km?", "What is the length of the %s in km?"), AttrLength, itoa(e.Length), true, n}
	}
	return fact{q("Which country does the %s flow through?"), AttrFlows, name(e.Country), false, n}
}

func metricOf(numeric bool) grade.Metric {
	if numeric {
		return grade.MetricMath
	}
	return grade.MetricEM
}

func genLookup(w *world, rng *rand.Rand) item {
	f := lookupFact(w, rng)
	return item{
		question: f.question, answer: f.answer, metric: metricOf(f.numeric),
		think: "One search is enough.",
		steps: []step{search(f.subject, f.attr, f.answer)},
	}
}
