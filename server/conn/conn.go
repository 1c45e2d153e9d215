// Package conn is one client's TCP connection as the talker sees it: a
// reader goroutine that decodes telnet into lines and negotiations, applies
// the per-connection input limits and hands batches of events to the world,
// and a writer goroutine that drains a bounded outbox, so that one slow or
// stuck client never delays anyone else.
//
// Conn knows nothing about players or commands. Its reader and writer can be
// frozen at a clean point and thawed (a reboot quiesces them), without
// waking the ones that are idle; what they hold at that point, the decoder
// state and the unsent output, is plain data.
package conn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/telnet"
	"talker/server/tlsrecord"
)

// Limits bound what one connection may cost the talker.
type Limits struct {
	MaxLine    int           // bytes per input line; the rest is cut
	MaxSB      int           // bytes per telnet subnegotiation
	LineRate   float64       // lines per second, sustained
	LineBurst  int           // lines that may arrive at once
	ByteRate   int           // input bytes per second, sustained (reading pauses beyond it)
	ByteBurst  int           // input bytes that may arrive at once
	MaxBacklog int           // unsent output bytes before the client is dropped
	FloodKick  int           // lines dropped within one burst window before the client is disconnected (0 = never)
	FlushWait  time.Duration // how long a closing connection may take to send its last output
	// KeepAlive is the socket's TCP keepalive (idle time, probe interval,
	// probe count); Enable false turns it off.
	KeepAlive net.KeepAliveConfig
}

// DefaultLimits are generous for people and tight for scripts gone wrong.
func DefaultLimits() Limits {
	return Limits{
		MaxLine:    1000,
		MaxSB:      8192, // GMCP: Mudlet's Core.Supports.Set and Core.Hello (DikuMUD3's 64-byte cap dropped them)
		LineRate:   5,
		LineBurst:  25,
		ByteRate:   32 << 10,
		ByteBurst:  128 << 10,
		MaxBacklog: 512 << 10,
		FloodKick:  200,
		FlushWait:  3 * time.Second,
		KeepAlive:  DefaultKeepAlive(),
	}
}

// DefaultKeepAlive is TCP keepalive tuned for NAT: home routers and
// carrier-grade NAT forget a quiet connection after a few minutes, so the
// first probe goes after 2 minutes, and a peer that answers none of 4
// probes 30 s apart is gone.
func DefaultKeepAlive() net.KeepAliveConfig {
	return net.KeepAliveConfig{Enable: true, Idle: 2 * time.Minute, Interval: 30 * time.Second, Count: 4}
}

// Input is one batch from a connection's reader to the world.
type Input struct {
	Conn     *Conn
	Events   []telnet.Event
	OverRate int  // lines in this batch that came faster than the line rate (delivered all the same: the world paces them)
	Flood    bool // the client kept flooding past Limits.FloodKick: disconnect it
	// Closed is set, once, when the reader has finished because the
	// connection ended (EOF, reset, or closed by us). Nothing follows it.
	Closed error
	// Stopped is set when the reader froze (FreezeReading) at the end of a
	// batch it was in the middle of, or died in a panic. The decoder state
	// (Decoder) is final until ThawReading.
	Stopped bool
	// RawEnd is the socket's absolute input offset after this batch, and
	// Reader, where the decoder is all the reader's state (input.go), a
	// copy of its decoder there: what the world commits before the bytes
	// may go.
	RawEnd uint64
	Reader *telnet.Decoder
	// TLSRead, for a TLS connection, is its record layer's read half
	// there (a record half received, the sequence number).
	TLSRead *tlsrecord.ReadHalf
}

// Panic reports a panic in a connection's reader or writer goroutine: the
// world turns it into a crash-mode reboot.
type Panic struct {
	Conn  *Conn
	Value string
	Stack []byte
}

// Deliver hands a batch to the world. It may block: that is the back
// pressure that keeps a busy world from being buried by its readers.
type Deliver func(Input)

// ReportPanic hands a Panic to the world (the same channel as Deliver).
type ReportPanic func(Panic)

