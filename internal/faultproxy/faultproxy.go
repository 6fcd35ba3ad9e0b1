// Package faultproxy sits between a PostgreSQL client and server in end-to-end
// tests and provokes the network faults that a test cannot otherwise time: a
// COMMIT whose reply is lost (the server committed, the client never learns
// it), a stalled connection, a connection dropped at an arbitrary point.
// It listens on 127.0.0.1 only: a test tool, never a relay for other machines.
// Client bytes are copied as they are; server bytes are parsed as protocol v3
// messages, the only way to tell the COMMIT reply apart and withhold it.
package faultproxy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const (
	sslRequest    = 80877103 // the proxy answers both with 'N' (see serveClient)
	gssEncRequest = 80877104
	maxStartup    = 10000   // the server's own limit on a startup packet
	maxMessage    = 1 << 30 // a longer message is a corrupt length: close
	chunk         = 32 << 10
	commitTag     = "COMMIT\x00" // the body of CommandComplete ('C') for a COMMIT
)

// Proxy relays connections from a loopback TCP port to a PostgreSQL server
// and injects faults on demand. Its methods are safe for concurrent use.
type Proxy struct {
	ln               net.Listener
	network, address string
	armed, dropped   atomic.Int64
	sent             atomic.Int64 // bytes clients sent, startup messages included
	refusing         atomic.Bool
	resumed          atomic.Pointer[chan struct{}] // non-nil while paused; Resume closes it
	accepting        chan struct{}                 // closed when accept returns
	wg               sync.WaitGroup
	mu               sync.Mutex // guards links
	links            map[*link]struct{}
}

// link is a client connection and its server connection. Every fault, and
// the end of either side, closes both at once.
type link struct{ client, server net.Conn }

func (l *link) close() { l.client.Close(); l.server.Close() }

// Start listens on 127.0.0.1:0 and relays each accepted connection to the
// server at (network, address): "unix" and a socket path (/tmp/d/.s.PGSQL.5432)
// or "tcp" and a loopback host:port (tests send traffic to this machine only).
func Start(network, address string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(address)
	if network != "unix" && (network != "tcp" || err != nil || host != "localhost" && !net.ParseIP(host).IsLoopback()) {
		return nil, fmt.Errorf("faultproxy: %s %q is neither a unix socket nor a loopback TCP address", network, address)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{ln: ln, network: network, address: address, accepting: make(chan struct{}), links: map[*link]struct{}{}}
	go p.accept()
	return p, nil
}

// Addr is where clients connect: host 127.0.0.1 and the proxy's port.
func (p *Proxy) Addr() (host string, port int) { return "127.0.0.1", p.ln.Addr().(*net.TCPAddr).Port }

// Close stops listening, closes every connection, resumes a pause and waits
// for the proxy's goroutines to end. It may be called more than once.
func (p *Proxy) Close() { p.ln.Close(); <-p.accepting; p.KillAll(); p.Resume(); p.wg.Wait() }

// KillAll closes every current connection, both sides at once, as a network
// drop at an arbitrary point would; new connections are still accepted.
func (p *Proxy) KillAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.close()
	}
}

// DropNextCommitReply is DropCommitReplies(1).
func (p *Proxy) DropNextCommitReply() { p.DropCommitReplies(1) }

// DropCommitReplies arms n more drops: each of the next n CommandComplete
// messages whose tag is exactly "COMMIT", on any connection, is withheld and
// its connection closed on both sides instead. The server sends that reply
// only once it has committed, so the client sees a failed COMMIT of a
// transaction that in fact committed: the case an importer must survive.
func (p *Proxy) DropCommitReplies(n int) { p.armed.Add(int64(n)) }

// Dropped is the number of COMMIT replies dropped so far.
func (p *Proxy) Dropped() int { return int(p.dropped.Load()) }

// takeDrop consumes one armed drop, if any, and counts it as done.
func (p *Proxy) takeDrop() bool {
	for a := p.armed.Load(); a > 0; a = p.armed.Load() {
		if p.armed.CompareAndSwap(a, a-1) {
			p.dropped.Add(1)
			return true
		}
	}
	return false
}

// Sent is how many bytes the clients have sent to the server.
func (p *Proxy) Sent() int64 { return p.sent.Load() }

// Pause stops forwarding both ways, holding bytes (not dropping them) for
// Resume to deliver in order. Bytes already on their way may still arrive.
func (p *Proxy) Pause() { ch := make(chan struct{}); p.resumed.CompareAndSwap(nil, &ch) }

// Refuse makes new connections fail as to a server that is down (on), or
// reach it again (off); connections made before are kept.
func (p *Proxy) Refuse(on bool) { p.refusing.Store(on) }

