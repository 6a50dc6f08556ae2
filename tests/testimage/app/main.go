// Command app is the multi-tool that runs inside composer's test image. The
// first argument picks a behaviour; every behaviour is small and observable
// from outside the container (exit code, files, HTTP, logs), so end-to-end
// tests can check what the engine really did.
//
// It runs as PID 1 in a FROM scratch image, where the kernel gives no default
// action to SIGTERM and SIGINT, so every long-running mode handles them itself
// and exits 0.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

const usage = `usage: app [command] [args]
  sleep                         run until SIGTERM/SIGINT (the default)
  exit N [DELAY]                wait DELAY (Go duration), then exit N
  serve PORT [TEXT]             HTTP: / answers TEXT (default hostname), /health 200
  healthy-after DURATION [FILE] create FILE (default /tmp/healthy) after DURATION, keep running
  check FILE                    exit 0 if FILE exists, else 1
  log N [TEXT]                  print N numbered lines (every 10th also to stderr), keep running
  log-exit N [TEXT]             like log, then exit 0
  write FILE TEXT               write TEXT to FILE
  read FILE                     print FILE
  env                           print the environment, sorted
  tcp-wait HOST:PORT TIMEOUT    wait until a TCP connect succeeds, exit 1 on timeout
  http-get URL                  print the body of URL
  stamp FILE                    append RFC3339Nano time and hostname to FILE, keep running
`

func main() {
	args := os.Args[1:]
	cmd := "sleep"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if err := run(cmd, args); err != nil {
		fmt.Fprintf(os.Stderr, "app %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func run(cmd string, args []string) error {
	switch cmd {
	case "sleep":
		waitForSignal()
		return nil
	case "exit":
		if len(args) < 1 {
			return fmt.Errorf("missing exit code")
		}
		code, err := strconv.Atoi(args[0])
		if err != nil {
			return fmt.Errorf("bad exit code: %w", err)
		}
		if len(args) > 1 {
			d, err := time.ParseDuration(args[1])
			if err != nil {
				return fmt.Errorf("bad delay: %w", err)
			}
			// A signal during the delay ends the wait early, still with the
			// requested code, so stops stay fast.
			sig := signals()
			select {
			case <-time.After(d):
			case <-sig:
			}
		}
		os.Exit(code)
	case "serve":
		return serve(args)
	case "healthy-after":
		return healthyAfter(args)
	case "check":
		if len(args) < 1 {
			return fmt.Errorf("missing file")
		}
		if _, err := os.Stat(args[0]); err != nil {
			return err
		}
		return nil
	case "log", "log-exit":
		return logLines(cmd == "log", args)
	case "write":
		if len(args) < 2 {
			return fmt.Errorf("usage: write FILE TEXT")
		}
		if err := os.MkdirAll(filepath.Dir(args[0]), 0o755); err != nil {
			return err
		}
		return os.WriteFile(args[0], []byte(args[1]), 0o644)
	case "read":
		if len(args) < 1 {
			return fmt.Errorf("missing file")
		}
		b, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(b)
		return err
	case "env":
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Println(e)
		}
		return nil
	case "tcp-wait":
		return tcpWait(args)
	case "http-get":
		if len(args) < 1 {
			return fmt.Errorf("missing url")
		}
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(args[0])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode >= 400 {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	case "stamp":
		if len(args) < 1 {
			return fmt.Errorf("missing file")
		}
		if err := stamp(args[0]); err != nil {
			return err
		}
		waitForSignal()
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func signals() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	return ch
}

func waitForSignal() {
	<-signals()
}

func serve(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("missing port")
	}
	text := ""
	if len(args) > 1 {
		text = args[1]
	} else {
		text, _ = os.Hostname()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, text)
	})
	ln, err := net.Listen("tcp", ":"+args[0])
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- http.Serve(ln, mux) }()
	select {
	case err := <-errc:
		return err
	case <-signals():
		return nil
	}
}

func healthyAfter(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("missing duration")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return fmt.Errorf("bad duration: %w", err)
	}
	file := "/tmp/healthy"
	if len(args) > 1 {
		file = args[1]
	}
	sig := signals()
	select {
	case <-time.After(d):
	case <-sig:
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte("ok\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("healthy: created %s\n", file)
	<-sig
	return nil
}

func logLines(keep bool, args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("missing count")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("bad count: %w", err)
	}
	text := "line"
	if len(args) > 1 {
		text = args[1]
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(os.Stdout, "%s %d\n", text, i)
		if i%10 == 0 {
			fmt.Fprintf(os.Stderr, "%s %d stderr\n", text, i)
		}
	}
	if keep {
		waitForSignal()
	}
	return nil
}

func tcpWait(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: tcp-wait HOST:PORT TIMEOUT")
	}
	timeout, err := time.ParseDuration(args[1])
	if err != nil {
		return fmt.Errorf("bad timeout: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			conn.Close()
			fmt.Printf("connected to %s\n", args[0])
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timeout waiting for %s: %w", args[0], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stamp(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	host, _ := os.Hostname()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), host); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
