package project

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/schema"
)

// composeSchema is compose-go's embedded JSON schema, decoded on the first
// unknown key: the keys it allows at a level are the candidates for "did
// you mean".
var composeSchema = sync.OnceValue(func() map[string]any {
	var root map[string]any
	if err := json.Unmarshal([]byte(schema.Schema), &root); err != nil {
		return nil
	}
	return root
})

// schemaKeys lists the keys the schema allows in the mapping at path
// (split into parts; list items as indexes), or nil if it does not know.
func schemaKeys(parts []string) []string {
	root := composeSchema()
	if root == nil {
		return nil
	}
	nodes := []map[string]any{root}
	for _, p := range parts {
		var next []map[string]any
		for _, n := range nodes {
			for _, e := range expandSchema(root, n, 0) {
				next = append(next, schemaChild(e, p)...)
			}
		}
		if len(next) == 0 {
			return nil
		}
		nodes = next
	}
	var keys []string
	for _, n := range nodes {
		for _, e := range expandSchema(root, n, 0) {
			props, _ := e["properties"].(map[string]any)
			for k := range props {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// expandSchema is a schema node with its $ref resolved and its
// allOf/anyOf/oneOf alternatives, each of which may hold properties.
func expandSchema(root, n map[string]any, depth int) []map[string]any {
	if n == nil || depth > 16 {
		return nil
	}
	out := []map[string]any{n}
	if ref, ok := n["$ref"].(string); ok {
		if name, ok := strings.CutPrefix(ref, "#/$defs/"); ok {
			defs, _ := root["$defs"].(map[string]any)
			if def, ok := defs[name].(map[string]any); ok {
				out = append(out, expandSchema(root, def, depth+1)...)
			}
		}
	}
	for _, c := range []string{"allOf", "anyOf", "oneOf"} {
		alts, _ := n[c].([]any)
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				out = append(out, expandSchema(root, m, depth+1)...)
			}
		}
	}
	return out
}

// schemaChild is the schema of key (or list index) p in n.
func schemaChild(n map[string]any, p string) []map[string]any {
	if props, ok := n["properties"].(map[string]any); ok {
		if c, ok := props[p].(map[string]any); ok {
			return []map[string]any{c}
		}
	}
	var out []map[string]any
	if pats, ok := n["patternProperties"].(map[string]any); ok {
		for pat, c := range pats {
			if re, err := regexp.Compile(pat); err == nil && re.MatchString(p) {
				if m, ok := c.(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
	}
	if c, ok := n["additionalProperties"].(map[string]any); ok {
		out = append(out, c)
	}
	if c, ok := n["items"].(map[string]any); ok && isIndex(p) {
		out = append(out, c)
	}
	return out
}

func isIndex(s string) bool {
	if s == "" || s == "[]" {
		return s == "[]"
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// suggest returns "did you mean `x`?" for the candidate closest to word by
// edit distance, or "" when none is close: at most 2 edits, and at most a
// third of the word's length (at least 1), so that a short word does not
// suggest an unrelated one.
func suggest(word string, candidates []string) string {
	if slices.Contains(candidates, word) {
		// Known here: another name would mislead.
		return ""
	}
	limit := max(1, min(2, utf8.RuneCountInString(word)/3))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean `%s`?", best)
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent characters each count
// one, so "restrat" is one edit from "restart".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back for transpositions.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
