package store

import "fmt"

// DeleteRoom deletes a room ('room delete') with its exits both ways;
// players who were last in it, or had it as their home, will be put in the
// start room. ErrNotFound if there is none.
func (s *Store) DeleteRoom(id string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"UPDATE players SET room = '' WHERE room = ?1",
		"UPDATE players SET home = '' WHERE home = ?1",
		"DELETE FROM exits WHERE room = ?1 OR dest = ?1",
	} {
		if _, err := tx.Exec(q, id); err != nil {
			return fmt.Errorf("delete room %q: %w", id, err)
		}
	}
	res, err := tx.Exec("DELETE FROM rooms WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete room %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return tx.Commit()
}
