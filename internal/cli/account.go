package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"talker/player"
	"talker/server"
	"talker/server/store"
)

// cmdAccount implements `talker account create --name N --rank R`, with the
// password read from standard input so that scripts can use it.
func cmdAccount(args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(os.Stderr, "usage: talker account create --name NAME [--rank newbie|resident|staff|admin] [--data DIR]  (password on stdin)")
		return 2
	}
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	data, given := settingsFlags(fs)
	name := fs.String("name", "", "the account's name")
	rankName := fs.String("rank", "resident", "newbie, resident, staff or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg := configFor(*data, given())
	rank, err := player.ParseRank(*rankName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 2
	}
	if *name == "" {
		fmt.Fprintln(os.Stderr, "talker account create: --name is required")
		return 2
	}
	pw, err := newPassword(bufio.NewReader(os.Stdin), isTerminal(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 1
	}
	// A mistyped --data, or none in the wrong directory, would quietly make
	// a talker nobody runs: say where, and only when it is a new one.
	if _, err := os.Stat(cfg.DataDir); errors.Is(err, os.ErrNotExist) {
		where, aerr := filepath.Abs(cfg.DataDir)
		if aerr != nil {
			where = cfg.DataDir
		}
		fmt.Printf("creating a new data directory at %s\n", where)
	}
	// A running talker may be using the database: leave its schema one it
	// can read.
	st, err := store.OpenWith(cfg.DataDir, store.ReadableMigrations)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 1
	}
	defer st.Close()
	// A brand-new data directory gets its rooms first, so the account has
	// somewhere to be; the admin step is satisfied by this very account if
	// it is an admin.
	p, err := server.CreateAccount(&cfg, st, *name, pw, rank)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 1
	}
	fmt.Printf("created %s (%s) in %s\n", p.Name, p.Rank, cfg.DataDir)
	return 0
}
