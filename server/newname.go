package server

import (
	"talker/player"
	"talker/server/store"
)

// CheckNewName refuses a name for a new account that looks like a staff
// title or like an existing account's name, as the login prompt does
// (nameLooksTaken), for accounts made outside the talker ('talker account
// create'). The error's text is the one players read at the prompt.
func CheckNewName(st *store.Store, name string) error {
	valid, err := player.ValidateName(name)
	if err != nil {
		return err
	}
	return nameLooksTaken(st, valid, "")
}
