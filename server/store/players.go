package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"talker/player"
)

const playerColumns = `name, hash, rank, title, description, room, home, created_at, last_seen, last_address, logins, time_online,
	colour, prompt, prompt_text, timestamps, earmuffs, enter_msg, exit_msg, gagged, jailed, pager, colour_chosen, screen_reader,
	plan, gender, email, email_public, url, wrap, invisible`

func scanPlayer(row interface{ Scan(...any) error }) (*player.Player, error) {
	var p player.Player
	var created, seen, online int64
	err := row.Scan(&p.Name, &p.PasswordHash, &p.Rank, &p.Title, &p.Description, &p.Room, &p.Home,
		&created, &seen, &p.LastAddress, &p.Logins, &online,
		&p.Colour, &p.Prompt, &p.PromptText, &p.Timestamps, &p.Earmuffs, &p.EnterMsg, &p.ExitMsg, &p.Gagged, &p.Jailed, &p.Pager,
		&p.ColourChosen, &p.ScreenReader,
		&p.Plan, &p.Gender, &p.Email, &p.EmailPublic, &p.URL, &p.Wrap, &p.Invisible)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.LastSeen, p.TimeOnline = timeOrZero(created), timeOrZero(seen), time.Duration(online)
	return &p, nil
}

// playerValues are the values for playerColumns, in order.
func playerValues(p *player.Player) []any {
	return []any{p.Name, p.PasswordHash, p.Rank, p.Title, p.Description, p.Room, p.Home,
		unixOrZero(p.CreatedAt), unixOrZero(p.LastSeen), p.LastAddress, p.Logins, int64(p.TimeOnline),
		p.Colour, p.Prompt, p.PromptText, p.Timestamps, p.Earmuffs, p.EnterMsg, p.ExitMsg, p.Gagged, p.Jailed, p.Pager,
		p.ColourChosen, p.ScreenReader,
		p.Plan, p.Gender, p.Email, p.EmailPublic, p.URL, p.Wrap, p.Invisible}
}

// Player loads an account by name (any case), with its lists. It returns
// ErrNotFound if there is none.
func (s *Store) Player(name string) (*player.Player, error) {
	p, err := scanPlayer(s.queryRow("SELECT "+playerColumns+" FROM players WHERE key = ?", player.Key(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load player %q: %w", name, err)
	}
	if p.Lists, err = s.lists(p.Key()); err != nil {
		return nil, err
	}
	if p.Aliases, err = s.Aliases(p.Key()); err != nil {
		return nil, err
	}
	if p.Channels, err = s.PlayerChannels(p.Key()); err != nil {
		return nil, err
	}
	return p, nil
}

// CreatePlayer stores a new account; it fails if the name is taken.
// (A new account has no lists.)
func (s *Store) CreatePlayer(p *player.Player) error {
	st, err := s.stmt(insertPlayerSQL)
	if err == nil {
		_, err = st.Exec(append([]any{p.Key()}, playerValues(p)...)...)
	}
	if err != nil {
		if exists, _ := s.PlayerExists(p.Name); exists {
			return fmt.Errorf("the name %s is %w", p.Name, ErrNameTaken)
		}
		return fmt.Errorf("create player %q: %w", p.Name, err)
	}
	s.namesChanged.Add(1)
	return nil
}

// SavePlayer writes every field of an existing account. Lists are saved
// entry by entry, as they change (SetListEntry).
func (s *Store) SavePlayer(p *player.Player) error {
	st, err := s.stmt(savePlayerSQL)
	var res sql.Result
	if err == nil {
		res, err = st.Exec(append(playerValues(p), p.Key())...)
	}
	if err != nil {
		return fmt.Errorf("save player %q: %w", p.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save player %q: %w", p.Name, ErrNotFound)
	}
	return nil
}

// PlayerExists reports whether an account with that name exists.
func (s *Store) PlayerExists(name string) (bool, error) {
	var one int
	err := s.queryRow("SELECT 1 FROM players WHERE key = ?", player.Key(name)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PlayerNames lists every account's name, for the look-alike check at
// registration and rename.
func (s *Store) PlayerNames() ([]string, error) {
	rows, err := s.db.Query("SELECT name FROM players")
	if err != nil {
		return nil, fmt.Errorf("list names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list names: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// CountPlayersWithRank counts accounts of at least the given rank.
func (s *Store) CountPlayersWithRank(min player.Rank) (int, error) {
	var n int
	err := s.db.QueryRow("SELECT COUNT(*) FROM players WHERE rank >= ?", min).Scan(&n)
	return n, err
}

// lists loads a player's per-person flags.
func (s *Store) lists(owner string) (map[string]player.ListEntry, error) {
	rows, err := s.query("SELECT target, name, friend, ignoring, invite FROM lists WHERE owner = ?", owner)
	if err != nil {
		return nil, fmt.Errorf("load lists of %q: %w", owner, err)
	}
	defer rows.Close()
	var out map[string]player.ListEntry
	for rows.Next() {
		var key string
		var e player.ListEntry
		if err := rows.Scan(&key, &e.Name, &e.Friend, &e.Ignore, &e.Invite); err != nil {
			return nil, fmt.Errorf("load lists of %q: %w", owner, err)
		}
		if out == nil {
			out = map[string]player.ListEntry{}
		}
		out[key] = e
	}
	return out, rows.Err()
}

// SetListEntry stores what owner has said about target, deleting the row
// when the entry is empty.
func (s *Store) SetListEntry(owner, target string, e player.ListEntry) error {
	var err error
	if e.Empty() {
		_, err = s.db.Exec("DELETE FROM lists WHERE owner = ? AND target = ?", owner, target)
	} else {
		_, err = s.db.Exec(`INSERT INTO lists(owner, target, name, friend, ignoring, invite) VALUES(?,?,?,?,?,?)
			ON CONFLICT(owner, target) DO UPDATE SET name=excluded.name, friend=excluded.friend,
			ignoring=excluded.ignoring, invite=excluded.invite`, owner, target, e.Name, e.Friend, e.Ignore, e.Invite)
	}
	if err != nil {
		return fmt.Errorf("save list entry %s -> %s: %w", owner, target, err)
	}
	return nil
}
