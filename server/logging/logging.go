// Package logging sets up the talker's and the angel's zerolog loggers:
// structured JSON to a file in the data directory, and, when running in the
// foreground, the same events readable on the terminal.
package logging

import (
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
)

// Dir is the log directory inside the data directory.
const Dir = "log"

// Options say where a logger writes.
type Options struct {
	DataDir string
	File    string    // file name inside DataDir/log, e.g. "talker.log"
	Console io.Writer // if not nil, also write human-readable lines here
	NoColor bool      // plain console lines, for when Console is not a terminal
	Level   zerolog.Level
	Process string // "talker" or "angel": a field on every line, so merged logs stay readable
}

// Init sets zerolog's process-wide time format (sub-second, so that the
// angel's and the talker's logs merge in the right order). The program calls
// it once at start.
func Init() { zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00" }

// Open creates the log directory (0700) and file (0600) and returns a
// logger and the file to close at exit.
func Open(o Options) (zerolog.Logger, io.Closer, error) {
	dir := filepath.Join(o.DataDir, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return zerolog.Nop(), nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, o.File), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return zerolog.Nop(), nil, err
	}
	var w io.Writer = f
	if o.Console != nil {
		w = zerolog.MultiLevelWriter(f, zerolog.ConsoleWriter{Out: o.Console, TimeFormat: "15:04:05.000", NoColor: o.NoColor})
	}
	log := zerolog.New(w).Level(o.Level).With().Timestamp().Str("proc", o.Process).Int("pid", os.Getpid()).Logger()
	return log, f, nil
}
