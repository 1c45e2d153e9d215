// Package load is the talker's load generator: it connects many telnet
// clients to a talker on loopback, logs them in, has them chat with traced
// lines while events (seamless reboots, kill -9, a broken binary) happen,
// and reports what every client saw: losses, duplicates, latency, pauses,
// throughput, and the talker's memory and descriptors.
//
// Run is the whole thing; scripts/loadgen is the command around it.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Rooms the clients can be spread over: the start room and the two next
// to it, so that every client reaches its room with at most one "go".
var roomNames = []string{"main", "lounge", "garden"}

// Typing modes.
const (
	TypeLine     = "line"     // a whole line in one write
	TypeBytewise = "bytewise" // one byte per write, ByteGap apart
)

// Config says what to run. Zero values take the defaults of Defaults.
type Config struct {
	// Addr is the talker to load (host:port, loopback only). Empty with
	// Talker set: managed mode, the load generator starts `Talker run`
	// itself on a free loopback port and stops it at the end.
	Addr string
	// WebAddr, if set, is the talker's browser client door (listen_web):
	// the clients connect there over WebSocket instead of telnet to Addr
	// (ws.go). In managed mode the talker started is given
	// --listen-web WebAddr.
	WebAddr string
	// TLSAddr, if set, is the talker's TLS door (listen_tls): the clients
	// connect there, telnet inside TLS (tlsdial.go). In managed mode the
	// talker started is given --listen-tls TLSAddr.
	TLSAddr string
	// WSSAddr, if set, is a TLS door too, but the clients are browsers
	// there: TLS offering ALPN http/1.1, then a WebSocket (wss, the web
	// client over https; wssdial.go). In managed mode the talker started
	// is given --listen-tls WSSAddr.
	WSSAddr string
	// Talker is the talker binary: started in managed mode, and used by
	// the default event commands ({talker} in RebootCmd).
	Talker string
	// DataDir is the talker's data directory: its pid file
	// (DataDir/talker.pid) is read for /proc samples and kill -9; in
	// managed mode it is the --data of the talker started.
	DataDir string
	// TalkerArgs are extra arguments for `talker run` in managed mode.
	TalkerArgs []string
	// TalkerLog receives the managed talker's output (nil: discarded).
	TalkerLog io.Writer
	// HashCost is the talker's --hash-cost in managed mode (default 4).
	HashCost int
	// LineRate is the talker's --line-rate in managed mode; 0 keeps the
	// talker's default (5 lines/s, which the default Rate is far below).
	LineRate float64
	// PID, if set, gives the talker's pid for /proc samples and kill -9
	// (tests with an in-process talker); otherwise the pid file, else the
	// managed child.
	PID func() int

	Clients    int           // connections
	Rooms      int           // rooms to spread them over: 1 to 3
	Rate       float64       // lines per second per client (0: none)
	Duration   time.Duration // workload time, after every client has logged in
	Ramp       float64       // new logins per second
	MaxLogins  int           // logins in progress at once
	Typing     string        // TypeLine or TypeBytewise
	ByteGap    time.Duration // pause between bytes when typing bytewise
	Pad        int           // filler bytes after the token, for realistic lines
	Width      int           // NAWS width answered (wide: no wrapping)
	Height     int           // NAWS height
	NamePrefix string        // account names: prefix + letters of the index
	Password   string        // every account's password
	// Admin is the admin account the fatal event logs in as (its password
	// is Password). Managed mode makes it before the talker's first start.
	Admin     string
	Reconnect bool          // reconnect and log in again after a disconnect
	Drain     time.Duration // wait after the last line for deliveries
	// LoginTimeout bounds one client's login exchange.
	LoginTimeout time.Duration
	// Window is the length of the "before" and "after" windows around
	// events; "during" is from the start of an event to Settle after its end.
	Window time.Duration
	Settle time.Duration
	// PauseMin: gaps in a client's input shorter than this are not kept,
	// except around events (from Window before one to Settle after it),
	// where gaps down to PauseFine are.
	PauseMin  time.Duration
	PauseFine time.Duration
	// SampleEvery is the /proc sampling period.
	SampleEvery time.Duration

	// Events happen during the workload, in order of At.
	Events []EventSpec
	// RebootCmd is the shell command of a reboot event; {talker}, {data},
	// {addr} and {pid} are replaced (quoted). Default:
	// "{talker} reboot --data {data}".
	RebootCmd string
	// EventTimeout bounds one event (its command, or the wait for the
	// talker to come back after kill -9).
	EventTimeout time.Duration
	// KillRestart: in managed mode, start the talker again after a kill -9
	// (what the angel will do). Default true in managed mode via Defaults.
	KillRestart bool
	// BrokenPath is the binary the broken-binary event replaces (default:
	// Talker); BrokenKind is what it is replaced with: "exit1" (a script
	// that fails), "hang" (one that never finishes) or "garbage" (not an
	// executable at all).
	BrokenPath string
	BrokenKind string
	// Hooks are custom events, by kind, for tests and experiments.
	Hooks map[string]func(context.Context) (output string, err error)

	// Log receives progress lines (nil: none).
	Log io.Writer
}