// Conn is one client connection.
type Conn struct {
	ID      uint64
	Addr    string // remote IP address, without the port
	nc      *net.TCPConn
	limits  Limits
	deliver Deliver
	panics  ReportPanic

	// Owned by the reader goroutine while it is busy; by whoever froze
	// it (FreezeReading) while it is frozen.
	Decoder  telnet.Decoder
	Throttle Throttle
	input    inputState // the input stream's offsets (input.go)
	// journaled: the world commits input to a crash journal (SetJournaled);
	// committedIn is the offset it has committed up to (CommitInput).
	journaled   atomic.Bool
	committedIn atomic.Uint64
	fresh       bool // accepted here (New), not adopted
	// newLimits holds limits set by a configuration reload (SetLimits)
	// until the reader applies them before its next batch.
	newLimits atomic.Pointer[Limits]

	// rstate is the reader's state (see readState); thawMu and thawed
	// let a frozen reader wait for ThawReading.
	rstate atomic.Int32
	thawMu sync.Mutex
	thawed *sync.Cond
	parked *sync.WaitGroup // see StartFrozen; the reader's own once started
	hungUp atomic.Bool     // the socket has been shut down and closed here

	readMu      sync.Mutex
	abortReason error // why we ended the connection, if we did

	out outbox
	// tls is a TLS connection's record layer, nil for plain (tls.go).
	tls *tlsConn
	z   compressor   // MCCP2, the writer's (compress.go)
	dz  decompressor // MCCP3, the reader's (decompress.go)

	// ws is the WebSocket framing of a browser client's connection, nil
	// for telnet (websocket.go).
	ws *wsConn

	writeMu    sync.Mutex
	writing    bool          // a writer goroutine is running
	finished   chan struct{} // closed when the connection is over
	finishOnce sync.Once
}

// New wraps an accepted TCP connection. Call Start to begin reading and
// writing.
func New(id uint64, nc *net.TCPConn, limits Limits, deliver Deliver) *Conn {
	return NewWithPanics(id, nc, limits, deliver, nil)
}

// NewWithPanics is New with a place to report panics in the connection's
// goroutines.
func NewWithPanics(id uint64, nc *net.TCPConn, limits Limits, deliver Deliver, panics ReportPanic) *Conn {
	c := wrap(id, nc, limits, deliver, panics)
	c.fresh = true // input.go: nothing consumed yet
	c.setSocketOptions()
	c.out.abs, c.out.absKnown = socketWritten(nc) // gate.go: 0 on a fresh socket
	return c
}

func wrap(id uint64, nc *net.TCPConn, limits Limits, deliver Deliver, panics ReportPanic) *Conn {
	addr := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	c := &Conn{ID: id, Addr: addr, nc: nc, limits: limits, deliver: deliver, panics: panics,
		Decoder: telnet.NewDecoder(limits.MaxLine, limits.MaxSB)}
	c.Throttle = NewThrottle(limits, time.Now())
	c.out.init(limits.MaxBacklog)
	c.out.owner = c
	c.finished = make(chan struct{})
	c.thawed = sync.NewCond(&c.thawMu)
	return c
}

// setSocketOptions configures a freshly accepted socket. (An adopted one
// already has them: they belong to the socket, not the process; but its
// keepalive is set again, since the configuration may have changed.)
func (c *Conn) setSocketOptions() {
	_ = c.nc.SetNoDelay(true)
	setKeepAlive(c.nc, c.limits.KeepAlive)
}

// setKeepAlive sets (or turns off) a socket's TCP keepalive.
func setKeepAlive(nc *net.TCPConn, ka net.KeepAliveConfig) {
	if !ka.Enable {
		_ = nc.SetKeepAlive(false)
		return
	}
	_ = nc.SetKeepAliveConfig(ka)
}

// Start starts the reader and the writer.
func (c *Conn) Start() {
	c.tlsBroken() // a carried TLS state that cannot go on ends here (tls.go)
	c.ThawWriting()
	c.startWriter()
	c.StartReading()
}

// StartFrozen starts the reader and writer goroutines without letting
// them read or write anything until Start. A reboot's new generation does
// this for every staged socket before the pause, so that creating 20,000
// goroutines (and their buffers) is not part of it.
//
// parked.Done is called once the reader has set itself up and is waiting:
// the caller can wait until the goroutines' own start-up work is done too.
func (c *Conn) StartFrozen(parked *sync.WaitGroup) {
	c.out.mu.Lock()
	c.out.paused = true
	c.out.mu.Unlock()
	c.startWriter()
	if c.rstate.CompareAndSwap(readOff, readFrozen) {
		parked.Add(1)
		c.parked = parked
		go c.readLoop()
	}
}

