package store

import (
	"fmt"
	"time"
)

// Channels: who belongs to which talk channel (membership outlives a
// login and a reboot) and each channel's last lines (its history, bounded
// by the caller). A channel exists while it has members; the staff
// channel's members are implicit (every member of staff), so it has only
// history here.

// ChannelLine is one line of a channel's history.
type ChannelLine struct {
	At   time.Time
	From string // the speaker's key
	Text string
}

// ChannelCount is a channel and how many players belong to it.
type ChannelCount struct {
	Channel string
	Members int
}

// PlayerChannels lists the channels a player belongs to, by name.
func (s *Store) PlayerChannels(playerKey string) ([]string, error) {
	rows, err := s.query("SELECT channel FROM channel_members WHERE player = ? ORDER BY channel", playerKey)
	if err != nil {
		return nil, fmt.Errorf("load channels of %q: %w", playerKey, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("load channels of %q: %w", playerKey, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// JoinChannel makes a player a member of a channel (a no-op if they are).
func (s *Store) JoinChannel(playerKey, channel string) error {
	_, err := s.db.Exec("INSERT OR IGNORE INTO channel_members(player, channel) VALUES(?,?)", playerKey, channel)
	if err != nil {
		return fmt.Errorf("join %q to channel %q: %w", playerKey, channel, err)
	}
	return nil
}

// LeaveChannel removes a player from a channel. When the last member
// leaves, the channel's history goes with it: a channel made again later
// by someone else starts empty.
func (s *Store) LeaveChannel(playerKey, channel string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("DELETE FROM channel_members WHERE player = ? AND channel = ?", playerKey, channel); err != nil {
		return fmt.Errorf("leave channel %q: %w", channel, err)
	}
	if _, err := tx.Exec(`DELETE FROM channel_history WHERE channel = ?
		AND NOT EXISTS (SELECT 1 FROM channel_members WHERE channel = ?)`, channel, channel); err != nil {
		return fmt.Errorf("leave channel %q: %w", channel, err)
	}
	return tx.Commit()
}

// ChannelCounts lists every channel that has members, with their number.
func (s *Store) ChannelCounts() ([]ChannelCount, error) {
	rows, err := s.db.Query("SELECT channel, COUNT(*) FROM channel_members GROUP BY channel ORDER BY channel")
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []ChannelCount
	for rows.Next() {
		var c ChannelCount
		if err := rows.Scan(&c.Channel, &c.Members); err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddChannelLine appends a line to a channel's history and keeps only its
// last keep lines.
func (s *Store) AddChannelLine(channel string, l ChannelLine, keep int) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("INSERT INTO channel_history(channel, at, speaker, text) VALUES(?,?,?,?)",
		channel, unixOrZero(l.At), l.From, l.Text); err != nil {
		return fmt.Errorf("channel %q history: %w", channel, err)
	}
	if _, err := tx.Exec(`DELETE FROM channel_history WHERE channel = ? AND id NOT IN
		(SELECT id FROM channel_history WHERE channel = ? ORDER BY id DESC LIMIT ?)`, channel, channel, keep); err != nil {
		return fmt.Errorf("channel %q history: %w", channel, err)
	}
	return tx.Commit()
}

// ChannelHistory returns a channel's history, oldest first.
func (s *Store) ChannelHistory(channel string) ([]ChannelLine, error) {
	rows, err := s.db.Query("SELECT at, speaker, text FROM channel_history WHERE channel = ? ORDER BY id", channel)
	if err != nil {
		return nil, fmt.Errorf("channel %q history: %w", channel, err)
	}
	defer rows.Close()
	var out []ChannelLine
	for rows.Next() {
		var l ChannelLine
		var at int64
		if err := rows.Scan(&at, &l.From, &l.Text); err != nil {
			return nil, fmt.Errorf("channel %q history: %w", channel, err)
		}
		l.At = timeOrZero(at)
		out = append(out, l)
	}
	return out, rows.Err()
}