// EventSpec is one event: Kind at At after the workload starts.
type EventSpec struct {
	Kind string        // "reboot", "kill9", "segv", "fatal", "broken", "angel-upgrade" or a key of Config.Hooks
	At   time.Duration // since the workload started
}

// Event kinds.
const (
	EventReboot = "reboot"
	EventKill9  = "kill9"
	// EventSegv sends SIGSEGV: the Go runtime dies with a segmentation
	// violation's traceback, as it would on a real fault.
	EventSegv = "segv"
	// EventFatal has an admin type 'crash fatal': a Go fatal error (an
	// unlock of an unlocked mutex) that nothing in the process can catch.
	EventFatal  = "fatal"
	EventBroken = "broken"
	// EventAngelUpgrade runs `talker angel upgrade`: the angel re-executes
	// in place; nobody may notice.
	EventAngelUpgrade = "angel-upgrade"
)

// Defaults returns the configuration Run starts from.
func Defaults() Config {
	return Config{
		HashCost:     4,
		Clients:      100,
		Rooms:        1,
		Rate:         0.1,
		Duration:     30 * time.Second,
		Ramp:         100,
		MaxLogins:    32,
		Typing:       TypeLine,
		ByteGap:      20 * time.Millisecond,
		Pad:          24,
		Width:        250,
		Height:       50,
		NamePrefix:   "Lg",
		Password:     "loadgen-secret",
		Drain:        2 * time.Second,
		LoginTimeout: 60 * time.Second,
		Window:       5 * time.Second,
		Settle:       2 * time.Second,
		PauseMin:     100 * time.Millisecond,
		PauseFine:    5 * time.Millisecond,
		SampleEvery:  time.Second,
		RebootCmd:    "{talker} reboot --data {data}",
		EventTimeout: 60 * time.Second,
		KillRestart:  true,
		BrokenKind:   "exit1",
	}
}

func (c *Config) fill() {
	d := Defaults()
	setIf := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setIf(&c.HashCost, d.HashCost)
	setIf(&c.Clients, d.Clients)
	setIf(&c.Rooms, d.Rooms)
	setIf(&c.MaxLogins, d.MaxLogins)
	setIf(&c.Width, d.Width)
	setIf(&c.Height, d.Height)
	setDur(&c.Duration, d.Duration)
	setDur(&c.ByteGap, d.ByteGap)
	setDur(&c.Drain, d.Drain)
	setDur(&c.LoginTimeout, d.LoginTimeout)
	setDur(&c.Window, d.Window)
	setDur(&c.Settle, d.Settle)
	setDur(&c.PauseMin, d.PauseMin)
	setDur(&c.PauseFine, d.PauseFine)
	setDur(&c.SampleEvery, d.SampleEvery)
	setDur(&c.EventTimeout, d.EventTimeout)
	if c.Ramp == 0 {
		c.Ramp = d.Ramp
	}
	if c.Typing == "" {
		c.Typing = d.Typing
	}
	if c.NamePrefix == "" {
		c.NamePrefix = d.NamePrefix
	}
	if c.Password == "" {
		c.Password = d.Password
	}
	if c.RebootCmd == "" {
		c.RebootCmd = d.RebootCmd
	}
	if c.BrokenKind == "" {
		c.BrokenKind = d.BrokenKind
	}
	if c.BrokenPath == "" {
		c.BrokenPath = c.Talker
	}
}