// The reader's states. The reader only ever reads from the socket inside
// a RawConn.Read callback that first moves it from idle to busy, so a
// freeze never needs to wake it: an idle reader parked in the poller is
// frozen by one compare-and-swap, and one that wakes up later finds
// itself frozen and leaves the bytes in the kernel, where the next
// generation reads them. (Waking 10,000 readers with a deadline to stop
// them took 50-80 ms.)
const (
	readOff      int32 = iota // no reader goroutine yet
	readIdle                  // waiting for input
	readBusy                  // reading, decoding and delivering one batch
	readFreezing              // busy, and asked to freeze when the batch is done
	readFrozen                // reads nothing until ThawReading
	readEnded                 // the reader has finished for good (closed, flood, panic)
)

// StartReading starts the reader goroutine with the current Decoder and
// Throttle, or thaws a frozen one. A reader that has ended stays ended.
func (c *Conn) StartReading() {
	if c.rstate.CompareAndSwap(readOff, readIdle) {
		go c.readLoop()
		return
	}
	c.ThawReading()
}

// FreezeReading stops the reader at a clean point without waking it. It
// returns true if the reader is stopped now (it was idle, or there is
// none); false if it is in the middle of a batch, which it finishes and
// delivers before delivering an Input with Stopped set. Either way, once
// stopped, no byte is taken from the socket until ThawReading: bytes read
// are in the Decoder or already delivered, and the rest wait in the
// kernel.
func (c *Conn) FreezeReading() bool {
	for {
		switch st := c.rstate.Load(); st {
		case readIdle:
			if c.rstate.CompareAndSwap(readIdle, readFrozen) {
				return true
			}
		case readBusy:
			if c.rstate.CompareAndSwap(readBusy, readFreezing) {
				return false
			}
		case readFreezing:
			return false
		default: // off, frozen or ended
			return true
		}
	}
}

// ThawReading lets a frozen reader carry on (a cancelled freeze, or a
// handoff that rolled back).
func (c *Conn) ThawReading() {
	c.thawMu.Lock()
	defer c.thawMu.Unlock()
	for {
		switch c.rstate.Load() {
		case readFrozen:
			if c.rstate.CompareAndSwap(readFrozen, readIdle) {
				c.thawed.Broadcast()
				return
			}
		case readFreezing:
			if c.rstate.CompareAndSwap(readFreezing, readBusy) {
				return
			}
		default:
			return
		}
	}
}

// waitThawed parks a frozen reader until ThawReading. It returns false if
// the reader must end instead: the connection was abandoned (the reader
// just returns) or closed meanwhile (it has reported that).
func (c *Conn) waitThawed() bool {
	c.thawMu.Lock()
	for c.rstate.Load() == readFrozen && !c.hungUp.Load() {
		c.thawed.Wait()
	}
	state := c.rstate.Load()
	c.thawMu.Unlock()
	switch {
	case state == readEnded:
		return false
	case state == readFrozen: // and hung up
		c.finishReading(net.ErrClosed)
		return false
	}
	return true
}

// endBatch moves a busy reader back to idle, or to frozen if a freeze was
// asked meanwhile (it then returns true and must say so).
func (c *Conn) endBatch() (frozen bool) {
	for {
		if c.rstate.CompareAndSwap(readBusy, readIdle) {
			return false
		}
		if c.rstate.CompareAndSwap(readFreezing, readFrozen) {
			return true
		}
		if c.rstate.Load() == readEnded {
			// Abandoned meanwhile (Abandon stores readEnded under a busy
			// reader): stop, as a frozen reader that is never thawed.
			// Without this the loop spun forever, holding the socket.
			return true
		}
	}
}

// readOutcome is what one RawConn.Read callback found.
type readOutcome int

const (
	readGotData   readOutcome = iota // n bytes, or an error/EOF, to handle while busy
	readWasFrozen                    // frozen before it could read: read nothing
	readJustFroze                    // was busy, found nothing more, and froze
)

