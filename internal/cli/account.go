package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"talker/player"
	"talker/server"
	"talker/server/store"
)

const accountUsage = `usage: talker account create --name NAME [--rank newbie|resident|staff|admin]   (password on stdin)
       talker account passwd NAME [--temporary]   (password on stdin; --temporary: they choose a new one at their next login)
       talker account delete NAME
       talker account rename NAME NEWNAME
       talker account list
       talker account show NAME
All take --data DIR. They work whether the talker runs or not: a running talker does them itself,
so that those online are told.`

// cmdAccount implements `talker account create | passwd | delete | rename
// | list | show`. create opens the database itself, running talker or not
// (it only adds a row). The others go through the control socket when the
// talker runs, so that it makes the change on its world's goroutine
// (telling those online, and keeping what it holds in memory from undoing
// it), and open the database when it does not.
func cmdAccount(args []string) int {
	fs := flag.NewFlagSet("account", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, accountUsage) }
	data, given := settingsFlags(fs)
	name := fs.String("name", "", "create: the account's name")
	rankName := fs.String("rank", "resident", "create: newbie, resident, staff or admin")
	temporary := fs.Bool("temporary", false, "passwd: a one-time password, to be changed at the next login")
	words, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(words) == 0 {
		fmt.Fprintln(os.Stderr, accountUsage)
		return 2
	}
	// How many names each takes.
	names, known := map[string]int{"create": 0, "passwd": 1, "delete": 1, "rename": 2, "list": 0, "show": 1}[words[0]]
	if !known || len(words)-1 != names {
		fmt.Fprintln(os.Stderr, accountUsage)
		return 2
	}
	cfg := configFor(*data, given())
	if words[0] == "create" {
		return accountCreate(&cfg, *name, *rankName)
	}
	req := server.ControlRequest{Cmd: "account-" + words[0], By: shellUser()}
	if len(words) > 1 {
		req.Name = words[1]
	}
	if len(words) > 2 {
		req.NewName = words[2]
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "talker account %s: %v\n", words[0], err)
		return 1
	}
	if words[0] == "passwd" {
		pw, err := newPassword(bufio.NewReader(os.Stdin), isTerminal(os.Stdin))
		if err == nil {
			err = player.ValidatePassword(pw)
		}
		if err != nil {
			return fail(err)
		}
		// Hashed here, so that the talker never sees the password.
		if req.Hash, err = player.HashPassword(pw, cfg.HashCost); err != nil {
			return fail(err)
		}
		req.Temporary = *temporary
	}
	reply, err := controlCallUpTo(dataPaths{cfg.DataDir}, req, 30*time.Second, maxAccountReply)
	if errors.Is(err, errTalkerNotRunning) {
		reply, err = accountOffline(&cfg, req)
	}
	if err != nil {
		return fail(err)
	}
	if !reply.OK {
		return fail(errors.New(reply.Error))
	}
	switch words[0] {
	case "passwd":
		fmt.Printf("password of %s changed", req.Name)
		if req.Temporary {
			fmt.Print(" (a one-time password: they choose a new one when they next log in)")
		}
		fmt.Println()
	case "delete":
		fmt.Printf("deleted %s\n", req.Name)
	case "rename":
		fmt.Printf("renamed %s to %s\n", req.Name, reply.Name)
	case "list":
		printAccounts(reply.Accounts)
	case "show":
		if len(reply.Accounts) == 1 {
			printAccount(reply.Accounts[0])
		}
	}
	return 0
}

// maxAccountReply bounds the running talker's answer to an account
// command: account-list's is about 250 bytes an account.
const maxAccountReply = 16 << 20

// accountOffline does an account command on the database of a talker that
// is not running.
func accountOffline(cfg *server.Config, req server.ControlRequest) (*server.ControlReply, error) {
	// Never a new, empty database for a mistyped --data.
	if err := store.CheckFile(filepath.Join(cfg.DataDir, store.FileName)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("there is no talker in %s (no %s): check --data", cfg.DataDir, store.FileName)
	}
	// A talker starting meanwhile may be using the database: leave its
	// schema one it can read.
	st, err := store.OpenWith(cfg.DataDir, store.ReadableMigrations)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	reply := server.AccountCommand(st, req)
	return &reply, nil
}

// accountCreate is `talker account create`.
func accountCreate(cfg *server.Config, name, rankName string) int {
	rank, err := player.ParseRank(rankName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 2
	}
	if name == "" {
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
	// Names like an existing account's or a staff title's are refused
	// here as at the login prompt, with the same words.
	if err := server.CheckNewName(st, name); err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 1
	}
	p, err := server.CreateAccount(cfg, st, name, pw, rank)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker account create:", err)
		return 1
	}
	fmt.Printf("created %s (%s) in %s\n", p.Name, p.Rank, cfg.DataDir)
	return 0
}

// parseInterspersed parses flags wherever they are among the words
// (`account show NAME --data DIR` as well as `account --data DIR show
// NAME`), and returns the words.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return words, nil
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// shellUser names who runs a command from the shell, for the staff log.
func shellUser() string {
	user := os.Getenv("USER")
	if user == "" {
		user = "console"
	}
	return user + " (shell)"
}

// when is a time for the account listings ("never" for none).
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func printAccounts(list []server.AccountInfo) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRANK\tLAST LOGIN\tCREATED\t")
	for _, a := range list {
		last := when(a.LastLogin)
		if a.LastLogin.IsZero() && !a.LastSeen.IsZero() {
			last = when(a.LastSeen) // logins from before they were recorded
		}
		if a.Online {
			last += " (on now)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", a.Name, a.Rank, last, when(a.CreatedAt))
	}
	tw.Flush()
}

func printAccount(a server.AccountInfo) {
	fmt.Printf("%s: %s", a.Name, a.Rank)
	if a.Online {
		fmt.Print(", on now")
	}
	fmt.Println()
	fmt.Printf("created      %s\n", when(a.CreatedAt))
	fmt.Printf("last seen    %s", when(a.LastSeen))
	if a.LastAddress != "" {
		fmt.Printf(" (last login from %s)", a.LastAddress)
	}
	fmt.Println()
	fmt.Printf("logins       %d, online %s in all\n", a.Logins, a.TimeOnline.Round(time.Second))
	if a.OneTime {
		fmt.Println("password     a one-time password: a new one is chosen at the next login")
	}
	if len(a.Recent) == 0 {
		fmt.Println("no logins on record")
		return
	}
	fmt.Println("recent logins:")
	for _, l := range a.Recent {
		fmt.Printf("  %s  %s\n", when(l.At), l.Addr)
	}
}
