package store

import (
	"testing"
	"time"

	"talker/player"
)

// TestColourChoiceMigration: a player who had colour on chose it (it was
// off by default), so after the migration their colour is chosen; one who
// had it off has not chosen and gets what their client supports. The screen
// reader setting starts as the client says, and both are saved and read.
func TestColourChoiceMigration(t *testing.T) {
	dir := databaseAt(t, 3,
		`INSERT INTO players(key, name, hash, rank, created_at, colour) VALUES('red', 'Red', 'x', 10, 1, 1)`,
		`INSERT INTO players(key, name, hash, rank, created_at, colour) VALUES('grey', 'Grey', 'x', 10, 1, 0)`)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	red, err := s.Player("red")
	if err != nil || !red.Colour || !red.ColourChosen || red.ScreenReader != player.ScreenReaderAuto {
		t.Errorf("red: %+v %v", red, err)
	}
	grey, err := s.Player("grey")
	if err != nil || grey.Colour || grey.ColourChosen {
		t.Errorf("grey: %+v %v", grey, err)
	}
	grey.ColourChosen, grey.ScreenReader = true, player.ScreenReaderOn
	if err := s.SavePlayer(grey); err != nil {
		t.Fatal(err)
	}
	if grey, err = s.Player("grey"); err != nil || !grey.ColourChosen || grey.ScreenReader != player.ScreenReaderOn {
		t.Errorf("grey saved: %+v %v", grey, err)
	}
	if err := s.CreatePlayer(&player.Player{Name: "New", PasswordHash: "x", CreatedAt: time.Now(), ScreenReader: player.ScreenReaderOff}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Player("new"); err != nil || p.ScreenReader != player.ScreenReaderOff || p.ColourChosen {
		t.Errorf("new: %+v %v", p, err)
	}
}
