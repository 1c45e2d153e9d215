package server

import (
	"net"
	"time"

	"github.com/rs/zerolog"

	"talker/config"
	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/store"
)

// Config is everything a Server needs. Zero values are replaced by the
// defaults in DefaultConfig.
type Config struct {
	Name     string // the talker's name, shown in the banner and MSSP
	DataDir  string
	HashCost int // bcrypt cost for passwords

	Limits           conn.Limits
	MaxPerAddress    int           // simultaneous connections from one address (0 = unlimited)
	MaxQueuedLines   int           // lines waiting for their turn under the line rate, per session
	LoginTimeout     time.Duration // time allowed at the login prompts
	IdleTimeout      time.Duration // logged-in players idle this long are disconnected (0 = never)
	MaxLoginFailures int           // wrong passwords on one connection before it is closed
	NewbieExpiry     time.Duration // newbie accounts unused this long are deleted (0 = never)
	// AnnounceAll: with at most this many players online, everyone is told
	// when someone logs in or out; above it, only their friends.
	AnnounceAll int
	// NewAccountsPerHour: registrations one address may start in an hour
	// (0 = unlimited).
	NewAccountsPerHour int
	// LinkDead: a playing session whose connection drops is kept this
	// long, to be resumed (0 = not kept; linkdead.go).
	LinkDead time.Duration
	// NOPInterval: a connection nothing has been sent to for this long is
	// sent telnet NOP, so that NAT routers keep it (0 = never).
	NOPInterval time.Duration
	// MSSP is what crawlers are told besides the name and the counts.
	MSSP config.MSSP
	// NoMCCP: MCCP2 compression is not offered to new connections
	// (mccp.go; those compressing already go on).
	NoMCCP bool
	// NoJournal: no crash journal even under an angel (journal.go; for
	// measuring what it costs, and for tests of the checkpoint alone).
	NoJournal bool
	// Journal: the talker runs under an angel, which will take its crash
	// journal; it is made before anyone is served (journal.go).
	Journal bool

	// StartRoom is where new players appear and `home` leads when they have
	// no home of their own.
	StartRoom string

	Log zerolog.Logger

	// Setup customises a new talker: it runs once, as the last step of the
	// initial setup, with the freshly created database.
	Setup func(*store.Store) error
	// AskAdmin, if set, is called during the initial setup when no admin
	// account exists (the program sets it when it has a terminal). It
	// returns the new admin's name and password.
	AskAdmin func() (name, password string, err error)

	// Upgrader performs seamless reboots (package reboot's Upgrader); nil
	// disables them.
	Upgrader Upgrader
	// ReadyTimeout bounds every wait of a reboot: connections pausing, and
	// each step of the new binary's (starting, taking each batch of
	// sockets, restoring and becoming ready).
	ReadyTimeout time.Duration
	// Version of this binary, shown to admins across a reboot.
	Version string
	// Messages players see around reboots.
	Messages Messages
	// Hooks are the lifecycle hooks (init, cold start, reload start, start,
	// reload stop, cold stop, stop).
	Hooks reboot.Hooks[*World]
	// Faults injects failures for tests of the reboot's rollback
	// (faults.go).
	Faults Faults
	// Migrations says which schema migrations opening the database may
	// apply: store.ReadableMigrations when a previous generation that is
	// still alive may carry on if this one fails (a reboot, reset or
	// restart not yet committed), else all of them (a cold start, or the
	// angel's recovery of a generation that died).
	Migrations store.Migrations
	// Heartbeat, if set, is called from the world's own loop about once a
	// second, so that a watchdog can tell a hung talker from a busy one.
	Heartbeat func(tick uint64)

	// Now is the clock; tests may replace it.
	Now func() time.Time

	// ConfigFile is the configuration file that `config reload` re-reads
	// ("" when the settings came from code, as in most tests), and
	// Overrides the command-line flags that win over it. Settings are the
	// settings in effect (what Apply last set).
	ConfigFile string
	Overrides  config.Overrides
	Settings   config.Settings
}

// Apply sets every field that the configuration file covers.
func (c *Config) Apply(s config.Settings) {
	c.applyLive(s)
	c.ReadyTimeout = s.Reboot.ReadyTimeout.D()
}

