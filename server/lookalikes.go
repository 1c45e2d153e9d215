package server

import (
	"fmt"

	"talker/player"
)

// nameIndex finds the registered name a new one looks like (player.Alike)
// without comparing it with every account: a registration did that twice,
// and 10,000 registrations on a loaded machine took 173 s instead of 20
// (each compared with up to 10,000 skeletons on the world's goroutine). It
// is world-owned: built from the store's names when first used, kept up
// to date by the registrations it sees, and built again whenever accounts
// were made, renamed or deleted some other way (store.NamesChanged).
type nameIndex struct {
	built   bool
	version uint64            // the store's NamesChanged it reflects
	byKey   map[string]string // player.AlikeKeys → a name
}

// nameLooksTaken is the world's nameLooksTaken: a new name that looks like
// a staff title or an existing account's is refused.
func (w *World) nameLooksTaken(name string) error {
	if err := player.LooksLikeStaff(name); err != nil {
		return err
	}
	ix := &w.names
	if !ix.built || ix.version != w.store.NamesChanged() {
		names, err := w.store.PlayerNames()
		if err != nil {
			return err
		}
		ix.byKey = make(map[string]string, 2*len(names))
		for _, n := range names {
			ix.add(n)
		}
		ix.built, ix.version = true, w.store.NamesChanged()
	}
	for _, k := range player.AlikeKeys(name) {
		if other, ok := ix.byKey[k]; ok && player.Key(other) != player.Key(name) {
			return fmt.Errorf("%s looks too much like %s, who already has an account; please choose another name", name, other)
		}
	}
	return nil
}

func (ix *nameIndex) add(name string) {
	for _, k := range player.AlikeKeys(name) {
		if _, taken := ix.byKey[k]; !taken {
			ix.byKey[k] = name
		}
	}
}

// registered notes the accounts this world just made, so that the index
// stays current without being built again.
func (w *World) registered(names ...string) {
	ix := &w.names
	if ix.built && w.store.NamesChanged() == ix.version+uint64(len(names)) {
		for _, name := range names {
			ix.add(name)
		}
		ix.version += uint64(len(names))
	}
}
