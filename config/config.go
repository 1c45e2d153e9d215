// Package config is the talker's configuration file: DATA/talker.toml,
// what it may hold, its defaults, how it is checked and how command-line
// flags override it.
//
// Every setting is declared once, as a field of Settings with its TOML key,
// its flag name, a one-line help and when a change takes effect (at once,
// or at the next reboot). Everything else is derived from that declaration
// by walking the struct: the flags (Flags), the commented file written on
// first start (Template), the checks (Load, Validate) and what a reload
// changed (Diff). A setting added here is therefore in the file, on the
// command line and in `talker config reload`'s answer at once.
//
// TOML (github.com/BurntSushi/toml) because admins edit this file by hand
// over years: comments are kept, there is one obvious way to write each
// value, durations are plain strings ("3m"), and parse errors carry a line
// number, which `talker config check` passes on.
package config

import (
	"time"
)

// FileName is the configuration file's name inside the data directory.
const FileName = "talker.toml"

// When says when a change to a setting takes effect.
type When string

const (
	// Live settings are applied by `talker config reload` (or the in-game
	// `config reload`) without a reboot.
	Live When = "live"
	// Reboot settings need the next reboot (listeners, logging): the
	// reboot's new generation reads the file afresh.
	Reboot When = "reboot"
)

// Settings is everything the file may hold. The struct tags are the
// declaration: toml (the key), flag (the command-line flag, if any), help,
// and when (Live or Reboot; inherited from the section when empty).
type Settings struct {
	Name     string   `toml:"name" flag:"talker-name" when:"live" help:"the talker's name, shown in the greeting, 'who' and to MSSP crawlers"`
	Listen   []string `toml:"listen" flag:"listen" when:"reboot" help:"telnet addresses to listen on, HOST:PORT; a reboot keeps those still listed, opens new ones and closes removed ones"`
	HashCost int      `toml:"hash_cost" flag:"hash-cost" when:"live" help:"bcrypt cost for new password hashes (4-31; each step doubles the time; below 10 only for tests and benchmarks)"`

	// ListenProxy: listeners behind a proxy (proxy.go in package server).
	// ListenWeb: the browser client's listeners (web.go here, web.go in
	// package server).
	ListenWeb []string `toml:"listen_web" flag:"listen-web" when:"reboot" help:"addresses of the browser client, HOST:PORT: GET / is the page, /ws its WebSocket; when unset and listen is the default, 127.0.0.1:4080; [\"off\"] for none"`
	// ListenWebProxy: the browser client behind a proxy that sends the
	// PROXY protocol.
	ListenWebProxy []string `toml:"listen_web_proxy" flag:"listen-web-proxy" when:"reboot" help:"browser client addresses behind a proxy that sends the PROXY protocol (caddy's proxy_protocol transport, nginx's stream module, haproxy send-proxy), for the players' own addresses; keep them on loopback or a private network"`

	// ListenTLS, TLSCert, TLSKey: the TLS listeners and their certificate
	// (tls.go here, tls.go in package server).
	ListenTLS []string `toml:"listen_tls" flag:"listen-tls" when:"reboot" help:"TLS addresses, HOST:PORT (Mudlet's Secure option, openssl s_client, TinTin++'s #ssl); TLS players are carried by reboots and crash recoveries like telnet players; when unset and listen is the default, 127.0.0.1:4443; [\"off\"] for none"`
	TLSCert   string   `toml:"tls_cert" flag:"tls-cert" when:"reboot" help:"the TLS certificate chain (PEM; Let's Encrypt's fullchain.pem), relative to the data directory unless absolute; read by each generation, so a renewed certificate is served from the next reboot; empty: a self-signed pair made in the data directory"`
	TLSKey    string   `toml:"tls_key" flag:"tls-key" when:"reboot" help:"the TLS certificate's private key (PEM; Let's Encrypt's privkey.pem), as tls_cert"`

	ListenProxy []string `toml:"listen_proxy" flag:"listen-proxy" when:"reboot" help:"telnet addresses behind a proxy (haproxy send-proxy, stunnel, nginx stream): each connection starts with a PROXY protocol header (v1 or v2) naming the player's own address, for limits, bans, site and the logs; keep them on loopback or a private network"`

	Limits    Limits    `toml:"limits" when:"live"`
	Logins    Logins    `toml:"logins" when:"live"`
	Accounts  Accounts  `toml:"accounts" when:"live"`
	Reboot    RebootS   `toml:"reboot" when:"reboot"`
	Messages  Messages  `toml:"messages" when:"live"`
	Log       Log       `toml:"log" when:"reboot"`
	Angel     AngelS    `toml:"angel" when:"reboot"`
	Keepalive Keepalive `toml:"keepalive" when:"live"`
	MSSP      MSSP      `toml:"mssp" when:"live"`
	Telnet    TelnetS   `toml:"telnet" when:"live"`
}

