package toolworld

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// Kind is the type of an entity.
type Kind int

const (
	Country Kind = iota
	City
	Person
	Company
	River
)

func (k Kind) String() string {
	return [...]string{"country", "city", "person", "company", "river"}[k]
}

// Entity is one thing of the world. Numeric attributes are zero and links
// are -1 where they do not apply to the kind.
type Entity struct {
	Name       string
	Kind       Kind
	Founded    int // year; countries, cities, companies
	Population int // countries, cities
	Born       int // year; people
	Employees  int // companies
	Length     int // km; rivers
	Country    int // the country a city is in, or a river flows through
	Capital    int // a country's capital city
	Birthplace int // a person's city of birth
	Founder    int // a company's founder (a person)
	HQ         int // a company's headquarters city
}

// world is one split's entities; links index into its own slice, so a
// question never leaves its split.
type world struct {
	split  string
	ents   []Entity
	byKind [5][]int
}

// Shares of each kind in a world, e.g. 40% cities. People outnumber the
// companies so that not everyone founded one.
var kindShares = [5]float64{Country: 0.015, City: 0.40, Person: 0.30, Company: 0.20, River: 0.085}

// newWorld builds a consistent world of about n entities (n >= 50).
func newWorld(ctx context.Context, split string, n int, rng *rand.Rand, nm *namer) (*world, error) {
	if n < 50 {
		return nil, fmt.Errorf("toolworld: %s world needs at least 50 entities, got %d", split, n)
	}
	w := &world{split: split}
	count := func(k Kind) int { return max(3, int(kindShares[k]*float64(n))) }
	add := func(e Entity) int {
		e.Country, e.Capital, e.Birthplace, e.Founder, e.HQ = -1, -1, -1, -1, -1
		w.ents = append(w.ents, e)
		i := len(w.ents) - 1
		w.byKind[e.Kind] = append(w.byKind[e.Kind], i)
		return i
	}
	for i := range count(Country) {
		if err := poll(ctx, i); err != nil {
			return nil, err
		}
		add(Entity{Name: nm.name(Country), Kind: Country, Founded: year(rng, 1000, 1950),
			Population: 1_000_000 + rng.IntN(99_000_000)})
	}
	countries := w.byKind[Country]
	for i := range count(City) {
		if err := poll(ctx, i); err != nil {
			return nil, err
		}
		i := add(Entity{Name: nm.name(City), Kind: City, Founded: year(rng, 1000, 1990),
			Population: 1_000 + rng.IntN(999_000)})
		w.ents[i].Country = countries[rng.IntN(len(countries))]
	}
	cities := w.byKind[City]
	for j, c := range countries {
		if err := poll(ctx, j); err != nil { // quadratic in the world's size
			return nil, err
		}
		// The capital is one of the country's cities when it has one.
		cap := -1
		for _, ci := range cities {
			if w.ents[ci].Country == c {
				cap = ci
				break
			}
		}
		if cap < 0 {
			cap = cities[rng.IntN(len(cities))]
			w.ents[cap].Country = c
		}
		w.ents[c].Capital = cap
	}
	for i := range count(Person) {
		if err := poll(ctx, i); err != nil {
			return nil, err
		}
		i := add(Entity{Name: nm.name(Person), Kind: Person, Born: year(rng, 1850, 1980)})
		w.ents[i].Birthplace = cities[rng.IntN(len(cities))]
	}
	people := w.byKind[Person]
	perm := rng.Perm(len(people))
	for j := range count(Company) {
		if err := poll(ctx, j); err != nil {
			return nil, err
		}
		founder := people[perm[j%len(people)]]
		i := add(Entity{Name: nm.name(Company), Kind: Company,
			Founded:   w.ents[founder].Born + 25 + rng.IntN(min(45, 2000-w.ents[founder].Born)),
			Employees: 50 + rng.IntN(99_950)})
		w.ents[i].Founder = founder
		w.ents[i].HQ = cities[rng.IntN(len(cities))]
	}
	for i := range count(River) {
		if err := poll(ctx, i); err != nil {
			return nil, err
		}
		i := add(Entity{Name: nm.name(River), Kind: River, Length: 50 + rng.IntN(4950)})
		w.ents[i].Country = countries[rng.IntN(len(countries))]
	}
	return w, nil
}

func year(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

// pick returns a random entity index of kind k.
func (w *world) pick(rng *rand.Rand, k Kind) int {
	ids := w.byKind[k]
	return ids[rng.IntN(len(ids))]
}
