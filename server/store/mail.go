package store

import (
	"fmt"
	"time"
)

// Mail is one message in a player's mailbox.
type Mail struct {
	ID     int64
	To     string // recipient's key
	From   string // sender's name as registered
	SentAt time.Time
	Body   string
	Read   bool
}

// SendMail stores a new message and sets its ID.
func (s *Store) SendMail(m *Mail) error {
	res, err := s.db.Exec("INSERT INTO mail(recipient, sender, sent_at, body, is_read) VALUES(?,?,?,?,?)",
		m.To, m.From, unixOrZero(m.SentAt), m.Body, m.Read)
	if err != nil {
		return fmt.Errorf("send mail to %q: %w", m.To, err)
	}
	m.ID, err = res.LastInsertId()
	return err
}

// Mailbox lists a player's messages, oldest first.
func (s *Store) Mailbox(to string) ([]Mail, error) {
	rows, err := s.db.Query("SELECT id, recipient, sender, sent_at, body, is_read FROM mail WHERE recipient = ? ORDER BY id", to)
	if err != nil {
		return nil, fmt.Errorf("read mailbox of %q: %w", to, err)
	}
	defer rows.Close()
	var out []Mail
	for rows.Next() {
		var m Mail
		var sent int64
		if err := rows.Scan(&m.ID, &m.To, &m.From, &sent, &m.Body, &m.Read); err != nil {
			return nil, fmt.Errorf("read mailbox of %q: %w", to, err)
		}
		m.SentAt = timeOrZero(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMail counts a player's messages and the unread ones among them.
func (s *Store) CountMail(to string) (total, unread int, err error) {
	err = s.queryRow("SELECT COUNT(*), COALESCE(SUM(is_read = 0), 0) FROM mail WHERE recipient = ?", to).Scan(&total, &unread)
	if err != nil {
		err = fmt.Errorf("count mail of %q: %w", to, err)
	}
	return total, unread, err
}

// MarkMailRead marks one message read.
func (s *Store) MarkMailRead(id int64) error {
	_, err := s.db.Exec("UPDATE mail SET is_read = 1 WHERE id = ?", id)
	return err
}

// DeleteMail deletes one of a player's messages.
func (s *Store) DeleteMail(to string, id int64) error {
	_, err := s.db.Exec("DELETE FROM mail WHERE recipient = ? AND id = ?", to, id)
	return err
}

// DeleteAllMail empties a player's mailbox.
func (s *Store) DeleteAllMail(to string) error {
	_, err := s.db.Exec("DELETE FROM mail WHERE recipient = ?", to)
	return err
}