func (c *Conn) readLoop() {
	defer func() {
		if r := recover(); r != nil {
			// The reader is gone: count it as stopped, so that the reboot
			// this panic causes does not wait for it.
			c.rstate.Store(readEnded)
			c.reportPanic(r)
			c.deliver(Input{Conn: c, Stopped: true})
		}
	}()
	// StartFrozen's caller waits for this reader to have set itself up,
	// whichever way it goes.
	parked := func() {
		if c.parked != nil {
			c.parked.Done()
			c.parked = nil
		}
	}
	defer parked()
	rc, err := c.nc.SyscallConn()
	if err != nil {
		c.rstate.Store(readBusy)
		c.finishReading(err)
		return
	}
	buf := make([]byte, 4096)
	var evs []telnet.Event
	for {
		var n int
		var readErr error
		outcome := readGotData
		// Nothing in this callback may block: while it runs, the socket
		// cannot be closed.
		rawErr := rc.Read(func(fd uintptr) bool {
			if !c.rstate.CompareAndSwap(readIdle, readBusy) {
				outcome = readWasFrozen
				return true
			}
			// Set up once, at the first read: a new generation's reader
			// is started frozen while the old one still reads.
			c.startInput(int(fd)) // input.go
			for {
				n, readErr = c.readInput(int(fd), buf) // input.go
				if readErr != unix.EINTR {
					break
				}
			}
			if readErr == unix.EAGAIN {
				if c.endBatch() {
					outcome = readJustFroze
					return true
				}
				return false // wait in the poller for more
			}
			return true
		})
		switch {
		case rawErr != nil:
			// Closed by us (Abort, or the writer's hangup).
			c.rstate.Store(readBusy)
			c.finishReading(rawErr)
			return
		case outcome == readWasFrozen:
			parked()
			if !c.waitThawed() {
				return
			}
			continue
		case outcome == readJustFroze:
			c.deliver(Input{Conn: c, Stopped: true})
			if !c.waitThawed() {
				return
			}
			continue
		}
		if n < 0 {
			n = 0
		}
		if n == 0 && readErr == nil {
			readErr = io.EOF
		}
		if n > 0 {
			now := time.Now()
			if l := c.newLimits.Swap(nil); l != nil {
				c.Throttle.SetLimits(*l)
				c.Decoder.MaxLine = l.MaxLine
			}
			var data []byte
			data, readErr = c.tlsDecode(buf[:n], readErr) // tls.go
			data, readErr = c.inflate(data, readErr)      // decompress.go: MCCP3
			evs = c.feed(data, evs[:0])                   // websocket.go
			in := Input{Conn: c}
			sync := c.readerState(&in) // input.go
			if len(evs) > 0 {
				in.Events = make([]telnet.Event, 0, len(evs))
				for _, ev := range evs {
					// Over the rate, a line is still delivered (the world
					// makes it wait its turn); the count tells a flood
					// from a paste.
					if ev.Kind == telnet.EventLine && !c.Throttle.AllowLine(now) {
						in.OverRate++
					}
					in.Events = append(in.Events, ev)
				}
			}
			in.Flood = c.limits.FloodKick > 0 && c.Throttle.Dropped >= c.limits.FloodKick
			if len(in.Events) > 0 || in.Flood || c.wsChanged() || sync {
				c.deliver(in)
			}
			if in.Flood {
				// Stop spending time on it; the world tells the client why
				// and closes the connection after that message.
				c.rstate.Store(readEnded)
				return
			}
			if readErr == nil {
				pause := c.Throttle.Bytes(n, now)
				if c.endBatch() {
					c.deliver(Input{Conn: c, Stopped: true})
					if !c.waitThawed() {
						return
					}
				} else if pause > 0 {
					// Idle while it sleeps: a freeze meanwhile costs nothing.
					time.Sleep(pause)
				}
				continue
			}
		}
		c.finishReading(readErr)
		return
	}
}

// ErrBacklog is the reason given for a client dropped because it stopped
// reading its output.
var ErrBacklog = errors.New("dropped: the client stopped reading (output backlog full)")

// AbortBacklog ends a connection whose client has stopped reading; the
// reader reports ErrBacklog as the reason it closed.
func (c *Conn) AbortBacklog() {
	c.readMu.Lock()
	c.abortReason = ErrBacklog
	c.readMu.Unlock()
	c.Abort()
}

// finishReading ends a busy reader for good: the connection is over.
func (c *Conn) finishReading(err error) {
	c.rstate.Store(readEnded)
	c.readMu.Lock()
	if c.abortReason != nil {
		err = c.abortReason
	}
	c.readMu.Unlock()
	c.hangup()
	c.out.close()
	c.deliver(Input{Conn: c, Closed: err})
}

// Send queues bytes (already telnet-escaped) for the client. It returns
// false when the client has fallen too far behind; the caller should drop
// it.
func (c *Conn) Send(b []byte) bool {
	if c.ws != nil {
		return c.sendWebSocket(b) // framed (websocket.go)
	}
	return c.out.add(b)
}

