package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"talker/player"
	"talker/server"
	"talker/server/logging"
)

func cmdRun(args []string) int {
	cfg := server.DefaultConfig()
	var listen string
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	serverFlags(fs, &cfg, &listen)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, closer, err := logging.Open(logging.Options{DataDir: cfg.DataDir, File: "talker.log",
		Console: os.Stderr, NoColor: !isTerminal(os.Stderr), Level: zerolog.InfoLevel, Process: "talker"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker run:", err)
		return 1
	}
	defer closer.Close()
	cfg.Log = log
	cfg.Setup = ownerSetup
	if isTerminal(os.Stdin) {
		cfg.AskAdmin = askAdminOnTerminal
	}
	if player.WeakCost(cfg.HashCost) {
		log.Warn().Int("hash_cost", cfg.HashCost).Msg("password hash cost is low: fit for tests and benchmarks only")
	}
	srv, err := server.New(cfg)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Error().Err(err).Msg("cannot listen")
		srv.Shutdown(context.Background(), "")
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info().Str("version", version).Str("listen", ln.Addr().String()).Str("data", cfg.DataDir).Msg("talker running")
	select {
	case sig := <-sigs:
		log.Info().Str("signal", sig.String()).Msg("stopping")
	case err := <-served:
		log.Error().Err(err).Msg("listener failed; stopping")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, ""); err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		return 1
	}
	return 0
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// askAdminOnTerminal asks for the first admin account on the terminal that
// started `talker run`, with the password unechoed.
func askAdminOnTerminal() (string, string, error) {
	in := bufio.NewReader(os.Stdin)
	fmt.Fprintln(os.Stderr, "\nThis talker has no admin account yet. Create one now (Ctrl-D to skip).")
	for {
		fmt.Fprint(os.Stderr, "Admin name: ")
		name, err := in.ReadString('\n')
		if err != nil {
			return "", "", errors.New("no admin name given")
		}
		name = strings.TrimSpace(name)
		if _, err := player.ValidateName(name); err != nil {
			fmt.Fprintln(os.Stderr, "  "+err.Error())
			continue
		}
		pw, err := readHidden(in, "Password: ")
		if err != nil {
			return "", "", err
		}
		if err := player.ValidatePassword(pw); err != nil {
			fmt.Fprintln(os.Stderr, "  "+err.Error())
			continue
		}
		again, err := readHidden(in, "Password again: ")
		if err != nil {
			return "", "", err
		}
		if again != pw {
			fmt.Fprintln(os.Stderr, "  the passwords did not match")
			continue
		}
		return name, pw, nil
	}
}

// readHidden reads a line from the terminal with echo switched off.
func readHidden(in *bufio.Reader, prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	fd := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err == nil {
		quiet := *old
		quiet.Lflag &^= unix.ECHO
		_ = unix.IoctlSetTermios(fd, unix.TCSETS, &quiet)
		defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	}
	line, err := in.ReadString('\n')
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", errors.New("no password given")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