// Limits bound what one connection may cost the talker.
type Limits struct {
	MaxLine       int     `toml:"max_line" flag:"max-line" help:"longest input line in bytes; longer lines are cut"`
	LineRate      float64 `toml:"line_rate" flag:"line-rate" help:"input lines per second per connection, sustained (0 = unlimited)"`
	LineBurst     int     `toml:"line_burst" flag:"line-burst" help:"input lines a connection may send at once"`
	ByteRate      int     `toml:"byte_rate" flag:"byte-rate" help:"input bytes per second per connection, sustained (0 = unlimited)"`
	MaxBacklog    int     `toml:"max_backlog" flag:"max-backlog" help:"unsent output bytes before a client that stopped reading is dropped"`
	MaxPerAddress int     `toml:"max_per_address" flag:"max-per-address" help:"simultaneous connections from one address (0 = unlimited)"`
	MaxQueued     int     `toml:"max_queued_lines" flag:"max-queued-lines" help:"lines typed faster than line_rate wait their turn, up to this many; past it the player is told which were not taken"`
}

// Logins are the settings of the login prompts and of players' presence.
type Logins struct {
	Timeout     Duration `toml:"timeout" flag:"login-timeout" help:"time allowed at the login prompts"`
	MaxFailures int      `toml:"max_failures" flag:"max-login-failures" help:"wrong passwords on one connection before it is closed"`
	IdleTimeout Duration `toml:"idle_timeout" flag:"idle-timeout" help:"disconnect players idle this long (0s = never)"`
	AnnounceAll int      `toml:"announce_all" flag:"announce-all" help:"with at most this many players on, everyone hears about logins and logouts; above it, only friends"`
	NewAccounts int      `toml:"new_accounts_per_hour" flag:"new-accounts-per-hour" help:"new accounts one address may start in an hour (0 = unlimited; behind a proxy without the PROXY protocol every player shares one address)"`
	LinkDead    Duration `toml:"link_dead" flag:"link-dead" help:"a player whose connection drops stays on, link-dead, this long: logging in again within it resumes the session with what was missed (0s = off)"`
}

// Accounts are the settings of accounts' lifetimes.
type Accounts struct {
	NewbieExpiry Duration `toml:"newbie_expiry" flag:"newbie-expiry" help:"newbie accounts nobody has used for this long (2160h is 90 days) are deleted with their mail and lists; the talker looks at start and then hourly (0s = never)"`
}

// RebootS are the settings of seamless reboots. They take effect with the
// next generation: the old generation's reboot machinery (and tableflip's
// backstop) is set up with them when the process starts.
type RebootS struct {
	ReadyTimeout Duration `toml:"ready_timeout" flag:"ready-timeout" help:"how long a reboot's new binary may go without progress (starting, each batch of sockets, restoring) before the old one carries on"`
}

// Messages are what players see around reboots; an empty one is not sent.
type Messages struct {
	Rebooting    string `toml:"rebooting" flag:"reboot-message" help:"when a reboot starts"`
	Resetting    string `toml:"resetting" flag:"reset-message" help:"when a reset starts"`
	Restarting   string `toml:"restarting" flag:"restart-message" help:"before a restart disconnects everyone"`
	Rebooted     string `toml:"rebooted" flag:"rebooted-message" help:"after a reboot; %s is how long it took"`
	Recovered    string `toml:"recovered" flag:"recovered-message" help:"after the talker recovered from a crash; %s is the pause"`
	RebootFailed string `toml:"reboot_failed" flag:"reboot-failed-message" help:"when a reboot is called off"`
}

// Log says how the log files in DATA/log rotate.
type Log struct {
	MaxSizeMB int `toml:"max_size_mb" flag:"log-max-size-mb" help:"a log file past this many MiB is renamed to .1 (older ones shift) and a new one started (0 = never)"`
	Keep      int `toml:"keep" flag:"log-keep" help:"old log files kept per log"`
}

// AngelS are the watchdog's settings. The angel reads them when it starts
// and again each time a reboot's new generation says hello.
type AngelS struct {
	HangTimeout Duration `toml:"hang_timeout" flag:"hang-timeout" help:"a talker with no heartbeat for this long is hung: its goroutines are dumped, it is killed and recovered"`
	BootTimeout Duration `toml:"boot_timeout" flag:"boot-timeout" help:"a talker the angel started must say hello within this"`
	CrashLimit  int      `toml:"crash_limit" flag:"crash-limit" help:"this many crashes within crash_window is a crash loop: the angel stops restarting until 'talker start'"`
	CrashWindow Duration `toml:"crash_window" flag:"crash-window" help:"see crash_limit"`
	Backoff     Duration `toml:"backoff" flag:"backoff" help:"first delay before restarting a crashed talker (doubles up to backoff_max)"`
	BackoffMax  Duration `toml:"backoff_max" flag:"backoff-max" help:"longest delay before restarting a crashed talker"`
	GoodAfter   Duration `toml:"good_after" flag:"good-after" help:"a generation that has served this long is good: the angel keeps a copy of its binary in memory, and goes back to it if a new binary crashes twice in a row before serving this long (0s = never)"`
}

