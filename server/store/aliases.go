package store

import "fmt"

// Aliases: a player's command aliases ('alias'), by the alias's name.

// Aliases loads a player's aliases (nil if they have none).
func (s *Store) Aliases(playerKey string) (map[string]string, error) {
	rows, err := s.query("SELECT name, expansion FROM aliases WHERE player = ?", playerKey)
	if err != nil {
		return nil, fmt.Errorf("load aliases of %q: %w", playerKey, err)
	}
	defer rows.Close()
	var out map[string]string
	for rows.Next() {
		var name, exp string
		if err := rows.Scan(&name, &exp); err != nil {
			return nil, fmt.Errorf("load aliases of %q: %w", playerKey, err)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = exp
	}
	return out, rows.Err()
}

// SetAlias stores one alias, or deletes it when expansion is "".
func (s *Store) SetAlias(playerKey, name, expansion string) error {
	var err error
	if expansion == "" {
		_, err = s.db.Exec("DELETE FROM aliases WHERE player = ? AND name = ?", playerKey, name)
	} else {
		_, err = s.db.Exec(`INSERT INTO aliases(player, name, expansion) VALUES(?,?,?)
			ON CONFLICT(player, name) DO UPDATE SET expansion = excluded.expansion`, playerKey, name, expansion)
	}
	if err != nil {
		return fmt.Errorf("save alias %q of %q: %w", name, playerKey, err)
	}
	return nil
}
