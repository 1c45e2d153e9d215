package server

// fans indexes, for every player key, the logged-in sessions that have
// that player on their friend list: who wants to hear that the player came
// or went. It lets a big talker tell friends about a login without looking
// at everyone online.
type fanIndex map[string]map[*Session]struct{}

// indexFriends records a logged-in session's friends.
func (w *World) indexFriends(s *Session) {
	for key, e := range s.Player.Lists {
		if !e.Friend {
			continue
		}
		set := w.fans[key]
		if set == nil {
			set = map[*Session]struct{}{}
			w.fans[key] = set
		}
		set[s] = struct{}{}
	}
}

// unindexFriends forgets a session's friends (logout, takeover, or before
// its friend list changes).
func (w *World) unindexFriends(s *Session) {
	if s.Player == nil {
		return
	}
	for key := range s.Player.Lists {
		if set := w.fans[key]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(w.fans, key)
			}
		}
	}
}
