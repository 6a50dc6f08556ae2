package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLen is the longest DNS label; Services, containers, ports' pod
// volumes and most object names must fit in one.
const maxNameLen = 63

// DNSName turns a compose name into a name Kubernetes accepts for every
// object this package makes, Services included:
//   - letters are lowercased, '_' and '.' become '-', anything else that
//     is not [a-z0-9-] is dropped, and leading and trailing '-' trimmed;
//   - a name that would start with a digit gets the prefix "s-", because
//     Service names are DNS-1035 labels, which must start with a letter;
//   - an empty result becomes "s-" plus a hash of the original;
//   - a name longer than 63 characters is cut and ends with '-' and 8 hex
//     digits of the original's SHA-256, so two long names that share a
//     prefix stay distinct.
//
// A valid name comes back unchanged, so most services keep their names and
// still resolve under them.
func DNSName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '_', r == '.':
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		return "s-" + shortHash(s)
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "s-" + name
	}
	if len(name) > maxNameLen {
		name = strings.TrimRight(name[:maxNameLen-9], "-") + "-" + shortHash(s)
	}
	return name
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
