package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"talker/config"
	"talker/server"
)

// defaultDataDir is $TALKER_DATA, or ./data.
func defaultDataDir() string {
	if d := os.Getenv("TALKER_DATA"); d != "" {
		return d
	}
	return "./data"
}

// settingsFlags registers --data and a flag for every setting of the
// configuration file (package config); after fs.Parse, the returned
// function lists the settings given on the command line, which win over
// the file.
func settingsFlags(fs *flag.FlagSet) (data *string, given func() config.Overrides) {
	data = fs.String("data", defaultDataDir(), "data directory (configuration, database, logs, sockets); default $TALKER_DATA or ./data")
	return data, config.Flags(fs)
}

// configPath is the configuration file of a data directory.
func configPath(data string) string { return filepath.Join(data, config.FileName) }

// readSettings reads the data directory's configuration file with the
// flags given over it. A file that does not check is an error that says
// what is wrong, by line.
func readSettings(data string, ov config.Overrides) (config.Settings, error) {
	return config.Read(configPath(data), ov)
}

// logSize gives the log rotation settings in logging's terms.
func logSize(s config.Settings) (maxSize int64, keep int) {
	if s.Log.MaxSizeMB == 0 {
		return -1, s.Log.Keep // never rotate
	}
	return int64(s.Log.MaxSizeMB) << 20, s.Log.Keep
}

// configFor is a server.Config with the settings of the data directory's
// file (or the defaults, if it cannot be read) and the flags over it, for
// the commands that use the database without serving (account, the
// first admin's prompt).
func configFor(data string, ov config.Overrides) server.Config {
	cfg := server.DefaultConfig()
	cfg.DataDir = data
	s, err := readSettings(data, ov)
	var ce *config.Error
	if err != nil && !errors.As(err, &ce) {
		fmt.Fprintln(os.Stderr, "talker: cannot read the configuration file:", err)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "talker: the configuration file has mistakes ('talker config check' lists them); using the defaults")
		s = config.Default()
	}
	cfg.Apply(s)
	return cfg
}