func (c *Config) managed() bool { return c.Addr == "" && c.Talker != "" }

func (c *Config) validate() error {
	if c.Addr == "" && c.Talker == "" {
		return errors.New("give the talker's address (-addr) or a talker binary to start (-talker)")
	}
	if c.managed() && c.DataDir == "" {
		return errors.New("managed mode needs a data directory (-data)")
	}
	if c.Addr != "" {
		if err := CheckLoopback(c.Addr); err != nil {
			return err
		}
	}
	if c.TLSAddr != "" {
		if err := CheckLoopback(c.TLSAddr); err != nil {
			return err
		}
	}
	if c.WebAddr != "" {
		if err := CheckLoopback(c.WebAddr); err != nil {
			return err
		}
	}
	if c.WSSAddr != "" {
		if err := CheckLoopback(c.WSSAddr); err != nil {
			return err
		}
	}
	if c.Clients < 1 {
		return errors.New("need at least one client")
	}
	if c.Rooms < 1 || c.Rooms > len(roomNames) {
		return fmt.Errorf("rooms must be 1 to %d", len(roomNames))
	}
	if c.Rate < 0 || c.Ramp <= 0 {
		return errors.New("rate must be >= 0 and ramp > 0")
	}
	if c.Typing != TypeLine && c.Typing != TypeBytewise {
		return fmt.Errorf("typing must be %q or %q", TypeLine, TypeBytewise)
	}
	if len(c.Password) < 6 {
		return errors.New("the password must be at least 6 characters")
	}
	for i := 0; i < len(c.NamePrefix); i++ {
		if ch := c.NamePrefix[i] | 0x20; ch < 'a' || ch > 'z' {
			return errors.New("the name prefix must be letters only")
		}
	}
	if len(c.NamePrefix)+len(clientName("", c.Clients-1)) > 16 {
		return errors.New("the name prefix is too long for names of at most 16 letters")
	}
	for _, e := range c.Events {
		switch e.Kind {
		case EventAngelUpgrade:
			if c.Talker == "" {
				return errors.New("the angel-upgrade event needs the talker binary (-talker)")
			}
		case EventReboot, EventBroken:
			if c.Talker == "" && strings.Contains(c.RebootCmd, "{talker}") {
				return fmt.Errorf("event %s needs the talker binary (-talker) or a -reboot-cmd without {talker}", e.Kind)
			}
			if e.Kind == EventBroken && c.BrokenPath == "" {
				return errors.New("the broken-binary event needs the binary to replace (-talker or -broken-path)")
			}
		case EventKill9, EventSegv:
		case EventFatal:
			if c.Admin == "" && !c.managed() {
				return errors.New("the fatal event needs an admin account (-admin NAME, password -password) unless the load generator starts the talker")
			}
		default:
			if c.Hooks[e.Kind] == nil {
				return fmt.Errorf("unknown event kind %q", e.Kind)
			}
		}
		if e.At < 0 || e.At >= c.Duration {
			return fmt.Errorf("event %s at %v is outside the run (duration %v)", e.Kind, e.At, c.Duration)
		}
	}
	return nil
}

// CheckLoopback refuses any address that is not on this machine's loopback
// (127.0.0.0/8 or ::1): the load generator never sends anywhere else.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("address %q is not loopback: the load generator only talks to 127.0.0.0/8 or ::1", addr)
		}
		return nil
	}
	if host != "localhost" {
		return fmt.Errorf("address %q: give a loopback IP address or localhost", addr)
	}
	return nil
}