// Resume restarts forwarding after Pause.
func (p *Proxy) Resume() {
	if ch := p.resumed.Swap(nil); ch != nil {
		close(*ch)
	}
}

// source is one side's reading end. Its Read waits while the proxy is paused,
// holding bytes in the sockets, and first flushes what is ready for the other
// side: no message waits in the proxy while the proxy waits for more.
type source struct {
	p     *Proxy
	c     net.Conn
	flush func() error
	// counted, when set, counts the bytes read.
	counted *atomic.Int64
}

func (s source) Read(b []byte) (int, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	for ch := s.p.resumed.Load(); ch != nil; ch = s.p.resumed.Load() {
		<-*ch
	}
	n, err := s.c.Read(b)
	if s.counted != nil {
		s.counted.Add(int64(n))
	}
	return n, err
}

func (p *Proxy) accept() {
	defer close(p.accepting)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if p.refusing.Load() {
			c.Close()
			continue
		}
		s, err := net.DialTimeout(p.network, p.address, 10*time.Second)
		if err != nil {
			c.Close() // to the client, the server is unreachable
			continue
		}
		l := &link{c, s}
		p.mu.Lock()
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.serveServer(l); l.close() }()
		go p.serveClient(l)
	}
}

// serveClient copies client bytes to the server. The proxy refuses SSL and
// GSS encryption itself, answering 'N' without asking the server, so that the
// server's side of the stream is typed messages from its very start.
func (p *Proxy) serveClient(l *link) {
	defer func() { l.close(); p.mu.Lock(); delete(p.links, l); p.mu.Unlock(); p.wg.Done() }()
	c, buf := source{p, l.client, func() error { return nil }, &p.sent}, make([]byte, maxStartup)
	for {
		if read(c, buf[:8]) != nil {
			return
		}
		if n := binary.BigEndian.Uint32(buf); n < 8 || n > maxStartup || read(c, buf[8:n]) != nil {
			return
		} else if code := binary.BigEndian.Uint32(buf[4:]); code != sslRequest && code != gssEncRequest {
			if write(l.server, buf[:n]) == nil { // the startup message, or a CancelRequest
				_, _ = io.Copy(l.server, c) // ends when either side closes
			}
			return
		}
		if write(l.client, []byte{'N'}) != nil {
			return
		}
	}
}

func read(r io.Reader, b []byte) error  { _, err := io.ReadFull(r, b); return err }
func write(w io.Writer, b []byte) error { _, err := w.Write(b); return err }

// serveServer forwards server messages one by one, reading no more than each
// needs, streaming bodies through a fixed buffer: a corrupt length costs no memory.
func (p *Proxy) serveServer(l *link) {
	w := bufio.NewWriterSize(l.client, chunk)
	r := bufio.NewReaderSize(source{p, l.server, w.Flush, nil}, chunk)
	head, buf, n := make([]byte, 5), make([]byte, chunk), uint32(0)
	for {
		if read(r, head) != nil {
			return
		}
		if n = binary.BigEndian.Uint32(head[1:]) - 4; n > maxMessage {
			return // a length under 4 wraps around to over the limit too
		}
		if head[0] == 'C' && n == uint32(len(commitTag)) {
			if tag, err := r.Peek(len(commitTag)); err != nil || string(tag) == commitTag && p.takeDrop() {
				w.Flush() // earlier replies still arrive; this one never does
				return
			}
		}
		if write(w, head) != nil {
			return
		}
		for n > 0 {
			m, err := r.Read(buf[:min(n, chunk)])
			if err != nil || write(w, buf[:m]) != nil {
				return
			}
			n -= uint32(m)
		}
	}
}

// FromURL returns the network and address of the server that a connection
// string names, as Start takes them. A host starting with / is a unix socket
// directory, holding the socket .s.PGSQL.<port>.
func FromURL(connString string) (network, address string, err error) {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return "", "", fmt.Errorf("faultproxy: %w", err)
	}
	port := strconv.Itoa(int(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		return "unix", filepath.Join(cfg.Host, ".s.PGSQL."+port), nil
	}
	return "tcp", net.JoinHostPort(cfg.Host, port), nil
}

// RewriteURL returns a key=value connection string pointed at the proxy,
// its other settings kept as written. It appends host and port, because a
// later setting overrides an earlier one (libpq's rule, which pgx follows),
// and parses the result back to check that it names the proxy.
func (p *Proxy) RewriteURL(connString string) (string, error) {
	host, port := p.Addr()
	out := fmt.Sprintf("%s host=%s port=%d", connString, host, port)
	if cfg, err := pgconn.ParseConfig(out); err != nil || cfg.Host != host || int(cfg.Port) != port {
		return "", fmt.Errorf("faultproxy: cannot point %q at the proxy (is it key=value?)", connString)
	}
	return out, nil
}