// Sent counts the calls to Send so far (whether or not they were queued):
// the world compares it with its last look to tell a connection nothing
// has been sent to (see the keepalive NOP).
func (c *Conn) Sent() uint64 { return c.out.sends.Load() }

// Close sends whatever is queued (within Limits.FlushWait), then ends the
// connection. The reader then delivers Closed.
func (c *Conn) Close() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.limits.FlushWait))
	c.out.mu.Lock()
	c.tlsUnseal() // tlsseal.go: the writer seals the last words
	c.out.mu.Unlock()
	c.out.closeAfterFlush()
}

// Done is closed once the connection's writer has finished: everything it
// was going to send is sent (or given up on) and the socket is closed.
func (c *Conn) Done() <-chan struct{} { return c.finished }

// Abort ends the connection at once, discarding queued output.
func (c *Conn) Abort() {
	c.out.close()
	c.hangup()
}

// hangup shuts the socket down before closing it: if another process holds
// a duplicate of the descriptor (a reboot in progress, or the angel), a
// plain close would leave the client connected to nobody.
func (c *Conn) hangup() {
	if raw, err := c.nc.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RDWR) })
	}
	_ = c.nc.Close()
	// A frozen reader is parked where closing the socket cannot reach it:
	// wake it, so that it reports the connection closed.
	c.hungUp.Store(true)
	c.thawMu.Lock()
	c.thawed.Broadcast()
	c.thawMu.Unlock()
}

// HungUp reports whether the connection has been shut down and closed
// here (its reader may not have reported it yet).
func (c *Conn) HungUp() bool { return c.hungUp.Load() }

