package main

import "talker/server/store"

// ownerSetup is the talker owner's hook into the initial setup: it runs
// once, as the last setup step of a new database. Add rooms or settings
// here; the default talker needs nothing more.
func ownerSetup(st *store.Store) error {
	_ = st
	return nil
}
