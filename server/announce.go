package server

import "talker/player"

// Announcing comings and goings to the whole talker: the lines a login and
// a logout send (announceLogin, login.go), which staff turning visible or
// invisible send too, to exactly those who gain or lose sight of them
// (invis.go), so that the two cannot be told apart.

// announceLoginTo is announceLogin as it is on a talker with online
// players logged in, told only to those for whom only is true (nil:
// everyone): staff turning invisible or visible look exactly like this to
// those who lose or gain sight of them (invis.go).
func (w *World) announceLoginTo(s *Session, in bool, online int, only func(o *Session) bool) {
	p := s.Player
	what := "disconnected"
	if in {
		what = "connected"
	}
	if online > w.cfg.AnnounceAll {
		for o := range w.fans[p.Key()] {
			if o != s && (only == nil || only(o)) && !w.ignoring(o, s, player.IgnoreRoom) && !w.hiddenFrom(o, s) {
				o.hear("[ Your friend " + p.Name + " has " + what + " ]")
			}
		}
		return
	}
	for _, o := range w.online {
		switch {
		case o == s || only != nil && !only(o) || w.ignoring(o, s, player.IgnoreRoom) || w.hiddenFrom(o, s):
		case o.Player.IsFriend(p.Key()):
			o.hear("[ Your friend " + p.Name + " has " + what + " ]")
		default:
			o.hear("[ " + p.Name + " has " + what + " ]")
		}
	}
}