// applyLive sets the fields of the settings declared live, and no other:
// the rest (the ready timeout, say) are read by the reboot's and the
// control socket's goroutines, so a reload on the world's goroutine must
// not write them (reload.go).
func (c *Config) applyLive(s config.Settings) {
	c.Settings = s
	c.Name = s.Name
	c.HashCost = s.HashCost
	c.applyLimits(s.Limits)
	c.LoginTimeout = s.Logins.Timeout.D()
	c.MaxLoginFailures = s.Logins.MaxFailures
	c.IdleTimeout = s.Logins.IdleTimeout.D()
	c.AnnounceAll = s.Logins.AnnounceAll
	c.NewAccountsPerHour = s.Logins.NewAccounts
	c.LinkDead = s.Logins.LinkDead.D()
	c.NewbieExpiry = s.Accounts.NewbieExpiry.D()
	c.Messages = Messages(s.Messages)
	c.applyKeepalive(s.Keepalive)
	c.MSSP = s.MSSP
	c.NoMCCP = !s.Telnet.MCCP // mccp.go
}

// applyKeepalive sets the NOP interval and the connections' TCP keepalive.
func (c *Config) applyKeepalive(k config.Keepalive) {
	c.NOPInterval = k.NOPInterval.D()
	c.Limits.KeepAlive = net.KeepAliveConfig{Enable: k.TCPIdle > 0, Idle: k.TCPIdle.D(),
		Interval: k.TCPInterval.D(), Count: k.TCPCount}
}

// applyLimits sets the limits field by field: FlushWait and the others
// the file does not cover are read by other goroutines and must not be
// written.
func (c *Config) applyLimits(l config.Limits) {
	c.Limits.MaxLine = l.MaxLine
	c.Limits.LineRate = l.LineRate
	c.Limits.LineBurst = l.LineBurst
	c.Limits.ByteRate = l.ByteRate
	c.Limits.MaxBacklog = l.MaxBacklog
	c.MaxPerAddress = l.MaxPerAddress
	c.MaxQueuedLines = l.MaxQueued
}

// Messages are what players see around a reboot. Empty strings are not
// sent.
type Messages struct {
	Rebooting    string // before a reboot
	Resetting    string // before a reset
	Restarting   string // before a restart (players are disconnected)
	Rebooted     string // after, with %s for how long it took
	Recovered    string // after a crash the talker recovered from, with %s
	RebootFailed string // when a reboot was called off
}

// DefaultMessages are one line before and one after, as players expect.
func DefaultMessages() Messages {
	return Messages{
		Rebooting:    "*** The talker is rebooting, hold on...",
		Resetting:    "*** The talker is resetting, hold on...",
		Restarting:   "*** The talker is restarting: you will be disconnected. Please reconnect in a few seconds.",
		Rebooted:     "*** Reboot complete in %s. Carry on!",
		Recovered:    "*** The talker tripped over something and recovered (%s). Carry on!",
		RebootFailed: "*** The reboot was called off. Carry on!",
	}
}

// DefaultConfig returns the settings a talker starts with: the
// configuration file's defaults (package config) and those of what the
// file does not cover.
func DefaultConfig() Config {
	c := Config{
		Name:             "Talker",
		DataDir:          "./data",
		HashCost:         player.DefaultHashCost,
		Limits:           conn.DefaultLimits(),
		MaxPerAddress:    8,
		LoginTimeout:     3 * time.Minute,
		IdleTimeout:      0,
		MaxLoginFailures: 3,
		AnnounceAll:      100,
		StartRoom:        "main",
		ReadyTimeout:     reboot.DefaultReadyTimeout,
		Version:          "dev",
		Messages:         DefaultMessages(),
		Log:              zerolog.Nop(),
		Now:              time.Now,
	}
	c.Apply(config.Default())
	return c
}

func (c *Config) fillDefaults() {
	d := DefaultConfig()
	if c.Name == "" {
		c.Name = d.Name
	}
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.HashCost == 0 {
		c.HashCost = d.HashCost
	}
	if c.Limits == (conn.Limits{}) {
		c.Limits = d.Limits
	}
	if c.MaxQueuedLines == 0 {
		c.MaxQueuedLines = d.MaxQueuedLines
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = d.LoginTimeout
	}
	if c.MaxLoginFailures == 0 {
		c.MaxLoginFailures = d.MaxLoginFailures
	}
	if c.StartRoom == "" {
		c.StartRoom = d.StartRoom
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = d.ReadyTimeout
	}
}
