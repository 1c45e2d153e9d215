package server

import (
	"errors"

	"talker/player"
	"talker/server/store"
)

// findPlayer finds anyone with an account: the logged-in session playing
// them (nil if they are not on) and their record, or a message saying why
// not. Online players may be named by a unique prefix; others by their full
// name.
func (w *World) findPlayer(name string) (*player.Player, *Session, string) {
	if o, _ := w.findOnline(name); o != nil {
		return o.Player, o, ""
	}
	p, err := w.store.Player(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "There is nobody called '" + name + "' on " + w.cfg.Name + "."
	}
	if err != nil {
		w.log.Error().Err(err).Str("name", name).Msg("player lookup failed")
		return nil, nil, "Sorry, that could not be looked up just now."
	}
	return p, nil, ""
}

// savePlayer saves a player found by findPlayer: an online one's session
// is also marked for the next checkpoint.
func (w *World) savePlayer(p *player.Player, online *Session) {
	w.save(p)
	if online != nil {
		w.touch(online)
	}
}