// DupFD returns a close-on-exec duplicate of the socket's descriptor, for
// handing to another process; the caller closes it. It does not go through
// os.File.Fd, which would switch the shared socket to blocking mode in both
// processes.
func (c *Conn) DupFD() (int, error) {
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return -1, err
	}
	dup := -1
	var dupErr error
	if err := raw.Control(func(fd uintptr) {
		dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	return dup, dupErr
}

// RawFD returns the socket's descriptor itself, for passing to another
// process while this one is guaranteed not to close it (both goroutines
// stopped). It avoids os.File.Fd for the same reason as DupFD.
func (c *Conn) RawFD() (int, error) {
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// Carried is what a connection hands to the next generation besides its
// socket: plain data.
type Carried struct {
	Decoder  telnet.Decoder
	Throttle Throttle
	Unsent   []byte
	// TLS is a TLS connection's record layer, exact (tls.go); nil for plain.
	TLS *tlsrecord.State
	// Compress is the output's MCCP2 state (compress.go): whether the
	// stream is on, its Adler-32, switches queued in Unsent.
	Compress Compression
	// WebSocket is the framing state of a browser client's connection
	// (websocket.go; Unsent is then whole frames), nil for telnet.
	WebSocket *WSRead
	// Decompress is the input's MCCP3 state (decompress.go), nil when
	// MCCP3 is neither offered nor on.
	Decompress *InflateState
	// InputAt is the socket's absolute input offset the Decoder is at
	// (input.go): exact from a reboot; from a crash journal, what was
	// committed. 0: not known.
	InputAt uint64
}

// Carry returns the connection's carried state. Call it only with the
// reader and the writer frozen (or not started).
func (c *Conn) Carry() Carried {
	c.settleInput() // input.go: nothing taken is left in the socket
	return c.CarryLeavingInput()
}

// CarryLeavingInput is Carry, except that what the reader peeked and took
// stays in the socket: the next generation drops it itself when its reader
// starts (Carried.InputAt is ahead of the kernel). For a reboot that passes
// the crash journal on: until the next generation has committed the
// carried state to it, a crash recovers from the journal as it was, which
// needs those bytes still in the socket.
func (c *Conn) CarryLeavingInput() Carried {
	cr := Carried{Decoder: c.Decoder, Throttle: c.Throttle, InputAt: c.input.carried()}
	cr.TLS = c.tlsCarry()            // tls.go
	cr.Decompress = c.carryInflate() // decompress.go
	var marks []outMark
	cr.Unsent, marks = c.out.pending()
	c.tlsCarryOut(&cr) // tlsseal.go: records sealed at release are the TLS state's tail
	cr.Compress = c.carryCompression(marks)
	if c.ws != nil {
		in := c.ws.In.clone()
		cr.WebSocket = &in
	}
	return cr
}

// Adopt wraps a socket descriptor received from another process (a
// reboot) as a connection with the state it had there: Wrap and Attach in
// one.
func Adopt(id uint64, fd int, limits Limits, deliver Deliver, panics ReportPanic, carried Carried) (*Conn, error) {
	c, err := Wrap(fd, limits)
	if err != nil {
		return nil, err
	}
	c.Attach(id, deliver, panics, carried)
	return c, nil
}

// Wrap takes over a socket descriptor received from another process. The
// connection reads and writes nothing until it is attached and started:
// until the new generation is committed, the old one may still be serving
// it. (A reboot wraps every socket while the old generation still serves,
// so that this, the costliest step per socket, is not part of the pause.)
func Wrap(fd int, limits Limits) (*Conn, error) {
	f := os.NewFile(uintptr(fd), "conn")
	nc, err := net.FileConn(f)
	// FileConn made its own duplicate; keeping f open would hold the socket
	// open after the connection closes (no FIN).
	f.Close()
	if err != nil {
		return nil, err
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, errors.New("adopted descriptor is not a TCP socket")
	}
	if tc.RemoteAddr() == nil {
		// A connection its client reset (RST) while the angel held it
		// has no peer any more (getpeername: ENOTCONN), and neither has a
		// listening socket. Under a storm of crashes one such descriptor
		// reached every recovery, and every generation crashed on it until
		// the angel gave up on all 1,001 players. It must cost only itself.
		nc.Close()
		return nil, errors.New("adopted descriptor is not a connected TCP socket")
	}
	// Until Attach, a connection's reader has nowhere to deliver to (and,
	// frozen, nothing to deliver).
	c := wrap(0, tc, limits, func(Input) {}, nil)
	// The old generation set its keepalive; this one's may differ (the
	// file changed, or the old one predates the setting).
	setKeepAlive(tc, limits.KeepAlive)
	return c, nil
}

// SetLimits changes the connection's rates, line length and output
// backlog (a configuration reload). The backlog applies at once; the
// reader takes the rest before its next batch, so nothing it owns is
// touched from another goroutine.
func (c *Conn) SetLimits(l Limits) {
	c.newLimits.Store(&l)
	setKeepAlive(c.nc, l.KeepAlive)
	c.out.mu.Lock()
	c.out.max = l.MaxBacklog
	c.out.mu.Unlock()
}

// Attach gives a wrapped connection its identity, where its input and
// panics go, and the state it had in the previous generation. Call it
// before Start.
func (c *Conn) Attach(id uint64, deliver Deliver, panics ReportPanic, carried Carried) {
	c.ID, c.deliver, c.panics = id, deliver, panics
	c.Decoder = carried.Decoder
	c.input.resume = carried.InputAt // input.go
	c.Throttle = carried.Throttle
	c.Throttle.SetLimits(c.limits)
	c.attachTLS(carried.TLS)            // tls.go
	c.attachInflate(carried.Decompress) // decompress.go
	if carried.WebSocket != nil {
		c.attachWebSocket(carried.WebSocket) // websocket.go
	}
	// Where this generation's output starts on the socket (gate.go): the
	// previous one's writer is stopped by now.
	abs, known := socketWritten(c.nc)
	c.out.mu.Lock()
	c.out.abs, c.out.absKnown = abs, known && len(c.out.buf) == 0
	c.out.mu.Unlock()
	if len(carried.Unsent) > 0 || carried.Compress.Active() {
		c.out.mu.Lock() // a frozen writer may be waiting (StartFrozen)
		c.attachCompression(carried.Compress, len(c.out.buf), len(carried.Unsent))
		c.out.buf = append(c.out.buf, carried.Unsent...)
		c.out.mu.Unlock()
	}
}

// Abandon closes this process's handle on the socket without shutting the
// connection down: another process (the generation that handed it over)
// still owns it.
func (c *Conn) Abandon() {
	c.out.close()
	c.thawMu.Lock()
	c.rstate.Store(readEnded) // a frozen reader (StartFrozen) ends
	c.thawed.Broadcast()
	c.thawMu.Unlock()
	_ = c.nc.Close()
}

func (c *Conn) reportPanic(r any) {
	if c.panics != nil {
		c.panics(Panic{Conn: c, Value: fmt.Sprint(r), Stack: debug.Stack()})
	}
}
