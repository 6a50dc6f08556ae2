// Package proxy counts Engine API calls: a reverse proxy on a unix socket
// in front of the Docker socket. Tools under test get its address in
// DOCKER_HOST. The benchmarks count calls with it, and the end-to-end
// tests check that a dry run sends nothing but reads.
package proxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Proxy forwards every request to the engine and counts them.
type Proxy struct {
	path string
	srv  *http.Server
	ln   net.Listener

	// mu guards counts: requests are served on many goroutines.
	mu     sync.Mutex
	counts map[string]int
}

// Start listens on the unix socket path and forwards to the engine socket.
func Start(path, engineSocket string) (*Proxy, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	p := &Proxy{path: path, ln: ln, counts: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "docker"
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", engineSocket)
			},
			MaxIdleConnsPerHost: 256,
			DisableCompression:  true,
		},
		// Event streams and logs must reach the client as they come.
		FlushInterval: -1,
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Host is the DOCKER_HOST value that routes a client through the proxy.
func (p *Proxy) Host() string { return "unix://" + p.path }

var (
	versionPrefix = regexp.MustCompile(`^/v[0-9.]+`)
	hexID         = regexp.MustCompile(`/[0-9a-f]{64}`)
)

func (p *Proxy) count(r *http.Request) {
	path := versionPrefix.ReplaceAllString(r.URL.Path, "")
	path = hexID.ReplaceAllString(path, "/{id}")
	// Names are as variable as ids: keep the resource kind and the verb.
	parts := strings.Split(path, "/")
	if len(parts) >= 3 && parts[2] != "json" && parts[2] != "create" && parts[2] != "{id}" {
		parts[2] = "{name}"
	}
	key := r.Method + " " + strings.Join(parts, "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[key]++
}

// Take returns the calls counted since the last Take, and resets.
func (p *Proxy) Take() (total int, byKind map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byKind = p.counts
	p.counts = map[string]int{}
	for _, n := range byKind {
		total += n
	}
	return total, byKind
}

// Format renders a per-kind count, most frequent first.
func Format(byKind map[string]int) string {
	keys := make([]string, 0, len(byKind))
	for k := range byKind {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if byKind[keys[i]] != byKind[keys[j]] {
			return byKind[keys[i]] > byKind[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(strconv.Itoa(byKind[k]))
		b.WriteString("\n")
	}
	return b.String()
}

// Close stops the proxy and removes its socket.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	_ = os.Remove(p.path)
	return err
}
