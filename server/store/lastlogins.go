package store

// RecentLogins lists the newest logins of anyone, newest first, at most n
// ('last'). Each account keeps only its last KeptLogins logins.
func (s *Store) RecentLogins(n int) ([]Login, error) {
	return s.logins(`SELECT p.name, l.addr, l.at FROM logins l JOIN players p ON p.key = l.player
		ORDER BY l.at DESC, l.rowid DESC LIMIT ?`, n)
}