// Keepalive keeps idle connections open through NAT routers and firewalls
// that forget quiet ones, and finds dead peers.
type Keepalive struct {
	NOPInterval Duration `toml:"nop_interval" flag:"nop-interval" help:"send telnet NOP (invisible) to a connection nothing has been sent to for this long; clients that answered no telnet negotiation get none (0s = never)"`
	TCPIdle     Duration `toml:"tcp_idle" flag:"tcp-idle" help:"TCP keepalive: a connection silent this long gets its first probe (0s = TCP keepalive off)"`
	TCPInterval Duration `toml:"tcp_interval" flag:"tcp-interval" help:"TCP keepalive: time between unanswered probes"`
	TCPCount    int      `toml:"tcp_count" flag:"tcp-count" help:"TCP keepalive: unanswered probes before the connection is dropped"`
}

// TelnetS are the settings of the telnet protocols offered to clients.
type TelnetS struct {
	MCCP bool `toml:"mccp" flag:"mccp" help:"offer MCCP2 compression of output (telnet option 86), and MCCP3 compression of input (option 87, plain telnet ports only), to new connections; MUD clients (Mudlet, TinTin++, MUSHclient) accept MCCP2 and use about a third of the bandwidth, TinTin++ also MCCP3; connections compressing already go on when it is turned off"`
}

// MSSP is what the talker tells MUD listing crawlers (MSSP, over telnet or
// as the plain-text MSSP-REQUEST reply); an empty value is not sent.
type MSSP struct {
	Hostname   string `toml:"hostname" flag:"mssp-hostname" help:"the host name players connect to"`
	Contact    string `toml:"contact" flag:"mssp-contact" help:"an e-mail address for the talker"`
	Website    string `toml:"website" flag:"mssp-website" help:"the talker's web site, with http:// or https://"`
	Icon       string `toml:"icon" flag:"mssp-icon" help:"URL of a square image, 64x64 to 256x256"`
	Discord    string `toml:"discord" flag:"mssp-discord" help:"invitation URL of the talker's Discord"`
	Location   string `toml:"location" flag:"mssp-location" help:"the country the server is in (ISO 3166 short English name)"`
	Language   string `toml:"language" flag:"mssp-language" help:"the language spoken, its English name"`
	Created    string `toml:"created" flag:"mssp-created" help:"the year the talker opened"`
	Status     string `toml:"status" flag:"mssp-status" help:"Alpha, Closed Beta, Open Beta or Live"`
	MinimumAge int    `toml:"minimum_age" flag:"mssp-minimum-age" help:"minimum age of players (0 = not sent)"`
	CrawlDelay int    `toml:"crawl_delay" flag:"mssp-crawl-delay" help:"hours crawlers should wait between visits (-1 = the crawler's default)"`
	TLSPort    int    `toml:"tls_port" flag:"mssp-tls-port" help:"port of a TLS listener in front of the talker, sent as TLS and SSL (0 = none)"`
}

// Duration is a time.Duration written as "3m", "90s" or "0s".
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText reads "3m" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the shortest form ("3m", not "3m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Duration) String() string {
	s := time.Duration(d).String()
	for _, z := range []string{"m0s", "h0m"} {
		if len(s) > len(z) && s[len(s)-len(z):] == z {
			s = s[:len(s)-len(z)+1]
		}
	}
	return s
}

// Default returns the settings a talker has when the file says nothing.
// The server's own defaults (server.DefaultConfig) are the same values;
// a test checks that they agree.
func Default() Settings {
	return Settings{
		Name:     "Talker",
		Listen:   []string{"127.0.0.1:4000"},
		HashCost: 12,
		Limits: Limits{MaxLine: 1000, LineRate: 5, LineBurst: 25, ByteRate: 32 << 10,
			MaxBacklog: 512 << 10, MaxPerAddress: 8, MaxQueued: 200},
		Logins: Logins{Timeout: Duration(3 * time.Minute), MaxFailures: 3, AnnounceAll: 100, NewAccounts: 5,
			LinkDead: Duration(10 * time.Minute)},
		Reboot: RebootS{ReadyTimeout: Duration(5 * time.Second)},
		Messages: Messages{
			Rebooting:    "*** The talker is rebooting, hold on...",
			Resetting:    "*** The talker is resetting, hold on...",
			Restarting:   "*** The talker is restarting: you will be disconnected. Please reconnect in a few seconds.",
			Rebooted:     "*** Reboot complete in %s. Carry on!",
			Recovered:    "*** The talker tripped over something and recovered (%s). Carry on!",
			RebootFailed: "*** The reboot was called off. Carry on!",
		},
		Log: Log{MaxSizeMB: 20, Keep: 5},
		Keepalive: Keepalive{NOPInterval: Duration(2 * time.Minute), TCPIdle: Duration(2 * time.Minute),
			TCPInterval: Duration(30 * time.Second), TCPCount: 4},
		MSSP:   MSSP{Language: "English", Status: "Live", CrawlDelay: -1},
		Telnet: TelnetS{MCCP: true},
		Angel: AngelS{HangTimeout: Duration(30 * time.Second), BootTimeout: Duration(30 * time.Second),
			CrashLimit: 5, CrashWindow: Duration(2 * time.Minute),
			Backoff: Duration(50 * time.Millisecond), BackoffMax: Duration(time.Minute), GoodAfter: Duration(time.Minute)},
	}
}
