package store

import (
	"fmt"
	"time"
)

// StaffAction is one entry of the staff log: who did what to whom, and why.
type StaffAction struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string // "promote", "kick", "ban", ...
	Target string
	Reason string
}

// LogStaffAction appends an entry to the staff log.
func (s *Store) LogStaffAction(a StaffAction) error {
	_, err := s.db.Exec("INSERT INTO staff_log(at, actor, action, target, reason) VALUES(?,?,?,?,?)",
		unixOrZero(a.At), a.Actor, a.Action, a.Target, a.Reason)
	if err != nil {
		return fmt.Errorf("log staff action: %w", err)
	}
	return nil
}

// StaffLog returns the last n entries of the staff log, oldest first.
func (s *Store) StaffLog(n int) ([]StaffAction, error) {
	rows, err := s.db.Query(`SELECT id, at, actor, action, target, reason FROM
		(SELECT * FROM staff_log ORDER BY id DESC LIMIT ?) ORDER BY id`, n)
	if err != nil {
		return nil, fmt.Errorf("read staff log: %w", err)
	}
	defer rows.Close()
	var out []StaffAction
	for rows.Next() {
		var a StaffAction
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.Target, &a.Reason); err != nil {
			return nil, fmt.Errorf("read staff log: %w", err)
		}
		a.At = timeOrZero(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
