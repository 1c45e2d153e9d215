package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"talker/player"
)

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// errNoPassword: standard input ended before a password.
var errNoPassword = errors.New("no password given")

// retryable is a new password the person at the terminal can simply type
// again: one the rules refuse, or two that do not match.
type retryable struct{ error }

// newPassword reads a new account's password from in, standard input: on a
// terminal, twice and unechoed, checked against the password rules before
// it is asked again; from a pipe or file (a script), the first line of at
// most 4 KiB.
func newPassword(in *bufio.Reader, terminal bool) (string, error) {
	if !terminal {
		b, err := io.ReadAll(io.LimitReader(in, 4096))
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSuffix(line, "\r"); line == "" {
			return "", fmt.Errorf("%w on standard input", errNoPassword)
		}
		return line, nil
	}
	pw, err := readHidden(in, "Password: ")
	if err != nil {
		return "", err
	}
	if err := player.ValidatePassword(pw); err != nil {
		return "", retryable{err}
	}
	again, err := readHidden(in, "Password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", retryable{errors.New("the passwords did not match")}
	}
	return pw, nil
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
		return "", errNoPassword
	}
	return strings.TrimRight(line, "\r\n"), nil
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
		pw, err := newPassword(in, true)
		var again retryable
		if errors.As(err, &again) {
			fmt.Fprintln(os.Stderr, "  "+err.Error())
			continue
		}
		if err != nil {
			return "", "", err
		}
		return name, pw, nil
	}
}
