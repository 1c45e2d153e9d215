package cli

import (
	"flag"
	"os"

	"talker/server"
)

// defaultDataDir is $TALKER_DATA, or ./data.
func defaultDataDir() string {
	if d := os.Getenv("TALKER_DATA"); d != "" {
		return d
	}
	return "./data"
}

const defaultListen = "127.0.0.1:4000"

// dataFlags registers the flags every command shares: where the data is,
// and how passwords are hashed.
func dataFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.DataDir, "data", defaultDataDir(), "data directory (database, logs, sockets); default $TALKER_DATA or ./data")
	fs.IntVar(&cfg.HashCost, "hash-cost", cfg.HashCost, "bcrypt cost for password hashes (lower only for tests and benchmarks)")
}

// serverFlags registers the flags that configure a running talker.
func serverFlags(fs *flag.FlagSet, cfg *server.Config, listen *string) {
	dataFlags(fs, cfg)
	fs.StringVar(listen, "listen", defaultListen, "address to listen on, HOST:PORT")
	fs.StringVar(&cfg.Name, "talker-name", cfg.Name, "the talker's name, shown in the banner and to MSSP crawlers")
	fs.IntVar(&cfg.Limits.MaxLine, "max-line", cfg.Limits.MaxLine, "longest input line in bytes; longer lines are cut")
	fs.Float64Var(&cfg.Limits.LineRate, "line-rate", cfg.Limits.LineRate, "input lines per second per connection, sustained (0 = unlimited)")
	fs.IntVar(&cfg.Limits.LineBurst, "line-burst", cfg.Limits.LineBurst, "input lines a connection may send at once")
	fs.IntVar(&cfg.Limits.ByteRate, "byte-rate", cfg.Limits.ByteRate, "input bytes per second per connection, sustained (0 = unlimited)")
	fs.IntVar(&cfg.Limits.MaxBacklog, "max-backlog", cfg.Limits.MaxBacklog, "unsent output bytes before a client that stopped reading is dropped")
	fs.IntVar(&cfg.MaxPerAddress, "max-per-address", cfg.MaxPerAddress, "simultaneous connections from one address (0 = unlimited)")
	fs.DurationVar(&cfg.LoginTimeout, "login-timeout", cfg.LoginTimeout, "time allowed at the login prompts")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "disconnect players idle this long (0 = never)")
	fs.IntVar(&cfg.AnnounceAll, "announce-all", cfg.AnnounceAll, "with at most this many players on, everyone hears about logins and logouts; above it, only friends")
	fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", cfg.ReadyTimeout, "how long a reboot's new binary may go without progress (starting, each batch of sockets, restoring) before the old one carries on")
	fs.StringVar(&cfg.Messages.Rebooting, "reboot-message", cfg.Messages.Rebooting, "what players see when a reboot starts (empty: nothing)")
	fs.StringVar(&cfg.Messages.Rebooted, "rebooted-message", cfg.Messages.Rebooted, "what players see after a reboot; %s is the pause (empty: nothing)")
	fs.StringVar(&cfg.Messages.Resetting, "reset-message", cfg.Messages.Resetting, "what players see when a reset starts (empty: nothing)")
	fs.StringVar(&cfg.Messages.Restarting, "restart-message", cfg.Messages.Restarting, "what players see before a restart disconnects them (empty: nothing)")
	fs.StringVar(&cfg.Messages.Recovered, "recovered-message", cfg.Messages.Recovered, "what players see after the talker recovered from a crash; %s is the pause (empty: nothing)")
	fs.StringVar(&cfg.Messages.RebootFailed, "reboot-failed-message", cfg.Messages.RebootFailed, "what players see when a reboot is called off (empty: nothing)")
}
