package sqlite

import (
	"strconv"
	"strings"
	"sync"
)

// The shared statements number their placeholders ($1 …). modernc.org/sqlite
// binds those by number, but fetches each named parameter's name as a new
// Go string on every execution; an anonymous ? has no name. So each
// statement is rewritten once into ?s, with the order its arguments go in.

// positional is a statement with anonymous placeholders.
type positional struct {
	query string
	order []int // the argument for each ?, by index; nil: 0, 1, 2 …
}

var positionals struct {
	sync.RWMutex
	m map[string]positional
}

// toPositional returns query with ? for $N, and args in the order the ?s
// take them. A statement without arguments (a script) is left as it is.
func toPositional(query string, args []any) (string, []any) {
	if len(args) == 0 {
		return query, args
	}
	positionals.RLock()
	p, ok := positionals.m[query]
	positionals.RUnlock()
	if !ok {
		p = rewrite(query)
		positionals.Lock()
		if positionals.m == nil {
			positionals.m = map[string]positional{}
		}
		positionals.m[query] = p
		positionals.Unlock()
	}
	if p.order == nil {
		return p.query, args
	}
	ordered := make([]any, len(p.order))
	for i, j := range p.order {
		if j >= len(args) {
			return query, args // let the driver report the missing argument
		}
		ordered[i] = args[j]
	}
	return p.query, ordered
}

// rewrite replaces every $N outside a string literal by ?.
func rewrite(query string) positional {
	var b strings.Builder
	var order []int
	inOrder, inString := true, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c != '$' || inString || i+1 == len(query) || !isDigit(query[i+1]) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && isDigit(query[j]) {
			j++
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		inOrder = inOrder && n == len(order)+1
		order = append(order, n-1)
		b.WriteByte('?')
		i = j - 1
	}
	p := positional{query: b.String(), order: order}
	if inOrder {
		p.order = nil
	}
	return p
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
